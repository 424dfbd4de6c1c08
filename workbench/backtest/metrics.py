"""Performance metrics of a backtest: the ``performance`` and ``time_analysis`` of summary.json.

:func:`compute_metrics` turns what the engine produces (the bar-by-bar equity curve, the
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
    number of rows of ``daily_pnl``; a final equity <= 0 counts as -100%). None without a
    drawdown or without trade dates.
Trades
    A winner has ``net_pnl > 0``, a loser ``net_pnl < 0``; a scratch (exactly 0) is neither but
    counts in ``total_trades``, so ``win_rate = winning_trades / total_trades`` (in [0, 1]).
    ``profit_factor = sum(winners' net_pnl) / |sum(losers' net_pnl)|``; None when there is no
    loser (it would be infinite, or 0/0 without trades). ``avg_winner``/``largest_winner`` are
    over winners, ``avg_loser``/``largest_loser`` over losers (negative numbers); None when there
    are none. Without trades the counts are 0 and every other trade figure is None.
Time analysis
    Trades are grouped by the hour (0-23) and weekday ("Monday".."Sunday") of their ENTRY time
    on the New York wall clock (so a Sunday 19:00 entry counts as Sunday, although it belongs
    to Monday's trade date); the best/worst group has the largest/smallest summed ``net_pnl``
    among groups with at least one trade (ties go to the earlier hour/day).
    ``avg_hold_time_minutes`` is the mean of ``exit_time - entry_time``.
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

import math
from typing import Any

import numpy as np
import pandas as pd

from workbench.market.calendar import EXCHANGE_TZ
from workbench.model.records import TRADE_COLUMNS

#: Trading sessions per year used to annualize daily figures.
PERIODS_PER_YEAR = 252
#: What one period of the annualization is.
ANNUALIZATION_BASIS = "daily returns by CME trade date"
#: Columns of the engine's closed-trade frame (defined with the result).
#: Columns of :func:`drawdown_periods`.
DRAWDOWN_COLUMNS = ("start", "trough", "end", "depth_usd", "depth_pct", "duration", "recovery")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

#: A standard deviation at or below this (in return units) counts as zero: rounding noise.
_ZERO_STD = 1e-12
_USD = 2
_RATIO = 4
_MINUTES = 2


def _num(x: float | None, ndigits: int) -> float | None:
    """``x`` rounded, as a builtin float; None for None, NaN and infinities."""
    if x is None:
        return None
    value = float(x)
    if not math.isfinite(value):
        return None
    return round(value, ndigits) + 0.0  # + 0.0 turns -0.0 into 0.0


def _check_capital(initial_capital: float) -> float:
    capital = float(initial_capital)
    if not math.isfinite(capital) or capital <= 0:
        raise ValueError(f"initial_capital must be a positive number, got {initial_capital!r}")
    return capital


def _equity_values(equity: pd.Series) -> np.ndarray:
    values = np.asarray(equity, dtype=np.float64)
    if np.isnan(values).any():
        raise ValueError("equity contains NaN; the engine must mark every bar to market")
    return values


def _clean_daily_pnl(daily_pnl: pd.Series) -> pd.Series:
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
    capital = _check_capital(initial_capital)
    pnl = _clean_daily_pnl(daily_pnl)
    values = pnl.to_numpy()
    start = capital + np.concatenate(([0.0], np.cumsum(values)[:-1]))
    with np.errstate(divide="ignore", invalid="ignore"):
        ret = np.where(start > 0, values / start, np.nan)
    return pd.Series(ret, index=pnl.index, name="daily_return")


def _sharpe(returns: np.ndarray, periods_per_year: float, rf: float) -> float | None:
    if len(returns) < 2 or np.isnan(returns).any():
        return None
    excess = returns - rf
    std = float(excess.std(ddof=1))
    if not std > _ZERO_STD:
        return None
    return float(excess.mean()) / std * math.sqrt(periods_per_year)


def _sortino(returns: np.ndarray, periods_per_year: float, rf: float) -> float | None:
    if len(returns) < 2 or np.isnan(returns).any():
        return None
    excess = returns - rf
    downside = math.sqrt(float(np.mean(np.minimum(excess, 0.0) ** 2)))
    if not downside > _ZERO_STD:
        return None
    return float(excess.mean()) / downside * math.sqrt(periods_per_year)


def _annualized_return(
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


def _running_peak(values: np.ndarray, initial_capital: float | None) -> np.ndarray:
    peak = np.maximum.accumulate(values)
    if initial_capital is not None:
        np.maximum(peak, initial_capital, out=peak)
    return peak


def _max_drawdown(values: np.ndarray, initial_capital: float) -> tuple[float, float]:
    """Largest drawdown in USD and in percent of the running peak (both >= 0)."""
    from workbench_native import max_drawdown

    if len(values) == 0:
        return 0.0, 0.0
    # One native pass; the NumPy lines below compute the same bits (a test holds them).
    native = max_drawdown(np.ascontiguousarray(values, dtype=np.float64), float(initial_capital))
    if native is not None:
        usd, frac = native
        return usd, 0.0 if frac is None else frac * 100.0
    peak = _running_peak(values, initial_capital)
    dd = peak - values
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(peak > 0, dd / peak, np.nan)
    max_pct = float(np.nanmax(pct)) * 100.0 if not np.isnan(pct).all() else 0.0
    return float(dd.max()), max_pct


def _check_trades(trades: pd.DataFrame) -> None:
    missing = [c for c in ("entry_time", "exit_time", "net_pnl") if c not in trades.columns]
    if missing:
        raise ValueError(f"trades lacks the column(s) {missing}; expected {list(TRADE_COLUMNS)}")


def _utc_index(column: pd.Series) -> pd.DatetimeIndex:
    idx = pd.DatetimeIndex(column)
    return idx.tz_localize("UTC") if idx.tz is None else idx


def _trade_figures(net: np.ndarray) -> dict[str, Any]:
    wins, losses = net[net > 0], net[net < 0]
    n = len(net)
    loss_sum = float(losses.sum())
    return {
        "win_rate": _num(len(wins) / n, _RATIO) if n else None,
        "profit_factor": _num(float(wins.sum()) / -loss_sum, _RATIO) if len(losses) else None,
        "avg_trade_pnl": _num(float(net.mean()), _USD) if n else None,
        "avg_winner": _num(float(wins.mean()), _USD) if len(wins) else None,
        "avg_loser": _num(float(losses.mean()), _USD) if len(losses) else None,
        "largest_winner": _num(float(wins.max()), _USD) if len(wins) else None,
        "largest_loser": _num(float(losses.min()), _USD) if len(losses) else None,
        "total_trades": n,
        "winning_trades": len(wins),
        "losing_trades": len(losses),
    }


def _best_worst(groups: np.ndarray, pnl: np.ndarray, n_groups: int) -> tuple[int, int]:
    """Group numbers with the largest and smallest summed P&L among non-empty groups."""
    sums = np.bincount(groups, weights=pnl, minlength=n_groups)
    counts = np.bincount(groups, minlength=n_groups)
    sums[counts == 0] = np.nan
    return int(np.nanargmax(sums)), int(np.nanargmin(sums))


def _time_analysis(trades: pd.DataFrame) -> dict[str, Any]:
    if len(trades) == 0:
        return dict.fromkeys(
            (
                "avg_hold_time_minutes",
                "best_hour",
                "worst_hour",
                "best_day_of_week",
                "worst_day_of_week",
            )
        )
    entry = _utc_index(trades["entry_time"])
    held = _utc_index(trades["exit_time"]) - entry
    minutes = float(np.mean(held / pd.Timedelta(minutes=1)))
    local = entry.tz_convert(EXCHANGE_TZ)
    pnl = trades["net_pnl"].to_numpy(dtype=np.float64)
    best_hour, worst_hour = _best_worst(np.asarray(local.hour, dtype=np.intp), pnl, 24)
    best_day, worst_day = _best_worst(np.asarray(local.day_of_week, dtype=np.intp), pnl, 7)
    return {
        "avg_hold_time_minutes": _num(minutes, _MINUTES),
        "best_hour": best_hour,
        "worst_hour": worst_hour,
        "best_day_of_week": DAY_NAMES[best_day],
        "worst_day_of_week": DAY_NAMES[worst_day],
    }


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
    capital = _check_capital(initial_capital)
    if periods_per_year <= 0:
        raise ValueError(f"periods_per_year must be positive, got {periods_per_year}")
    _check_trades(trades)
    values = _equity_values(equity)
    pnl = _clean_daily_pnl(daily_pnl)
    final = float(values[-1]) if len(values) else capital + float(pnl.sum())

    rets = daily_returns(pnl, capital).to_numpy()
    rf = risk_free_rate / periods_per_year
    dd_usd, dd_pct = _max_drawdown(values, capital)
    annual = _annualized_return(final, capital, len(pnl), periods_per_year)
    calmar = annual * 100.0 / dd_pct if annual is not None and dd_pct > 0 else None

    performance: dict[str, Any] = {
        "total_return_pct": _num((final - capital) / capital * 100.0, _RATIO),
        "total_return_usd": _num(final - capital, _USD),
        "sharpe_ratio": _num(_sharpe(rets, periods_per_year, rf), _RATIO),
        "sortino_ratio": _num(_sortino(rets, periods_per_year, rf), _RATIO),
        "max_drawdown_pct": _num(dd_pct, _RATIO),
        "max_drawdown_usd": _num(dd_usd, _USD),
        "calmar_ratio": _num(calmar, _RATIO),
    }
    performance.update(_trade_figures(trades["net_pnl"].to_numpy(dtype=np.float64)))
    return {
        "performance": performance,
        "time_analysis": _time_analysis(trades),
        "annualization": {
            "periods_per_year": int(periods_per_year),
            "basis": ANNUALIZATION_BASIS,
            "risk_free_rate": float(risk_free_rate),
        },
    }


def drawdown_periods(equity: pd.Series, *, initial_capital: float | None = None) -> pd.DataFrame:
    """Every drawdown of the equity curve: from a peak, through the trough, to recovery.

    A drawdown starts at the bar of a running peak, reaches its trough at the lowest equity
    before the curve gets back to that peak, and ends at the first bar whose equity is at or
    above the peak again.

    Parameters
    ----------
    equity : pandas.Series
        Account equity in USD on a DatetimeIndex (bar end times).
    initial_capital : float, optional
        Starting equity: the running peak starts there, so a first bar below it opens a
        drawdown (whose ``start`` is then the first bar's time).

    Returns
    -------
    pandas.DataFrame
        One row per drawdown, deepest (``depth_pct``) first, ties by start; columns
        ``start``, ``trough``, ``end`` (timestamps; ``end`` is NaT if not recovered),
        ``depth_usd`` (peak - trough, > 0), ``depth_pct`` (in percent of the peak),
        ``duration`` (``end - start``, or ``last bar - start`` if not recovered) and
        ``recovery`` (``end - trough``; NaT if not recovered). No rows without a drawdown.

    Raises
    ------
    ValueError
        If ``equity`` contains NaN.
    """
    values = _equity_values(equity)
    index = pd.DatetimeIndex(equity.index)
    n = len(values)
    empty_times = index[:0]
    if n == 0:
        return _drawdown_frame(empty_times, empty_times, empty_times, np.empty(0), np.empty(0))
    peak = _running_peak(values, initial_capital)
    under = values < peak
    edges = np.diff(np.concatenate(([0], under.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)  # first bar below the peak
    stops = np.flatnonzero(edges == -1)  # first bar back at the peak (n: never)
    if len(starts) == 0:
        return _drawdown_frame(empty_times, empty_times, empty_times, np.empty(0), np.empty(0))

    # Lowest equity of each run; bars between runs sit at new peaks, so reduceat over
    # [start_i, start_{i+1}) sees the same minimum as the run itself.
    mins = np.minimum.reduceat(values, starts)
    run_id = np.cumsum(edges[:-1] == 1) - 1
    at_min = under & (values == mins[np.maximum(run_id, 0)])
    hits = np.flatnonzero(at_min)
    hit_runs = run_id[hits]
    troughs = hits[np.concatenate(([True], hit_runs[1:] != hit_runs[:-1]))]

    peaks = peak[starts]
    start_times = index[np.maximum(starts - 1, 0)]
    recovered = stops < n
    end_times = index[np.minimum(stops, n - 1)].where(recovered)
    return _drawdown_frame(
        start_times, index[troughs], end_times, peaks - mins, peaks, last=index[-1]
    )


def _drawdown_frame(
    start: pd.DatetimeIndex,
    trough: pd.DatetimeIndex,
    end: pd.DatetimeIndex,
    depth: np.ndarray,
    peaks: np.ndarray,
    last: pd.Timestamp | None = None,
) -> pd.DataFrame:
    with np.errstate(divide="ignore", invalid="ignore"):
        depth_pct = np.where(peaks > 0, depth / peaks * 100.0, np.nan)
    finish = end.fillna(last) if last is not None else end
    frame = pd.DataFrame(
        {
            "start": start,
            "trough": trough,
            "end": end,
            "depth_usd": depth.astype(np.float64),
            "depth_pct": depth_pct.astype(np.float64),
            "duration": finish - start,
            "recovery": end - trough,
        }
    )
    order = np.argsort(-depth_pct, kind="stable")  # rows are in time order: ties by start
    return frame.iloc[order].reset_index(drop=True)


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
    out = (mean / std * math.sqrt(periods_per_year)).where(std > _ZERO_STD)
    return out.rename("rolling_sharpe")


def _longest_run(mask: np.ndarray) -> int:
    if not mask.any():
        return 0
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return int((np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)).max())


def trade_streaks(trades: pd.DataFrame) -> dict[str, int]:
    """Longest runs of consecutive winning and losing trades.

    Trades are taken in order of ``exit_time`` (when present; ties keep the frame's order).
    A winner has ``net_pnl > 0``, a loser ``net_pnl < 0``; a scratch trade (0) ends both.

    Parameters
    ----------
    trades : pandas.DataFrame
        Closed trades with a ``net_pnl`` column.

    Returns
    -------
    dict
        ``{"max_win_streak": int, "max_loss_streak": int}``; 0 and 0 without trades.
    """
    if "exit_time" in trades.columns and len(trades):
        order = np.argsort(_utc_index(trades["exit_time"]).asi8, kind="stable")
        net = trades["net_pnl"].to_numpy(dtype=np.float64)[order]
    else:
        net = trades["net_pnl"].to_numpy(dtype=np.float64)
    return {"max_win_streak": _longest_run(net > 0), "max_loss_streak": _longest_run(net < 0)}
