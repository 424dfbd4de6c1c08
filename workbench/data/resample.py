"""Resample OHLCV bars the way Databento builds them.

Databento's bar semantics: a bar is labelled with the START of its interval, aggregates the
trades inside it (open = first, high = max, low = min, close = last, volume = sum), and
exists only if something traded. ``ohlcv-1d`` follows the UTC day. So resampling finer bars
with these rules reproduces the coarser schema exactly: 1s -> 1m -> 1h -> 1d (UTC).

The CME trade-date bar (one session, 18:00 New York to 17:00 New York) is offered as well,
labelled by its trade date.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.data.schemas import NS_PER_DAY, schema_info
from workbench.errors import ConfigError
from workbench.market.calendar import trade_dates

_RULES = {"1s": "ohlcv-1s", "1m": "ohlcv-1m", "1h": "ohlcv-1h", "1d": "ohlcv-1d"}


@dataclass
class BarArrays:
    """Column arrays of bars: ``ts`` is the UTC ns bar start, ``codes`` the instrument."""

    ts: np.ndarray
    codes: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __len__(self) -> int:
        return len(self.ts)


def aggregate(bars: BarArrays, bucket: np.ndarray) -> BarArrays:
    """Aggregate bars sharing ``(codes, bucket)``; ``bucket`` becomes the new ``ts``.

    The output is sorted by ``ts`` then instrument code.
    """
    if len(bars) == 0:
        return bars
    order = np.lexsort((bars.ts, bars.codes, bucket))  # by bucket, code, then time
    b, c = bucket[order], bars.codes[order]
    new = np.r_[True, (b[1:] != b[:-1]) | (c[1:] != c[:-1])]
    starts = np.flatnonzero(new)
    ends = np.r_[starts[1:], len(order)] - 1
    return BarArrays(
        ts=b[starts],
        codes=c[starts],
        open=bars.open[order][starts],
        high=np.maximum.reduceat(bars.high[order], starts),
        low=np.minimum.reduceat(bars.low[order], starts),
        close=bars.close[order][ends],
        volume=np.add.reduceat(bars.volume[order], starts),
    )


def resample_arrays(bars: BarArrays, interval_ns: int) -> BarArrays:
    """Resample to a fixed UTC interval (``60e9`` for 1m, ``NS_PER_DAY`` for the UTC day)."""
    return aggregate(bars, bars.ts - bars.ts % interval_ns)


def resample_bars(df: pd.DataFrame, rule: str) -> pd.DataFrame:
    """Resample a bar frame from :func:`workbench.data.load_bars` to a coarser bar.

    Parameters
    ----------
    df : pandas.DataFrame
        Bars indexed by UTC bar start with ``open high low close volume`` and optionally
        ``symbol`` (each symbol is resampled on its own).
    rule : {"1s", "1m", "1h", "1d", "trade_date"}
        Target bar. ``"1d"`` is the UTC day (Databento's ``ohlcv-1d``); ``"trade_date"``
        is the CME session (18:00-17:00 New York), indexed by trade date.

    Returns
    -------
    pandas.DataFrame
        Same columns; only intervals with at least one bar appear.
    """

    if rule not in (*_RULES, "trade_date"):
        raise ConfigError(
            f"unknown resample rule {rule!r}", hint="use 1s, 1m, 1h, 1d or trade_date"
        )
    if df.empty:
        return df.copy()
    ts = df.index.as_unit("ns").asi8
    if "symbol" in df:
        cat = pd.Categorical(df["symbol"])
        codes, names = cat.codes.astype(np.int64), list(cat.categories)
    else:
        codes, names = np.zeros(len(df), dtype=np.int64), []
    bars = BarArrays(
        ts,
        codes,
        df["open"].to_numpy(),
        df["high"].to_numpy(),
        df["low"].to_numpy(),
        df["close"].to_numpy(),
        df["volume"].to_numpy(),
    )
    if rule == "trade_date":
        bucket = trade_dates(ts).astype("datetime64[ns]").astype(np.int64)
        out = aggregate(bars, bucket)
        index = pd.Index(out.ts.view("datetime64[ns]").astype("datetime64[D]"), name="trade_date")
    else:
        out = resample_arrays(bars, schema_info(_RULES[rule]).interval_ns)
        index = pd.DatetimeIndex(out.ts.view("datetime64[ns]"), name=df.index.name).tz_localize(
            "UTC"
        )
    frame = pd.DataFrame(
        {
            "open": out.open,
            "high": out.high,
            "low": out.low,
            "close": out.close,
            "volume": out.volume,
        },
        index=index,
    )
    if names:
        frame["symbol"] = pd.Categorical.from_codes(out.codes, categories=names)
    frame.attrs = dict(df.attrs)
    return frame


__all__ = ["NS_PER_DAY", "BarArrays", "aggregate", "resample_arrays", "resample_bars"]
