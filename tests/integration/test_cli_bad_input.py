"""Bad input gets one clear message, a non-zero exit, no traceback and nothing half-written.

The CLI cases run ``workbench`` in subprocesses. Each process spends ~2 s importing pandas
and databento, so the independent runs are started together in a module fixture and each
test checks one of them. ``load_bars`` has no command of its own; its input errors are
checked in-process (the CLI prints any WorkbenchError the same way).
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from tests.fakes.databento_gateway import (
    FakeDatabentoGateway,
    OhlcvBar,
    RecordedRequest,
    encode_dbn,
    make_definition_record,
    make_ohlcv_dbn,
)
from tests.integration.subprocesses import EXE, child_env, warm_bytecode
from workbench.data.ingest import ingest_files
from workbench.data.loader import load_bars
from workbench.data.store import DataRoot
from workbench.errors import ConfigError, DataError

RECORD_SIZE = 56  # an OHLCV record in DBN


BARS = [
    OhlcvBar.at(f"2025-11-0{d}T14:{30 + k}", "MCLZ5", 42001, 71.23 + k / 100, 71.3, 71.2, 71.25, 5)
    for d in (3, 4)
    for k in range(5)
]


def _good_dbn() -> bytes:
    return make_ohlcv_dbn(BARS)


def _header_size(data: bytes) -> int:
    import databento_dbn as dbn

    return len(dbn.Metadata.decode(data).encode())


def _definition_dbn() -> bytes:
    import databento_dbn as dbn

    rec = make_definition_record("MCLZ5", 42001, "2025-11-03T00:00", expiration="2025-11-17")
    meta = dbn.Metadata(
        "GLBX.MDP3",
        rec.ts_recv,
        dbn.SType.RAW_SYMBOL,
        dbn.SType.INSTRUMENT_ID,
        dbn.Schema.DEFINITION,
        symbols=["MCLZ5"],
        partial=[],
        not_found=[],
        mappings=[],
        end=rec.ts_recv + 1,
    )
    return encode_dbn(meta, [rec])


def _written(root: Path) -> list[Path]:
    """Parquet files and temp files under ``root``, hidden ones included."""
    found: list[Path] = []
    for folder, _dirs, files in os.walk(root):
        found += [Path(folder, f) for f in files if f.endswith((".parquet", ".tmp"))]
    return found


def _is_writable(folder: Path) -> bool:
    probe = folder / ".probe"
    try:
        probe.write_bytes(b"")
    except OSError:
        return False
    probe.unlink()
    return True


def _make_read_only(folder: Path) -> Callable[[], None] | None:
    """Make ``folder`` read-only; returns the undo, or None when that is impossible here.

    chmod 0o555 does not stop root, so as root the folder is made immutable with
    ``chattr +i`` (ext4 and friends), which stops root too.
    """
    folder.chmod(0o555)
    if not _is_writable(folder):
        return lambda: folder.chmod(0o755)
    chattr = shutil.which("chattr")
    if chattr is not None:
        subprocess.run([chattr, "+i", str(folder)], capture_output=True, check=False)

        def undo() -> None:
            subprocess.run([chattr, "-i", str(folder)], capture_output=True, check=False)
            folder.chmod(0o755)

        if not _is_writable(folder):
            return undo
        undo()
    folder.chmod(0o755)
    return None


@dataclass
class Case:
    """One CLI run and the folder it must leave without Parquet or temp files."""

    args: list[str]
    data_dir: Path
    env: dict[str, str] | None = None
    out: subprocess.CompletedProcess[str] | None = None
    gateway_requests: list[RecordedRequest] | None = None  # for download cases

    def result(self) -> subprocess.CompletedProcess[str]:
        assert self.out is not None
        return self.out


def _run(case: Case) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EXE, *case.args],
        env=case.env or child_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Case | None]]:
    base = tmp_path_factory.mktemp("bad-input")
    warm_bytecode("workbench.data.downloader", "databento")
    files = base / "files"
    files.mkdir()
    good = _good_dbn()
    header = _header_size(good)

    (files / "good.dbn.zst").write_bytes(zstandard.ZstdCompressor().compress(good))
    (files / "corrupt.dbn").write_bytes(random.Random(7).randbytes(4096))
    pq.write_table(pa.table({"x": [1, 2, 3]}), files / "bars.parquet")
    compressed = zstandard.ZstdCompressor().compress(good)
    (files / "cut-zstd.dbn.zst").write_bytes(compressed[: len(compressed) // 2])
    mid_record = header + 3 * RECORD_SIZE + RECORD_SIZE // 2
    (files / "cut-plain.dbn").write_bytes(good[:mid_record])
    (files / "eod.dbn").write_bytes(make_ohlcv_dbn(BARS, schema="ohlcv-eod"))
    (files / "a-folder").mkdir()
    blocker = base / "not-a-folder"
    blocker.write_text("a regular file where a folder should be\n")

    def ingest(name: str, *paths: str, data_dir: Path | None = None) -> Case:
        dd = data_dir or base / name
        return Case(["data", "ingest", *paths, "--data-dir", str(dd)], dd)

    f = str(files)
    cases: dict[str, Case | None] = {
        "random_bytes": ingest("random_bytes", f"{f}/corrupt.dbn"),
        "parquet_file": ingest("parquet_file", f"{f}/bars.parquet"),
        "cut_zstd": ingest("cut_zstd", f"{f}/cut-zstd.dbn.zst"),
        "cut_plain": ingest("cut_plain", f"{f}/cut-plain.dbn"),
        "good_then_corrupt": ingest("good_then_corrupt", f"{f}/good.dbn.zst", f"{f}/corrupt.dbn"),
        "unknown_schema": ingest("unknown_schema", f"{f}/eod.dbn"),
        "folder": ingest("folder", f"{f}/a-folder"),
        "missing": ingest("missing", f"{f}/no-such-file.dbn.zst"),
        "below_a_file": ingest("below_a_file", f"{f}/good.dbn.zst", data_dir=blocker / "data"),
    }
    fake = FakeDatabentoGateway().start()
    fake.add_bars(BARS)
    env = child_env(
        **fake.env(),
        DATABENTO_API_KEY=fake.api_key,
        WORKBENCH_DATABENTO_GATEWAY=fake.gateway,
    )
    download = blocker / "downloads"
    download_case = cases["download_below_a_file"] = Case(
        [
            *("data", "download", "--symbols", "MCL.FUT", "--start", "2025-11-03"),
            *("--end", "2025-11-04", "--data-dir", str(download)),
        ],
        download,
        env,
    )
    read_only = base / "read_only"
    read_only.mkdir()
    undo = _make_read_only(read_only)  # undone in `finally`: an immutable folder outlives pytest
    try:
        cases["read_only"] = (
            ingest("read_only", f"{f}/good.dbn.zst", data_dir=read_only) if undo else None
        )
        todo = [c for c in cases.values() if c is not None]
        with ThreadPoolExecutor(max_workers=len(todo)) as pool:
            for case, out in zip(todo, pool.map(_run, todo), strict=True):
                case.out = out
        download_case.gateway_requests = fake.requests
        yield cases
    finally:
        fake.stop()
        if undo is not None:
            undo()


def _case(cli: dict[str, Case | None], name: str) -> Case:
    case = cli[name]
    if case is None:
        pytest.skip(f"{name}: cannot make a read-only folder here (root without chattr +i)")
    return case


def _assert_clean_failure(case: Case, *needles: str, hint: bool = True) -> None:
    out = case.result()
    assert out.returncode != 0, out.stdout
    assert out.returncode == 2, out.stderr
    assert out.stderr.startswith("error:"), out.stderr
    assert "Traceback" not in out.stderr + out.stdout
    if hint:
        assert "\n  hint: " in out.stderr, out.stderr
    for needle in needles:
        assert needle in out.stderr, out.stderr
    assert _written(case.data_dir) == []


def test_random_bytes_are_not_dbn(cli: dict[str, Case | None]) -> None:
    _assert_clean_failure(_case(cli, "random_bytes"), "corrupt.dbn", "not a readable DBN file")


def test_a_parquet_file_is_not_dbn(cli: dict[str, Case | None]) -> None:
    _assert_clean_failure(_case(cli, "parquet_file"), "bars.parquet", "not a readable DBN", ".dbn")


def test_truncated_zstd_stream(cli: dict[str, Case | None]) -> None:
    _assert_clean_failure(_case(cli, "cut_zstd"), "cut-zstd.dbn.zst")


def test_dbn_cut_mid_record(cli: dict[str, Case | None]) -> None:
    _assert_clean_failure(_case(cli, "cut_plain"), "cut-plain.dbn", "truncated")


def test_one_bad_file_among_good_ones_writes_nothing(cli: dict[str, Case | None]) -> None:
    _assert_clean_failure(_case(cli, "good_then_corrupt"), "corrupt.dbn")
    assert not _case(cli, "good_then_corrupt").data_dir.exists()


def test_dbn_of_a_schema_the_catalog_does_not_store(cli: dict[str, Case | None]) -> None:
    # the message lists the known schemas; there is no separate hint line
    _assert_clean_failure(
        _case(cli, "unknown_schema"),
        "eod.dbn",
        "unknown schema 'ohlcv-eod'",
        "ohlcv-1m",
        hint=False,
    )


def test_a_folder_instead_of_a_file(cli: dict[str, Case | None]) -> None:
    case = _case(cli, "folder")
    _assert_clean_failure(case, "a-folder")
    assert "no such" not in case.result().stderr


def test_missing_file(cli: dict[str, Case | None]) -> None:
    _assert_clean_failure(
        _case(cli, "missing"), "no such DBN file", "no-such-file.dbn.zst", "check the path"
    )


def test_data_dir_below_a_regular_file(cli: dict[str, Case | None]) -> None:
    case = _case(cli, "below_a_file")
    _assert_clean_failure(case, "cannot be created", "is a file", str(case.data_dir), "--data-dir")
    assert not case.data_dir.exists()


def test_read_only_data_dir(cli: dict[str, Case | None]) -> None:
    case = _case(cli, "read_only")
    _assert_clean_failure(case, "not writable", str(case.data_dir), "--data-dir")
    assert list(case.data_dir.iterdir()) == []


def test_download_into_a_data_dir_below_a_regular_file(cli: dict[str, Case | None]) -> None:
    case = _case(cli, "download_below_a_file")
    _assert_clean_failure(case, str(case.data_dir), "--data-dir")
    assert case.gateway_requests == []


# --------------------------------------------------------------------------------------------
# In-process: load_bars input errors and a truncated file inside a valid zstd frame
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def catalog_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("catalog")
    src = base / "good.dbn"
    src.write_bytes(_good_dbn())
    data = base / "data"
    report = ingest_files([src], DataRoot(data))
    assert report.records_written == len(BARS)
    return data


def _snapshot(folder: Path) -> dict[str, int]:
    return {
        str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()
    }


def test_load_bars_rejects_a_non_bar_schema(catalog_dir: Path) -> None:
    before = _snapshot(catalog_dir)
    with pytest.raises(ConfigError) as info:
        load_bars("MCL_FUT", schema="trades", data_dir=catalog_dir)
    assert "'trades'" in info.value.message
    assert "ohlcv-1m" in (info.value.hint or "")
    assert _snapshot(catalog_dir) == before


def test_load_bars_rejects_an_unknown_schema_name(catalog_dir: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_bars("MCL_FUT", schema="ohlcv-2m", data_dir=catalog_dir)
    assert "'ohlcv-2m'" in info.value.message
    assert "ohlcv-1m" in info.value.message


@pytest.mark.parametrize("symbol", ["FOO_FUT", "FOOZ5"])
def test_load_bars_unknown_product_lists_the_known_ones(catalog_dir: Path, symbol: str) -> None:
    before = _snapshot(catalog_dir)
    with pytest.raises(ConfigError) as info:
        load_bars(symbol, data_dir=catalog_dir)
    msg = info.value.message
    assert symbol in msg
    assert "known products" in msg
    for known in ("MCL_FUT", "CL_FUT", "ES_FUT"):
        assert known in msg
    assert "MCLZ5" in (info.value.hint or "")
    assert _snapshot(catalog_dir) == before


def test_load_bars_empty_date_range(catalog_dir: Path) -> None:
    before = _snapshot(catalog_dir)
    with pytest.raises(ConfigError) as info:
        load_bars("MCL_FUT", start="2025-11-05", end="2025-11-03", data_dir=catalog_dir)
    assert "empty date range" in info.value.message
    assert "2025-11-05" in info.value.message
    assert _snapshot(catalog_dir) == before
    # the same day as start and end is one whole day, not empty
    df = load_bars("MCLZ5", start="2025-11-04", end="2025-11-04", data_dir=catalog_dir)
    assert len(df) == 5
    assert df["open"].iloc[0] == 71.23


def test_load_bars_bad_date(catalog_dir: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_bars("MCL_FUT", start="2025-13-45", data_dir=catalog_dir)
    assert "start='2025-13-45'" in info.value.message


def test_load_bars_schema_not_stored_names_the_stored_ones(catalog_dir: Path) -> None:
    with pytest.raises(DataError) as info:
        load_bars("MCL_FUT", schema="ohlcv-1h", data_dir=catalog_dir)
    assert "no ohlcv-1h data for MCL_FUT" in info.value.message
    assert "ohlcv-1m" in (info.value.hint or "")


def test_definition_dbn_is_stored_but_is_not_bars(tmp_path: Path) -> None:
    src = tmp_path / "definitions.dbn"
    src.write_bytes(_definition_dbn())
    data = tmp_path / "data"
    report = ingest_files([src], DataRoot(data))
    assert report.schemas == {"definition"}
    with pytest.raises(ConfigError) as info:
        load_bars("MCL_FUT", schema="definition", data_dir=data)
    assert "bar schemas" in info.value.message
    assert "ohlcv-1m" in (info.value.hint or "")
    with pytest.raises(DataError) as no_bars:
        load_bars("MCL_FUT", data_dir=data)
    assert "stored schemas for MCL_FUT: definition" in (no_bars.value.hint or "")


def test_complete_zstd_frame_holding_a_cut_dbn(tmp_path: Path) -> None:
    good = _good_dbn()
    cut = good[: _header_size(good) + 2 * RECORD_SIZE + 10]
    src = tmp_path / "cut-inside.dbn.zst"
    src.write_bytes(zstandard.ZstdCompressor().compress(cut))
    data = tmp_path / "data"
    with pytest.raises(DataError, match="truncated"):
        ingest_files([src], DataRoot(data))
    assert _written(data) == []
