"""Typed stub for the compiled module (kept in step by ``mypy.stubtest`` in ``make test``)."""

from typing import Any

import numpy as np
import numpy.typing as npt

__version__: str
FIXED_PRICE_SCALE: int

def fixed_to_ticks(price: int, tick_fixed: int) -> int | None:
    """Convert a Databento fixed-point price (1e-9) to whole ticks; None when off the grid."""

def ticks_to_fixed(ticks: int, tick_fixed: int) -> int:
    """Convert whole ticks to a Databento fixed-point price (1e-9)."""

def ema_filter(x: npt.NDArray[np.float64], alpha: float, seed: float) -> npt.NDArray[np.float64]:
    """EMA recursion ``y[t] = alpha * x[t] + (1 - alpha) * y[t-1]`` with ``y[-1] = seed``."""

def ema_cross(x: npt.NDArray[np.float64], fast: int, slow: int) -> npt.NDArray[np.int8] | None:
    """``sign(EMA(x, fast) - EMA(x, slow))`` per bar, 0 during the warm-up; None on NaN."""

def atr_wilder(
    high: npt.NDArray[np.float64],
    low: npt.NDArray[np.float64],
    close: npt.NDArray[np.float64],
    period: int,
    seed: float,
    scale: float,
) -> npt.NDArray[np.float64] | None:
    """``scale x`` Wilder ATR of ``period`` bars seeded with ``seed``; None on NaN prices."""

def first_not_increasing(ts: npt.NDArray[np.int64]) -> int | None:
    """Index of the first timestamp not greater than the one before it, or None."""

def first_not_finite(x: npt.NDArray[np.float64]) -> int | None:
    """Index of the first NaN or infinity, or None."""

def run_starts(ts: npt.NDArray[np.int64], bucket_ns: int) -> npt.NDArray[np.int64]:
    """Start index of each run of timestamps in the same ``bucket_ns`` bucket."""

def max_drawdown(
    values: npt.NDArray[np.float64], floor: float
) -> tuple[float, float | None] | None:
    """``(max drawdown, as a fraction of the peak or None)`` below the running peak from
    ``floor``; None for an empty series or one with NaN."""

def simulate(
    open: npt.NDArray[np.float64],
    high: npt.NDArray[np.float64],
    low: npt.NDArray[np.float64],
    close: npt.NDArray[np.float64],
    signal: npt.NDArray[np.int8],
    stop_distance: npt.NDArray[np.float64],
    day_starts: npt.NDArray[np.int64],
    rolls: npt.NDArray[np.int64],
    entry_ok: npt.NDArray[np.bool_] | None,
    force_flat: npt.NDArray[np.bool_] | None,
    params: dict[str, Any],
) -> dict[str, Any]:
    """Run the backtest state machine over per-bar arrays (see ``workbench.backtest.simulate``).

    Prices and stop distances are in price units; they are converted to whole ticks with
    ``params["tick_size"]`` (prices: ``rint``; distances: rounded up, NaN = no stop).
    ``day_starts`` and ``rolls`` are the bars where a trade date starts and where the contract
    changes; ``entry_ok``/``force_flat`` may be None (always allowed / never forced).
    """
