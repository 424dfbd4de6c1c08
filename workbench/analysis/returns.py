"""Daily returns by CME trade date and the ratios built from them (Sharpe, Sortino, CAGR).

The conventions are those of :mod:`workbench.analysis.metrics`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from workbench.market.calendar import trade_dates

#: Trading sessions per year used to annualize daily figures.
PERIODS_PER_YEAR = 252
#: What one period of the annualization is.
ANNUALIZATION_BASIS = "daily returns by CME trade date"
#: A standard deviation at or below this (in return units) counts as zero: rounding noise.
ZERO_STD = 1e-12


def check_capital(initial_capital: float) -> float:
    """``initial_capital`` as a float; ValueError unless it is a positive finite number."""
    capital = float(initial_capital)
    if not math.isfinite(capital) or capital <= 0:
        raise ValueError(f"initial_capital must be a positive number, got {initial_capital!r}")
    return capital


def clean_daily_pnl(daily_pnl: pd.Series) -> pd.Series:
    """``daily_pnl`` as float64, sorted by date with repeated dates summed; ValueError on NaN."""
    pnl = daily_pnl.astype(np.float64)
    if pnl.isna().any():
        raise ValueError("daily_pnl contains NaN; a trade date without P&L should be 0")
    if not pnl.index.is_monotonic_increasing or not pnl.index.is_unique:
        pnl = pnl.groupby(level=0).sum()  # sorts, and sums repeated dates
    return pnl


def daily_returns(daily_pnl: pd.Series, initial_capital: float) -> pd.Series:
    """Daily returns: each trade date's P&L over the equity at the start of that date.

    Parameters
    ----------
    daily_pnl : pandas.Series
        Net P&L in USD per CME trade date. Unsorted or repeated dates are sorted and summed.
    initial_capital : float
        Account equity before the first trade date (positive).

    Returns
    -------
    pandas.Series
        ``daily_pnl / (initial_capital + cumulative P&L of the previous dates)``, named
        ``"daily_return"``, on the (sorted) index of ``daily_pnl``. NaN where the start-of-day
        equity is <= 0.

    Raises
    ------
    ValueError
        If ``initial_capital`` is not positive or ``daily_pnl`` contains NaN.
    """
    capital = check_capital(initial_capital)
    pnl = clean_daily_pnl(daily_pnl)
    return pd.Series(
        daily_return_values(pnl.to_numpy(), capital), index=pnl.index, name="daily_return"
    )


def daily_return_values(values: np.ndarray, capital: float) -> np.ndarray:
    """:func:`daily_returns` of P&L values already sorted by date (float64), as an array."""
    start = capital + np.concatenate(([0.0], np.cumsum(values)[:-1]))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(start > 0, values / start, np.nan)


def sharpe_ratio(returns: np.ndarray, periods_per_year: float, rf: float) -> float | None:
    """Annualized Sharpe ratio of per-period ``returns`` over ``rf`` per period (``ddof=1``).

    None with fewer than two returns, a NaN, or a zero standard deviation.
    """
    if len(returns) < 2 or np.isnan(returns).any():
        return None
    excess = returns - rf
    std = float(excess.std(ddof=1))
    if not std > ZERO_STD:
        return None
    return float(excess.mean()) / std * math.sqrt(periods_per_year)


def sortino_ratio(returns: np.ndarray, periods_per_year: float, rf: float) -> float | None:
    """Annualized Sortino ratio: mean excess return over the downside deviation of all periods.

    None with fewer than two returns, a NaN, or no period below ``rf``.
    """
    if len(returns) < 2 or np.isnan(returns).any():
        return None
    excess = returns - rf
    downside = math.sqrt(float(np.mean(np.minimum(excess, 0.0) ** 2)))
    if not downside > ZERO_STD:
        return None
    return float(excess.mean()) / downside * math.sqrt(periods_per_year)


def annualized_return(
    final: float, initial: float, n_periods: int, periods_per_year: float
) -> float | None:
    """Compound annual growth rate as a fraction; None without periods or on overflow."""
    if n_periods <= 0:
        return None
    ratio = final / initial
    if ratio <= 0:
        return -1.0
    try:
        return math.exp(math.log(ratio) * periods_per_year / n_periods) - 1.0
    except OverflowError:
        return None


def rolling_sharpe(
    daily_returns: pd.Series,
    window: int = 63,
    *,
    periods_per_year: int = PERIODS_PER_YEAR,
    risk_free_rate: float = 0.0,
) -> pd.Series:
    """Annualized Sharpe ratio over a trailing window of daily returns.

    Same convention as :func:`compute_metrics` (``ddof=1``, ``sqrt(periods_per_year)``,
    annual ``risk_free_rate`` spread over ``periods_per_year``).

    Parameters
    ----------
    daily_returns : pandas.Series
        Returns per trade date, e.g. from :func:`daily_returns`.
    window : int, default 63
        Trade dates per window (63 is about a quarter).
    periods_per_year : int, default 252
        Trade dates per year.
    risk_free_rate : float, default 0.0
        Annual risk-free rate.

    Returns
    -------
    pandas.Series
        Named ``"rolling_sharpe"``, on the index of ``daily_returns``; NaN for the first
        ``window - 1`` dates, windows with a NaN, and windows with zero volatility.

    Raises
    ------
    ValueError
        If ``window`` < 2.
    """
    if window < 2:
        raise ValueError(f"window must be at least 2 trade dates, got {window}")
    excess = daily_returns.astype(np.float64) - risk_free_rate / periods_per_year
    roll = excess.rolling(window, min_periods=window)
    mean, std = roll.mean(), roll.std(ddof=1)
    out = (mean / std * math.sqrt(periods_per_year)).where(std > ZERO_STD)
    return out.rename("rolling_sharpe")


def equity_daily_returns(equity: pd.Series, initial_capital: float) -> pd.Series:
    """Daily returns by CME trade date from an equity curve: each trade date's last equity
    over the previous date's (the first date's over ``initial_capital``).

    The same returns as :func:`daily_returns` of the run's daily P&L, for when only the
    equity curve is at hand (a saved run's equity_curve.parquet).

    Parameters
    ----------
    equity : pandas.Series
        Equity in USD on a UTC DatetimeIndex of bar END times, sorted.
    initial_capital : float
        Equity before the first bar (positive).

    Returns
    -------
    pandas.Series
        Named ``"daily_return"``, indexed by trade date (naive midnight timestamps); NaN
        where the previous close is at or below zero.
    """
    capital = check_capital(initial_capital)
    if equity.empty:
        return pd.Series(dtype=np.float64, name="daily_return")
    index = pd.DatetimeIndex(equity.index)
    if index.tz is None:
        index = index.tz_localize("UTC")
    # A bar ending exactly at 18:00 New York closes the old session, so the date of its
    # last nanosecond (end - 1 ns) is the one it belongs to.
    dates = trade_dates(index.as_unit("ns").asi8 - 1)
    last = np.r_[np.flatnonzero(dates[1:] != dates[:-1]), len(dates) - 1]
    closes = equity.to_numpy(dtype=np.float64)[last]
    previous = np.r_[capital, closes[:-1]]
    with np.errstate(divide="ignore", invalid="ignore"):
        ret = np.where(previous > 0, closes / previous - 1.0, np.nan)
    return pd.Series(
        ret, index=pd.DatetimeIndex(dates[last].astype("datetime64[ns]")), name="daily_return"
    )
