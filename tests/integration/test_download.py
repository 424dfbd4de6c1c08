"""The Databento download end to end: the real ``databento`` client against the loopback fake.

Every test goes over real TLS + HTTP to :class:`FakeDatabentoGateway`; nothing of ours or of
``databento`` is patched. Only environment variables are set, and the downloader's ``sleep``
is a recording no-op so that retries cost no time. The CLI tests run ``workbench`` in a
subprocess and check that the API key never shows up in any output or stored file.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest

from tests.fakes.databento_gateway import (
    DEFAULT_API_KEY,
    DataRequest,
    FakeDatabentoGateway,
    OhlcvBar,
    RecordedRequest,
    make_ohlcv_dbn,
    per_day_cost,
)
from tests.integration.subprocesses import EXE, child_env, warm_bytecode
from workbench.data.downloader import DownloadReport, download, parse_request
from workbench.data.loader import load_bars
from workbench.data.store import read_file_metadata
from workbench.errors import DataError, DownloadError

KEY_ENV = "DATABENTO_API_KEY"
GATEWAY_ENV = "WORKBENCH_DATABENTO_GATEWAY"
BAD_KEY = "db-WrongKeyWrongKeyWrongKey00009"


DAYS = [dt.date(2025, 11, 3) + dt.timedelta(days=i) for i in range(4)]  # Mon..Thu
# (raw symbol, instrument id, first open on DAYS[0], base volume)
CONTRACTS = [("MCLZ5", 42001, 71.23, 40), ("MCLF6", 42002, 70.95, 9)]
SPREAD = ("MCLZ5-MCLF6", 42003, 0.28, 3)
BARS_PER_DAY = 3


def _bars(sym: str, iid: int, first: float, vol: int) -> list[OhlcvBar]:
    out = []
    for i, day in enumerate(DAYS):
        for k in range(BARS_PER_DAY):
            o = round(first + 0.10 * i + 0.01 * k, 2)
            ts = dt.datetime(day.year, day.month, day.day, 14, 30 + k, tzinfo=dt.UTC)
            out.append(
                OhlcvBar.at(
                    ts,
                    sym,
                    iid,
                    o,
                    round(o + 0.05, 2),
                    round(o - 0.02, 2),
                    round(o + 0.02, 2),
                    vol + k,
                )
            )
    return out


OUTRIGHT_BARS = [b for c in CONTRACTS for b in _bars(*c)]
SPREAD_BARS = _bars(*SPREAD)
MARKET = OUTRIGHT_BARS + SPREAD_BARS


def _expected(days: list[dt.date] = DAYS) -> pd.DataFrame:
    """The outright bars of ``days`` as load_bars(continuous=False) should return them."""
    rows = [
        {
            "ts_event": pd.Timestamp(b.ts_event, unit="ns", tz="UTC"),
            "symbol": b.raw_symbol,
            "open": b.open,
            "high": b.high,
            "low": b.low,
            "close": b.close,
            "volume": b.volume,
        }
        for b in OUTRIGHT_BARS
        if pd.Timestamp(b.ts_event, unit="ns", tz="UTC").date() in days
    ]
    return pd.DataFrame(rows).sort_values(["ts_event", "symbol"]).reset_index(drop=True)


def _loaded(data_dir: Path, **kwargs: Any) -> pd.DataFrame:
    df = load_bars("MCL_FUT", data_dir=data_dir, continuous=False, **kwargs)
    out = df.reset_index()[["ts_event", "symbol", "open", "high", "low", "close", "volume"]]
    out["symbol"] = out["symbol"].astype(str)
    return out.sort_values(["ts_event", "symbol"]).reset_index(drop=True)


def _assert_same_bars(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got["symbol"]) == list(want["symbol"])
    assert list(got["ts_event"]) == list(want["ts_event"])
    for col in ("open", "high", "low", "close", "volume"):
        # exact: the catalog promises the nearest double to the on-tick price (71.23)
        assert got[col].tolist() == want[col].tolist(), col


def _partition(data_dir: Path, day: dt.date) -> Path:
    return data_dir / "raw" / "MCL_FUT" / f"{day.year}" / f"{day.isoformat()}_ohlcv-1m.parquet"


def _files(data_dir: Path) -> list[Path]:
    return sorted(p for p in data_dir.rglob("*") if p.is_file()) if data_dir.exists() else []


def _temp_files(data_dir: Path) -> list[Path]:
    return [p for p in _files(data_dir) if p.name.endswith(".tmp")]


def _range_starts(fake: FakeDatabentoGateway) -> list[str]:
    return [r.params["start"] for r in fake.requests_for("timeseries.get_range")]


def _assert_key_not_stored(data_dir: Path, *keys: str) -> None:
    for path in _files(data_dir):
        blob = path.read_bytes()
        for key in keys:
            assert key.encode() not in blob, f"API key written to {path}"
            assert key[3:].encode() not in blob, f"API key written to {path}"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeDatabentoGateway]:
    """The fake gateway with the MCL market, trusted by ``requests``; a clean env and cwd."""
    for name in (KEY_ENV, GATEWAY_ENV, "WORKBENCH_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env
    with FakeDatabentoGateway(cost=0.5) as gw:
        gw.add_bars(MARKET)
        for name, value in gw.env().items():
            monkeypatch.setenv(name, value)
        yield gw


def _download(
    fake: FakeDatabentoGateway,
    data_dir: Path,
    start: dt.date = DAYS[0],
    end: dt.date = DAYS[-1],
    *,
    sleeps: list[float] | None = None,
    key: str | None = None,
    confirm: bool = False,
    progress: Any = None,
    **request: Any,
) -> DownloadReport:
    recorded = [] if sleeps is None else sleeps
    return download(
        parse_request(["MCL.FUT"], "ohlcv-1m", start, end, **request),
        data_dir,
        key=key or fake.api_key,
        gateway=fake.gateway,
        confirm=confirm,
        progress=progress,
        sleep=recorded.append,
    )


# --------------------------------------------------------------------------------------------
# In-process: download()
# --------------------------------------------------------------------------------------------
def test_download_stores_one_file_per_utc_day(fake: FakeDatabentoGateway, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    sleeps: list[float] = []
    report = _download(fake, data_dir, sleeps=sleeps)

    assert report.days_requested == 4
    assert report.days_downloaded == 4
    assert report.days_skipped == 0
    assert report.retries == 0
    assert sleeps == []
    assert report.cost_usd == pytest.approx(0.5)
    assert report.ingest.records_written == len(OUTRIGHT_BARS)
    assert report.ingest.spreads_dropped == len(SPREAD_BARS)
    assert sorted(report.ingest.files_written) == [str(_partition(data_dir, d)) for d in DAYS]

    # One cost query over the whole span, then one get_range per UTC day.
    (cost,) = fake.requests_for("metadata.get_cost")
    assert (cost.params["start"], cost.params["end"]) == ("2025-11-03", "2025-11-07")
    ranges = fake.requests_for("timeseries.get_range")
    assert [(r.params["start"], r.params["end"]) for r in ranges] == [
        (d.isoformat(), (d + dt.timedelta(days=1)).isoformat()) for d in DAYS
    ]
    assert {(r.params["symbols"], r.params["stype_in"], r.params["schema"]) for r in ranges} == {
        ("MCL.FUT", "parent", "ohlcv-1m")
    }

    parquet = sorted(p for p in _files(data_dir) if p.suffix == ".parquet")
    assert parquet == [_partition(data_dir, d) for d in DAYS]
    assert _temp_files(data_dir) == []
    for day in DAYS:
        table = pq.read_table(_partition(data_dir, day))
        assert table.num_rows == len(CONTRACTS) * BARS_PER_DAY
        assert sorted(set(table["symbol"].to_pylist())) == ["MCLF6", "MCLZ5"]  # no spread
        ts_days = {t.date() for t in table["ts_event"].to_pylist()}
        assert ts_days == {day}
        meta = read_file_metadata(table.schema.metadata)
        assert meta["source"] == "databento"
        assert meta["dataset"] == "GLBX.MDP3"
        assert meta["schema"] == "ohlcv-1m"
        assert meta["synthetic"] is False
        assert meta["date"] == day.isoformat()

    _assert_same_bars(_loaded(data_dir), _expected())
    z5 = load_bars("MCLZ5", data_dir=data_dir)
    assert z5["open"].iloc[0] == 71.23
    assert z5["close"].iloc[0] == 71.25
    assert z5["volume"].iloc[0] == 40
    assert z5.attrs["sources"] == ["databento"]
    assert z5.attrs["synthetic"] is False
    front = load_bars("MCL_FUT", data_dir=data_dir)  # continuous: one bar per minute
    assert front.index.is_unique
    assert len(front) == len(DAYS) * BARS_PER_DAY
    assert set(front["symbol"].astype(str)) <= {"MCLZ5", "MCLF6"}
    _assert_key_not_stored(data_dir, fake.api_key)


def test_second_run_downloads_nothing_and_a_longer_range_only_the_new_day(
    fake: FakeDatabentoGateway, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    first = _download(fake, data_dir, DAYS[0], DAYS[2])
    assert first.days_downloaded == 3
    assert _range_starts(fake) == [d.isoformat() for d in DAYS[:3]]
    stamps = {p: p.stat().st_mtime_ns for p in _files(data_dir) if p.suffix == ".parquet"}
    n_requests = len(fake.requests)

    again = _download(fake, data_dir, DAYS[0], DAYS[2])
    assert (again.days_skipped, again.days_downloaded) == (3, 0)
    assert again.ingest.records_written == 0
    assert len(fake.requests) == n_requests  # no cost query, no get_range
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps  # nothing rewritten

    longer = _download(fake, data_dir, DAYS[0], DAYS[3])
    assert (longer.days_skipped, longer.days_downloaded) == (3, 1)
    assert _range_starts(fake) == [d.isoformat() for d in DAYS]  # only DAYS[3] was added
    cost = fake.requests_for("metadata.get_cost")[-1]
    assert (cost.params["start"], cost.params["end"]) == ("2025-11-06", "2025-11-07")
    _assert_same_bars(_loaded(data_dir), _expected())


def test_interrupted_run_keeps_finished_days_and_rerun_fetches_only_the_rest(
    fake: FakeDatabentoGateway, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    max_retries = 2

    def outage_after_two_days(done: int, total: int) -> None:
        if done == 2:  # the server goes down for longer than the retries last
            fake.fail_next(max_retries + 1, status=503, endpoint="timeseries.get_range")

    sleeps: list[float] = []
    with pytest.raises(DownloadError) as info:
        _download(
            fake,
            data_dir,
            sleeps=sleeps,
            progress=outage_after_two_days,
            max_retries=max_retries,
        )
    err = info.value
    assert err.exit_code == 2
    assert "2025-11-05" in err.message
    assert "after 3 attempts" in err.message
    assert "503" in err.message
    assert "again" in (err.hint or "")
    assert sleeps == [1.0, 2.0]  # exponential backoff without Retry-After
    assert fake.pending_faults() == 0
    assert [r.status for r in fake.requests_for("timeseries.get_range")] == [
        200,
        200,
        503,
        503,
        503,
    ]

    assert _partition(data_dir, DAYS[0]).exists()
    assert _partition(data_dir, DAYS[1]).exists()
    assert not _partition(data_dir, DAYS[2]).exists()
    assert not _partition(data_dir, DAYS[3]).exists()
    assert _temp_files(data_dir) == []
    ledger = json.loads((data_dir / "manifests" / "downloads.json").read_text())
    (days_done,) = ledger.values()
    assert sorted(days_done) == ["2025-11-03", "2025-11-04"]
    _assert_same_bars(_loaded(data_dir), _expected(DAYS[:2]))

    before = len(fake.requests_for("timeseries.get_range"))
    resumed = _download(fake, data_dir)
    assert (resumed.days_skipped, resumed.days_downloaded) == (2, 2)
    assert _range_starts(fake)[before:] == ["2025-11-05", "2025-11-06"]
    cost = fake.requests_for("metadata.get_cost")[-1]
    assert (cost.params["start"], cost.params["end"]) == ("2025-11-05", "2025-11-07")
    _assert_same_bars(_loaded(data_dir), _expected())


def test_rate_limit_is_retried_honouring_retry_after(
    fake: FakeDatabentoGateway, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    fake.fail_next(2, status=429, retry_after=1)
    sleeps: list[float] = []
    report = _download(fake, data_dir, sleeps=sleeps)
    assert report.retries == 2
    assert sleeps == [1.0, 1.0]
    assert [r.status for r in fake.requests_for("metadata.get_cost")] == [429, 429, 200]
    assert report.days_downloaded == 4
    _assert_same_bars(_loaded(data_dir), _expected())


@pytest.mark.parametrize("statuses", [(500, 503), (502, 504)])
def test_server_errors_are_retried_with_exponential_backoff(
    fake: FakeDatabentoGateway, tmp_path: Path, statuses: tuple[int, int]
) -> None:
    data_dir = tmp_path / "data"
    for status in statuses:
        fake.fail_next(1, status=status, endpoint="timeseries.get_range")
    sleeps: list[float] = []
    report = _download(fake, data_dir, sleeps=sleeps)
    assert report.retries == 2
    assert sleeps == [1.0, 2.0]
    assert [r.status for r in fake.requests_for("timeseries.get_range")] == [
        *statuses,
        200,
        200,
        200,
        200,
    ]
    assert report.days_downloaded == 4
    _assert_same_bars(_loaded(data_dir), _expected())


def test_client_error_is_not_retried(fake: FakeDatabentoGateway, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    fake.fail_next(1, status=400, endpoint="timeseries.get_range", detail="Bad request, really.")
    sleeps: list[float] = []
    with pytest.raises(DownloadError) as info:
        _download(fake, data_dir, sleeps=sleeps)
    assert "HTTP 400" in info.value.message
    assert "2025-11-03" in info.value.message
    assert sleeps == []
    assert len(fake.requests_for("timeseries.get_range")) == 1
    assert not any(p.suffix == ".parquet" for p in _files(data_dir))


@pytest.mark.parametrize("after_bytes", [None, 0, 40])
def test_dropped_connection_is_retried_and_leaves_no_partial_file(
    fake: FakeDatabentoGateway, tmp_path: Path, after_bytes: int | None
) -> None:
    data_dir = tmp_path / "data"
    fake.drop_next(1, after_bytes=after_bytes)
    sleeps: list[float] = []
    report = _download(fake, data_dir, sleeps=sleeps)
    assert report.retries == 1
    assert sleeps == [1.0]
    assert fake.pending_faults() == 0
    assert _range_starts(fake) == ["2025-11-03", *(d.isoformat() for d in DAYS)]
    assert _temp_files(data_dir) == []
    assert sorted(p for p in _files(data_dir) if p.suffix == ".parquet") == [
        _partition(data_dir, d) for d in DAYS
    ]
    _assert_same_bars(_loaded(data_dir), _expected())


def test_truncated_stream_is_retried_not_stored_short(
    fake: FakeDatabentoGateway, tmp_path: Path
) -> None:
    served: list[str] = []

    def truncate_first_answer(request: DataRequest) -> bytes | None:
        if request.endpoint != "timeseries.get_range":
            return None  # cost queries see the whole market
        served.append(request.start_date.isoformat())
        if len(served) > 1:
            return None  # the market
        day_bars = [b for b in MARKET if request.start <= b.ts_event < request.end]
        full = make_ohlcv_dbn(
            day_bars, symbols=["MCL.FUT"], stype_in="parent", start=request.start, end=request.end
        )
        return full[:-20]  # the last record is cut in half

    fake.data_provider = truncate_first_answer
    data_dir = tmp_path / "data"
    report = _download(fake, data_dir, DAYS[0], DAYS[0])
    assert report.retries == 1
    _assert_same_bars(_loaded(data_dir), _expected(DAYS[:1]))


def test_undecodable_answer_is_not_downloaded_again(
    fake: FakeDatabentoGateway, tmp_path: Path
) -> None:
    def without_symbol_mappings(request: DataRequest) -> bytes | None:
        day_bars = [b for b in MARKET if request.start <= b.ts_event < request.end]
        return make_ohlcv_dbn(
            day_bars,
            symbols=["MCL.FUT"],
            stype_in="parent",
            start=request.start,
            end=request.end,
            symbol_mappings=[],
        )

    fake.data_provider = without_symbol_mappings
    sleeps: list[float] = []
    with pytest.raises(DownloadError):
        _download(fake, tmp_path / "data", DAYS[0], DAYS[0], sleeps=sleeps)
    assert len(fake.requests_for("timeseries.get_range")) == 1
    assert sleeps == []


def test_cost_above_limit_is_refused_before_any_download(
    fake: FakeDatabentoGateway, tmp_path: Path
) -> None:
    fake.cost = per_day_cost(3.0)  # 4 days: $12.00
    data_dir = tmp_path / "data"
    with pytest.raises(DownloadError) as info:
        _download(fake, data_dir)
    err = info.value
    assert err.exit_code == 3
    assert "$12.00" in err.message
    assert "$5.00" in err.message
    assert "--yes" in (err.hint or "")
    assert len(fake.requests_for("metadata.get_cost")) == 1
    assert fake.requests_for("timeseries.get_range") == []
    assert _files(data_dir) == []

    report = _download(fake, data_dir, confirm=True)
    assert report.cost_usd == pytest.approx(12.0)
    assert report.days_downloaded == 4
    _assert_same_bars(_loaded(data_dir), _expected())

    cheap = _download(fake, tmp_path / "other", max_cost=20.0)  # a higher limit also works
    assert cheap.days_downloaded == 4


def test_refused_key_is_reported_without_its_value(
    fake: FakeDatabentoGateway, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    with pytest.raises(DownloadError) as info:
        _download(fake, data_dir, key=BAD_KEY)
    err = info.value
    assert "API key" in err.message
    assert "401" in err.message
    assert KEY_ENV in (err.hint or "")
    assert BAD_KEY not in str(err)
    assert BAD_KEY[3:] not in str(err)
    assert [r.api_key for r in fake.requests] == [BAD_KEY]  # it was sent, once
    assert fake.requests_for("timeseries.get_range") == []
    assert _files(data_dir) == []


def test_unresolved_symbol_is_reported_from_the_metadata(
    fake: FakeDatabentoGateway, tmp_path: Path
) -> None:
    report = download(
        parse_request(["MCL.FUT", "ZZZ.FUT"], "ohlcv-1m", DAYS[0], DAYS[-1]),
        tmp_path / "data",
        key=fake.api_key,
        gateway=fake.gateway,
    )
    assert report.unresolved == ["ZZZ.FUT"]
    assert report.partly_resolved == {}
    assert report.days_downloaded == 4
    _assert_same_bars(_loaded(tmp_path / "data"), _expected())


def test_a_contract_listed_during_the_range_is_partly_resolved(
    fake: FakeDatabentoGateway, tmp_path: Path
) -> None:
    fake.add_instrument("MCLG6", 42009, DAYS[2], DAYS[-1] + dt.timedelta(days=30))
    report = download(
        parse_request(["MCLZ5", "MCLG6"], "ohlcv-1m", DAYS[0], DAYS[-1]),
        tmp_path / "data",
        key=fake.api_key,
        gateway=fake.gateway,
    )
    assert report.unresolved == []
    assert report.partly_resolved == {"MCLG6": 2}


def test_no_resolvable_symbol_is_refused_at_the_cost_query(
    fake: FakeDatabentoGateway, tmp_path: Path
) -> None:
    with pytest.raises(DownloadError, match="resolved none of the symbols") as info:
        download(
            parse_request(["ZZZ.FUT"], "ohlcv-1m", DAYS[0], DAYS[-1]),
            tmp_path / "data",
            key=fake.api_key,
            gateway=fake.gateway,
        )
    assert "ZZZ.FUT" in info.value.message
    assert info.value.exit_code == 2
    assert fake.requests_for("timeseries.get_range") == []


def test_malformed_key_is_rejected_without_echoing_it(
    fake: FakeDatabentoGateway, tmp_path: Path
) -> None:
    secret = "sk-live-0123456789abcdef0123456789"
    with pytest.raises(DownloadError) as info:
        _download(fake, tmp_path / "data", key=secret)
    assert KEY_ENV in info.value.message
    assert secret not in str(info.value)
    assert fake.requests == []


def test_data_dir_below_a_file_is_a_clear_error_before_any_request(
    fake: FakeDatabentoGateway, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be\n")
    with pytest.raises(DataError):
        _download(fake, blocker / "data")
    assert fake.requests_for("timeseries.get_range") == []


# --------------------------------------------------------------------------------------------
# The CLI, in a subprocess
#
# Starting `workbench` costs ~1 s of imports (pandas, databento), so the independent CLI runs
# are started together, each against its own fake gateway and folders, and each test below
# checks one of them.
# --------------------------------------------------------------------------------------------
@dataclass
class CliCase:
    """One `workbench data download` run (and an optional follow-up run)."""

    fake: FakeDatabentoGateway
    cwd: Path
    data_dir: Path
    key: str | None
    args: list[str]
    followup: list[str] | None = None
    out: subprocess.CompletedProcess[str] | None = None
    requests_after_first: list[RecordedRequest] = field(default_factory=list)
    files_after_first: list[Path] = field(default_factory=list)
    out2: subprocess.CompletedProcess[str] | None = None

    def first(self) -> subprocess.CompletedProcess[str]:
        assert self.out is not None
        return self.out

    def second(self) -> subprocess.CompletedProcess[str]:
        assert self.out2 is not None
        return self.out2


def _cli_env(fake: FakeDatabentoGateway, key: str | None) -> dict[str, str]:
    env = child_env(**fake.env(), **{GATEWAY_ENV: fake.gateway})
    if key is not None:
        env[KEY_ENV] = key
    return env


def _download_args(
    data_dir: Path, start: str, end: str, *extra: str, symbols: str = "MCL.FUT"
) -> list[str]:
    return [
        *("data", "download", "--symbols", symbols, "--schema", "ohlcv-1m"),
        *("--start", start, "--end", end, "--data-dir", str(data_dir), *extra),
    ]


def _run(case: CliCase, args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EXE, *args],
        env=_cli_env(case.fake, case.key),
        cwd=case.cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _make_case(
    base: Path,
    name: str,
    *,
    key: str | None,
    cost: float = 0.5,
    start: str = "2025-11-03",
    end: str = "2025-11-06",
    dotenv_key: str | None = None,
    followup_extra: tuple[str, ...] | None = None,
    symbols: str = "MCL.FUT",
) -> CliCase:
    cwd = base / name / "cwd"
    cwd.mkdir(parents=True)
    if dotenv_key is not None:
        (cwd / ".env").write_text(f"# local secrets\n{KEY_ENV}={dotenv_key}\n")
    data_dir = base / name / "data"
    fake = FakeDatabentoGateway(cost=cost).start()
    fake.add_bars(MARKET)
    return CliCase(
        fake=fake,
        cwd=cwd,
        data_dir=data_dir,
        key=key,
        args=_download_args(data_dir, start, end, symbols=symbols),
        followup=None
        if followup_extra is None
        else _download_args(data_dir, start, end, *followup_extra),
    )


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, CliCase]]:
    base = tmp_path_factory.mktemp("cli-download")
    warm_bytecode("workbench.data.downloader", "databento")
    key = DEFAULT_API_KEY
    cases = {
        "env_key": _make_case(base, "env_key", key=key, followup_extra=()),
        "dotenv": _make_case(
            base, "dotenv", key=None, dotenv_key=key, start="2025-11-04", end="2025-11-05"
        ),
        "cost": _make_case(base, "cost", key=key, cost=7.5, followup_extra=("--yes",)),
        "refused_key": _make_case(base, "refused_key", key=BAD_KEY),
        "missing_key": _make_case(base, "missing_key", key=None),
        "end_before_start": _make_case(
            base, "end_before_start", key=key, start="2025-11-06", end="2025-11-03"
        ),
        "one_unresolved": _make_case(base, "one_unresolved", key=key, symbols="MCL.FUT,ZZZ.FUT"),
        "none_resolved": _make_case(base, "none_resolved", key=key, symbols="ZZZ.FUT,QQQ.FUT"),
    }
    try:
        with ThreadPoolExecutor(max_workers=len(cases)) as pool:
            outs = list(pool.map(lambda c: _run(c, c.args), cases.values()))
            for case, out in zip(cases.values(), outs, strict=True):
                case.out = out
                case.requests_after_first = case.fake.requests
                case.files_after_first = _files(case.data_dir)
            again = [c for c in cases.values() if c.followup is not None]
            outs2 = list(pool.map(lambda c: _run(c, c.followup), again))
            for case, out in zip(again, outs2, strict=True):
                case.out2 = out
        yield cases
    finally:
        for case in cases.values():
            case.fake.stop()


def _assert_user_error(out: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    assert out.returncode == code, out.stdout + out.stderr
    assert out.stderr.startswith("error:"), out.stderr
    assert "Traceback" not in out.stderr
    # everything is checked before the first day is fetched: no progress label before an error
    assert "downloading" not in out.stdout + out.stderr, out.stdout
    for needle in needles:
        assert needle in out.stderr, out.stderr


def test_cli_never_prints_or_stores_the_key(cli: dict[str, CliCase]) -> None:
    key = DEFAULT_API_KEY
    for name, case in cli.items():
        for out in (case.out, case.out2):
            if out is None:
                continue
            text = out.stdout + out.stderr
            for secret in (key, BAD_KEY):
                assert secret not in text, name
                assert secret[3:] not in text, name
            assert "Traceback" not in text, name
        _assert_key_not_stored(case.data_dir, key, BAD_KEY)


def test_cli_download_then_rerun(cli: dict[str, CliCase]) -> None:
    case = cli["env_key"]
    out = case.first()
    assert out.returncode == 0, out.stderr
    assert "Days: 4 downloaded, 0 already complete" in out.stdout
    assert f"{len(OUTRIGHT_BARS)} records stored in 4 files" in out.stdout
    assert f"{len(SPREAD_BARS)} spread records dropped" in out.stdout
    assert "$0.50" in out.stdout
    assert [p for p in case.files_after_first if p.suffix == ".parquet"] == [
        _partition(case.data_dir, d) for d in DAYS
    ]
    assert {r.api_key for r in case.requests_after_first} == {case.fake.api_key}
    _assert_same_bars(_loaded(case.data_dir), _expected())

    again = case.second()
    assert again.returncode == 0, again.stderr
    assert "Days: 0 downloaded, 4 already complete" in again.stdout
    assert case.fake.requests == case.requests_after_first  # not even a cost query


def test_cli_key_from_dotenv_in_cwd(cli: dict[str, CliCase]) -> None:
    case = cli["dotenv"]
    out = case.first()
    assert out.returncode == 0, out.stderr
    assert "Days: 2 downloaded" in out.stdout
    assert {r.api_key for r in case.requests_after_first} == {case.fake.api_key}
    _assert_same_bars(_loaded(case.data_dir), _expected(DAYS[1:3]))


def test_cli_cost_refusal_exits_3_and_yes_overrides(cli: dict[str, CliCase]) -> None:
    case = cli["cost"]
    _assert_user_error(case.first(), 3, "$7.50", "$5.00", "hint:", "--yes")
    assert [r.endpoint for r in case.requests_after_first] == ["metadata.get_cost"]
    assert case.files_after_first == []

    ok = case.second()
    assert ok.returncode == 0, ok.stderr
    assert "Cost $7.50. Days: 4 downloaded" in ok.stdout
    assert len(case.fake.requests_for("timeseries.get_range")) == 4
    _assert_same_bars(_loaded(case.data_dir), _expected())


def test_cli_refused_key(cli: dict[str, CliCase]) -> None:
    case = cli["refused_key"]
    _assert_user_error(case.first(), 2, "refused the API key", "hint:", KEY_ENV)
    assert [r.api_key for r in case.requests_after_first] == [BAD_KEY]
    assert case.files_after_first == []


def test_cli_missing_key(cli: dict[str, CliCase]) -> None:
    case = cli["missing_key"]
    assert not (case.cwd / ".env").exists()
    _assert_user_error(case.first(), 2, "no Databento API key", "hint:", KEY_ENV, ".env")
    assert case.requests_after_first == []
    assert case.files_after_first == []


def test_cli_end_before_start(cli: dict[str, CliCase]) -> None:
    case = cli["end_before_start"]
    _assert_user_error(
        case.first(), 2, "empty date range", "2025-11-03", "2025-11-06", "hint:", "--end"
    )
    assert case.requests_after_first == []
    assert not case.data_dir.exists()


def test_cli_names_a_symbol_databento_did_not_resolve(cli: dict[str, CliCase]) -> None:
    case = cli["one_unresolved"]
    out = case.first()
    assert out.returncode == 0, out.stderr
    assert "Days: 4 downloaded" in out.stdout
    assert "Not resolved by Databento: ZZZ.FUT." in out.stdout
    assert (
        "warning: Databento did not resolve ZZZ.FUT on any day from 2025-11-03 to 2025-11-06"
        in out.stderr
    )
    assert "nothing was downloaded for it" in out.stderr
    assert "hint:" in out.stderr
    assert "resolve MCL.FUT" not in out.stderr  # the one that resolved is not blamed
    _assert_same_bars(_loaded(case.data_dir), _expected())


def test_cli_no_symbol_resolved_exits_2_before_any_download(cli: dict[str, CliCase]) -> None:
    case = cli["none_resolved"]
    _assert_user_error(
        case.first(),
        2,
        "resolved none of the symbols",
        "ZZZ.FUT, QQQ.FUT",
        "nothing was",
        "hint:",
        "MCL.FUT",
    )
    assert [r.endpoint for r in case.requests_after_first] == ["metadata.get_cost"]
    assert case.files_after_first == []
