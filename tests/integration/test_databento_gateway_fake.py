"""The unmodified ``databento.Historical`` client against the loopback fake gateway.

Everything goes over real TLS + HTTP on 127.0.0.1; only environment variables
(CA bundle paths) are patched, never code.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import databento
import pytest
import requests
from databento.common.error import BentoClientError, BentoError, BentoHttpError, BentoServerError
from databento.common.symbology import InstrumentMap

# `tests.fakes` lives under the repo root, which `.venv/bin/pytest` does not put on
# sys.path unless pytest is configured with `pythonpath = ["."]`.
_REPO_ROOT = str(Path(__file__).resolve().parents[2])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from tests.fakes.databento_gateway import (  # noqa: E402
    DEFAULT_API_KEY,
    FakeDatabentoGateway,
    OhlcvBar,
    make_definition_record,
    make_ohlcv_dbn,
    parent_matches,
    per_record_cost,
)

pytestmark = pytest.mark.filterwarnings(
    # databento 0.87's to_df() calls set_index(inplace=True), deprecated in pandas 3.
    "ignore:The inplace keyword in DataFrame.set_index:Warning"
)

DATASET = "GLBX.MDP3"
START = "2025-11-03T14:30"
END = "2025-11-03T15:00"

MARKET = [
    OhlcvBar.at("2025-10-31T14:30", "MCLZ5", 42001, 60.10, 60.20, 60.00, 60.15, 12),
    OhlcvBar.at("2025-11-03T14:30", "MCLZ5", 42001, 71.23, 71.30, 71.20, 71.25, 40),
    OhlcvBar.at("2025-11-03T14:31", "MCLZ5", 42001, 71.25, 71.40, 71.22, 71.38, 25),
    OhlcvBar.at("2025-11-03T14:30", "MCLF6", 42002, 71.05, 71.10, 71.00, 71.08, 9),
    OhlcvBar.at("2025-11-03T14:30", "MCLZ5-MCLF6", 42003, 0.18, 0.19, 0.17, 0.18, 3),
    OhlcvBar.at("2025-11-03T14:30", "CLZ5", 1001, 71.20, 71.31, 71.19, 71.26, 900),
    OhlcvBar.at("2025-11-03T15:00", "MCLZ5", 42001, 71.38, 71.50, 71.30, 71.45, 30),
]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDatabentoGateway]:
    """A running fake with the MCL market loaded and its CA trusted by ``requests``."""
    with FakeDatabentoGateway(cost=1.25) as gw:
        gw.add_bars(MARKET)
        for name, value in gw.env().items():
            monkeypatch.setenv(name, value)
        yield gw


@pytest.fixture
def client(fake: FakeDatabentoGateway) -> databento.Historical:
    return databento.Historical(fake.api_key, gateway=fake.gateway)


def _mcl_range(client: databento.Historical, **overrides: object) -> databento.DBNStore:
    kwargs: dict[str, object] = {
        "dataset": DATASET,
        "schema": "ohlcv-1m",
        "symbols": "MCL.FUT",
        "stype_in": "parent",
        "start": START,
        "end": END,
    }
    kwargs.update(overrides)
    return client.timeseries.get_range(**kwargs)  # type: ignore[arg-type]


def test_gateway_string_is_kept_with_its_port(fake: FakeDatabentoGateway) -> None:
    assert fake.gateway == f"https://127.0.0.1:{fake.port}"
    assert databento.Historical(fake.api_key, gateway=fake.gateway).gateway == fake.gateway
    assert len(DEFAULT_API_KEY) == 32
    assert DEFAULT_API_KEY.startswith("db-")


def test_get_cost_returns_configured_figure(
    fake: FakeDatabentoGateway, client: databento.Historical
) -> None:
    cost = client.metadata.get_cost(
        dataset=DATASET,
        schema="ohlcv-1m",
        symbols="MCL.FUT",
        stype_in="parent",
        start=START,
        end=END,
    )
    assert cost == pytest.approx(1.25)
    (req,) = fake.requests_for("metadata.get_cost")
    assert (req.method, req.path, req.api_key, req.status) == (
        "POST",
        "/v0/metadata.get_cost",
        fake.api_key,
        200,
    )
    assert req.params == {
        "dataset": DATASET,
        "start": START,
        "end": END,
        "symbols": "MCL.FUT",
        "schema": "ohlcv-1m",
        "stype_in": "parent",
        "stype_out": "instrument_id",
    }


def test_get_cost_per_record_and_record_count(
    fake: FakeDatabentoGateway, client: databento.Historical
) -> None:
    fake.cost = per_record_cost(0.5)
    kwargs = {
        "dataset": DATASET,
        "schema": "ohlcv-1m",
        "symbols": "MCL.FUT",
        "stype_in": "parent",
        "start": START,
        "end": END,
    }
    assert client.metadata.get_cost(**kwargs) == pytest.approx(2.0)  # type: ignore[arg-type]
    assert client.metadata.get_record_count(**kwargs) == 4  # type: ignore[arg-type]
    assert client.metadata.get_billable_size(**kwargs) == 4 * 56  # type: ignore[arg-type]


def test_get_range_parent_symbology_maps_contract_symbols(
    fake: FakeDatabentoGateway, client: databento.Historical
) -> None:
    store = _mcl_range(client)
    df = store.to_df()

    assert len(df) == 4  # CLZ5 (other root), Oct 31 and the bar at `end` are excluded
    assert sorted(df["symbol"]) == ["MCLF6", "MCLZ5", "MCLZ5", "MCLZ5-MCLF6"]
    first = df[df["symbol"] == "MCLZ5"].iloc[0]
    assert first["open"] == pytest.approx(71.23)
    assert first["close"] == pytest.approx(71.25)
    assert first["volume"] == 40
    assert str(df.index[0]) == "2025-11-03 14:30:00+00:00"

    assert store.compression == databento.Compression.ZSTD
    assert store.stype_in == databento.SType.PARENT
    assert store.symbols == ["MCL.FUT"]
    assert set(store.mappings) == {"MCLZ5", "MCLF6", "MCLZ5-MCLF6"}
    (req,) = fake.requests_for("timeseries.get_range")
    assert req.params["compression"] == "zstd"
    assert req.params["encoding"] == "dbn"


def test_get_range_raw_symbol_and_limit(client: databento.Historical) -> None:
    df = _mcl_range(client, symbols=["MCLZ5"], stype_in="raw_symbol").to_df()
    assert list(df["symbol"]) == ["MCLZ5", "MCLZ5"]
    assert list(df["instrument_id"]) == [42001, 42001]

    limited = _mcl_range(client, limit=1).to_df()
    assert len(limited) == 1


def test_get_range_streams_to_path(tmp_path: Path, client: databento.Historical) -> None:
    target = tmp_path / "mcl.dbn.zst"
    store = _mcl_range(client, path=target)
    assert target.stat().st_size > 0
    assert len(databento.DBNStore.from_file(target).to_df()) == len(store.to_df()) == 4


def test_empty_range_inside_listing_returns_metadata_only(client: databento.Historical) -> None:
    # Saturday: MCLZ5 is listed (bars on Fri and Mon) but has no bars.
    store = _mcl_range(client, start="2025-11-01", end="2025-11-02")
    df = store.to_df()
    assert df.empty
    assert store.symbols == ["MCL.FUT"]


def test_unresolvable_symbols_are_422(client: databento.Historical) -> None:
    with pytest.raises(BentoClientError) as info:
        _mcl_range(client, symbols=["MCLH9"], stype_in="raw_symbol")
    assert info.value.http_status == 422
    assert info.value.json_body is not None
    assert info.value.json_body["detail"]["case"] == "symbology_invalid_request"


def test_queries_outside_available_range_are_422(
    fake: FakeDatabentoGateway, client: databento.Historical
) -> None:
    fake.set_dataset_range("2010-06-06", "2025-11-03T14:45")
    with pytest.raises(BentoClientError) as info:
        _mcl_range(client)
    assert info.value.http_status == 422
    assert "data_end_after_available_end" in str(info.value)
    assert "available up to '2025-11-03 14:45:00+00:00'" in str(info.value)

    with pytest.raises(BentoClientError, match="data_start_after_available_end"):
        _mcl_range(client, start="2025-11-04", end="2025-11-05")
    with pytest.raises(BentoClientError, match="data_time_range_start_on_or_after_end"):
        _mcl_range(client, start=END, end=START)

    assert len(_mcl_range(client, end="2025-11-03T14:45").to_df()) == 4


def test_bad_key_raises_client_auth_error(fake: FakeDatabentoGateway) -> None:
    bad = databento.Historical("db-" + "X" * 29, gateway=fake.gateway)
    with pytest.raises(BentoClientError) as info:
        bad.metadata.get_cost(dataset=DATASET, symbols="MCL.FUT", stype_in="parent", start=START)
    assert info.value.http_status == 401
    assert info.value.message == "Authentication failed."
    assert fake.requests[-1].api_key == "db-" + "X" * 29

    with pytest.raises(BentoClientError) as info2:
        _mcl_range(bad)
    assert info2.value.http_status == 401


def test_429_surfaces_immediately_without_client_retry(
    fake: FakeDatabentoGateway, client: databento.Historical
) -> None:
    fake.fail_next(1, status=429, retry_after=7)
    with pytest.raises(BentoClientError) as info:
        _mcl_range(client)
    err = info.value
    assert err.http_status == 429
    assert err.headers["Retry-After"] == "7"
    assert err.request_id is not None
    assert [r.status for r in fake.requests_for("timeseries.get_range")] == [429]  # no retry

    assert len(_mcl_range(client).to_df()) == 4  # the fault is consumed
    assert fake.pending_faults() == 0


def test_5xx_raise_server_error_and_faults_can_target_an_endpoint(
    fake: FakeDatabentoGateway, client: databento.Historical
) -> None:
    fake.fail_next(2, status=503, endpoint="timeseries.get_range")
    assert client.metadata.get_cost(
        dataset=DATASET, symbols="MCL.FUT", stype_in="parent", start=START, end=END
    ) == pytest.approx(1.25)
    for _ in range(2):
        with pytest.raises(BentoServerError) as info:
            _mcl_range(client)
        assert info.value.http_status == 503
    fake.fail_next(1, status=504)
    with pytest.raises(BentoServerError, match="The remote gateway timed out"):
        _mcl_range(client)
    assert len(_mcl_range(client).to_df()) == 4


def test_dropped_connection_mid_stream(
    tmp_path: Path, fake: FakeDatabentoGateway, client: databento.Historical
) -> None:
    fake.drop_next()
    with pytest.raises(BentoError, match="Error streaming response") as info:
        _mcl_range(client)
    assert not isinstance(info.value, BentoHttpError)

    # With `path=`, the client leaves the partial file behind when the stream dies.
    fake.drop_next(after_bytes=10)
    partial = tmp_path / "partial.dbn.zst"
    with pytest.raises(BentoError):
        _mcl_range(client, path=partial)
    assert partial.exists()
    assert partial.stat().st_size == 10

    assert len(_mcl_range(client).to_df()) == 4


def test_symbology_resolve(client: databento.Historical) -> None:
    result = client.symbology.resolve(
        dataset=DATASET,
        symbols=["MCL.FUT"],
        stype_in="parent",
        stype_out="instrument_id",
        start_date="2025-11-03",
        end_date="2025-11-04",
    )
    assert result["status"] == 0
    assert result["not_found"] == []
    assert sorted(e["s"] for e in result["result"]["MCL.FUT"]) == ["42001", "42002", "42003"]
    assert all(
        (e["d0"], e["d1"]) == ("2025-11-03", "2025-11-04") for e in result["result"]["MCL.FUT"]
    )

    raw = client.symbology.resolve(
        dataset=DATASET,
        symbols=["MCLZ5", "MCLH9"],
        stype_in="raw_symbol",
        stype_out="instrument_id",
        start_date="2025-10-31",
        end_date="2025-11-04",
    )
    assert raw["result"]["MCLZ5"] == [{"d0": "2025-10-31", "d1": "2025-11-04", "s": "42001"}]
    assert raw["not_found"] == ["MCLH9"]
    assert raw["status"] == 1
    imap = InstrumentMap()
    imap.insert_json(raw)  # the client's own parser accepts the shape
    assert imap.resolve(42001, dt.date(2025, 11, 3)) == "MCLZ5"


def test_dataset_range_and_listing(
    fake: FakeDatabentoGateway, client: databento.Historical
) -> None:
    rng = client.metadata.get_dataset_range(dataset=DATASET)
    assert rng["start"] == "2025-10-31T00:00:00.000000000Z"
    assert rng["end"] == "2025-11-04T00:00:00.000000000Z"
    assert set(rng["schema"]) == {"ohlcv-1m"}
    assert DATASET in client.metadata.list_datasets()
    assert client.metadata.list_schemas(dataset=DATASET) == ["ohlcv-1m"]


def test_definition_records(fake: FakeDatabentoGateway, client: databento.Historical) -> None:
    fake.add_records(
        [
            (
                "MCLZ5",
                make_definition_record(
                    "MCLZ5", 42001, "2025-11-03T00:00", expiration="2025-11-17T19:30"
                ),
            )
        ],
        schema="definition",
    )
    df = client.timeseries.get_range(
        dataset=DATASET,
        schema="definition",
        symbols="MCL.FUT",
        stype_in="parent",
        start="2025-11-03",
    ).to_df()
    assert list(df["raw_symbol"]) == ["MCLZ5"]
    assert df["min_price_increment"].iloc[0] == pytest.approx(0.01)
    assert str(df["expiration"].iloc[0]) == "2025-11-17 19:30:00+00:00"


def test_data_provider_and_make_ohlcv_dbn(fake: FakeDatabentoGateway) -> None:
    bars = [OhlcvBar.at("2025-12-01T00:00", "MCLF6", 7, 58.5, 58.6, 58.4, 58.55, 1)]
    fake.data_provider = lambda req: make_ohlcv_dbn(
        bars, symbols=req.symbols, stype_in=req.stype_in, start=req.start, end=req.end
    )
    client = databento.Historical(fake.api_key, gateway=fake.gateway)
    df = _mcl_range(client, start="2025-12-01", end="2025-12-02").to_df()
    assert list(df["symbol"]) == ["MCLF6"]
    assert df["close"].iloc[0] == pytest.approx(58.55)


def test_wire_details_compression_none_and_unknown_path(fake: FakeDatabentoGateway) -> None:
    auth = (fake.api_key, "")
    resp = requests.post(
        f"{fake.gateway}/v0/timeseries.get_range",
        data={
            "dataset": DATASET,
            "symbols": "MCLZ5",
            "schema": "ohlcv-1m",
            "stype_in": "raw_symbol",
            "start": START,
            "end": END,
            "encoding": "dbn",
            "compression": "none",
        },
        auth=auth,
        timeout=10,
    )
    assert resp.status_code == 200
    assert resp.content[:3] == b"DBN"

    missing = requests.get(f"{fake.gateway}/v0/metadata.nope", auth=auth, timeout=10)
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Not Found"}


def test_parent_matching_rules() -> None:
    assert parent_matches("MCL.FUT", "MCLZ5")
    assert parent_matches("MCL.FUT", "MCLZ5-MCLF6")
    assert not parent_matches("MCL.FUT", "CLZ5")
    assert not parent_matches("MCL.FUT", "MCLZ5 C7000")
    assert parent_matches("MCL.OPT", "MCLZ5 C7000")


def test_async_client_in_fresh_process(fake: FakeDatabentoGateway) -> None:
    """aiohttp reads SSL_CERT_FILE when first imported, so use a fresh interpreter."""
    script = textwrap.dedent(
        f"""
        import asyncio, json, warnings
        warnings.simplefilter("ignore")
        import databento
        client = databento.Historical({fake.api_key!r}, gateway={fake.gateway!r})
        store = asyncio.run(client.timeseries.get_range_async(
            dataset="GLBX.MDP3", schema="ohlcv-1m", symbols="MCL.FUT",
            stype_in="parent", start={START!r}, end={END!r}))
        df = store.to_df()
        print(json.dumps({{"symbols": sorted(df["symbol"]), "open": float(df["open"].iloc[0])}}))
        """
    )
    env = {**os.environ, **fake.env()}
    out = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    payload = json.loads(out.stdout.strip().splitlines()[-1])
    assert payload["symbols"] == ["MCLF6", "MCLZ5", "MCLZ5", "MCLZ5-MCLF6"]
    assert payload["open"] == pytest.approx(71.23)
