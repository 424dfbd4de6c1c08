"""Drawdowns of an equity curve: the deepest one (USD and percent) and every period."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.native import max_drawdown as native_max_drawdown

#: Columns of :func:`drawdown_periods`.
DRAWDOWN_COLUMNS = ("start", "trough", "end", "depth_usd", "depth_pct", "duration", "recovery")


def equity_values(equity: pd.Series) -> np.ndarray:
    """The equity curve as float64 values; ValueError if a bar was not marked (NaN)."""
    values = np.asarray(equity, dtype=np.float64)
    if np.isnan(values).any():
        raise ValueError("equity contains NaN; the engine must mark every bar to market")
    return values


def running_peak(values: np.ndarray, initial_capital: float | None) -> np.ndarray:
    """Running maximum of ``values``, floored at ``initial_capital`` when given."""
    peak = np.maximum.accumulate(values)
    if initial_capital is not None:
        np.maximum(peak, initial_capital, out=peak)
    return peak


def max_drawdown(values: np.ndarray, initial_capital: float) -> tuple[float, float]:
    """Largest drawdown in USD and in percent of the running peak (both >= 0)."""
    if len(values) == 0:
        return 0.0, 0.0
    # One native pass; the NumPy lines below compute the same bits (a test holds them).
    native = native_max_drawdown(
        np.ascontiguousarray(values, dtype=np.float64), float(initial_capital)
    )
    if native is not None:
        usd, frac = native
        return usd, 0.0 if frac is None else frac * 100.0
    peak = running_peak(values, initial_capital)
    dd = peak - values
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(peak > 0, dd / peak, np.nan)
    max_pct = float(np.nanmax(pct)) * 100.0 if not np.isnan(pct).all() else 0.0
    return float(dd.max()), max_pct


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
    values = equity_values(equity)
    index = pd.DatetimeIndex(equity.index)
    n = len(values)
    empty_times = index[:0]
    if n == 0:
        return _drawdown_frame(empty_times, empty_times, empty_times, np.empty(0), np.empty(0))
    peak = running_peak(values, initial_capital)
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
