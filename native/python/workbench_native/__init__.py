"""Rust execution and order-book kernels for the workbench.

The compiled module ``workbench_native._native`` is private; import from here.
"""

from __future__ import annotations

from workbench_native._native import (
    FIXED_PRICE_SCALE,
    __version__,
    ema_filter,
    fixed_to_ticks,
    simulate,
    ticks_to_fixed,
)

__all__ = [
    "FIXED_PRICE_SCALE",
    "__version__",
    "ema_filter",
    "fixed_to_ticks",
    "simulate",
    "ticks_to_fixed",
]
