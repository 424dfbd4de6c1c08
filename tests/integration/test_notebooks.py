"""Notebooks run end to end through papermill with non-default parameters, in a real kernel."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import nbformat
import papermill as pm
import pytest

from workbench.data.sample import SampleConfig, build_sample

ROOT = Path(__file__).resolve().parents[2]


def _printed(nb: nbformat.NotebookNode) -> str:
    """Everything the notebook's code cells printed."""
    return "\n".join(
        o.get("text", "") if isinstance(o.get("text", ""), str) else ""
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
    )


def test_data_notebook_with_parameters(tmp_path: Path) -> None:
    data = tmp_path / "data"
    build_sample(str(data), SampleConfig(start=dt.date(2024, 1, 2), end=dt.date(2024, 2, 28)))
    out = tmp_path / "01_data.out.ipynb"
    pm.execute_notebook(
        str(ROOT / "notebooks" / "01_data.ipynb"),
        str(out),
        parameters={
            "data_dir": str(data),
            "schema": "ohlcv-1h",
            "start": "2024-01-10",
            "end": "2024-02-20",
            "roll": "calendar",
            "adjust": "difference",
        },
        kernel_name="python3",
        cwd=str(ROOT),
    )
    nb = nbformat.read(out, as_version=4)
    text = _printed(nb)
    assert "synthetic=True" in text
    assert "bars," in text
    assert "checked" in text
    assert ": ok" in text
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected
    assert "ohlcv-1h" in injected[0].source


#: What `workbench sweep --notebooks` passes to the backtest notebook (workbench.cli.sweep
#: and workbench.optimize.notebooks).
SWEEP_PASSES = {
    "strategy",
    "params",
    "results_dir",
    "symbol",
    "schema",
    "use_risk_manager",
    "start",
    "end",
    "data_dir",
}


def _papermill_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("papermill") and r.levelno >= logging.WARNING
    ]


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb")))
def test_parameters_cells_parse_without_warnings(
    name: str, caplog: pytest.LogCaptureFixture
) -> None:
    """papermill reads every line of every parameters cell (no "Unable to parse line")."""
    caplog.set_level(logging.WARNING, logger="papermill")
    params = pm.inspect_notebook(str(ROOT / "notebooks" / name))
    assert params
    assert _papermill_warnings(caplog) == []
    if name == "02_backtest.ipynb":
        assert set(params) >= SWEEP_PASSES  # no "Passed unknown parameter" from a sweep


def test_sweep_notebook_on_a_dask_cluster(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="papermill")
    data = tmp_path / "data"
    build_sample(str(data), SampleConfig(start=dt.date(2024, 1, 2), end=dt.date(2024, 2, 28)))
    out = tmp_path / "03_sweep.out.ipynb"
    results = tmp_path / "optimizations"
    pm.execute_notebook(
        str(ROOT / "notebooks" / "03_sweep.ipynb"),
        str(out),
        parameters={
            "data_dir": str(data),
            "results_dir": str(results),
            "strategy": "donchian_breakout",
            "grid": {"entry_period": [10, 20, 40]},
            "objective": "total_return_pct",
            "start": "2024-01-08",
            "end": "2024-02-20",
            "workers": 2,
        },
        kernel_name="python3",
        cwd=str(ROOT),
    )
    assert _papermill_warnings(caplog) == []
    nb = nbformat.read(out, as_version=4)
    text = _printed(nb)
    assert "3 combinations, 0 refused; 3 trials" in text
    assert "most sensitive: entry_period" in text
    [folder] = list(results.iterdir())
    assert folder.name.endswith("_donchian_breakout")
    assert (folder / "parameter_sweep.csv").read_text().count("\n") == 4  # header + 3 rows
    heatmaps = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if "application/vnd.plotly.v1+json" in o.get("data", {})
    ]
    assert len(heatmaps) == 1


def test_sweep_notebook_with_an_lhs_search(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="papermill")
    data = tmp_path / "data"
    build_sample(str(data), SampleConfig(start=dt.date(2024, 1, 2), end=dt.date(2024, 2, 9)))
    out = tmp_path / "03_sweep.out.ipynb"
    pm.execute_notebook(
        str(ROOT / "notebooks" / "03_sweep.ipynb"),
        str(out),
        parameters={
            "data_dir": str(data),
            "results_dir": str(tmp_path / "optimizations"),
            "strategy": "bollinger_reversion",
            "grid": {},
            "method": "lhs",
            "trials": 5,
            "seed": 3,
            "start": "2024-01-08",
            "end": "2024-02-02",
        },
        kernel_name="python3",
        cwd=str(ROOT),
    )
    assert _papermill_warnings(caplog) == []
    text = _printed(nb := nbformat.read(out, as_version=4))
    assert "5 trials" in text
    [folder] = list((tmp_path / "optimizations").iterdir())
    assert (folder / "parameter_sweep.csv").read_text().count("\n") <= 6
    bars = [  # the progress bar: a widget in the kernel (tqdm.auto), or text on stderr
        o
        for c in nb.cells
        for o in c.get("outputs", [])
        if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
        or "combinations" in (o.get("text", "") if o.get("name") == "stderr" else "")
    ]
    assert bars


def test_walkforward_notebook_with_parameters(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="papermill")
    data = tmp_path / "data"
    build_sample(str(data), SampleConfig(start=dt.date(2024, 1, 2), end=dt.date(2024, 2, 28)))
    out = tmp_path / "05_walkforward.out.ipynb"
    results = tmp_path / "walkforward"
    pm.execute_notebook(
        str(ROOT / "notebooks" / "05_walkforward.ipynb"),
        str(out),
        parameters={
            "data_dir": str(data),
            "results_dir": str(results),
            "strategy": "donchian_breakout",
            "grid": {"entry_period": [20, 40]},
            "objective": "total_return_pct",
            "in_sample": 12000,
            "out_of_sample": 8000,
            "step": 10000,
            "gap": 30,
            "anchored": True,
            "start": "2024-01-03",
            "end": "2024-02-27",
        },
        kernel_name="python3",
        cwd=str(ROOT),
    )
    assert _papermill_warnings(caplog) == []
    nb = nbformat.read(out, as_version=4)
    text = _printed(nb)
    assert "windows, walk-forward efficiency" in text
    [folder] = list(results.iterdir())
    doc = (folder / "walkforward.json").read_text()
    assert '"anchored": true' in doc
    assert '"step_bars": 10000' in doc
    assert (folder / "stitched_oos" / "report.html").is_file()
    figures = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if "application/vnd.plotly.v1+json" in o.get("data", {})
    ]
    assert len(figures) == 2


def test_strategy_comparison_notebook_with_parameters(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="papermill")
    data = tmp_path / "data"
    build_sample(str(data), SampleConfig(start=dt.date(2024, 1, 2), end=dt.date(2024, 2, 9)))
    out = tmp_path / "04.out.ipynb"
    pm.execute_notebook(
        str(ROOT / "notebooks" / "04_strategy_comparison.ipynb"),
        str(out),
        parameters={
            "data_dir": str(data),
            "results_dir": str(tmp_path / "results"),
            "strategies": {"ema_crossover": {"fast_period": 10}, "donchian_breakout": {}},
            "start": "2024-01-08",
            "end": "2024-02-07",
            "initial_capital": 20000.0,
            "use_risk_manager": False,
        },
        kernel_name="python3",
        cwd=str(ROOT),
    )
    assert _papermill_warnings(caplog) == []
    text = _printed(nb := nbformat.read(out, as_version=4))
    assert "ema_crossover: saved" in text
    assert "donchian_breakout: saved" in text
    runs = sorted((tmp_path / "results" / "backtests").iterdir())
    assert len(runs) == 2
    [comparison] = list((tmp_path / "results" / "comparisons").iterdir())
    assert (comparison / "comparison_report.html").is_file()
    assert any(
        "application/vnd.plotly.v1+json" in o.get("data", {})
        for c in nb.cells
        for o in c.get("outputs", [])
    )


def test_strategy_comparison_notebook_says_what_to_pass_for_too_few_strategies(
    tmp_path: Path,
) -> None:
    out = tmp_path / "04.out.ipynb"
    with pytest.raises(pm.PapermillExecutionError) as info:
        pm.execute_notebook(
            str(ROOT / "notebooks" / "04_strategy_comparison.ipynb"),
            str(out),
            parameters={
                "strategies": {},
                "data_dir": str(tmp_path / "data"),
                "results_dir": str(tmp_path / "results"),
            },
            kernel_name="python3",
            cwd=str(ROOT),
        )
    err = info.value
    assert err.ename == "ConfigError"
    assert "the strategies parameter needs at least 2 strategies, got no strategy" in err.evalue
    assert "in the parameters cell" in err.evalue
    assert "workbench compare" not in err.evalue  # no CLI advice inside a notebook
    assert not (tmp_path / "data").exists()  # checked before the sample is written
    assert not (tmp_path / "results").exists()
