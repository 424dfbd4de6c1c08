"""The download's guard rails a user leans on: the cost limit cannot be switched off by a
malformed ``--max-cost``, and a catalog that moves keeps its record of what was downloaded
(so nothing is paid for twice). Real ``databento`` client against the loopback fake."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.databento_gateway import FakeDatabentoGateway
from tests.integration.subprocesses import EXE, child_env
from tests.integration.test_download import DAYS, MARKET
from workbench.data.downloader import download, parse_request
from workbench.errors import ConfigError


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeDatabentoGateway]:
    for name in ("DATABENTO_API_KEY", "WORKBENCH_DATABENTO_GATEWAY", "WORKBENCH_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    with FakeDatabentoGateway(cost=0.5) as gw:
        gw.add_bars(MARKET)
        for name, value in gw.env().items():
            monkeypatch.setenv(name, value)
        yield gw


def _get(fake: FakeDatabentoGateway, data_dir: Path) -> tuple[int, int]:
    report = download(
        parse_request(["MCL.FUT"], "ohlcv-1m", DAYS[0], DAYS[-1]),
        data_dir,
        key=fake.api_key,
        gateway=fake.gateway,
        sleep=lambda _s: None,
    )
    return report.days_downloaded, report.days_skipped


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -1.0])
def test_max_cost_must_be_a_finite_amount(bad: float) -> None:
    with pytest.raises(ConfigError, match="--max-cost"):
        parse_request(["MCL.FUT"], "ohlcv-1m", "2025-11-03", "2025-11-04", max_cost=bad)


def test_cli_max_cost_nan_is_refused_before_any_request(tmp_path: Path) -> None:
    out = subprocess.run(
        [
            *(EXE, "data", "download", "--symbols", "MCL.FUT", "--start", "2025-11-03"),
            *("--end", "2025-11-04", "--data-dir", str(tmp_path / "d"), "--max-cost", "nan"),
        ],
        env=child_env(  # a closed loopback port: nothing may be asked of it
            DATABENTO_API_KEY="db-NotUsedNotUsedNotUsedNotUsed01",
            WORKBENCH_DATABENTO_GATEWAY="https://127.0.0.1:9",
        ),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2, out.stdout + out.stderr
    assert "error: --max-cost must be a number of US dollars, got nan" in out.stderr
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "d").exists()


def test_a_moved_catalog_does_not_download_again(
    fake: FakeDatabentoGateway, tmp_path: Path
) -> None:
    first, moved = tmp_path / "data", tmp_path / "elsewhere" / "data"
    assert _get(fake, first) == (4, 0)
    ledger = json.loads((first / "manifests" / "downloads.json").read_text())
    for days in ledger.values():
        for entry in days.values():
            assert all(f.startswith("raw/MCL_FUT/") for f in entry["files"]), entry
    moved.parent.mkdir()
    shutil.move(first, moved)
    fetched = len(fake.requests_for("timeseries.get_range"))
    assert _get(fake, moved) == (0, 4)
    assert len(fake.requests_for("timeseries.get_range")) == fetched
    (moved / "raw" / "MCL_FUT" / "2025" / f"{DAYS[1]}_ohlcv-1m.parquet").unlink()
    assert _get(fake, moved) == (1, 3)  # a deleted file is still downloaded again


def test_a_ledger_with_absolute_paths_of_an_older_location_is_honoured(
    fake: FakeDatabentoGateway, tmp_path: Path
) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    assert _get(fake, old) == (4, 0)
    path = old / "manifests" / "downloads.json"
    ledger = json.loads(path.read_text())
    for days in ledger.values():  # as ledgers were written before paths were relative
        for entry in days.values():
            entry["files"] = [str(old / f) for f in entry["files"]]
    path.write_text(json.dumps(ledger))
    shutil.move(old, new)
    assert _get(fake, new) == (0, 4)
    assert dt.date.fromisoformat(min(next(iter(ledger.values())))) == DAYS[0]
