"""Resampling follows Databento's bar semantics; checked against pandas' own resampler."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.data.resample import resample_bars
from workbench.errors import ConfigError


def _seconds(n: int = 5_000, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    # Sparse seconds (bars only where something traded) for two contracts.
    secs = np.sort(rng.choice(4 * 3600, size=n, replace=False))
    idx = pd.Timestamp("2024-03-04 13:00", tz="UTC") + pd.to_timedelta(secs, unit="s")
    close = 78 + np.cumsum(rng.integers(-2, 3, n)) / 100
    open_ = np.r_[78.0, close[:-1]]
    high = np.maximum(open_, close) + rng.integers(0, 3, n) / 100
    low = np.minimum(open_, close) - rng.integers(0, 3, n) / 100
    sym = np.where(rng.random(n) < 0.7, "MCLJ4", "MCLK4")
    return pd.DataFrame(
        {
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "volume": rng.integers(1, 20, n),
            "symbol": sym,
        },
        index=pd.DatetimeIndex(idx, name="ts_event"),
    )


def _pandas_reference(df: pd.DataFrame, freq: str) -> pd.DataFrame:
    parts = []
    for sym, g in df.groupby("symbol"):
        r = g.resample(freq, label="left", closed="left").agg(
            {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}
        )
        r = r[g["volume"].resample(freq).count() > 0]  # no bar for an empty interval
        r["symbol"] = sym
        parts.append(r)
    return pd.concat(parts).reset_index().sort_values(["ts_event", "symbol"]).reset_index(drop=True)


@pytest.mark.parametrize(("rule", "freq"), [("1m", "1min"), ("1h", "1h"), ("1d", "1D")])
def test_matches_pandas_resample(rule: str, freq: str) -> None:
    df = _seconds()
    got = resample_bars(df, rule).reset_index()
    got["symbol"] = got["symbol"].astype(str)
    got = got.sort_values(["ts_event", "symbol"]).reset_index(drop=True)
    ref = _pandas_reference(df, freq)
    pd.testing.assert_frame_equal(
        got[["ts_event", "open", "high", "low", "close", "volume", "symbol"]],
        ref[["ts_event", "open", "high", "low", "close", "volume", "symbol"]],
        check_dtype=False,
        check_index_type=False,
    )


def test_chained_resampling_equals_direct() -> None:
    df = _seconds()
    via_minutes = resample_bars(resample_bars(df, "1m"), "1h")
    direct = resample_bars(df, "1h")
    pd.testing.assert_frame_equal(via_minutes, direct)


def test_trade_date_bar_spans_the_cme_session() -> None:
    idx = pd.DatetimeIndex(
        ["2024-03-04 21:59", "2024-03-04 23:00", "2024-03-05 14:00"], tz="UTC", name="ts_event"
    )
    df = pd.DataFrame(
        {
            "open": [1.0, 2.0, 3.0],
            "high": [1.5, 2.5, 3.5],
            "low": [0.5, 1.5, 2.5],
            "close": [1.2, 2.2, 3.2],
            "volume": [1, 2, 3],
        },
        index=idx,
    )
    out = resample_bars(df, "trade_date")
    # 21:59 UTC (16:59 NY) is Monday's session; 23:00 UTC (18:00 NY) opens Tuesday's.
    assert [str(d.date()) for d in out.index] == ["2024-03-04", "2024-03-05"]
    assert out["open"].tolist() == [1.0, 2.0]
    assert out["close"].tolist() == [1.2, 3.2]
    assert out["volume"].tolist() == [1, 5]
    utc = resample_bars(df, "1d")
    assert len(utc) == 2
    assert utc["volume"].tolist() == [3, 3]


def test_unknown_rule_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="unknown resample rule"):
        resample_bars(_seconds(10), "7m")
