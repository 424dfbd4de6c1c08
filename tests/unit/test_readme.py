"""The README's examples run as written."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import numpy as np
import pytest

from workbench.strategies import registered

ROOT = Path(__file__).resolve().parents[2]


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)


def test_strategy_example_defines_a_working_strategy(
    small_sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    block = next(b for b in _python_blocks() if "@register" in b)
    (tmp_path / "readme_strategy.py").write_text(block)
    monkeypatch.syspath_prepend(str(tmp_path))
    from workbench.strategies import base

    monkeypatch.setattr(base, "_REGISTRY", dict(base._REGISTRY))  # keep the registry clean
    importlib.import_module("readme_strategy")
    cls = registered()["sma_trend"]
    from workbench.backtest import run_backtest
    from workbench.data import load_bars

    bars = load_bars("MCL_FUT", data_dir=small_sample, end="2024-01-31")
    sig = cls(period=30).generate_signals(bars)
    assert set(np.unique(sig)) <= {-1, 0, 1}
    result = run_backtest(bars, cls(period=30))
    assert len(result.trades) > 0


def test_backtest_example_runs(small_sample: Path) -> None:
    block = next(b for b in _python_blocks() if "run_backtest(" in b and "data=bars" in b)
    from workbench.data import load_bars

    bars = load_bars("MCL_FUT", data_dir=small_sample, end="2024-01-31")
    namespace: dict[str, object] = {"bars": bars}
    exec(compile(block, "README.md", "exec"), namespace)
    assert namespace["result"].parameters["strategy"]["class"] == "MomentumStrategy"  # type: ignore[attr-defined]
    # the README's to_vectorbt() line gives the same account
    pf = namespace["pf"]
    assert round(float(pf.final_value()), 2) == round(namespace["result"].final_equity, 2)  # type: ignore[attr-defined]
