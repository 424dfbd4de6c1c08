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

def simulate(
    open: npt.NDArray[np.float64],
    high: npt.NDArray[np.float64],
    low: npt.NDArray[np.float64],
    close: npt.NDArray[np.float64],
    signal: npt.NDArray[np.int8],
    stop_distance: npt.NDArray[np.float64],
    day: npt.NDArray[np.int64],
    contract: npt.NDArray[np.int64],
    entry_ok: npt.NDArray[np.bool_],
    force_flat: npt.NDArray[np.bool_],
    params: dict[str, Any],
) -> dict[str, Any]:
    """Run the backtest state machine over per-bar arrays (see ``workbench.backtest.simulate``).

    Prices and stop distances are in price units; they are converted to whole ticks with
    ``params["tick_size"]`` (prices: ``rint``; distances: rounded up, NaN = no stop).
    """
