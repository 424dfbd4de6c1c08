"""``data validate`` names NaN/inf and non-positive prices and negative volume explicitly,
per file, with the row's timestamp."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from workbench.cli.main import main
from workbench.data.quality import validate


@pytest.fixture
def damaged(small_sample: Path, tmp_path: Path) -> tuple[Path, Path, list[str]]:
    """A copy of the 1h bars with, in one file, a NaN close, an inf high, a negative open and
    a negative volume (row 0 to 3); returns the root, the file and those rows' timestamps."""
    root = tmp_path / "bad"
    shutil.copytree(small_sample / "raw", root / "raw")
    f = sorted(root.glob("raw/MCL_FUT/*/*_ohlcv-1h.parquet"))[3]
    t = pq.read_table(f)
    cols = {k: t[k].to_numpy().copy() for k in ("open", "high", "close", "volume")}
    cols["close"][0] = np.nan
    cols["high"][1] = np.inf
    cols["open"][2] = -5.0
    cols["volume"][3] = -1
    for k, v in cols.items():
        t = t.set_column(t.schema.get_field_index(k), k, pa.array(v, type=t.schema.field(k).type))
    pq.write_table(t, f)
    stamps = [f"{np.datetime64(t['ts_event'][i].value, 'ns')}Z" for i in range(4)]
    return root, f, stamps


def test_validate_reports_each_bad_value_with_file_and_time(
    damaged: tuple[Path, Path, list[str]],
) -> None:
    root, f, stamps = damaged
    report = validate(str(root), schema="ohlcv-1h")
    found = {i.check: i for i in report.issues}
    nonfinite = found["price not a finite number"]
    assert nonfinite.count == 2
    assert nonfinite.file is not None
    assert Path(nonfinite.file).name == f.name
    assert stamps[0] in nonfinite.examples[0]
    assert "close=nan" in nonfinite.examples[0]
    assert stamps[1] in nonfinite.examples[1]
    assert "high=inf" in nonfinite.examples[1]
    negative = found["price <= 0"]
    assert negative.count == 1
    assert stamps[2] in negative.examples[0]
    assert "open=-5" in negative.examples[0]
    assert found["volume < 0"].count == 1
    assert stamps[3] in found["volume < 0"].examples[0]


def test_validate_cli_prints_them_and_exits_1(
    damaged: tuple[Path, Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    root, f, stamps = damaged
    with pytest.raises(SystemExit) as info:
        main(["data", "validate", "--data-dir", str(root), "--schema", "ohlcv-1h"])
    assert info.value.code == 1
    out = capsys.readouterr().out
    line = next(s for s in out.splitlines() if "price not a finite number" in s)
    assert line.endswith(f" in {f}")
    assert stamps[0] in out
    assert "price <= 0" in out
    assert "volume < 0" in out


def test_validate_counts_files_in_words(
    small_sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    day = sorted(small_sample.glob("raw/MCL_FUT/*/*_ohlcv-1d.parquet"))[0].name[:10]
    main(
        [
            "data",
            "validate",
            "--data-dir",
            str(small_sample),
            "--schema",
            "ohlcv-1d",
            "--start",
            day,
            "--end",
            day,
        ]
    )
    out = capsys.readouterr().out
    assert "Checked 1 file," in out
