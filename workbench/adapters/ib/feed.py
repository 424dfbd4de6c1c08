"""The simulated gateway's market: a replayed path of 5-second bars.

The path comes from the catalog's 1-minute bars (each minute split into twelve 5-second bars
along open -> first extreme -> second extreme -> close, so the minute's open, high, low and
close are kept exactly), or from a list of prices a test gives (one 5-second bar per price).
The feed has a cursor: :meth:`BarFeed.step` publishes the next bar; everything before the
cursor is history (``reqHistoricalData``), nothing after it is visible. Deterministic: the
same input gives the same bars. :class:`ContractFeeds` puts several contracts' feeds on one
clock, so that each contract has its own prices (a roll from one to the next).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from workbench.data.loader import load_bars

NS = 1_000_000_000
#: Seconds per real-time bar (IB only serves 5-second real-time bars).
RT_SECONDS = 5
_SUB_POINTS = (0, 4, 8, 12)  # where open, extremes and close sit among 13 path points


@dataclass(frozen=True)
class Bar:
    """One bar: UTC start (ns), prices in dollars, volume and trade count."""

    ts: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    count: int

    @property
    def path(self) -> tuple[float, float, float, float]:
        """The order prices were touched in: open, nearer extreme, farther extreme, close."""
        if self.close >= self.open:
            return (self.open, self.low, self.high, self.close)
        return (self.open, self.high, self.low, self.close)


class BarFeed:
    """Base bars (``base_seconds`` apart, a multiple of 5) replayed as 5-second bars.

    Parameters
    ----------
    ts : array of int64
        UTC start of each base bar, ns, increasing.
    open, high, low, close, volume : arrays
        Base bar values.
    base_seconds : int
        Length of a base bar: 60 for catalog minutes, 5 for a given price path.
    tick : float
        Price increment the split bars are rounded to.
    """

    def __init__(
        self,
        ts: ArrayLike,
        open_: ArrayLike,
        high: ArrayLike,
        low: ArrayLike,
        close: ArrayLike,
        volume: ArrayLike,
        *,
        base_seconds: int = 60,
        tick: float = 0.01,
    ) -> None:
        if base_seconds % RT_SECONDS or base_seconds <= 0:
            raise ValueError(f"base_seconds must be a positive multiple of 5, got {base_seconds}")
        if np.size(ts) == 0:
            raise ValueError("a feed needs at least one bar")
        self.ts = np.asarray(ts, dtype=np.int64)
        self.open = np.asarray(open_, dtype=float)
        self.high = np.asarray(high, dtype=float)
        self.low = np.asarray(low, dtype=float)
        self.close = np.asarray(close, dtype=float)
        self.volume = np.asarray(volume, dtype=float)
        self.base_seconds = base_seconds
        self.sub = base_seconds // RT_SECONDS
        self.tick = tick
        self._cursor = 0  # 5-second bars published so far

    # --- construction -----------------------------------------------------------------
    @classmethod
    def from_prices(
        cls, prices: Sequence[float], start: dt.datetime | None = None, volume: float = 10.0
    ) -> BarFeed:
        """One 5-second bar per price (open = high = low = close), from ``start`` (UTC)."""
        t0 = start or dt.datetime(2025, 1, 6, 14, 30, tzinfo=dt.UTC)
        t0_ns = int(t0.timestamp()) * NS
        p = np.asarray(prices, dtype=float)
        ts = t0_ns + np.arange(len(p), dtype=np.int64) * RT_SECONDS * NS
        return cls(ts, p, p, p, p, np.full(len(p), volume), base_seconds=RT_SECONDS)

    @classmethod
    def from_catalog(
        cls,
        data_dir: str | Path | None = None,
        start: str | None = None,
        end: str | None = None,
        product: str = "MCL_FUT",
    ) -> BarFeed:
        """The catalog's continuous front-month 1-minute bars between ``start`` and ``end``."""
        bars = load_bars(product, "ohlcv-1m", start=start, end=end, data_dir=data_dir)
        ts = bars.index.asi8
        return cls(
            ts,
            bars["open"].to_numpy(),
            bars["high"].to_numpy(),
            bars["low"].to_numpy(),
            bars["close"].to_numpy(),
            bars["volume"].to_numpy(),
            base_seconds=60,
        )

    # --- replay -------------------------------------------------------------------------
    @property
    def total(self) -> int:
        """How many 5-second bars the whole feed has."""
        return len(self.ts) * self.sub

    @property
    def cursor(self) -> int:
        """5-second bars published so far."""
        return self._cursor

    @property
    def done(self) -> bool:
        """Whether every bar has been published."""
        return self._cursor >= self.total

    def seek(self, ts_ns: int) -> None:
        """Move the cursor to the first base bar starting at or after ``ts_ns`` (history kept)."""
        self._cursor = int(np.searchsorted(self.ts, ts_ns)) * self.sub

    def clock_ns(self) -> int:
        """Now, in the simulation: the end of the last published bar (start of the feed before)."""
        if self._cursor == 0:
            return int(self.ts[0])
        return self.sub_bar(self._cursor - 1).ts + RT_SECONDS * NS

    def last_price(self) -> float:
        """The last traded price (the open of the feed before any bar)."""
        if self._cursor == 0:
            return float(self.open[0])
        return self.sub_bar(self._cursor - 1).close

    def step(self) -> Bar | None:
        """Publish the next 5-second bar (None once the feed is exhausted)."""
        if self.done:
            return None
        bar = self.sub_bar(self._cursor)
        self._cursor += 1
        return bar

    def sub_bar(self, k: int) -> Bar:
        """The ``k``-th 5-second bar of the feed."""
        i, j = divmod(k, self.sub)
        start = int(self.ts[i]) + j * RT_SECONDS * NS
        if self.sub == 1:
            return Bar(
                start,
                float(self.open[i]),
                float(self.high[i]),
                float(self.low[i]),
                float(self.close[i]),
                float(self.volume[i]),
                1,
            )
        pts = self._path_points(i)
        o, c = pts[j], pts[j + 1]
        vol_total = int(self.volume[i])
        vol = vol_total // self.sub + (1 if j < vol_total % self.sub else 0)
        return Bar(start, o, max(o, c), min(o, c), c, float(vol), max(1, vol // 2))

    def _path_points(self, i: int) -> list[float]:
        """``sub + 1`` prices through the base bar's open, extremes and close (tick-rounded)."""
        o, h, lo, c = self.open[i], self.high[i], self.low[i], self.close[i]
        knots = (o, lo, h, c) if c >= o else (o, h, lo, c)
        n = self.sub
        xs = np.linspace(0, n, len(_SUB_POINTS))
        pts = np.interp(np.arange(n + 1), xs, knots)
        return [round(round(p / self.tick) * self.tick, 10) for p in pts]

    # --- history ------------------------------------------------------------------------
    def history(self, end_ns: int, duration_s: int, bar_seconds: int) -> list[Bar]:
        """Bars of ``bar_seconds`` (aligned to the epoch) built from published bars only.

        Covers ``[end_ns - duration_s, end_ns)``; a bar is returned only when it ended at or
        before the simulation clock (no look-ahead).
        """
        end_ns = min(end_ns, self.clock_ns())
        lo_ns = end_ns - duration_s * NS
        width = bar_seconds * NS
        if bar_seconds % self.base_seconds == 0:
            # Whole base bars: a vectorised aggregation.
            n_pub = self._cursor // self.sub
            a = int(np.searchsorted(self.ts[:n_pub], lo_ns))
            b = int(np.searchsorted(self.ts[:n_pub], end_ns))
            keys = self.ts[a:b] // width
            rows = _aggregate(
                keys,
                self.open[a:b],
                self.high[a:b],
                self.low[a:b],
                self.close[a:b],
                self.volume[a:b],
            )
        else:
            subs = [self.sub_bar(k) for k in self._sub_range(lo_ns, end_ns)]
            if not subs:
                return []
            rows = _aggregate(
                np.array([s.ts for s in subs], dtype=np.int64) // width,
                np.array([s.open for s in subs]),
                np.array([s.high for s in subs]),
                np.array([s.low for s in subs]),
                np.array([s.close for s in subs]),
                np.array([s.volume for s in subs]),
            )
        out = [Bar(k * width, o, h, lo, c, v, n) for k, o, h, lo, c, v, n in rows]
        return [b for b in out if b.ts + width <= end_ns]

    def _sub_range(self, lo_ns: int, hi_ns: int) -> range:
        first_base = int(np.searchsorted(self.ts, lo_ns - self.base_seconds * NS))
        first = first_base * self.sub
        k = first
        while k < self._cursor and self.sub_bar(k).ts < lo_ns:
            k += 1
        last = k
        while last < self._cursor and self.sub_bar(last).ts < hi_ns:
            last += 1
        return range(k, last)


def _aggregate(
    keys: np.ndarray,
    o: np.ndarray,
    h: np.ndarray,
    lo: np.ndarray,
    c: np.ndarray,
    v: np.ndarray,
) -> list[tuple[int, float, float, float, float, float, int]]:
    """OHLCV per run of equal ``keys`` (time-ordered input): (key, o, h, l, c, v, count)."""
    if len(keys) == 0:
        return []
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(keys)]
    return [
        (
            int(keys[s]),
            float(o[s]),
            float(h[s:e].max()),
            float(lo[s:e].min()),
            float(c[e - 1]),
            float(v[s:e].sum()),
            int(e - s),
        )
        for s, e in zip(starts, ends, strict=True)
    ]


class ContractFeeds:
    """Several contracts' :class:`BarFeed` on one clock: the simulated gateway's market.

    Each listed contract has its own path (keyed by local symbol, ``MCLH4``), so a session
    that rolls from one contract to the next sees each contract's own prices, history and
    fills, as at IB. The clock walks the union of the contracts' bar starts; a contract
    publishes a 5-second bar only where it has a base bar (a sparse back month stays quiet).
    The key :data:`ANY` serves one path for every contract (a single :class:`BarFeed`).

    Parameters
    ----------
    feeds : mapping of str to BarFeed
        Base bars per local symbol, all with the same ``base_seconds``.
    """

    #: The key of a feed that answers for any contract.
    ANY = ""

    def __init__(self, feeds: Mapping[str, BarFeed]) -> None:
        if not feeds:
            raise ValueError("a market needs at least one contract's feed")
        self.feeds = dict(feeds)
        bases = {f.base_seconds for f in self.feeds.values()}
        if len(bases) != 1:
            raise ValueError(f"the feeds' base bars differ in length: {sorted(bases)} s")
        self.base_seconds = bases.pop()
        self.sub = self.base_seconds // RT_SECONDS
        self.ts = np.unique(np.concatenate([f.ts for f in self.feeds.values()]))
        self._cursor = 0

    @classmethod
    def single(cls, feed: BarFeed) -> ContractFeeds:
        """One path for every contract (what a plain :class:`BarFeed` serves)."""
        return cls({cls.ANY: feed})

    @classmethod
    def from_frame(cls, bars: pd.DataFrame) -> ContractFeeds:
        """Per-contract feeds from bars with a ``symbol`` column (``load_bars(...,
        continuous=False)``: every outright contract's 1-minute bars)."""
        feeds: dict[str, BarFeed] = {}
        for symbol, rows in bars.groupby(bars["symbol"].astype(str), sort=True):
            feeds[str(symbol)] = BarFeed(
                rows.index.asi8,
                rows["open"].to_numpy(),
                rows["high"].to_numpy(),
                rows["low"].to_numpy(),
                rows["close"].to_numpy(),
                rows["volume"].to_numpy(),
                base_seconds=60,
            )
        return cls(feeds)

    @classmethod
    def from_catalog(
        cls,
        data_dir: str | Path | None = None,
        start: str | None = None,
        end: str | None = None,
        product: str = "MCL_FUT",
    ) -> ContractFeeds:
        """Every outright contract of the catalog's 1-minute bars, each on its own path."""
        bars = load_bars(
            product, "ohlcv-1m", start=start, end=end, data_dir=data_dir, continuous=False
        )
        return cls.from_frame(bars)

    @property
    def symbols(self) -> list[str]:
        """The contracts served (local symbols; ``[""]`` for one path for all)."""
        return list(self.feeds)

    def feed_for(self, symbol: str) -> BarFeed | None:
        """The path of contract ``symbol`` (the shared one, if any), or None."""
        return self.feeds.get(symbol, self.feeds.get(self.ANY))

    # --- the clock ----------------------------------------------------------------------
    @property
    def total(self) -> int:
        """How many 5-second steps the clock has."""
        return len(self.ts) * self.sub

    @property
    def cursor(self) -> int:
        """5-second steps published so far."""
        return self._cursor

    @property
    def done(self) -> bool:
        """Whether every step has been published."""
        return self._cursor >= self.total

    def seek(self, ts_ns: int) -> None:
        """Move every contract to the first base bar starting at or after ``ts_ns``."""
        self._cursor = int(np.searchsorted(self.ts, ts_ns)) * self.sub
        for f in self.feeds.values():
            f.seek(ts_ns)

    def clock_ns(self) -> int:
        """Now: the end of the last published step (the first bar's start before any)."""
        if self._cursor == 0:
            return int(self.ts[0])
        i, j = divmod(self._cursor - 1, self.sub)
        return int(self.ts[i]) + (j + 1) * RT_SECONDS * NS

    def step(self) -> list[tuple[str, Bar]]:
        """Publish the next 5-second step: ``(symbol, bar)`` of each contract trading then."""
        if self.done:
            return []
        t = int(self.ts[self._cursor // self.sub])
        out = []
        for symbol, f in self.feeds.items():
            k = f.cursor // f.sub
            if not f.done and int(f.ts[k]) == t:
                bar = f.step()
                if bar is not None:
                    out.append((symbol, bar))
        self._cursor += 1
        return out

    def last_price(self, symbol: str = ANY) -> float:
        """The last traded price of ``symbol`` (of the latest-trading contract by default)."""
        f = self.feed_for(symbol) if symbol else None
        if f is None:
            f = max(self.feeds.values(), key=lambda g: g.clock_ns() if g.cursor else -1)
        return f.last_price()
