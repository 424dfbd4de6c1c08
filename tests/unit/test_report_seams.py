"""The seams between results and visualization: one summary builder, imports one way only,
charts from tables, templates shipped as package data."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import workbench
from workbench.backtest.result import BacktestResult
from workbench.errors import ConfigError
from workbench.results import build_summary, make_run_id, save_results
from workbench.visualization import sweep_heatmap
from workbench.visualization import viewer as V
from workbench.visualization.assets import asset
from workbench.visualization.report import document

PACKAGE = Path(workbench.__file__).parent
TEMPLATES = ("page.html", "chart_page.html", "report.css", "sort_table.js", "comparison.css")


@pytest.fixture(scope="module")
def result(small_sample: Path) -> BacktestResult:
    from workbench.backtest import run_backtest
    from workbench.data import load_bars
    from workbench.strategies import strategy_class

    return run_backtest(load_bars(data_dir=str(small_sample)), strategy_class("ema_crossover")())


def _workbench_imports(folder: Path) -> list[tuple[Path, str]]:
    """Every module imported anywhere in ``folder`` (top, functions, TYPE_CHECKING blocks),
    including the names given to ``importlib.import_module`` / ``__import__``."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.append((path, node.module))
            elif isinstance(node, ast.Import):
                found.extend((path, a.name) for a in node.names)
            elif isinstance(node, ast.Call) and node.args:
                name = ast.unparse(node.func)
                arg = node.args[0]
                if name.endswith(("import_module", "__import__")) and isinstance(arg, ast.Constant):
                    found.append((path, str(arg.value)))
    return found


@pytest.mark.parametrize(
    ("lower", "higher"),
    [("results", "workbench.visualization"), ("visualization", "workbench.optimize")],
)
def test_a_layer_imports_nothing_above_it(lower: str, higher: str) -> None:
    upward = [
        f"{p.relative_to(PACKAGE)} -> {m}"
        for p, m in _workbench_imports(PACKAGE / lower)
        if m == higher or m.startswith(higher + ".")
    ]
    assert upward == []


def test_results_runs_without_loading_visualization(tmp_path: Path) -> None:
    """Saving and comparing with the results layer alone loads no visualization module."""
    code = (
        "import sys\n"
        "import workbench.results, workbench.results.saver, workbench.results.compare\n"
        "print([m for m in sys.modules if m.startswith('workbench.visualization')])\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert proc.stdout.strip() == "[]"


def test_build_summary_defaults_to_a_saved_runs_id_and_time(result: BacktestResult) -> None:
    summary = build_summary(result)
    when = pd.Timestamp(summary["timestamp"]).to_pydatetime()
    assert summary["run_id"] == make_run_id(result, when)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d_\d{6}_ema_MCL_FUT", summary["run_id"])
    fixed = build_summary(result, "r1", "2026-01-10T14:30:52Z")
    assert {k: v for k, v in fixed.items() if k not in ("run_id", "timestamp")} == {
        k: v for k, v in summary.items() if k not in ("run_id", "timestamp")
    }


def test_dashboard_summary_is_build_summary(result: BacktestResult) -> None:
    dash = V.create_dashboard(result, use_figurewidget=False)
    assert dash.children[0].value == V._overview_html(result, build_summary(result))


def test_viewer_report_of_a_saved_run_uses_its_summary_json(
    result: BacktestResult, tmp_path: Path
) -> None:
    """A run saved without pages: the viewer writes report.html from the folder's
    summary.json (build_summary's, written by the saver), not from a summary of its own."""
    run = save_results(result, tmp_path, run_id="saved_run")
    saved = json.loads((run / "summary.json").read_text())
    page = V.BacktestViewer(open_browser=False).show(result)
    assert page == run / "report.html"
    text = page.read_text(encoding="utf-8")
    assert "<b>saved_run</b>" in text
    assert f"generated {saved['timestamp']}" in text
    assert saved == build_summary(result, "saved_run", saved["timestamp"])


def test_viewer_report_without_a_run_folder_has_a_run_id_like_a_saved_run(
    result: BacktestResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bare = BacktestResult.__new__(BacktestResult)
    bare.__dict__.update(result.__dict__)
    bare.extra = {}
    monkeypatch.setattr(V.tempfile, "tempdir", str(tmp_path))
    page = V.BacktestViewer(open_browser=False).show(bare)
    assert page is not None
    run_id = re.search(r"run <b>([^<]+)</b>", page.read_text(encoding="utf-8"))
    assert run_id is not None
    assert re.fullmatch(r"\d{4}-\d\d-\d\d_\d{6}_ema_MCL_FUT", run_id.group(1))


def test_sweep_heatmap_from_a_plain_table() -> None:
    table = pd.DataFrame(
        {
            "a": [1, 1, 2, 2, 2],
            "b": [10, 20, 10, 20, 20],
            "other": [0, 0, 0, 0, 1],
            "max_drawdown_pct": [5.0, 6.0, 7.0, 8.0, 10.0],
        }
    )
    fig = sweep_heatmap(table, "max_drawdown_pct", "a", "b", minimize=True, values={"a": [3, 2, 1]})
    heat = fig.data[0]
    assert list(heat.x) == ["1", "2", "3"]
    assert list(heat.y) == ["10", "20"]
    z = np.asarray(heat.z, dtype=float)
    assert z[1, 1] == 9.0  # mean over the other parameter
    assert np.isnan(z[0, 2])  # a=3 swept, absent from the table: an empty cell
    assert (
        heat.colorscale[0][1]
        != sweep_heatmap(table, "max_drawdown_pct", "a").data[0].colorscale[0][1]
    )
    one_row = sweep_heatmap(table, "max_drawdown_pct", "a")
    assert list(one_row.data[0].y) == ["max_drawdown_pct"]
    assert np.asarray(one_row.data[0].z, dtype=float).tolist() == [[5.5, 25 / 3]]
    with pytest.raises(ConfigError, match="'c' is not a column of the sweep table"):
        sweep_heatmap(table, "max_drawdown_pct", "a", "c")


@pytest.mark.parametrize("name", TEMPLATES)
def test_templates_are_package_data(name: str) -> None:
    assert asset(name).strip()


def test_report_page_fills_every_placeholder() -> None:
    text = document.page("t <x>", "<script>h</script>", "<p>body</p>")
    assert "${" not in text
    assert "<title>t &lt;x&gt;</title>" in text
    assert f"tr:nth-child(n+{document.PRINT_TABLE_ROWS + 1})" in text
    assert "table.sortable" in text  # the sort script
