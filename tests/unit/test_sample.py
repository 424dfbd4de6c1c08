"""The synthetic sample: real Globex hours, tick prices, consistent schemas, deterministic."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from workbench.data import load_bars, resample_bars
from workbench.data.sample import SampleConfig, generate_minutes
from workbench.data.store import META_KEY


def test_every_file_says_synthetic(small_sample: Path) -> None:
    files = sorted(small_sample.glob("raw/MCL_FUT/*/*.parquet"))
    assert {f.name.split("_", 1)[1] for f in files} == {
        "ohlcv-1m.parquet",
        "ohlcv-1h.parquet",
        "ohlcv-1d.parquet",
        "ohlcv-1s.parquet",
    }
    for f in files[:: max(1, len(files) // 20)]:
        meta = json.loads(pq.read_metadata(f).metadata[META_KEY])
        assert meta["synthetic"] is True
        assert meta["source"] == "synthetic"


def test_bars_respect_globex_hours(small_sample: Path) -> None:
    bars = load_bars("MCL_FUT", data_dir=small_sample, continuous=False)
    ny = bars.index.tz_convert("America/New_York")
    minute = ny.hour * 60 + ny.minute
    assert not ((minute >= 17 * 60) & (minute < 18 * 60)).any(), "bar inside the daily halt"
    assert not (ny.day_of_week == 5).any(), "bar on a Saturday"
    assert not ((ny.day_of_week == 4) & (minute >= 17 * 60)).any(), "bar after Friday's close"
    assert not ((ny.day_of_week == 6) & (minute < 18 * 60)).any(), "bar before Sunday's open"
    # MLK day 2024-01-15 closes early (13:30 Chicago = 19:30 UTC) and reopens at 18:00 NY.
    mlk = bars[(bars.index >= "2024-01-15 19:30") & (bars.index < "2024-01-15 23:00")]
    assert mlk.empty


def test_prices_on_tick_and_ohlc_consistent(small_sample: Path) -> None:
    bars = load_bars("MCL_FUT", data_dir=small_sample, continuous=False)
    px = bars[["open", "high", "low", "close"]].to_numpy() * 100
    assert np.allclose(px, np.round(px), atol=1e-6)
    assert (bars["high"] >= bars[["open", "close"]].max(axis=1)).all()
    assert (bars["low"] <= bars[["open", "close"]].min(axis=1)).all()
    assert (bars["volume"] > 0).all()
    # Several contracts trade at once around rolls.
    per_day = bars.groupby(bars.index.floor("D"))["symbol"].nunique()
    assert per_day.max() >= 2


def test_coarser_schemas_are_resampled_finer_ones(small_sample: Path) -> None:
    m1 = load_bars("MCL_FUT", "ohlcv-1m", data_dir=small_sample, continuous=False)
    h1 = load_bars("MCL_FUT", "ohlcv-1h", data_dir=small_sample, continuous=False)
    d1 = load_bars("MCL_FUT", "ohlcv-1d", data_dir=small_sample, continuous=False)
    for stored, rule in ((h1, "1h"), (d1, "1d")):
        rebuilt = resample_bars(m1, rule)
        a = stored.reset_index().sort_values(["ts_event", "symbol"], ignore_index=True)
        b = rebuilt.reset_index().sort_values(["ts_event", "symbol"], ignore_index=True)
        a["symbol"], b["symbol"] = a["symbol"].astype(str), b["symbol"].astype(str)
        pd.testing.assert_frame_equal(a, b, check_dtype=False, check_categorical=False)
    s1 = load_bars("MCL_FUT", "ohlcv-1s", data_dir=small_sample, continuous=False)
    assert len(s1) > 1000
    day = s1.index[0].floor("D")
    rebuilt = resample_bars(s1, "1m")
    stored = m1[(m1.index >= day) & (m1.index < day + pd.Timedelta(days=1))]
    assert len(stored) == len(rebuilt)
    np.testing.assert_allclose(stored["close"].to_numpy(), rebuilt["close"].to_numpy())
    np.testing.assert_array_equal(stored["volume"].to_numpy(), rebuilt["volume"].to_numpy())


def test_deterministic_and_seed_sensitive() -> None:
    cfg = SampleConfig(start=dt.date(2024, 2, 1), end=dt.date(2024, 2, 9))
    a, syms_a, _ = generate_minutes(cfg)
    b, syms_b, _ = generate_minutes(cfg)
    assert syms_a == syms_b
    np.testing.assert_array_equal(a.close, b.close)
    c, _, _ = generate_minutes(SampleConfig(start=cfg.start, end=cfg.end, seed=cfg.seed + 1))
    assert not np.array_equal(a.close[:100], c.close[:100])


def test_continuous_series_rolls_by_volume(small_sample: Path) -> None:
    df = load_bars("MCL_FUT", data_dir=small_sample)
    rolls = df.attrs["rolls"]
    assert df.attrs["synthetic"] is True
    assert [r["to_symbol"] for r in rolls] == ["MCLH4", "MCLJ4", "MCLK4"]
    # One contract at a time, in expiry order, switching exactly at the recorded rolls.
    changes = df["symbol"].astype(str)
    switch = changes.ne(changes.shift()).to_numpy().nonzero()[0][1:]
    assert [str(df.index[i]) for i in switch] == [str(pd.Timestamp(r["ts"])) for r in rolls]
    # A roll decided on day D starts at a session open (18:00 New York).
    for r in rolls:
        ny = pd.Timestamp(r["ts"]).tz_convert("America/New_York")
        assert (ny.hour, ny.minute) == (18, 0)


def test_back_adjustment_removes_the_roll_gap(small_sample: Path) -> None:
    raw = load_bars("MCL_FUT", data_dir=small_sample)
    adj = load_bars("MCL_FUT", data_dir=small_sample, adjust="difference")
    last = raw.attrs["rolls"][-1]
    # After the last roll prices are real; before it they move by the cumulative gaps.
    after = raw.index >= pd.Timestamp(last["ts"])
    np.testing.assert_allclose(adj["close"][after], raw["close"][after])
    total_gap = sum(r["adjustment"] for r in adj.attrs["rolls"])
    first_close_diff = adj["close"].iloc[0] - raw["close"].iloc[0]
    assert abs(first_close_diff - total_gap) < 1e-9
    px = adj[["open", "high", "low", "close"]].to_numpy() * 100
    assert np.allclose(px, np.round(px), atol=1e-6), "difference adjustment stays on the tick"
