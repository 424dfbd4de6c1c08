"""The figures a quant reads next to the headline metrics: summary.json's ``statistics`` and
``benchmark`` blocks.

Kept apart from :func:`workbench.analysis.metrics.compute_metrics` because they need the
bars and the per-bar position and cost tens of milliseconds a run: a sweep, which only ranks
runs by their headline metrics, does not pay for them. The conventions are in
:mod:`workbench.analysis.distribution` (returns, path, exposure),
:func:`workbench.analysis.trades.trade_quality` (expectancy, SQN),
:mod:`workbench.analysis.excursions` (MAE/MFE) and :mod:`workbench.analysis.benchmark`
(buy and hold, alpha, beta, correlation); ``tests/unit/test_quant_metrics.py`` holds them to
empyrical (``empyrical-reloaded``), scipy and plain pandas on the same daily returns.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench.analysis.benchmark import benchmark_figures, front_month_returns
from workbench.analysis.distribution import return_statistics
from workbench.analysis.excursions import EXCURSION_COLUMNS, excursion_figures, trade_excursions
from workbench.analysis.returns import PERIODS_PER_YEAR, check_capital, daily_returns
from workbench.analysis.trades import check_trades, trade_quality


def compute_statistics(
    trades: pd.DataFrame,
    daily_pnl: pd.Series,
    initial_capital: float,
    *,
    final_equity: float,
    max_drawdown_usd: float,
    position: pd.Series | None = None,
    bars: pd.DataFrame | None = None,
    multiplier: float | None = None,
    periods_per_year: int = PERIODS_PER_YEAR,
) -> dict[str, Any]:
    """The ``statistics`` and ``benchmark`` blocks of summary.json.

    Parameters
    ----------
    trades : pandas.DataFrame
        Closed trades (``TRADE_COLUMNS``).
    daily_pnl : pandas.Series
        Net P&L per CME trade date, every trade date of the run.
    initial_capital : float
        Starting equity in USD (positive).
    final_equity : float
        Equity at the end.
    max_drawdown_usd : float
        The maximum drawdown in dollars (``performance["max_drawdown_usd"]``).
    position : pandas.Series, optional
        Signed contracts at each bar close, for the exposure.
    bars : pandas.DataFrame, optional
        The bars traded (``open``, ``high``, ``low``, ``close``, ``symbol``), for the
        benchmark and, with ``multiplier``, MAE/MFE.
    multiplier : float, optional
        Contract multiplier.
    periods_per_year : int, default 252
        Trade dates per year.

    Returns
    -------
    dict
        ``{"statistics": {...}, "benchmark": {...} or None}`` (None without ``bars``);
        builtin numbers, strings or None.
    """
    capital = check_capital(initial_capital)
    check_trades(trades)
    returns = daily_returns(daily_pnl, capital)
    statistics = return_statistics(
        returns,
        capital,
        final_equity=final_equity,
        max_drawdown_usd=max_drawdown_usd,
        position=position,
        periods_per_year=periods_per_year,
    )
    statistics.update(trade_quality(trades["net_pnl"].to_numpy(dtype=np.float64)))
    has_bars = bars is not None and not bars.empty
    if bars is not None and has_bars and multiplier:
        excursions = trade_excursions(trades, bars, multiplier)
    else:
        excursions = pd.DataFrame({c: [] for c in EXCURSION_COLUMNS})
    statistics.update(excursion_figures(excursions))
    benchmark = None
    if bars is not None and has_bars:
        bench = front_month_returns(bars)
        benchmark = benchmark_figures(returns, bench, periods_per_year=periods_per_year)
    return {"statistics": statistics, "benchmark": benchmark}
