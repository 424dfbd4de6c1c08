"""Fixtures for the infrastructure checks; helpers live in infra_support.py."""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

import pytest

from tests.infrastructure.infra_support import (
    COMPOSE_FILES,
    ENVIRONMENTS,
    INFRA,
    MODULE_NAMES,
    TF,
    TfModule,
    load_module,
    parse_hcl,
    venv_tool,
)


@pytest.fixture(scope="session")
def root_module() -> TfModule:
    return load_module(TF)


@pytest.fixture(scope="session")
def child_modules() -> dict[str, TfModule]:
    return {name: load_module(TF / "modules" / name) for name in MODULE_NAMES}


@pytest.fixture(scope="session")
def all_modules(root_module: TfModule, child_modules: dict[str, TfModule]) -> dict[str, TfModule]:
    return {"root": root_module, **child_modules}


@pytest.fixture(scope="session")
def tfvars() -> dict[str, dict[str, Any]]:
    return {env: parse_hcl(TF / "environments" / env / "terraform.tfvars") for env in ENVIRONMENTS}


@pytest.fixture(scope="session")
def compose_docs() -> dict[str, dict[str, Any]]:
    import yaml

    return {p.name: yaml.safe_load(p.read_text(encoding="utf-8")) for p in COMPOSE_FILES}


@pytest.fixture(scope="session")
def compose_schema() -> dict[str, Any]:
    """The Compose Specification JSON schema as vendored by check-jsonschema."""
    from importlib.resources import files

    text = (files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json").read_text(
        encoding="utf-8"
    )
    return json.loads(text)


@pytest.fixture(scope="session")
def checkov_reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    checkov = venv_tool("checkov")
    out_dir = tmp_path_factory.mktemp("checkov")
    env = {
        **os.environ,
        # Offline and quiet: no platform download, no version check, no telemetry.
        "BC_SKIP_MAPPING": "TRUE",
        "CHECKOV_NO_OUTPUT_COLOR": "1",
        "ANSI_COLORS_DISABLED": "1",
    }
    cmd = [
        str(checkov),
        "--directory",
        str(INFRA),
        "--framework",
        "terraform",
        "dockerfile",
        "--skip-download",
        "--output",
        "json",
        "--output-file-path",
        str(out_dir),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, check=False)
    result_file = out_dir / "results_json.json"
    assert result_file.exists(), (
        f"checkov wrote no report (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n"
        f"{proc.stderr[-3000:]}"
    )
    data = json.loads(result_file.read_text(encoding="utf-8"))
    reports = data if isinstance(data, list) else [data]
    by_type = {r["check_type"]: r for r in reports}
    by_type["__exit__"] = {"returncode": proc.returncode, "stderr": proc.stderr}
    return by_type
