"""Records shared by every layer: sides, orders, fills, trades and the decision/exit codes.

This package imports nothing else from the workbench, so backtest, risk, execution, results
and the Rust kernels' Python face can all depend on it.
"""

from __future__ import annotations

from workbench.model.codes import Action, ExitReason, Reason
from workbench.model.records import (
    FILL_COLUMNS,
    TRADE_COLUMNS,
    Fill,
    Liquidity,
    Order,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    trade_fills,
)

__all__ = [
    "FILL_COLUMNS",
    "TRADE_COLUMNS",
    "Action",
    "ExitReason",
    "Fill",
    "Liquidity",
    "Order",
    "OrderStatus",
    "OrderType",
    "Reason",
    "Side",
    "TimeInForce",
    "trade_fills",
]
