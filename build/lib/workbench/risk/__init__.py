"""Risk management: position sizing, stops, limits and circuit breakers.

The classes work bar by bar (the paper-trading engine and the reference backtest use them
directly); the compiled backtest kernel implements the same rules and a test holds it to them.
"""

from __future__ import annotations

from workbench.risk.config import RiskConfig, SizingConfig, StopConfig
from workbench.risk.position_sizer import PositionSizer, TradeStats
from workbench.risk.risk_manager import Decision, RiskEvent, RiskManager
from workbench.risk.stop_loss import StopLossManager

__all__ = [
    "Decision",
    "PositionSizer",
    "RiskConfig",
    "RiskEvent",
    "RiskManager",
    "SizingConfig",
    "StopConfig",
    "StopLossManager",
    "TradeStats",
]
