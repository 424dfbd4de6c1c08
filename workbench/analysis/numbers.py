"""Numbers as summary.json holds them: rounded builtin floats, None for undefined figures."""

from __future__ import annotations

import math

#: Decimals of dollar figures, ratios and percentages, and minutes.
USD_DIGITS = 2
RATIO_DIGITS = 4
MINUTE_DIGITS = 2


def json_number(x: float | None, ndigits: int) -> float | None:
    """``x`` rounded, as a builtin float; None for None, NaN and infinities."""
    if x is None:
        return None
    value = float(x)
    if not math.isfinite(value):
        return None
    return round(value, ndigits) + 0.0  # + 0.0 turns -0.0 into 0.0
