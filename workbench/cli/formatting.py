"""Numbers, counts and times as the CLI prints them (as ``workbench backtest`` does)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any


def count(n: int, noun: str) -> str:
    """``1 combination``, ``2 combinations``, ``1,024 bars``."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def fixed(value: Any, decimals: int = 2) -> str:
    """A figure to ``decimals`` places; ``n/a`` for None or NaN (as the backtest lines)."""
    if value is None:
        return "n/a"
    v = float(value)
    return "n/a" if math.isnan(v) else f"{v:,.{decimals}f}"


def usd(value: Any) -> str:
    """``$1,234.50``, ``-$962.50``; ``n/a`` for None or NaN."""
    if value is None or math.isnan(float(value)):
        return "n/a"
    v = float(value)
    return f"{'-' if v < 0 else ''}${abs(v):,.2f}"


def utc_minute(ts: dt.datetime) -> str:
    """A bar time as ``2024-03-01 14:30`` (UTC, to the minute; the span says ``UTC``)."""
    if ts.tzinfo is not None:
        ts = ts.astimezone(dt.UTC)
    return f"{ts:%Y-%m-%d %H:%M}"
