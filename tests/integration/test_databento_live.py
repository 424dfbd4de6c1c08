"""Our Databento Live feed on the unmodified ``databento.Live`` client, against a loopback
server speaking the Live Subscription Gateway protocol (tests/fakes/databento_live.py).

Bars from the live path are held to the historical path: the same records written as a DBN
file, ingested into a catalog and loaded with ``load_bars`` (and ``resample_bars``); trades
are held to a pandas aggregation of the same trades decoded by ``databento.DBNStore``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import databento
import databento_dbn as dbn
import numpy as np
import pandas as pd
import pytest

from tests.fakes.databento_gateway import (
    DEFAULT_API_KEY,
    MarketRecord,
    OhlcvBar,
    encode_dbn,
    make_ohlcv_dbn,
)
from tests.fakes.databento_live import FakeLiveGateway, free_port, make_trade
from workbench.adapters.databento import Bar, DatabentoLiveFeed, LiveFeedError
from workbench.data.ingest import ingest_files
from workbench.data.loader import load_bars
from workbench.data.resample import resample_bars
from workbench.data.store import DataRoot
from workbench.errors import ConfigError

pytestmark = [
    pytest.mark.timeout(60),
    # databento 0.87's to_df() calls set_index(inplace=True), deprecated in pandas 3.
    pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.set_index:Warning"),
]

NS = 1_000_000_000
T0 = pd.Timestamp("2025-11-03T14:00", tz="UTC").value
WRONG_KEY = "db-ThisKeyIsNotKnownToTheGateway9"


def minute_bars() -> list[OhlcvBar]:
    """Two contracts and a spread over 14:00-16:09 with gaps, on the 0.01 tick."""
    rng = np.random.default_rng(7)
    out: list[OhlcvBar] = []
    for symbol, iid, base in (("MCLZ5", 42001, 71.0), ("MCLF6", 42002, 70.8)):
        price = base
        for minute in range(130):
            if rng.random() < 0.15:  # a quiet minute: no bar, as Databento sends none
                continue
            steps = np.round(rng.normal(0, 0.04, 4), 2)
            o = round(price, 2)
            c = round(o + steps[0], 2)
            hi = round(max(o, c) + abs(steps[1]), 2)
            lo = round(min(o, c) - abs(steps[2]), 2)
            vol = int(rng.integers(1, 60))
            out.append(OhlcvBar(T0 + minute * 60 * NS, symbol, iid, o, hi, lo, c, vol))
            price = c
    out.append(OhlcvBar(T0, "MCLZ5-MCLF6", 42003, 0.2, 0.21, 0.19, 0.2, 3))
    return sorted(out, key=lambda b: (b.ts_event, b.instrument_id))


def trades() -> list[MarketRecord]:
    """Trades of MCLZ5 over 14:00:05-14:07:40 (irregular times), then one at 14:09."""
    rng = np.random.default_rng(11)
    ts = np.sort(rng.integers(T0 + 5 * NS, T0 + 460 * NS, 300))
    prices = np.round(71.0 + np.cumsum(rng.choice([-0.01, 0.0, 0.01], 300)), 2)
    sizes = rng.integers(1, 8, 300)
    recs = [
        MarketRecord("MCLZ5", make_trade(int(t), 42001, float(p), int(s), sequence=i))
        for i, (t, p, s) in enumerate(zip(ts, prices, sizes, strict=True))
    ]
    last = make_trade(T0 + 540 * NS, 42001, 71.5, 1, sequence=300)
    return [*recs, MarketRecord("MCLZ5", last)]


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The historical path: the same minute bars as a DBN file, ingested into a catalog."""
    root = tmp_path_factory.mktemp("catalog")
    path = root / "minutes.dbn"
    path.write_bytes(make_ohlcv_dbn(minute_bars()))
    ingest_files([path], DataRoot(str(root)))
    return root


def frame(bars: list[Bar], symbol: str) -> pd.DataFrame:
    rows = [b for b in bars if b.symbol == symbol]
    df = pd.DataFrame(
        {k: [getattr(b, k) for b in rows] for k in ("open", "high", "low", "close", "volume")},
        index=pd.DatetimeIndex(pd.to_datetime([b.ts for b in rows], utc=True), name="ts_event"),
    )
    df["volume"] = df["volume"].astype("int64")
    return df


def catalog_frame(catalog: Path, symbol: str) -> pd.DataFrame:
    df = load_bars(symbol, "ohlcv-1m", data_dir=catalog)
    out = df[["open", "high", "low", "close", "volume"]].copy()
    out["volume"] = out["volume"].astype("int64")
    out.index = out.index.as_unit("ns").rename("ts_event")
    return out


def ohlcv_market() -> list[MarketRecord]:
    return [MarketRecord(b.raw_symbol, b.to_record("ohlcv-1m")) for b in minute_bars()]


def test_live_minute_bars_equal_the_catalogs(
    catalog: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[Bar] = []
    with FakeLiveGateway(ohlcv_market()) as gateway:
        feed = DatabentoLiveFeed(
            ["MCLZ5", "MCLF6"],
            key=DEFAULT_API_KEY,
            gateway="127.0.0.1",
            port=gateway.port,
            on_bar=seen.append,
        )
        with feed:
            bars = list(feed.bars(timeout=10))
    (session,) = gateway.sessions
    assert session.authenticated  # the fake checked the client's CRAM answer
    assert session.auth["dataset"] == "GLBX.MDP3"
    assert session.auth["auth"].endswith("-" + DEFAULT_API_KEY[-5:])
    assert DEFAULT_API_KEY not in session.auth["auth"]
    assert session.subscriptions == [
        {
            "schema": "ohlcv-1m",
            "stype_in": "raw_symbol",
            "symbols": "MCLZ5,MCLF6",
            "snapshot": "0",
            "id": "0",
            "is_last": "1",
        }
    ]
    assert feed.session_id == session.session_id
    assert seen == bars
    assert {b.symbol for b in bars} == {"MCLZ5", "MCLF6"}  # the spread was not asked for
    assert all(b.complete and b.seconds == 60 for b in bars)
    assert [b.ts for b in bars] == sorted(b.ts for b in bars)
    for symbol in ("MCLZ5", "MCLF6"):
        live = frame(bars, symbol)
        assert len(live) > 90
        pd.testing.assert_frame_equal(live, catalog_frame(catalog, symbol), check_freq=False)
    assert DEFAULT_API_KEY not in caplog.text
    assert DEFAULT_API_KEY not in repr(feed)


def test_hourly_bars_from_minutes_equal_resampled_catalog(catalog: Path) -> None:
    with FakeLiveGateway(ohlcv_market()) as gateway:
        feed = DatabentoLiveFeed(
            ["MCL.FUT"],
            stype_in="parent",
            bar_seconds=3600,
            key=DEFAULT_API_KEY,
            gateway="127.0.0.1",
            port=gateway.port,
        )
        with feed:
            bars = list(feed.bars(timeout=10))
    # the parent brings the spread too; it is dropped. 16:00 has not ended: no bar for it.
    assert {b.symbol for b in bars} == {"MCLZ5", "MCLF6"}
    assert sorted({b.ts for b in bars}) == [T0, T0 + 3600 * NS]
    for symbol in ("MCLZ5", "MCLF6"):
        hourly = resample_bars(load_bars(symbol, "ohlcv-1m", data_dir=catalog), "1h")
        expected = hourly[["open", "high", "low", "close", "volume"]].iloc[:2].copy()
        expected["volume"] = expected["volume"].astype("int64")
        expected.index = expected.index.as_unit("ns").rename("ts_event")
        pd.testing.assert_frame_equal(frame(bars, symbol), expected, check_freq=False)


def expected_trade_bars(records: list[MarketRecord]) -> pd.DataFrame:
    """The same trades decoded by databento.DBNStore and aggregated by pandas."""
    metadata = dbn.Metadata(
        "GLBX.MDP3",
        T0,
        dbn.SType("raw_symbol"),
        dbn.SType("instrument_id"),
        dbn.Schema("trades"),
        symbols=["MCLZ5"],
        partial=[],
        not_found=[],
        mappings=[],
    )
    store = databento.DBNStore.from_bytes(encode_dbn(metadata, [r.record for r in records]))
    df = store.to_df(price_type="fixed", pretty_ts=False, map_symbols=False)
    df = df.reset_index()
    minute = df["ts_event"] - df["ts_event"] % (60 * NS)
    grouped = df.groupby(minute.to_numpy())
    out = pd.DataFrame(
        {
            "open": grouped["price"].first() / 1e9,
            "high": grouped["price"].max() / 1e9,
            "low": grouped["price"].min() / 1e9,
            "close": grouped["price"].last() / 1e9,
            "volume": grouped["size"].sum().astype("int64"),
        }
    )
    out.index = pd.DatetimeIndex(pd.to_datetime(out.index, utc=True), name="ts_event")
    return out


@pytest.mark.parametrize("replay", [True, False])
def test_trades_aggregate_to_minute_bars(replay: bool) -> None:
    market = trades()
    with FakeLiveGateway(market) as gateway:
        feed = DatabentoLiveFeed(
            ["MCLZ5"],
            schema="trades",
            start=T0 if replay else None,
            key=DEFAULT_API_KEY,
            gateway="127.0.0.1",
            port=gateway.port,
        )
        with feed:
            bars = list(feed.bars(timeout=10))
    assert feed.records == len(market)
    expected = expected_trade_bars(market)
    # the 14:09 minute has not ended when the session does: it never comes out
    assert expected.index[-1] == pd.Timestamp(T0 + 540 * NS, tz="UTC")
    pd.testing.assert_frame_equal(frame(bars, "MCLZ5"), expected.iloc[:-1], check_freq=False)
    # without a replay start the first minute was joined mid-way: marked incomplete
    assert [b.complete for b in bars] == [replay] + [True] * (len(bars) - 1)
    if replay:
        assert gateway.sessions[0].subscriptions[0]["start"] == str(T0)


def test_a_wrong_key_is_refused_clearly(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with FakeLiveGateway(ohlcv_market()) as gateway:
        feed = DatabentoLiveFeed(["MCLZ5"], key=WRONG_KEY, gateway="127.0.0.1", port=gateway.port)
        with pytest.raises(LiveFeedError) as info:
            feed.start()
    message = str(info.value)
    assert "refused the API key" in message
    assert "Authentication failed." in message
    assert "DATABENTO_API_KEY" in message  # the hint says what to do
    assert f"127.0.0.1:{gateway.port}" in message
    (session,) = gateway.sessions
    assert not session.authenticated
    assert session.subscriptions == []
    for text in (message, repr(info.value), caplog.text, repr(feed)):
        assert WRONG_KEY not in text


def test_the_key_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABENTO_API_KEY", DEFAULT_API_KEY)
    with FakeLiveGateway(ohlcv_market()) as gateway:
        feed = DatabentoLiveFeed(["MCLZ5"], gateway="127.0.0.1", port=gateway.port)
        with feed:
            assert len(list(feed.bars(timeout=10))) > 90
    assert gateway.sessions[0].authenticated


def test_gateway_down_is_a_clear_error() -> None:
    port = free_port()
    feed = DatabentoLiveFeed(["MCLZ5"], key=DEFAULT_API_KEY, gateway="127.0.0.1", port=port)
    with pytest.raises(LiveFeedError, match=f"127.0.0.1:{port}") as info:
        feed.start()
    assert DEFAULT_API_KEY not in str(info.value)


def test_heartbeats_keep_the_session_and_stop_ends_it() -> None:
    with FakeLiveGateway(ohlcv_market(), end_session=False, heartbeat_s=0.05) as gateway:
        feed = DatabentoLiveFeed(
            ["MCLZ5"], key=DEFAULT_API_KEY, gateway="127.0.0.1", port=gateway.port
        ).start()
        stream = feed.bars(timeout=10)
        first = [next(stream) for _ in range(5)]
        feed.stop()
        rest = list(stream)  # what was built before the stop, then the end
    sent = [b.ts_event for b in minute_bars() if b.raw_symbol == "MCLZ5"]
    assert [b.ts for b in first] == sent[:5]
    assert [b.ts for b in first + rest] == sent


def test_bad_options_are_refused_before_connecting() -> None:
    with pytest.raises(ConfigError, match="mbo"):
        DatabentoLiveFeed(["MCLZ5"], schema="mbo", key=DEFAULT_API_KEY)
    with pytest.raises(ConfigError, match="multiple of 60"):
        DatabentoLiveFeed(["MCLZ5"], bar_seconds=90, key=DEFAULT_API_KEY)
