"""What deserves an alert, what it says, and how often it may be said.

Pure logic, no threads or network: an :class:`Alert` built from a drawdown, a trade or an
error; a :class:`Deduplicator` (the same key within a window goes out once, the repeats are
counted and mentioned in the next one that goes out); a :class:`RateLimiter` (at most ``n``
alerts per sliding window). Both take the clock as a parameter, so tests drive time.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = [
    "Alert",
    "Deduplicator",
    "DrawdownRule",
    "RateLimiter",
    "Severity",
    "drawdown_alert",
    "error_alert",
    "trade_alert",
]


class Severity(StrEnum):
    """How loud an alert is."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True)
class Alert:
    """One alert: ``key`` identifies repeats (same key = same alert for deduplication)."""

    key: str
    subject: str
    message: str
    severity: Severity = Severity.INFO

    def with_repeats(self, repeats: int) -> Alert:
        """This alert, saying how many like it were held back since the last one sent."""
        if repeats <= 0:
            return self
        note = f" ({repeats} similar alert{'s' if repeats > 1 else ''} suppressed)"
        return Alert(self.key, self.subject, self.message + note, self.severity)


def drawdown_alert(current_dd: float, threshold: float) -> Alert | None:
    """An alert when the drawdown reaches the threshold, else None.

    Both are fractions of equity (0.05 = 5 %); the sign is ignored, so ``-0.06`` and
    ``0.06`` are the same drawdown.

    Raises
    ------
    ValueError
        When the threshold is zero or not a finite number.
    """
    dd, limit = abs(float(current_dd)), abs(float(threshold))
    if not limit > 0 or limit == float("inf"):
        raise ValueError(f"drawdown threshold must be a positive fraction, got {threshold!r}")
    if dd != dd:  # NaN: nothing known, nothing said
        return None
    if dd < limit:
        return None
    severity = Severity.CRITICAL if dd >= 2 * limit else Severity.WARNING
    return Alert(
        key=f"drawdown:{limit:.6g}",
        subject=f"Drawdown {dd:.2%} (limit {limit:.2%})",
        message=f"Drawdown is {dd:.2%}, at or beyond the {limit:.2%} threshold.",
        severity=severity,
    )


class DrawdownRule:
    """Tracks peak equity and alerts when the drawdown from it reaches ``threshold``.

    Parameters
    ----------
    threshold : float
        Fraction of the peak (0.05 = 5 %).
    """

    def __init__(self, threshold: float) -> None:
        drawdown_alert(0.0, threshold)  # validates
        self.threshold = abs(threshold)
        self.peak: float | None = None

    def update(self, equity: float) -> Alert | None:
        """Feed one equity value; the alert if the drawdown now reaches the threshold."""
        if self.peak is None or equity > self.peak:
            self.peak = equity
        if self.peak <= 0:
            return None
        return drawdown_alert((self.peak - equity) / self.peak, self.threshold)


def _field(trade: Any, *names: str) -> Any:
    for name in names:
        value = trade.get(name) if isinstance(trade, Mapping) else getattr(trade, name, None)
        if value is not None:
            return value
    return None


def _when(ns: Any) -> str:
    if isinstance(ns, (int, float)) and not isinstance(ns, bool):
        stamp = dt.datetime.fromtimestamp(ns / 1e9, tz=dt.UTC)
        return stamp.strftime("%Y-%m-%d %H:%M:%S UTC")
    return str(ns)


def _side(value: Any) -> str:
    name = getattr(value, "name", None)
    return str(name if name is not None else value).upper()


def trade_alert(trade: Any) -> Alert:
    """An alert describing a fill or a closed trade.

    ``trade`` is a :class:`workbench.model.Fill`, a row of a trade table (a mapping or a
    pandas Series with ``side contracts entry_price exit_price net_pnl ...``) or any object
    with such attributes; fields it lacks are left out of the message.
    """
    symbol = _field(trade, "symbol") or "?"
    side = _side(_field(trade, "side") or "?")
    qty = _field(trade, "quantity", "contracts")
    exit_price = _field(trade, "exit_price")
    if exit_price is not None:  # a closed round trip
        entry = _field(trade, "entry_price")
        pnl = _field(trade, "net_pnl", "pnl")
        parts = [" ".join(str(p) for p in ("Closed", side, qty, symbol) if p is not None)]
        parts.append(f"entry {entry} exit {exit_price}")
        if pnl is not None:
            parts.append(f"net P&L {float(pnl):+,.2f} USD")
        reason = _field(trade, "exit_reason")
        if reason:
            parts.append(f"({reason})")
        when = _field(trade, "exit_time")
        subject = f"Trade closed: {symbol} {side}"
    else:  # a fill
        price = _field(trade, "price")
        parts = [f"Filled {side} {qty} {symbol} @ {price}"]
        commission = _field(trade, "commission")
        if commission:
            parts.append(f"commission {float(commission):.2f} USD")
        when = _field(trade, "time")
        subject = f"Fill: {side} {qty} {symbol} @ {price}"
    if when is not None:
        parts.append(f"at {_when(when)}")
    message = ", ".join(parts)
    ident = _field(trade, "order_ref", "trade_id", "id")
    key = f"trade:{ident}:{subject}" if ident else f"trade:{subject}:{when}"
    return Alert(key=key, subject=subject, message=message, severity=Severity.INFO)


def error_alert(error: BaseException | str) -> Alert:
    """An alert for an error: its type and message (no traceback)."""
    if isinstance(error, BaseException):
        kind, text = type(error).__name__, str(error).strip() or "(no message)"
    else:
        kind, text = "Error", str(error)
    first_line = text.splitlines()[0] if text else ""
    return Alert(
        key=f"error:{kind}:{text}",
        subject=f"Error: {kind}: {first_line[:120]}",
        message=f"{kind}: {text}",
        severity=Severity.CRITICAL,
    )


class Deduplicator:
    """Lets one alert per key through within ``window`` seconds and counts the rest.

    Parameters
    ----------
    window : float
        Seconds during which a key that went out is held back.
    """

    def __init__(self, window: float) -> None:
        self.window = window
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def admit(self, key: str, now: float) -> int | None:
        """None when ``key`` is a repeat inside the window (counted), else the number of
        repeats held back since the key last went out."""
        last = self._last.get(key)
        if last is not None and now - last < self.window:
            self._held[key] = self._held.get(key, 0) + 1
            return None
        self._last[key] = now
        return self._held.pop(key, 0)


class RateLimiter:
    """At most ``limit`` admissions per sliding ``window`` seconds.

    Parameters
    ----------
    limit : int
        Admissions allowed in any window.
    window : float
        Seconds.
    """

    def __init__(self, limit: int, window: float) -> None:
        if limit < 1 or window <= 0:
            raise ValueError(f"rate limit must be >= 1 per positive window, got {limit}/{window}")
        self.limit = limit
        self.window = window
        self._times: deque[float] = deque()

    def admit(self, now: float) -> bool:
        """Whether one more may go now (and, if so, count it)."""
        while self._times and now - self._times[0] >= self.window:
            self._times.popleft()
        if len(self._times) >= self.limit:
            return False
        self._times.append(now)
        return True
