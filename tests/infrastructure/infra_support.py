"""Helpers shared by the infrastructure checks (imported by conftest.py and the tests).

Nothing here needs AWS, a Docker engine or a terraform binary: the files are parsed
(``hcl2`` from checkov's bc-python-hcl2, PyYAML) and linted by tools that the dev extra
installs into the project venv (checkov, hadolint, shellcheck).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infrastructure"
TF = INFRA / "terraform"
DOCKER = INFRA / "docker"
MODULE_NAMES = ("networking", "security", "storage", "ec2")
ENVIRONMENTS = ("dev", "prod")
DOCKERFILES = (DOCKER / "Dockerfile", DOCKER / "Dockerfile.dev")
COMPOSE_FILES = (DOCKER / "docker-compose.yml", DOCKER / "docker-compose.prod.yml")

# Terraform meta-arguments of a module block: not inputs of the module.
MODULE_META_ARGS = {"source", "version", "providers", "depends_on", "count", "for_each"}


def venv_tool(name: str) -> Path:
    """A console script installed beside the running interpreter (the project venv)."""
    path = Path(sys.executable).parent / name
    assert path.exists(), (
        f"{name} is not installed in {path.parent}; it comes with the dev extra "
        "(uv pip install -r requirements.lock)"
    )
    return path


# ---------------------------------------------------------------------------
# HCL
# ---------------------------------------------------------------------------

_COMMENT_RE = re.compile(r'("(?:[^"\\]|\\.)*")|(#[^\n]*|//[^\n]*|/\*.*?\*/)', re.S)


def strip_hcl_comments(text: str) -> str:
    """Remove #, // and /* */ comments, leaving string literals alone."""
    return _COMMENT_RE.sub(lambda m: m.group(1) or "", text)


def parse_hcl(path: Path) -> dict[str, Any]:
    import hcl2

    with path.open(encoding="utf-8") as fh:
        return hcl2.load(fh)


def attr(block: dict[str, Any], key: str, default: Any = None) -> Any:
    """Value of attribute ``key`` (the parser wraps every attribute in a one-item list)."""
    if key not in block:
        return default
    value = block[key]
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def blocks(block: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """Nested blocks named ``key`` (a list, one item per block)."""
    value = block.get(key, [])
    return value if isinstance(value, list) else [value]


def unwrap_expr(value: Any) -> Any:
    """``"${var.x}"`` -> ``"var.x"``; plain literals unchanged."""
    if isinstance(value, str):
        m = re.fullmatch(r"\$\{(.*)\}", value, re.S)
        if m:
            return m.group(1)
    return value


@dataclass
class TfModule:
    """One Terraform module directory, parsed."""

    path: Path
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)

    def items(self, kind: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for parsed in self.files.values():
            out.extend(parsed.get(kind, []))
        return out

    @property
    def variables(self) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for item in self.items("variable"):
            found.update(item)
        return found

    @property
    def outputs(self) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for item in self.items("output"):
            found.update(item)
        return found

    @property
    def locals(self) -> set[str]:
        names: set[str] = set()
        for item in self.items("locals"):
            names.update(k for k in item if not k.startswith("__"))
        return names

    @property
    def local_values(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for item in self.items("locals"):
            values.update({k: attr(item, k) for k in item if not k.startswith("__")})
        return values

    def resolve_list(self, value: Any) -> list[Any]:
        """A list attribute as a list; ``${local.x}`` is replaced by the local's expression."""
        if isinstance(value, list):
            return value
        ref = unwrap_expr(value)
        if isinstance(ref, str) and ref.startswith("local.") and ref[6:] in self.local_values:
            return [self.local_values[ref[6:]]]
        return [value]

    @property
    def module_calls(self) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for item in self.items("module"):
            found.update(item)
        return found

    def resources(self, rtype: str) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for item in self.items("resource"):
            found.update(item.get(rtype, {}))
        return found

    def data_sources(self, dtype: str) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for item in self.items("data"):
            found.update(item.get(dtype, {}))
        return found

    def resource_types(self) -> set[str]:
        types: set[str] = set()
        for item in self.items("resource"):
            types.update(item)
        return types

    def code(self) -> str:
        """All .tf text of the module without comments."""
        return "\n".join(strip_hcl_comments(t) for t in self.texts.values())


def load_module(path: Path) -> TfModule:
    module = TfModule(path=path)
    for tf in sorted(path.glob("*.tf")):
        module.texts[tf.name] = tf.read_text(encoding="utf-8")
        module.files[tf.name] = parse_hcl(tf)
    return module


def git_ignored(path: Path) -> bool:
    git = shutil.which("git")
    assert git, "git is needed to check .gitignore rules"
    proc = subprocess.run(
        [git, "check-ignore", "--quiet", "--no-index", str(path)],
        cwd=REPO,
        capture_output=True,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode == 0


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=value pairs of a dotenv file (comments and blank lines skipped, quotes removed)."""
    values: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: not KEY=value: {raw!r}"
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values
