"""notebooks/07_order_book.ipynb: thin and parameterised; without its MBO file it stops in its
first cell naming the path; papermill runs it with non-default parameters on the real CLX5
file (skipped when ../shared is absent)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import papermill as pm
import pytest

from tests.conftest import real_data_path

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "07_order_book.ipynb"
CLX5 = ("clx5-mbo", "CLX5_mbo.dbn")


def _outputs(cell: nbformat.NotebookNode) -> str:
    return "\n".join(o.get("text", "") or json.dumps(o.get("data", {})) for o in cell.outputs)


def test_order_book_notebook_is_thin_and_parameterised() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1
    declared = {re.split(r"[:=\s]", line, maxsplit=1)[0] for line in params[0].source.splitlines()}
    assert {"book_path", "depth", "at", "side", "queue_model", "compare_queue_model"} <= declared
    inferred = pm.inspect_notebook(str(NOTEBOOK))  # literals only: papermill overrides each
    assert set(inferred) == declared
    assert "../shared/data/real/clx5-mbo/CLX5_mbo.dbn" in inferred["book_path"]["default"]


def test_missing_file_stops_the_first_cell_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "CLX5_mbo.dbn"
    out = tmp_path / "07.out.ipynb"
    with pytest.raises(pm.PapermillExecutionError) as caught:
        pm.execute_notebook(
            str(NOTEBOOK),
            str(out),
            parameters={"book_path": str(missing)},
            kernel_name="python3",
            cwd=str(ROOT),
        )
    assert caught.value.ename == "BookFileError"
    assert f"no MBO file at {missing}" in caught.value.evalue
    assert "book_path" in caught.value.evalue  # the hint says what to pass
    nb = nbformat.read(out, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    injected = next(i for i, c in enumerate(code) if "injected-parameters" in c.metadata["tags"])
    failed = [i for i, c in enumerate(code) if any(o.output_type == "error" for o in c.outputs)]
    assert failed == [injected + 1]  # the first cell after the parameters


@pytest.mark.slow
@pytest.mark.realdata
def test_order_book_notebook_runs_with_parameters(tmp_path: Path) -> None:
    path = real_data_path(*CLX5)
    out = tmp_path / "07.out.ipynb"
    pm.execute_notebook(
        str(NOTEBOOK),
        str(out),
        parameters={
            "book_path": str(path),  # absolute: kept as it is
            "depth": 3,
            "at": "10min",
            "horizon": "30min",
            "side": "buy",
            "quantity": 2,
            "compare_queue_model": "probabilistic",
        },
        kernel_name="python3",
        cwd=str(ROOT),
    )
    nb = nbformat.read(out, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    text = "\n".join(_outputs(c) for c in code)
    assert "32,053 event boundaries" in text
    ladders = [
        o["data"]["application/vnd.plotly.v1+json"]
        for c in code
        if c.source.startswith("depth_ladder_figure(")
        for o in c.outputs
        if "application/vnd.plotly.v1+json" in o.get("data", {})
    ]
    assert len(ladders) == 1
    bids, asks = ladders[0]["data"]
    assert 1 <= len(bids["y"]) <= 3  # depth=3
    assert 1 <= len(asks["y"]) <= 3
    assert max(float(p) for p in bids["y"]) < min(float(p) for p in asks["y"])
    reports = _outputs(code[-2])
    for word in ("marketable limit", "taker", "maker"):
        assert word in reports
    times = _outputs(code[-1])
    for word in ("conservative", "probabilistic", "resting limit", "stop"):
        assert word in times
