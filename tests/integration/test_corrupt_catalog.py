"""Unreadable catalog files are named, never a traceback; typos are not "no issues".

A copy of the small synthetic catalog gets three damaged partitions: bytes overwritten in
the middle of one 1-minute file (in January), a 1-minute file cut in half (in February)
and a 1-hour file that holds other columns. The ``workbench`` commands run in parallel
subprocesses, once per module; each test checks one run.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.integration.subprocesses import EXE, child_env, warm_bytecode
from workbench.data.loader import load_bars
from workbench.errors import DataWarning, UnreadableFileError

CORRUPT = "2024-01-10_ohlcv-1m.parquet"
TRUNCATED = "2024-02-20_ohlcv-1m.parquet"
WRONG_SCHEMA = "2024-03-05_ohlcv-1h.parquet"


def _damage(root: Path) -> None:
    folder = root / "raw" / "MCL_FUT" / "2024"
    corrupt = folder / CORRUPT
    data = bytearray(corrupt.read_bytes())
    mid = len(data) // 2
    data[mid - 200 : mid + 200] = b"\xab" * 400
    corrupt.write_bytes(bytes(data))
    cut = folder / TRUNCATED
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 2])
    pq.write_table(pa.table({"ts_event": [1, 2], "price": [1.0, 2.0]}), folder / WRONG_SCHEMA)


@pytest.fixture(scope="module")
def damaged(small_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("damaged")
    shutil.copytree(small_sample / "raw", root / "raw")
    # a column cache and footer cache built while the files were good must not mask them
    load_bars("MCL_FUT", "ohlcv-1m", data_dir=root)
    load_bars("MCL_FUT", "ohlcv-1h", data_dir=root)
    assert (
        subprocess.run([EXE, "data", "info", "--data-dir", str(root)], check=False).returncode == 0
    )
    _damage(root)
    return root


RUNS: dict[str, list[str]] = {
    "info": ["data", "info"],
    "info_json": ["data", "info", "--json"],
    "validate": ["data", "validate"],
    "backtest_other_month": ["backtest", "--start", "2024-03-01", "--no-save-results"],
    "backtest_corrupt_day": ["backtest", "--start", "2024-01-08", "--end", "2024-01-12"],
    "backtest_truncated_day": ["backtest", "--start", "2024-02-20", "--end", "2024-02-21"],
    "backtest_wrong_schema": ["backtest", "--schema", "ohlcv-1h", "--start", "2024-03-01"],
    "validate_bad_schema": ["data", "validate", "--schema", "ohlcv-9m"],
    "validate_bad_product": ["data", "validate", "--product", "MLC_FUT"],
    "validate_empty_range": ["data", "validate", "--start", "2030-01-01", "--end", "2030-02-01"],
    "backtest_after_the_data": ["backtest", "--start", "2030-01-01", "--no-save-results"],
}


@pytest.fixture(scope="module")
def cli(damaged: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    warm_bytecode("workbench.cli.backtest", "workbench.backtest")
    results = tmp_path_factory.mktemp("results")

    def run(args: list[str]) -> subprocess.CompletedProcess[str]:
        extra = ["--results-dir", str(results)] if args[0] == "backtest" else []
        return subprocess.run(
            [EXE, *args, "--data-dir", str(damaged), *extra],
            env=child_env(),
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )

    with ThreadPoolExecutor(max_workers=4) as pool:
        yield dict(zip(RUNS, pool.map(run, RUNS.values()), strict=True))


def _no_traceback(out: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in out.stdout + out.stderr, out.stderr
    assert "pyarrow" not in out.stderr, out.stderr


def _clean_error(out: subprocess.CompletedProcess[str], *needles: str) -> list[str]:
    """Exit 2, an ``error:`` line and a ``hint:`` line, no traceback."""
    _no_traceback(out)
    assert out.returncode == 2, out.stdout + out.stderr
    lines = out.stderr.splitlines()
    assert len(lines) == 2, out.stderr
    assert lines[0].startswith("error: "), out.stderr
    assert lines[1].startswith("  hint: "), out.stderr
    for needle in needles:
        assert needle in out.stderr, out.stderr
    return lines


# -- damaged files ---------------------------------------------------------------------------
def test_backtest_of_a_corrupt_day_names_the_file(cli: dict[str, Any]) -> None:
    lines = _clean_error(cli["backtest_corrupt_day"], CORRUPT, "corrupt")
    assert "workbench data download" in lines[1]
    assert "--start 2024-01-10" in lines[1]
    assert "delete" in lines[1]
    assert "workbench data ingest" in lines[1]


def test_backtest_of_a_truncated_day_names_the_file(cli: dict[str, Any]) -> None:
    _clean_error(cli["backtest_truncated_day"], TRUNCATED, "truncated")


def test_backtest_of_a_wrong_schema_file_names_it(cli: dict[str, Any]) -> None:
    _clean_error(cli["backtest_wrong_schema"], WRONG_SCHEMA, "not ohlcv-1h bars", "close")


def test_backtest_of_other_months_works_and_warns(cli: dict[str, Any]) -> None:
    out = cli["backtest_other_month"]
    _no_traceback(out)
    assert out.returncode == 0, out.stderr
    assert "EMA Crossover on MCL_FUT 2024-03-01" in out.stdout
    # the bad files of other days are named once each, as warnings, not errors
    assert CORRUPT in out.stderr
    assert TRUNCATED in out.stderr
    assert all(line.startswith(("warning: ", "  ")) for line in out.stderr.splitlines()), out.stderr


def test_validate_lists_every_unreadable_file(cli: dict[str, Any]) -> None:
    out = cli["validate"]
    _no_traceback(out)
    assert out.returncode == 1, out.stderr
    for name in (CORRUPT, TRUNCATED, WRONG_SCHEMA):
        assert name in out.stdout, out.stdout
    assert out.stdout.count("unreadable file: 1") == 3
    assert "Checked 196 files" in out.stdout  # the others are still checked
    assert "hint: delete them" in out.stdout


def test_info_lists_the_other_files_and_names_the_bad_ones(cli: dict[str, Any]) -> None:
    out = cli["info"]
    _no_traceback(out)
    assert out.returncode == 1
    assert "ohlcv-1m" in out.stdout
    assert "ohlcv-1d" in out.stdout
    # footers are read: the truncated and the wrong-schema file are found, the one with
    # corrupt data pages is not (`data validate` reads the pages)
    errors = [line for line in out.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 2, out.stderr
    assert TRUNCATED in out.stderr
    assert WRONG_SCHEMA in out.stderr
    entries = json.loads(cli["info_json"].stdout)
    m1 = next(e for e in entries if e["schema"] == "ohlcv-1m")
    assert m1["files"] == 64
    assert [Path(u["path"]).name for u in m1["unreadable"]] == [TRUNCATED]


def test_the_column_cache_does_not_mask_a_damaged_file(damaged: Path) -> None:
    with pytest.raises(UnreadableFileError) as info:
        load_bars("MCL_FUT", "ohlcv-1m", data_dir=damaged)
    assert info.value.path.endswith((CORRUPT, TRUNCATED))
    assert "1 more unreadable file" in info.value.message
    # other days load, with a warning per file left out, and nothing bad is cached
    for _ in range(2):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            df = load_bars("MCL_FUT", "ohlcv-1m", start="2024-03-01", data_dir=damaged)
        assert len(df) > 0
        assert sorted(Path(str(w.message).split()[2].rstrip(":")).name for w in caught) == [
            CORRUPT,
            TRUNCATED,
        ]
        assert all(w.category is DataWarning for w in caught)


def test_reingest_replaces_an_unreadable_file(damaged: Path, tmp_path: Path) -> None:
    from workbench.data.ingest import write_partitions
    from workbench.data.schemas import schema_info
    from workbench.data.store import DataRoot

    root = tmp_path / "d"
    shutil.copytree(damaged / "raw", root / "raw")
    good = pq.read_table(damaged / "raw/MCL_FUT/2024/2024-01-11_ohlcv-1m.parquet")
    day = pa.array(good["ts_event"].cast("int64").to_numpy() - 86_400 * 10**9).cast(
        good.schema.field("ts_event").type
    )
    table = good.set_column(0, "ts_event", day).replace_schema_metadata(None)
    report = write_partitions(
        DataRoot(root),
        table,
        product="MCL_FUT",
        schema=schema_info("ohlcv-1m"),
        dataset="GLBX.MDP3",
        source="test",
    )
    assert [Path(p).name for p in report.replaced_unreadable] == [CORRUPT]
    with pytest.warns(DataWarning, match=TRUNCATED):  # still there, not needed
        df = load_bars("MCL_FUT", "ohlcv-1m", start="2024-01-10", end="2024-01-10", data_dir=root)
    assert len(df) > 0
    assert str(df.index[0].date()) == "2024-01-10"


# -- typos and empty selections ---------------------------------------------------------------
def test_validate_unknown_schema_lists_the_known_ones(cli: dict[str, Any]) -> None:
    _clean_error(cli["validate_bad_schema"], "unknown schema 'ohlcv-9m'", "ohlcv-1m")
    assert "No issues found" not in cli["validate_bad_schema"].stdout


def test_validate_unknown_product_lists_the_catalogs(cli: dict[str, Any]) -> None:
    _clean_error(cli["validate_bad_product"], "'MLC_FUT'", "MCL_FUT")
    assert "No issues found" not in cli["validate_bad_product"].stdout


def test_validate_empty_range_says_what_is_stored(cli: dict[str, Any]) -> None:
    lines = _clean_error(cli["validate_empty_range"], "2030-01-01", "2030-02-01")
    assert "MCL_FUT ohlcv-1m 2024-01-01 to 2024-03-15" in lines[1]
    assert "No issues found" not in cli["validate_empty_range"].stdout


def test_backtest_after_the_data_says_the_stored_range(cli: dict[str, Any]) -> None:
    lines = _clean_error(cli["backtest_after_the_data"], "from 2030-01-01")
    assert "None" not in lines[0]
    assert "2024-01-01 to 2024-03-15" in lines[0]
