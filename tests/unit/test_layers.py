"""Imports run one way: layers, no cycles, no function-local import without a reason."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from workbench.devtools.check_layers import LAYERS, check, imports_of, main

PACKAGE = Path(__file__).resolve().parents[2] / "workbench"


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "workbench"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    for folder in [root, *(p for p in root.rglob("*") if p.is_dir())]:
        (folder / "__init__.py").touch()
    return root


def test_the_package_keeps_its_layers() -> None:
    assert check(PACKAGE) == []


def test_every_subpackage_has_a_layer() -> None:
    tops = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()}
    tops = {t for t in tops if not t.startswith((".", "_")) or t == "__init__"}
    tops.discard("py")  # py.typed
    missing = sorted(t for t in tops if t not in LAYERS and t != "__pycache__")
    assert missing == []


def test_an_upward_import_is_found(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "results/saver.py": "def save():\n    # start-up: lazy\n"
            "    from workbench.visualization import page\n",
            "visualization/page.py": "X = 1\n",
        },
    )
    problems = check(root)
    assert any("results imports workbench.visualization" in p for p in problems), problems


def test_an_upward_import_for_types_only_is_found(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "analysis/stats.py": """
                from typing import TYPE_CHECKING
                if TYPE_CHECKING:
                    from workbench.backtest.result import Result
            """,
            "backtest/result.py": "class Result: ...\n",
        },
    )
    problems = check(root)
    assert any("analysis imports workbench.backtest" in p for p in problems), problems


def test_a_cycle_hidden_in_a_function_is_found(tmp_path: Path) -> None:
    # strategies and risk share a layer: only the cycle rule can catch this one
    root = _tree(
        tmp_path,
        {
            "strategies/base.py": "from workbench.risk.limits import L\n",
            "risk/limits.py": "L = 1\ndef f():\n    # start-up: hides a cycle\n"
            "    from workbench.strategies import base\n",
        },
    )
    problems = check(root)
    assert any("cycle between subpackages: risk <-> strategies" in p for p in problems), problems


def test_a_module_cycle_inside_a_subpackage_is_found(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "backtest/metrics.py": "from workbench.backtest.result import R\n",
            "backtest/result.py": "from workbench.backtest.metrics import M\n",
        },
    )
    problems = check(root)
    assert any("cycle between modules" in p and "metrics" in p for p in problems), problems


def test_a_local_import_needs_its_reason(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "data/a.py": "def f():\n    from workbench.market import spec\n",
            "data/b.py": "def g():\n    # keeps `data info` fast: start-up\n"
            "    from workbench.market import spec\n",
            "cli/c.py": "def h():\n    from workbench.data import a\n",
            "data/d.py": "def k():\n    import IPython  # optional: absent outside Jupyter\n",
            "data/e.py": "def m():\n    import pandas\n",
            "market/spec.py": "S = 1\n",
        },
    )
    problems = check(root)
    local = [p for p in problems if "function-local" in p]
    assert local == [
        "workbench/data/a.py:2: function-local import of workbench.market.spec without a "
        "'start-up' or 'optional' comment: import it at the top of the module",
        "workbench/data/e.py:2: function-local import of pandas without a "
        "'start-up' or 'optional' comment: import it at the top of the module",
    ]


def test_relative_imports_are_resolved(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"model/x.py": "from ..results import y\n", "results/y.py": ""})
    found = imports_of(root / "model" / "x.py", root, {"workbench.results.y"})
    assert sorted(i.target for i in found) == ["workbench.results", "workbench.results.y"]
    assert any("model imports workbench.results" in p for p in check(root))


def test_the_command_exits_one_on_a_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _tree(tmp_path, {"market/x.py": "import workbench.cli\n"})
    assert main([str(root)]) == 1
    assert "market imports workbench.cli" in capsys.readouterr().out
    assert main([str(PACKAGE)]) == 0
