"""notebooks/06_paper_session.ipynb: thin and parameterised; papermill runs a short sim
session with non-default parameters (the live monitor redraws, the record is saved)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import papermill as pm
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "06_paper_session.ipynb"


def test_paper_notebook_is_thin_and_parameterised() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1
    declared = {re.split(r"[:=\s]", line, maxsplit=1)[0] for line in params[0].source.splitlines()}
    assert {"strategy", "params", "bars", "speed", "wait", "data_dir", "results_dir"} <= declared
    # literals only: papermill can parse and override every parameter
    inferred = pm.inspect_notebook(str(NOTEBOOK))
    assert set(inferred) == declared


@pytest.mark.slow
def test_paper_notebook_runs_a_batch_session(small_sample: Path, tmp_path: Path) -> None:
    out = tmp_path / "06.out.ipynb"
    results = tmp_path / "results"
    pm.execute_notebook(
        str(NOTEBOOK),
        str(out),
        parameters={
            "strategy": "donchian_breakout",
            "params": {"entry_period": 30, "exit_period": 15},
            "start": "2024-01-08",
            "end": "2024-02-23",
            "bars": 1500,
            "refresh": 0.0,
            "data_dir": str(small_sample),
            "results_dir": str(results),
        },
        kernel_name="python3",
        cwd=str(ROOT),
    )
    nb = nbformat.read(out, as_version=4)
    text = "\n".join(
        o.get("text", "") or json.dumps(o.get("data", {}))
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
    )
    assert "'bars': 1500" in text
    assert "application/vnd.jupyter.widget-view+json" in text  # the monitor was displayed
    run_dir = next(p for p in results.iterdir() if (p / "summary.json").exists())
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["strategy"]["class"] == "BreakoutStrategy"
    assert summary["strategy"]["parameters"]["entry_period"] == 30
    assert summary["data_range"]["total_bars"] == 1500
