"""Real-time 5-second bars aggregated to a strategy's bar size, and a historical-request pacer.

A bar of ``N`` seconds is emitted when the 5-second bar that ends it arrives (or, if that
one is missing, when a later bar shows the bucket is over), never before: a strategy sees a
minute's close only once the minute has ended, as in the backtest. A bucket that began before
the subscription's first 5-second bar is incomplete: it comes out with ``complete=False``
(a fresh subscription drops it; a restored one takes that bar from history instead).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass

NS = 1_000_000_000


@dataclass(frozen=True)
class LiveBar:
    """One aggregated bar: UTC start ``ts`` (ns) and its length in seconds."""

    ts: int
    seconds: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    complete: bool = True  # False: the bar began before the first 5-second bar seen

    @property
    def end(self) -> int:
        """UTC end of the bar, ns: when it became known."""
        return self.ts + self.seconds * NS


class BarAggregator:
    """Folds 5-second bars into ``seconds``-long bars aligned to the epoch (UTC).

    Parameters
    ----------
    seconds : int
        Target bar length, a multiple of 5 (60 for one-minute bars).
    """

    def __init__(self, seconds: int = 60, base_seconds: int = 5) -> None:
        if seconds <= 0 or seconds % base_seconds:
            raise ValueError(
                f"bar size must be a positive multiple of {base_seconds} s, got {seconds}"
            )
        self.seconds = seconds
        self.base = base_seconds
        self._cur: list[float] | None = None  # start, o, h, l, c, v
        self._partial = False  # the current bucket began before the first bar we saw
        self._first = True
        self.last_ts: int | None = None

    def add(self, ts_ns: int, o: float, h: float, lo: float, c: float, v: float) -> list[LiveBar]:
        """Add one 5-second bar starting at ``ts_ns``; returns the bars it completes."""
        if self.last_ts is not None and ts_ns <= self.last_ts:
            return []  # a repeat (e.g. after a resubscription): ignore
        self.last_ts = ts_ns
        width = self.seconds * NS
        start = ts_ns - ts_ns % width
        out: list[LiveBar] = []
        if self._cur is not None and int(self._cur[0]) != start:
            out += self._emit()
        if self._cur is None:
            self._cur = [start, o, h, lo, c, v]
            self._partial = ts_ns != start and len(out) == 0 and self._first
        else:
            cur = self._cur
            cur[2], cur[3], cur[4], cur[5] = max(cur[2], h), min(cur[3], lo), c, cur[5] + v
        self._first = False
        if ts_ns + self.base * NS >= start + width:
            out += self._emit()
        return out

    def restart(self) -> None:
        """Forget the bar in progress (after a gap that history fills, or a resubscription)."""
        self._cur = None
        self._first = True

    def _emit(self) -> list[LiveBar]:
        """The bar in progress (``complete=False`` if it began before the first bar seen)."""
        assert self._cur is not None
        s, o, h, lo, c, v = self._cur
        self._cur = None
        complete = not self._partial
        self._partial = False
        return [LiveBar(int(s), self.seconds, o, h, lo, c, v, complete)]


class RequestPacer:
    """Queues requests so that at most ``max_requests`` start in any ``window`` seconds, and
    an identical request (same key) waits ``identical_gap`` seconds after the last one.

    IB's historical data rules: no more than 60 requests in 10 minutes and no identical
    request within 15 seconds, else error 162. The defaults stay under them.
    """

    def __init__(
        self, max_requests: int = 50, window: float = 600.0, identical_gap: float = 15.0
    ) -> None:
        if max_requests < 1 or window <= 0 or identical_gap < 0:
            raise ValueError("max_requests >= 1, window > 0 and identical_gap >= 0 are required")
        self.max_requests = max_requests
        self.window = window
        self.identical_gap = identical_gap
        self._starts: deque[float] = deque()
        self._last_by_key: dict[Hashable, float] = {}
        self._lock = asyncio.Lock()
        self.waited = 0.0  # seconds spent queued in total (for reports)

    def delay_for(self, key: Hashable, now: float) -> float:
        """Seconds a request with ``key`` must wait at ``now`` (0 when it may go)."""
        while self._starts and now - self._starts[0] >= self.window:
            self._starts.popleft()
        wait = 0.0
        if len(self._starts) >= self.max_requests:
            wait = self._starts[0] + self.window - now
        last = self._last_by_key.get(key) if key is not None else None
        if last is not None:
            wait = max(wait, last + self.identical_gap - now)
        return max(0.0, wait)

    async def acquire(self, key: Hashable = None) -> None:
        """Wait for a slot (in arrival order), then record the request as started."""
        async with self._lock:
            while (wait := self.delay_for(key, time.monotonic())) > 0:
                self.waited += wait
                await asyncio.sleep(wait)
            now = time.monotonic()
            self._starts.append(now)
            self._last_by_key[key] = now
