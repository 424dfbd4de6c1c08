"""Bar feeds: the catalog replayed at N x speed (the offline default), and live feeds.

A :class:`Bar` is one closed OHLCV bar; ``index`` is its position in the session (the
journal's key, so a restarted session knows where it stopped).

A :class:`LiveFeed` (IB's real-time bars in ``workbench.adapters.ib.broker``) is async: it
opens (connects, subscribes, returns warm-up history) and then yields each bar at its end,
and a :class:`FeedNotice` when the connection came back (the session reconciles then). A
:class:`RollingFeed` also moves to the next contract at its roll point.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from workbench.data.continuous import Roll
from workbench.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar: ``ts`` is its start (UTC ns), ``end`` its end; prices in dollars."""

    index: int
    ts: int
    end: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    symbol: str


class ReplayFeed:
    """The bars of a frame, one at a time, at ``speed`` x real time (0: as fast as possible).

    Parameters
    ----------
    bars : pandas.DataFrame
        Bars as :func:`workbench.data.load_bars` returns them (tz-aware index of bar starts).
    speed : float, default 0
        Replay speed: 60 plays one-minute bars at one per second; 0 or ``inf`` does not wait.
    start : int, default 0
        First bar to play (a resumed session starts where its journal stopped).
    symbol : str, optional
        Contract name when the frame has no ``symbol`` column.
    """

    def __init__(
        self,
        bars: pd.DataFrame,
        *,
        speed: float = 0.0,
        start: int = 0,
        symbol: str | None = None,
    ) -> None:
        if speed < 0 or np.isnan(speed):
            raise ConfigError(f"speed must be >= 0, got {speed}", hint="0 replays at full speed")
        self.bars = bars
        self.speed = speed
        self.start = start
        idx = bars.index if bars.index.unit == "ns" else bars.index.as_unit("ns")
        self.ts = np.ascontiguousarray(idx.asi8)
        diffs = np.diff(self.ts[:1000])
        self.interval_ns = int(np.median(diffs)) if len(diffs) else 60_000_000_000
        self._cols = [bars[c].to_numpy(np.float64).tolist() for c in ("open", "high", "low")]
        self._close = bars["close"].to_numpy(np.float64).tolist()
        self._volume = bars["volume"].to_numpy(np.float64).tolist()
        default = symbol or str(bars.attrs.get("contract") or bars.attrs.get("product") or "MCL")
        self._symbols = (
            bars["symbol"].astype(str).tolist() if "symbol" in bars else [default] * len(bars)
        )
        self._stopped = False

    def __len__(self) -> int:
        return len(self.ts)

    def stop(self) -> None:
        """End the replay after the current bar (thread-safe)."""
        self._stopped = True

    def bar(self, i: int) -> Bar:
        """Bar ``i`` of the frame."""
        ts = int(self.ts[i])
        o, h, lo = (c[i] for c in self._cols)
        return Bar(
            i,
            ts,
            ts + self.interval_ns,
            o,
            h,
            lo,
            self._close[i],
            self._volume[i],
            self._symbols[i],
        )

    def __iter__(self) -> Iterator[Bar]:
        wait = 0.0 if self.speed in (0, float("inf")) else self.interval_ns / 1e9 / self.speed
        due = time.monotonic()
        for i in range(self.start, len(self.ts)):
            if self._stopped:
                return
            if wait:
                due += wait
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
            yield self.bar(i)


@dataclass(frozen=True, slots=True)
class FeedNotice:
    """Not a bar: the feed's connection was restored (``kind`` ``"reconnected"``)."""

    kind: str
    message: str = ""


@runtime_checkable
class LiveFeed(Protocol):
    """Bars as they end, from a broker or a data vendor (see the module docstring)."""

    async def open(self) -> list[Bar]:
        """Connect and subscribe; the history bars to warm the strategy up (may be empty)."""
        ...

    def __aiter__(self) -> AsyncIterator[Bar | FeedNotice]:
        """Each bar at its end, and notices; ends after :meth:`stop`."""
        ...

    def backlog(self) -> int:
        """Bars received and not yet taken (a burst after a gap was filled from history)."""
        ...

    def stop(self) -> None:
        """End the iteration (thread-safe)."""
        ...

    async def aclose(self) -> None:
        """Unsubscribe and disconnect."""
        ...


@runtime_checkable
class RollingFeed(Protocol):
    """A live feed that follows a futures roll (IB): the session asks after each bar whether
    the next bar is on another contract, and the feed moves its subscription there."""

    @property
    def symbol(self) -> str:
        """The contract the bars are of now (``MCLH4``)."""
        ...

    def continue_on(self, symbol: str) -> None:
        """Open on ``symbol`` (a resumed session's contract, from its journal)."""
        ...

    async def roll_after(self, bar: Bar) -> Roll | None:
        """The roll when the bar after ``bar`` belongs to the next contract (the feed has
        moved to it), else None."""
        ...
