"""A buy-and-hold benchmark of the bars traded, and the run's alpha, beta and correlation to it.

Benchmark
    Long one unit of the continuous front month from the first bar to the last. Its return
    over a bar is ``close / previous close - 1`` while the contract stays the same; on the bar
    where the series rolls to the next contract it is ``close / open - 1`` (the gap between
    two contracts' prices is not a gain: a holder sells one and buys the other). Bar returns
    compound into daily returns by CME trade date (the trade date of the bar's start), so
    the benchmark lines up day by day with the strategy's daily returns. It is a price
    return: futures need no cash to hold, so there is no financing or collateral yield in it.
Alpha and beta
    Against the benchmark's daily returns, as empyrical's ``alpha_beta`` (0 risk-free rate):
    ``beta = cov(r, b) / var(b)``, ``alpha = (1 + mean(r - beta * b)) ** 252 - 1`` (annualized,
    in percent).
Correlation
    Pearson correlation of the two daily return series.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from workbench.analysis.numbers import RATIO_DIGITS, json_number
from workbench.analysis.returns import ZERO_STD, annualized_return, sharpe_ratio
from workbench.market.calendar import trade_dates

#: What the benchmark is, as summary.json says it.
BENCHMARK_NAME = "buy and hold, continuous front month (rolled at the series' rolls)"
#: Keys of the ``benchmark`` block, in order.
BENCHMARK_KEYS = (
    "name",
    "total_return_pct",
    "cagr_pct",
    "volatility_pct",
    "sharpe_ratio",
    "max_drawdown_pct",
    "alpha_pct",
    "beta",
    "correlation",
)


def front_month_returns(bars: pd.DataFrame) -> pd.Series:
    """Daily returns of holding the continuous front month (see the module docstring).

    Parameters
    ----------
    bars : pandas.DataFrame
        Bars with ``open`` and ``close`` on a UTC DatetimeIndex of bar starts, and optionally
        ``symbol`` (the contract of each bar; without it there is no roll).

    Returns
    -------
    pandas.Series
        Named ``"benchmark_return"``, indexed by trade date (naive midnight timestamps).
    """
    if bars.empty:
        return pd.Series(dtype=np.float64, name="benchmark_return")
    close = bars["close"].to_numpy(dtype=np.float64)
    opens = bars["open"].to_numpy(dtype=np.float64)
    prev = np.r_[opens[0], close[:-1]]
    if "symbol" in bars:
        codes = pd.Categorical(bars["symbol"]).codes
        rolled = np.r_[True, codes[1:] != codes[:-1]]
        prev = np.where(rolled, opens, prev)
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = np.where(prev > 0, close / prev, 1.0)
    ns = pd.DatetimeIndex(bars.index).as_unit("ns").asi8
    days = bar_trade_dates(ns)
    first = np.flatnonzero(np.r_[True, days[1:] != days[:-1]])
    logs = np.add.reduceat(np.log(growth), first)
    index = pd.DatetimeIndex(days[first].astype("datetime64[ns]"))
    return pd.Series(np.expm1(logs), index=index, name="benchmark_return")


#: A gap between bars at least this long can separate two sessions (CME's daily halt is an
#: hour); no session boundary falls inside a run of bars without one.
_SESSION_GAP_NS = 30 * 60 * 1_000_000_000


def bar_trade_dates(ts_ns: np.ndarray) -> np.ndarray:
    """CME trade date of sorted bar times (``datetime64[D]``), as
    :func:`workbench.market.calendar.trade_dates` gives them, computed once per run of bars
    between gaps of 30 minutes or more (a 750k-bar series has ~550 runs), falling back to
    every bar when a run spans two dates."""
    if len(ts_ns) == 0:
        return np.empty(0, dtype="datetime64[D]")
    starts = np.flatnonzero(np.r_[True, np.diff(ts_ns) >= _SESSION_GAP_NS])
    ends = np.r_[starts[1:] - 1, len(ts_ns) - 1]
    first, last = trade_dates(ts_ns[starts]), trade_dates(ts_ns[ends])
    if (first != last).any():
        return trade_dates(ts_ns)
    return np.repeat(first, np.diff(np.r_[starts, len(ts_ns)]))


def alpha_beta(returns: np.ndarray, bench: np.ndarray, periods_per_year: int) -> tuple[Any, Any]:
    """Annualized alpha (fraction) and beta of ``returns`` against ``bench`` (None, None when
    the benchmark does not move)."""
    if len(returns) < 2:
        return None, None
    b = bench - bench.mean()
    var = float(np.mean(b * b))
    if not var > ZERO_STD**2:
        return None, None
    beta = float(np.mean(b * (returns - returns.mean()))) / var
    alpha_daily = float(np.mean(returns - beta * bench))
    try:
        alpha = (1.0 + alpha_daily) ** periods_per_year - 1.0
    except OverflowError:
        alpha = math.inf
    return alpha, beta


def correlation(a: np.ndarray, b: np.ndarray) -> float | None:
    """Pearson correlation; None under two points or with a constant series."""
    if len(a) < 2 or not (np.std(a) > ZERO_STD and np.std(b) > ZERO_STD):
        return None
    return float(np.corrcoef(a, b)[0, 1])


def benchmark_figures(
    returns: pd.Series, bench: pd.Series, *, periods_per_year: int = 252
) -> dict[str, Any]:
    """The ``benchmark`` block of summary.json: the benchmark's own figures and the run's
    alpha, beta and correlation to it, over the trade dates both have.

    Parameters
    ----------
    returns : pandas.Series
        The run's daily returns by trade date.
    bench : pandas.Series
        :func:`front_month_returns` of the bars the run traded.
    periods_per_year : int, default 252
        Trade dates per year.

    Returns
    -------
    dict
        The keys of :data:`BENCHMARK_KEYS`; None where undefined (e.g. a run whose equity
        fell to zero has no returns after that day).
    """
    out: dict[str, Any] = dict.fromkeys(BENCHMARK_KEYS)
    out["name"] = BENCHMARK_NAME
    b_all = bench.astype(np.float64)
    if b_all.empty:
        return out
    b = b_all.to_numpy()
    growth = float(np.prod(1.0 + b))
    wealth = np.cumprod(1.0 + b)
    peak = np.maximum(np.maximum.accumulate(wealth), 1.0)
    cagr = annualized_return(growth, 1.0, len(b), periods_per_year)
    vol = float(np.std(b, ddof=1)) * math.sqrt(periods_per_year) if len(b) > 1 else None
    out.update(
        {
            "total_return_pct": json_number((growth - 1.0) * 100.0, RATIO_DIGITS),
            "cagr_pct": json_number(None if cagr is None else cagr * 100.0, RATIO_DIGITS),
            "volatility_pct": json_number(None if vol is None else vol * 100.0, RATIO_DIGITS),
            "sharpe_ratio": json_number(sharpe_ratio(b, periods_per_year, 0.0), RATIO_DIGITS),
            "max_drawdown_pct": json_number(
                float(np.max((peak - wealth) / peak)) * 100.0, RATIO_DIGITS
            ),
        }
    )
    r_dates = pd.DatetimeIndex(pd.to_datetime(returns.index))
    joined = pd.DataFrame({"r": returns.to_numpy(dtype=np.float64)}, index=r_dates).join(
        b_all.rename("b"), how="inner"
    )
    joined = joined.dropna()
    r, bb = joined["r"].to_numpy(), joined["b"].to_numpy()
    alpha, beta = alpha_beta(r, bb, periods_per_year)
    out["alpha_pct"] = json_number(None if alpha is None else alpha * 100.0, RATIO_DIGITS)
    out["beta"] = json_number(beta, RATIO_DIGITS)
    out["correlation"] = json_number(correlation(r, bb), RATIO_DIGITS)
    return out
