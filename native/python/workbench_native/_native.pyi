"""Typed stub for the compiled module (kept in step by ``mypy.stubtest`` in ``make test``)."""

__version__: str
FIXED_PRICE_SCALE: int

def fixed_to_ticks(price: int, tick_fixed: int) -> int | None:
    """Convert a Databento fixed-point price (1e-9) to whole ticks; None when off the grid."""

def ticks_to_fixed(ticks: int, tick_fixed: int) -> int:
    """Convert whole ticks to a Databento fixed-point price (1e-9)."""
