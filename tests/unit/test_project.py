"""Project hygiene: environment.yml in step, notebooks stripped, the native module wired."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

from workbench.devtools import check_notebooks, sync_env

ROOT = Path(__file__).resolve().parents[2]


def test_environment_yml_names_the_same_dependencies() -> None:
    assert (ROOT / "environment.yml").read_text() == sync_env.render(), (
        "environment.yml is stale: run `python -m workbench.devtools.sync_env`"
    )


def test_environment_yml_check_detects_drift(tmp_path: Path) -> None:
    text = (
        (ROOT / "pyproject.toml")
        .read_text()
        .replace('"click>=8.1",', '"click>=8.1",\n    "left-pad",')
    )
    changed = tmp_path / "pyproject.toml"
    changed.write_text(text)
    assert "left-pad" in sync_env.render(changed)
    assert "left-pad" not in (ROOT / "environment.yml").read_text()


def test_notebook_output_check_flags_outputs(tmp_path: Path) -> None:
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "source": "1",
                "metadata": {"tags": ["parameters"]},
                "outputs": [],
                "execution_count": None,
            }
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    clean = tmp_path / "clean.ipynb"
    clean.write_text(json.dumps(nb))
    assert check_notebooks.offenders(tmp_path) == []
    nb["cells"][0]["execution_count"] = 3
    (tmp_path / "dirty.ipynb").write_text(json.dumps(nb))
    assert len(check_notebooks.offenders(tmp_path)) == 1


def test_committed_notebooks_are_stripped() -> None:
    assert check_notebooks.offenders(ROOT / "notebooks") == []


def test_native_module_builds_and_matches_its_crate() -> None:
    import workbench_native

    cargo = tomllib.loads((ROOT / "native" / "Cargo.toml").read_text())
    assert workbench_native.__version__ == cargo["package"]["version"]
    assert workbench_native.fixed_to_ticks(71_230_000_000, 10_000_000) == 7_123
    assert workbench_native.fixed_to_ticks(71_235_000_000, 10_000_000) is None
    assert workbench_native.ticks_to_fixed(7_123, 10_000_000) == 71_230_000_000
    assert workbench_native._native.__name__ == "workbench_native._native"


def test_cli_help_on_every_subcommand() -> None:
    exe = Path(sys.executable).parent / "workbench"
    for args in (
        ["--help"],
        ["data", "--help"],
        ["data", "download", "--help"],
        ["data", "ingest", "--help"],
        ["data", "info", "--help"],
        ["data", "validate", "--help"],
        ["data", "sample", "--help"],
    ):
        out = subprocess.run([str(exe), *args], capture_output=True, text=True, check=False)
        assert out.returncode == 0, (args, out.stderr)
        assert "Usage:" in out.stdout
