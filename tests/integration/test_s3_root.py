"""The catalog on an object store: moto's S3 server on loopback, reached through s3fs.

Nothing is mocked in-process: moto runs as a real HTTP server (``ThreadedMotoServer``) and
``DataRoot("s3://...")`` talks to it through fsspec/s3fs, exactly as it would to AWS with an
``endpoint_url``.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pandas as pd
import pyarrow.parquet as pq
import pytest
from moto.server import ThreadedMotoServer

from tests.fakes.databento_gateway import FakeDatabentoGateway, OhlcvBar, make_ohlcv_dbn
from tests.integration.subprocesses import EXE, child_env
from workbench.data.ingest import ingest_files
from workbench.data.inventory import catalog
from workbench.data.loader import load_bars
from workbench.data.store import DataRoot, read_file_metadata
from workbench.errors import DataError

DAYS = (dt.date(2025, 11, 3), dt.date(2025, 11, 4))


def _bars() -> list[OhlcvBar]:
    out = []
    for i, day in enumerate(DAYS):
        for sym, iid, px in (("MCLZ5", 42001, 71.23), ("MCLF6", 42002, 70.95)):
            for k in range(3):
                o = round(px + 0.1 * i + 0.01 * k, 2)
                ts = dt.datetime(day.year, day.month, day.day, 14, 30 + k, tzinfo=dt.UTC)
                out.append(
                    OhlcvBar.at(ts, sym, iid, o, round(o + 0.04, 2), round(o - 0.03, 2), o, 7 + k)
                )
        ts = dt.datetime(day.year, day.month, day.day, 14, 30, tzinfo=dt.UTC)
        out.append(OhlcvBar.at(ts, "MCLZ5-MCLF6", 42003, 0.28, 0.29, 0.27, 0.28, 2))
    return out


BARS = _bars()
OUTRIGHTS = [b for b in BARS if "-" not in b.raw_symbol]


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server on an ephemeral loopback port."""
    access_log = logging.getLogger("werkzeug")
    level = access_log.level
    access_log.setLevel(logging.ERROR)  # no line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        access_log.setLevel(level)


@pytest.fixture
def bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """A fresh bucket; fake AWS credentials in the environment; a clean cwd."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "WORKBENCH_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # a local fallback would show up here as ./data
    name = f"wb-{uuid.uuid4().hex[:12]}"
    _s3(s3_endpoint).create_bucket(Bucket=name)
    return name


def _s3(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )


def _options(endpoint: str) -> dict[str, Any]:
    return {"client_kwargs": {"endpoint_url": endpoint}, "key": "testing", "secret": "testing"}


def _objects(endpoint: str, bucket: str) -> dict[str, int]:
    listing = _s3(endpoint).list_objects_v2(Bucket=bucket)
    return {o["Key"]: o["Size"] for o in listing.get("Contents", [])}


def _dbn_file(folder: Path, bars: list[OhlcvBar] = BARS, name: str = "mcl.dbn") -> Path:
    path = folder / name
    path.write_bytes(make_ohlcv_dbn(bars))
    return path


def _key(day: dt.date) -> str:
    return f"prefix/raw/MCL_FUT/{day.year}/{day.isoformat()}_ohlcv-1m.parquet"


def _frame(df: pd.DataFrame) -> list[tuple[Any, ...]]:
    rows = df.reset_index()[["ts_event", "symbol", "open", "high", "low", "close", "volume"]]
    return sorted(
        (r.ts_event.value, str(r.symbol), r.open, r.high, r.low, r.close, int(r.volume))
        for r in rows.itertuples()
    )


def _expected(bars: list[OhlcvBar]) -> list[tuple[Any, ...]]:
    return sorted(
        (b.ts_event, b.raw_symbol, b.open, b.high, b.low, b.close, b.volume) for b in bars
    )


def test_ingest_catalog_and_load_on_s3(s3_endpoint: str, bucket: str, tmp_path: Path) -> None:
    opts = _options(s3_endpoint)
    url = f"s3://{bucket}/prefix"
    root = DataRoot(url, storage_options=opts)
    assert not root.is_local

    report = ingest_files([_dbn_file(tmp_path)], root)
    assert report.records_written == len(OUTRIGHTS)
    assert report.spreads_dropped == 2
    assert sorted(report.files_written) == [f"{bucket}/{_key(d)}" for d in DAYS]

    objects = _objects(s3_endpoint, bucket)
    assert sorted(objects) == [_key(d) for d in DAYS]  # no temp objects, nothing outside
    body = _s3(s3_endpoint).get_object(Bucket=bucket, Key=_key(DAYS[0]))["Body"].read()
    table = pq.read_table(io.BytesIO(body))
    assert table.num_rows == 6
    assert sorted(set(table["symbol"].to_pylist())) == ["MCLF6", "MCLZ5"]
    meta = read_file_metadata(table.schema.metadata)
    assert (meta["source"], meta["schema"], meta["date"]) == ("dbn-file", "ohlcv-1m", "2025-11-03")

    (entry,) = catalog(DataRoot(url, storage_options=opts))
    assert (entry.product, entry.schema) == ("MCL_FUT", "ohlcv-1m")
    assert (entry.first_date, entry.last_date) == DAYS
    assert entry.files == 2
    assert entry.rows == len(OUTRIGHTS)
    assert entry.bytes == sum(objects.values())
    assert entry.sources == {"dbn-file"}
    assert entry.synthetic is False

    every = load_bars("MCL_FUT", data_dir=url, storage_options=opts, continuous=False)
    assert _frame(every) == _expected(OUTRIGHTS)
    assert every.attrs["sources"] == ["dbn-file"]
    one_day = load_bars(
        "MCLZ5", start="2025-11-04", end="2025-11-04", data_dir=url, storage_options=opts
    )
    assert one_day["open"].tolist() == [71.33, 71.34, 71.35]
    assert one_day["volume"].tolist() == [7, 8, 9]
    front = load_bars("MCL_FUT", data_dir=url, storage_options=opts)
    assert front.index.is_unique
    assert len(front) == 6

    assert list(tmp_path.iterdir()) == [tmp_path / "mcl.dbn"]  # nothing went to local disk


def test_reingest_on_s3_merges_instead_of_duplicating(
    s3_endpoint: str, bucket: str, tmp_path: Path
) -> None:
    opts = _options(s3_endpoint)
    url = f"s3://{bucket}/prefix"
    root = DataRoot(url, storage_options=opts)
    src = _dbn_file(tmp_path)
    ingest_files([src], root)
    ingest_files([src], root)  # the same file again: no duplicates
    first = OUTRIGHTS[0]
    revised = OhlcvBar(
        first.ts_event, first.raw_symbol, first.instrument_id, 71.5, 71.6, 71.4, 71.55, 99
    )
    ingest_files([_dbn_file(tmp_path, [revised], "revised.dbn")], root)  # the new bar wins

    df = load_bars("MCL_FUT", data_dir=url, storage_options=opts, continuous=False)
    assert _frame(df) == _expected([revised, *OUTRIGHTS[1:]])
    (entry,) = catalog(root)
    assert entry.rows == len(OUTRIGHTS)
    assert sorted(_objects(s3_endpoint, bucket)) == [_key(d) for d in DAYS]


def test_empty_prefix_and_missing_bucket_are_clear_errors(
    s3_endpoint: str, bucket: str, tmp_path: Path
) -> None:
    opts = _options(s3_endpoint)
    empty = f"s3://{bucket}/nothing-here"
    assert catalog(DataRoot(empty, storage_options=opts)) == []
    with pytest.raises(DataError) as info:
        load_bars("MCL_FUT", data_dir=empty, storage_options=opts)
    assert "no ohlcv-1m data for MCL_FUT" in info.value.message
    assert f"{bucket}/nothing-here" in info.value.message

    missing = DataRoot(f"s3://{bucket}-missing/prefix", storage_options=opts)
    with pytest.raises(DataError) as write_err:
        ingest_files([_dbn_file(tmp_path)], missing)
    assert "cannot write" in write_err.value.message
    assert f"{bucket}-missing" in write_err.value.message
    assert write_err.value.hint
    assert _objects(s3_endpoint, bucket) == {}


def test_cli_ingest_and_info_on_s3(s3_endpoint: str, bucket: str, tmp_path: Path) -> None:
    """The CLI has no storage options; botocore's AWS_ENDPOINT_URL points it at the server."""
    env = child_env(AWS_ENDPOINT_URL=s3_endpoint)
    url = f"s3://{bucket}/prefix"
    src = _dbn_file(tmp_path)
    out = subprocess.run(
        [EXE, "data", "ingest", str(src), "--data-dir", url],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert f"{len(OUTRIGHTS)} stored in 2 files" in out.stdout
    assert sorted(_objects(s3_endpoint, bucket)) == [_key(d) for d in DAYS]
    (entry,) = catalog(DataRoot(url, storage_options=_options(s3_endpoint)))
    assert entry.rows == len(OUTRIGHTS)


def test_download_into_s3(s3_endpoint: str, bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.data.downloader import download, parse_request

    opts = _options(s3_endpoint)
    url = f"s3://{bucket}/prefix"
    with FakeDatabentoGateway() as fake:
        fake.add_bars(BARS)
        for name, value in fake.env().items():
            monkeypatch.setenv(name, value)
        report = download(  # type: ignore[call-arg]
            parse_request(["MCL.FUT"], "ohlcv-1m", DAYS[0], DAYS[-1]),
            url,
            key=fake.api_key,
            gateway=fake.gateway,
            storage_options=opts,
        )
    assert report.days_downloaded == 2
    assert sorted(_objects(s3_endpoint, bucket)) == [
        "prefix/manifests/downloads.json",
        *(_key(d) for d in DAYS),
    ]
    ledger = json.loads(
        _s3(s3_endpoint)
        .get_object(Bucket=bucket, Key="prefix/manifests/downloads.json")["Body"]
        .read()
    )
    assert sorted(next(iter(ledger.values()))) == [d.isoformat() for d in DAYS]
    df = load_bars("MCL_FUT", data_dir=url, storage_options=opts, continuous=False)
    assert _frame(df) == _expected(OUTRIGHTS)


def test_validate_on_s3(s3_endpoint: str, bucket: str, tmp_path: Path) -> None:
    from workbench.data.quality import validate

    opts = _options(s3_endpoint)
    url = f"s3://{bucket}/prefix"
    ingest_files([_dbn_file(tmp_path)], DataRoot(url, storage_options=opts))
    report = validate(url, storage_options=opts)  # type: ignore[call-arg]
    assert report.files == 2
    assert report.rows == len(OUTRIGHTS)
