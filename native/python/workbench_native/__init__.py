"""Rust kernels for the workbench: backtest simulation, indicators, series scans, statistics.

The compiled module ``workbench_native._native`` is private; import from here (the workbench
itself imports through ``workbench.native``).
"""

from __future__ import annotations

from workbench_native._native import (
    FIXED_PRICE_SCALE,
    RISK_EVENT_DTYPE,
    TRADE_DTYPE,
    Action,
    BacktestOutputs,
    BacktestParams,
    ExitReason,
    Reason,
    Sizing,
    StopMode,
    __version__,
    atr_wilder,
    ema_cross,
    ema_filter,
    first_not_finite,
    first_not_increasing,
    fixed_to_ticks,
    max_drawdown,
    run_starts,
    simulate,
    ticks_to_fixed,
)

__all__ = [
    "FIXED_PRICE_SCALE",
    "RISK_EVENT_DTYPE",
    "TRADE_DTYPE",
    "Action",
    "BacktestOutputs",
    "BacktestParams",
    "ExitReason",
    "Reason",
    "Sizing",
    "StopMode",
    "__version__",
    "atr_wilder",
    "ema_cross",
    "ema_filter",
    "first_not_finite",
    "first_not_increasing",
    "fixed_to_ticks",
    "max_drawdown",
    "run_starts",
    "simulate",
    "ticks_to_fixed",
]
