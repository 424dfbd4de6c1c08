"""The `workbench data` commands on the happy path, each in a fresh process."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pyarrow.parquet as pq

from tests.conftest import real_data_path
from tests.integration.subprocesses import EXE


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], capture_output=True, text=True, check=False)


def test_info_reads_the_catalog(small_sample: Path) -> None:
    out = run("data", "info", "--data-dir", str(small_sample))
    assert out.returncode == 0, out.stderr
    assert "MCL_FUT" in out.stdout
    assert "ohlcv-1m" in out.stdout
    assert "synthetic" in out.stdout
    js = run("data", "info", "--json", "--data-dir", str(small_sample))
    entries = {(e["product"], e["schema"]): e for e in json.loads(js.stdout)}
    m1 = entries[("MCL_FUT", "ohlcv-1m")]
    files = sorted(small_sample.glob("raw/MCL_FUT/*/*_ohlcv-1m.parquet"))
    assert m1["files"] == len(files)
    assert m1["rows"] == sum(pq.read_metadata(f).num_rows for f in files)
    assert m1["synthetic"] is True
    assert m1["first_date"] == files[0].name[:10]


def test_info_notices_new_files(tmp_path: Path, small_sample: Path) -> None:
    import shutil

    root = tmp_path / "d"
    shutil.copytree(small_sample / "raw", root / "raw")
    first = json.loads(run("data", "info", "--json", "--data-dir", str(root)).stdout)
    victim = sorted(root.glob("raw/MCL_FUT/*/*_ohlcv-1h.parquet"))[0]
    victim.unlink()
    second = json.loads(run("data", "info", "--json", "--data-dir", str(root)).stdout)
    files = {e["schema"]: e["files"] for e in first}
    files2 = {e["schema"]: e["files"] for e in second}
    assert files2["ohlcv-1h"] == files["ohlcv-1h"] - 1


def test_validate_passes_on_clean_data_and_fails_on_bad(tmp_path: Path, small_sample: Path) -> None:
    import shutil

    import pyarrow as pa

    ok = run("data", "validate", "--data-dir", str(small_sample), "--schema", "ohlcv-1h")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "No issues found" in ok.stdout
    root = tmp_path / "bad"
    shutil.copytree(small_sample / "raw", root / "raw")
    f = sorted(root.glob("raw/MCL_FUT/*/*_ohlcv-1h.parquet"))[3]
    t = pq.read_table(f)
    high = t["high"].to_numpy().copy()
    high[0] = t["low"][0].as_py() - 0.5  # high below low and below open/close
    close = t["close"].to_numpy().copy()
    close[1] = close[1] + 0.005  # off the tick
    t = t.set_column(t.schema.get_field_index("high"), "high", pa.array(high))
    t = t.set_column(t.schema.get_field_index("close"), "close", pa.array(close))
    t = pa.concat_tables([t, t.slice(2, 1)])  # a duplicate bar at the end: also out of order
    pq.write_table(t, f)
    bad = run("data", "validate", "--data-dir", str(root), "--schema", "ohlcv-1h")
    assert bad.returncode == 1
    for check in (
        "high < max(open, close)",
        "high < low",
        "price off the 0.01 tick",
        "duplicate bar",
        "unsorted timestamps",
    ):
        assert check in bad.stdout, bad.stdout
    assert "Traceback" not in bad.stderr


def test_ingest_cli_real_file(tmp_path: Path) -> None:
    f = real_data_path("nautilus", "futures-esu4-nqu4-20240701.ohlcv-1m.dbn.zst")
    out = run("data", "ingest", str(f), "--data-dir", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert "Ingested 60 records" in out.stdout
    assert {p.parent.parent.name for p in tmp_path.rglob("*.parquet")} == {"ES_FUT", "NQ_FUT"}


def test_info_refuses_a_missing_data_dir_as_validate_does(tmp_path: Path) -> None:
    missing = tmp_path / "does" / "not" / "exist"
    for cmd in (("info",), ("info", "--json"), ("validate",)):
        out = run("data", *cmd, "--data-dir", str(missing))
        assert out.returncode == 2, (cmd, out.stdout, out.stderr)
        assert out.stderr.startswith("error:"), (cmd, out.stderr)
        assert str(missing) in out.stderr, (cmd, out.stderr)
        assert "hint:" in out.stderr, (cmd, out.stderr)
        assert "--data-dir" in out.stderr, (cmd, out.stderr)
        assert "Traceback" not in out.stderr
    assert not missing.exists()
    empty = tmp_path / "empty"
    empty.mkdir()  # an existing, empty catalog is still reported, not refused
    out = run("data", "info", "--data-dir", str(empty))
    assert out.returncode == 0, out.stderr
    assert "No data in" in out.stdout
