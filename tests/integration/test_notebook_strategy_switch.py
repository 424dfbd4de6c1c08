"""The parameterised notebooks switch strategy with one papermill parameter, as the README's
``-p strategy donchian_breakout -p start 2024-05-01`` does: the default ``params`` are the
strategy's own, not the EMA crossover's, and papermill documents every parameter's type."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import papermill as pm
import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_backtest_notebook_runs_another_strategy_given_only_its_name(
    small_sample: Path, tmp_path: Path
) -> None:
    out = tmp_path / "02.out.ipynb"
    results = tmp_path / "backtests"
    pm.execute_notebook(
        str(ROOT / "notebooks" / "02_backtest.ipynb"),
        str(out),
        parameters={
            "strategy": "donchian_breakout",
            "start": "2024-01-10",
            "end": "2024-03-01",
            "schema": "ohlcv-1h",
            "data_dir": str(small_sample),
            "results_dir": str(results),
        },
        kernel_name="python3",
        cwd=str(ROOT),
    )
    [run] = list(results.iterdir())
    summary = json.loads((run / "summary.json").read_text())
    assert summary["strategy"]["class"] == "BreakoutStrategy"
    assert summary["strategy"]["parameters"]["entry_period"] == 55  # its own default
    assert nbformat.read(out, as_version=4).metadata["papermill"]["exception"] is None


@pytest.mark.parametrize("name", ["02_backtest.ipynb", "06_paper_session.ipynb"])
def test_default_params_are_the_strategys_own(name: str) -> None:
    inferred = pm.inspect_notebook(str(ROOT / "notebooks" / name))
    assert inferred["params"]["default"] == "{}"
    for path in ("data_dir", "results_dir"):
        assert inferred[path]["inferred_type_name"] == "Optional[str]", path
