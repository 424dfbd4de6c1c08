"""Building blocks for strategies: bar columns as arrays, stateful positions from events, stops.

:func:`hold_positions` turns entry and exit conditions into a held position without a Python
loop over bars: each side (long, short) is a latch that switches on at its entry and off at its
exit (or at the other side's entry), computed as a forward fill of the latest event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from workbench.errors import DataError
from workbench.strategies.indicators import atr

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["atr_stop_distance", "column", "hold_positions", "latch"]


def column(bars: pd.DataFrame, name: str) -> npt.NDArray[np.float64]:
    """One price column of ``bars`` as a float64 numpy array.

    Parameters
    ----------
    bars : pandas.DataFrame
        OHLCV bars.
    name : str
        Column name, e.g. ``"close"``.

    Returns
    -------
    numpy.ndarray
        float64 values.

    Raises
    ------
    DataError
        When the column is missing.
    """
    if name not in bars.columns:
        raise DataError(
            f"bars have no {name!r} column (columns: {', '.join(map(str, bars.columns))})",
            hint="load them with workbench.data.load_bars",
        )
    return bars[name].to_numpy(dtype=np.float64)


def latch(on: npt.ArrayLike, off: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """A state that turns on at ``on`` events and off at ``off`` events, starting off.

    ``state[t]`` is True when the latest event at or before ``t`` is an ``on`` (an ``on`` and an
    ``off`` at the same bar count as ``on``). O(n): a forward fill of the last event index.

    Parameters
    ----------
    on, off : array_like of bool
        Event masks, same length.

    Returns
    -------
    numpy.ndarray
        bool, same length.
    """
    on_arr = np.asarray(on, dtype=bool)
    off_arr = np.asarray(off, dtype=bool)
    if on_arr.shape != off_arr.shape or on_arr.ndim != 1:
        raise ValueError(
            f"on and off must be 1-D and equal in length: {on_arr.shape}, {off_arr.shape}"
        )
    n = len(on_arr)
    # last[t] = 1 + index of the latest event at or before t (0: none yet), then look it up.
    last = np.arange(1, n + 1, dtype=np.int32 if n < 2**31 - 1 else np.int64)
    last[~(on_arr | off_arr)] = 0
    np.maximum.accumulate(last, out=last)
    return np.r_[False, on_arr][last]


def hold_positions(
    long_entry: npt.ArrayLike,
    long_exit: npt.ArrayLike,
    short_entry: npt.ArrayLike | None = None,
    short_exit: npt.ArrayLike | None = None,
) -> npt.NDArray[np.int8]:
    """Held position (-1/0/+1) from entry and exit conditions evaluated at each bar.

    Equivalent to the loop (checked in the tests)::

        pos = 0
        for t in range(n):
            if long_entry[t] and not short_entry[t]: pos = 1
            elif short_entry[t] and not long_entry[t]: pos = -1
            elif long_entry[t] and short_entry[t]: pos = 0
            elif pos == 1 and long_exit[t]: pos = 0
            elif pos == -1 and short_exit[t]: pos = 0

    An entry on one side reverses a position on the other; an exit only ends its own side;
    conflicting entries at the same bar leave the position flat.

    Parameters
    ----------
    long_entry, long_exit : array_like of bool
        Conditions at each bar (NaN comparisons are simply False).
    short_entry, short_exit : array_like of bool, optional
        Omit both for a long-only strategy.

    Returns
    -------
    numpy.ndarray
        int8, same length.
    """
    le = np.asarray(long_entry, dtype=bool)
    lx = np.asarray(long_exit, dtype=bool)
    if (short_entry is None) != (short_exit is None):
        raise ValueError("give both short_entry and short_exit, or neither")
    if short_entry is None or short_exit is None:
        return latch(le, lx).astype(np.int8)
    se = np.asarray(short_entry, dtype=bool)
    sx = np.asarray(short_exit, dtype=bool)
    is_long = latch(le & ~se, lx | se)
    is_short = latch(se & ~le, sx | le)
    return is_long.astype(np.int8) - is_short.astype(np.int8)


def atr_stop_distance(bars: pd.DataFrame, period: int, mult: float) -> npt.NDArray[np.float64]:
    """Protective stop distance ``mult x ATR(period)`` in price units (dollars for MCL).

    Parameters
    ----------
    bars : pandas.DataFrame
        OHLCV bars.
    period : int
        ATR period (Wilder).
    mult : float
        Multiple of ATR.

    Returns
    -------
    numpy.ndarray
        float64; NaN for the first ``period - 1`` bars (no stop known yet).
    """
    high, low, close = column(bars, "high"), column(bars, "low"), column(bars, "close")
    return atr(high, low, close, period, scale=mult)
