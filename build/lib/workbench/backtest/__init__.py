"""Backtesting: ``run_backtest`` and its configuration, result and metrics."""

from __future__ import annotations

from workbench.backtest.config import BacktestConfig
from workbench.backtest.engine import build_config, run_backtest
from workbench.backtest.result import BacktestResult

__all__ = ["BacktestConfig", "BacktestResult", "build_config", "run_backtest"]
