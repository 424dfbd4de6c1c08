"""Running the `workbench` command in child processes from the tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXE = str(Path(sys.executable).parent / "workbench")

# Each `workbench` process spends most of its start-up compiling pandas, databento, ... when
# PYTHONDONTWRITEBYTECODE is set (as in the sandbox): ~2.5 s instead of ~1 s. Child processes
# cache their bytecode under .pytest_cache instead (the venv is left alone).
PYCACHE = Path(__file__).resolve().parents[2] / ".pytest_cache" / "subprocess-pycache"


def child_env(**extra: str) -> dict[str, str]:
    """``os.environ`` for a ``workbench`` subprocess, without workbench or Databento settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABENTO_", "WORKBENCH_"))}
    if env.pop("PYTHONDONTWRITEBYTECODE", None):
        env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    env.update(extra)
    return env


def warm_bytecode(*modules: str) -> None:
    """Compile what the CLI imports once, before starting several processes at a time."""
    code = "import " + ", ".join(["workbench.cli.main", "workbench.data.ingest", *modules])
    subprocess.run([sys.executable, "-c", code], env=child_env(), check=True, timeout=300)
