"""notebooks/02_backtest.ipynb runs end to end through papermill with non-default parameters."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import nbformat
import papermill as pm
import pytest

from workbench.data.sample import SampleConfig, build_sample

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "02_backtest.ipynb"


def test_committed_notebook_is_thin_and_parameterised() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1
    # papermill reads `name: type = value` and `name = value  # type: T` (for Optional)
    declared = {re.split(r"[:=\s]", line, maxsplit=1)[0] for line in params[0].source.splitlines()}
    for name in ("strategy", "params", "start", "end", "data_dir", "results_dir"):
        assert name in declared, name


@pytest.mark.slow
def test_backtest_notebook_with_parameters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("workbench.results.saver", reason="workbench.results not installed")
    monkeypatch.setenv("WORKBENCH_NO_BROWSER", "1")
    data = tmp_path / "data"
    results = tmp_path / "results"
    build_sample(str(data), SampleConfig(start=dt.date(2024, 1, 2), end=dt.date(2024, 2, 28)))
    out = tmp_path / "02_backtest.out.ipynb"
    pm.execute_notebook(
        str(NOTEBOOK),
        str(out),
        parameters={
            "strategy": "donchian_breakout",
            "params": {"entry_period": 30, "exit_period": 15},
            "start": "2024-01-08",
            "end": "2024-02-23",
            "risk_per_trade": 0.01,
            "initial_capital": 8000.0,
            "data_dir": str(data),
            "results_dir": str(results),
        },
        kernel_name="python3",
        cwd=str(ROOT),
    )
    nb = nbformat.read(out, as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected
    assert "donchian_breakout" in injected[0].source

    runs = [p for p in results.iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert len(runs) == 1, runs
    run = runs[0]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["strategy"]["class"] == "BreakoutStrategy"
    assert summary["strategy"]["parameters"]["entry_period"] == 30
    assert summary["provenance"]["synthetic"] is True
    assert summary["data_range"]["start"] >= "2024-01-07"
    assert summary["data_range"]["end"] <= "2024-02-24"
    assert summary["risk_metrics"]["risk_per_trade"] == 0.01
    assert summary["config"]["initial_capital"] == 8000.0
    report = (run / "report.html").read_text(encoding="utf-8")
    assert "SYNTHETIC DATA" in report
    assert "Donchian" in report or "Breakout" in report
    for name in ("equity_curve", "drawdown", "trade_distribution", "monthly_returns"):
        assert (run / "charts" / f"{name}.html").is_file(), name

    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    text = "\n".join(str(o.get("text", "")) for o in outputs)
    assert "synthetic=True" in text
    assert str(run) in text  # the save cell printed the run folder
    widget_views = [
        o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]
    assert widget_views, "the dashboard cell displayed no widget"
