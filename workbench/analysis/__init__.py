"""Statistics on any run's record: equity curve, closed trades and P&L per trade date.

Backtests, paper sessions, sweeps, reports and comparisons compute their figures here, from the
same code, so that a paper session and the backtest it came from are measured alike. Nothing
here knows about an engine: the inputs are pandas objects (see :mod:`workbench.model` for the
trade table's columns).
"""

from __future__ import annotations

from workbench.analysis.benchmark import BENCHMARK_KEYS, front_month_returns
from workbench.analysis.distribution import STATISTICS_KEYS
from workbench.analysis.drawdowns import DRAWDOWN_COLUMNS, drawdown_periods, max_drawdown
from workbench.analysis.excursions import trade_excursions
from workbench.analysis.metrics import compute_metrics
from workbench.analysis.reliability import reliability_notes, unreliable_metrics
from workbench.analysis.returns import (
    ANNUALIZATION_BASIS,
    PERIODS_PER_YEAR,
    daily_returns,
    equity_daily_returns,
    rolling_sharpe,
)
from workbench.analysis.statistics import compute_statistics
from workbench.analysis.trades import DAY_NAMES, trade_streaks

__all__ = [
    "ANNUALIZATION_BASIS",
    "BENCHMARK_KEYS",
    "DAY_NAMES",
    "DRAWDOWN_COLUMNS",
    "PERIODS_PER_YEAR",
    "STATISTICS_KEYS",
    "compute_metrics",
    "compute_statistics",
    "daily_returns",
    "drawdown_periods",
    "equity_daily_returns",
    "front_month_returns",
    "max_drawdown",
    "reliability_notes",
    "rolling_sharpe",
    "trade_excursions",
    "trade_streaks",
    "unreliable_metrics",
]
