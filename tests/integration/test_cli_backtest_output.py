"""What ``workbench backtest`` tells the user: short periods, the PDF's path, the report's URL
when no browser can open it; and ``make lab`` as root.

The runs are real ``workbench`` subprocesses on the small synthetic catalog, started together.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.integration.subprocesses import EXE, child_env, warm_bytecode

REPO = Path(__file__).resolve().parents[2]
SHORT = ["--schema", "ohlcv-1m", "--start", "2024-03-11", "--end", "2024-03-14"]
HEADLESS = {"DISPLAY": "", "WAYLAND_DISPLAY": "", "BROWSER": "", "WORKBENCH_NO_BROWSER": ""}


@pytest.fixture(scope="module")
def cli(small_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    warm_bytecode("workbench.cli.backtest", "workbench.backtest")
    results = tmp_path_factory.mktemp("results")
    true = shutil.which("true") or "/bin/true"
    runs: dict[str, tuple[list[str], dict[str, str]]] = {
        "short": (SHORT, {}),
        "short_json": ([*SHORT, "--json", "--no-save-results"], {}),
        "long": (["--schema", "ohlcv-1m", "--no-save-results"], {}),
        "pdf": ([*SHORT, "--pdf"], {}),
        "show_headless": ([*SHORT, "--show"], HEADLESS),
        "show_with_browser": ([*SHORT, "--show"], {**HEADLESS, "BROWSER": true}),
    }

    def run(item: tuple[list[str], dict[str, str]]) -> subprocess.CompletedProcess[str]:
        args, env = item
        return subprocess.run(
            [
                EXE,
                "backtest",
                *args,
                "--data-dir",
                str(small_sample),
                "--results-dir",
                str(results),
            ],
            env=child_env(**env),
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )

    with ThreadPoolExecutor(max_workers=3) as pool:
        yield dict(zip(runs, pool.map(run, runs.values()), strict=True))


def _ok(out: subprocess.CompletedProcess[str]) -> None:
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stdout + out.stderr


def test_a_short_period_is_flagged(cli: dict[str, Any]) -> None:
    out = cli["short"]
    _ok(out)
    assert "unreliable: sharpe_ratio, sortino_ratio" in out.stdout
    assert "(4 trade dates < 20)" in out.stdout  # --start/--end are trade dates
    assert "warning: only 4 trade dates (2024-03-11 to 2024-03-14)" in out.stderr
    doc = json.loads(cli["short_json"].stdout)
    assert "sharpe_ratio" in doc["unreliable_metrics"]
    assert any("only 4 trade dates" in w for w in doc["warnings"])
    # the figures summary.json carries beyond the plan's metrics are in the JSON too
    assert {"statistics", "benchmark"} <= doc.keys()
    assert {"volatility_pct", "cagr_pct", "exposure_pct"} <= doc["statistics"].keys()
    assert doc["benchmark"] is not None
    assert "beta" in doc["benchmark"]


def test_a_long_period_is_not_flagged(cli: dict[str, Any]) -> None:
    out = cli["long"]
    _ok(out)
    assert "unreliable" not in out.stdout
    assert "trade dates" not in out.stderr
    assert "warning" not in out.stderr


def test_pdf_says_where_it_went(cli: dict[str, Any]) -> None:
    out = cli["pdf"]
    _ok(out)
    lines = [line for line in out.stdout.splitlines() if line.startswith("  pdf: ")]
    if not lines:  # no Chromium here: it says so, naming the folder
        assert "report.pdf was not written" in out.stderr
        assert "chromium" in out.stderr
        return
    pdf = Path(lines[0].removeprefix("  pdf: "))
    assert pdf.name == "report.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"


def test_show_without_a_browser_prints_the_url(cli: dict[str, Any]) -> None:
    out = cli["show_headless"]
    _ok(out)
    assert "no web browser available here" in out.stdout
    url = next(line for line in out.stdout.splitlines() if "file://" in line).split()[-1]
    assert url.startswith("file:///")
    assert url.endswith("/report.html")
    assert Path(url.removeprefix("file://")).is_file()


def test_show_with_a_browser_opens_it(cli: dict[str, Any]) -> None:
    out = cli["show_with_browser"]
    _ok(out)
    assert "no web browser" not in out.stdout
    assert "  report: file:///" in out.stdout


def test_make_lab_allows_root_only_as_root() -> None:
    """The recipe's command, run by a shell with jupyter replaced by echo."""
    dry = subprocess.run(
        ["make", "-n", "--no-print-directory", "lab", "VENV=/nonexistent"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(ln for ln in dry.stdout.splitlines() if "jupyter lab" in ln)
    echoed = subprocess.run(
        ["sh", "-c", line.replace("/nonexistent/bin/jupyter", "echo")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert echoed.startswith("lab --notebook-dir=.")
    assert ("--allow-root" in echoed) == (os.getuid() == 0)
