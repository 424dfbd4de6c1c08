"""Performance metrics of any run (backtest, paper session, sweep row): summary.json's figures.

:func:`compute_metrics` turns what an engine or a session produces (the bar-by-bar equity curve, the
closed trades, the net P&L per CME trade date) into a JSON-safe dict. :func:`drawdown_periods`,
:func:`rolling_sharpe`, :func:`trade_streaks` and :func:`daily_returns` feed the report and
its charts.

Conventions
-----------
Annualization
    Every ratio is built from **daily returns by CME trade date** (a session opening at 18:00
    New York counts towards the next day's date) and annualized with ``periods_per_year=252``
    sessions. The dict returned by :func:`compute_metrics` repeats this in its
    ``"annualization"`` block.
Daily return
    ``r_d = daily_pnl_d / E_d``, where ``E_d = initial_capital + sum(daily_pnl before d)`` is
    the equity at the start of trade date ``d``. ``daily_pnl`` should hold every trade date of
    the backtest (flat days as 0): the days it leaves out are not counted. A day starting with
    equity <= 0 has no return (NaN), and then Sharpe and Sortino are None.
Risk-free rate
    ``risk_free_rate`` is an annual simple rate; each day gets
    ``rf = risk_free_rate / periods_per_year``.
Sharpe ratio
    ``mean(r - rf) / std(r - rf, ddof=1) * sqrt(periods_per_year)``. None with fewer than two
    days or a zero standard deviation (a flat equity curve).
Sortino ratio
    ``mean(r - rf) / DD * sqrt(periods_per_year)`` with the downside deviation
    ``DD = sqrt(mean(min(r - rf, 0) ** 2))``, averaged over *all* days (not only losing ones).
    None with fewer than two days or no day below ``rf`` (the ratio would be infinite).
Maximum drawdown
    From the equity curve at bar resolution, against its running peak; the peak starts at
    ``initial_capital``, so a loss on the first bar counts. ``max_drawdown_usd`` is the largest
    ``peak - equity``; ``max_drawdown_pct`` the largest ``(peak - equity) / peak`` in percent.
    Both are positive (8.5 means a drop of 8.5%) and they may come from different drawdowns.
Calmar ratio
    ``annualized_return_pct / max_drawdown_pct`` with the compound annual growth rate
    ``(final / initial) ** (periods_per_year / n_trade_days) - 1`` (``n_trade_days`` is the
    number of rows of ``daily_pnl``; a final equity <= 0 counts as -100%). None with a
    drawdown under :data:`MIN_DRAWDOWN_PCT` (a ratio to ~0 is noise) or fewer than
    :data:`~workbench.analysis.reliability.MIN_TRADE_DATES` trade dates (one good day
    compounded over a year gives a Calmar ratio in the billions).
Trades
    A winner has ``net_pnl > 0``, a loser ``net_pnl < 0``; a scratch (exactly 0) is neither but
    counts in ``total_trades``, so ``win_rate = winning_trades / total_trades`` (in [0, 1]).
    ``profit_factor = sum(winners' net_pnl) / |sum(losers' net_pnl)|``; None when the losers
    lost less than a cent in total (it would be infinite or noise, or 0/0 without trades).
    ``avg_winner``/``largest_winner`` are
    over winners, ``avg_loser``/``largest_loser`` over losers (negative numbers); None when there
    are none. Without trades the counts are 0 and every other trade figure is None.
Time analysis
    Trades are grouped by the hour (0-23) and weekday ("Monday".."Sunday") of their ENTRY time
    on the New York wall clock (so a Sunday 19:00 entry counts as Sunday, although it belongs
    to Monday's trade date); the best/worst group has the largest/smallest summed ``net_pnl``
    among groups with at least one trade (ties go to the earlier hour/day).
    ``avg_hold_time_minutes`` is the mean of ``exit_time - entry_time``.
Statistics, benchmark, MAE/MFE
    Not here: :func:`workbench.analysis.statistics.compute_statistics` computes volatility,
    CAGR, skew, kurtosis, VaR/CVaR, tail ratio, Omega, Ulcer index, recovery factor, best and
    worst day and month, exposure, expectancy, SQN, MAE/MFE and the buy-and-hold benchmark
    (they need the bars and cost a sweep time it does not use).
Rounding and JSON
    Dollar figures have 2 decimals, ratios and percentages 4, minutes 2; every value is a
    builtin ``int``/``float``/``str`` or None, never NaN or infinity, so
    ``json.dumps(..., allow_nan=False)`` accepts the dict.

Why numpy rather than vectorbt
------------------------------
vectorbt's returns accessor (``returns.vbt.returns(freq="1D", year_freq="252D")``) computes
the same Sharpe (``ddof=1``, ``sqrt(ann_factor)``), Sortino (the same downside deviation,
with ``required_return = rf``), maximum drawdown and annualized return/Calmar
(``ann_factor / len(returns)`` as exponent) -- the unit tests check that these functions agree
with it. It is not used here: importing it takes seconds, it answers ``inf`` where this module
answers None, and its drawdown would come from daily returns rather than the bar-level equity
curve. The numpy versions are a few lines each and run in milliseconds on 750k bars.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench.analysis.drawdowns import equity_values, max_drawdown
from workbench.analysis.numbers import RATIO_DIGITS, USD_DIGITS, json_number
from workbench.analysis.reliability import MIN_TRADE_DATES
from workbench.analysis.returns import (
    ANNUALIZATION_BASIS,
    PERIODS_PER_YEAR,
    annualized_return,
    check_capital,
    clean_daily_pnl,
    daily_return_values,
    sharpe_ratio,
    sortino_ratio,
)
from workbench.analysis.trades import check_trades, time_analysis, trade_figures

#: Below this maximum drawdown (percent: one basis point) the Calmar ratio is None.
MIN_DRAWDOWN_PCT = 0.01


def compute_metrics(
    equity: pd.Series,
    trades: pd.DataFrame,
    daily_pnl: pd.Series,
    initial_capital: float,
    *,
    periods_per_year: int = PERIODS_PER_YEAR,
    risk_free_rate: float = 0.0,
) -> dict[str, Any]:
    """Performance, time analysis and annualization blocks of summary.json.

    The conventions (returns, annualization, None for undefined figures) are in the module
    docstring.

    Parameters
    ----------
    equity : pandas.Series
        Account equity in USD at each bar close, on a UTC DatetimeIndex of bar end times,
        starting at ``initial_capital``. May be empty.
    trades : pandas.DataFrame
        One row per closed trade with at least ``entry_time``, ``exit_time`` (UTC) and
        ``net_pnl`` (see :data:`TRADE_COLUMNS`). May have no rows.
    daily_pnl : pandas.Series
        Net P&L in USD per CME trade date, one row for every trade date of the backtest.
    initial_capital : float
        Starting equity in USD (positive).
    periods_per_year : int, default 252
        Trade dates per year, for annualizing.
    risk_free_rate : float, default 0.0
        Annual risk-free rate (0.05 is 5%), spread evenly over ``periods_per_year``.

    Returns
    -------
    dict
        ``{"performance": {...}, "time_analysis": {...}, "annualization": {...}}`` with the
        keys of the summary.json schema; values are builtin numbers, strings or None.

    Raises
    ------
    ValueError
        If ``initial_capital`` is not positive, ``equity`` or ``daily_pnl`` contains NaN,
        ``trades`` lacks a needed column or ``periods_per_year`` is not positive.
    """
    capital = check_capital(initial_capital)
    if periods_per_year <= 0:
        raise ValueError(f"periods_per_year must be positive, got {periods_per_year}")
    check_trades(trades)
    values = equity_values(equity)
    pnl = clean_daily_pnl(daily_pnl).to_numpy()
    final = float(values[-1]) if len(values) else capital + float(pnl.sum())
    performance = performance_figures(
        final,
        max_drawdown(values, capital),
        pnl,
        trades["net_pnl"].to_numpy(dtype=np.float64),
        capital,
        periods_per_year=periods_per_year,
        risk_free_rate=risk_free_rate,
    )
    return {
        "performance": performance,
        "time_analysis": time_analysis(trades),
        "annualization": {
            "periods_per_year": int(periods_per_year),
            "basis": ANNUALIZATION_BASIS,
            "risk_free_rate": float(risk_free_rate),
        },
    }


def performance_figures(
    final: float,
    drawdown: tuple[float, float],
    daily_pnl: np.ndarray,
    net_pnl: np.ndarray,
    initial_capital: float,
    *,
    periods_per_year: int = PERIODS_PER_YEAR,
    risk_free_rate: float = 0.0,
) -> dict[str, Any]:
    """The ``performance`` block of :func:`compute_metrics` from arrays (a sweep's rows,
    computed without a frame per run; :func:`compute_metrics` calls this too).

    Parameters
    ----------
    final : float
        Equity after the last bar.
    drawdown : (float, float)
        Largest drawdown in USD and percent, as
        :func:`workbench.analysis.drawdowns.max_drawdown` gives them.
    daily_pnl : numpy.ndarray
        Net P&L per CME trade date, sorted by date, one per date (float64).
    net_pnl : numpy.ndarray
        Net P&L of each closed trade (float64).
    initial_capital : float
        Starting equity (positive).
    periods_per_year, risk_free_rate
        As for :func:`compute_metrics`.

    Returns
    -------
    dict
        summary.json's performance figures (JSON numbers or None).
    """
    capital = check_capital(initial_capital)
    rets = daily_return_values(daily_pnl, capital)
    rf = risk_free_rate / periods_per_year
    dd_usd, dd_pct = drawdown
    annual = annualized_return(final, capital, len(daily_pnl), periods_per_year)
    calmar = (
        annual * 100.0 / dd_pct
        if annual is not None and dd_pct >= MIN_DRAWDOWN_PCT and len(daily_pnl) >= MIN_TRADE_DATES
        else None
    )
    performance: dict[str, Any] = {
        "total_return_pct": json_number((final - capital) / capital * 100.0, RATIO_DIGITS),
        "total_return_usd": json_number(final - capital, USD_DIGITS),
        "sharpe_ratio": json_number(sharpe_ratio(rets, periods_per_year, rf), RATIO_DIGITS),
        "sortino_ratio": json_number(sortino_ratio(rets, periods_per_year, rf), RATIO_DIGITS),
        "max_drawdown_pct": json_number(dd_pct, RATIO_DIGITS),
        "max_drawdown_usd": json_number(dd_usd, USD_DIGITS),
        "calmar_ratio": json_number(calmar, RATIO_DIGITS),
    }
    performance.update(trade_figures(net_pnl))
    return performance
