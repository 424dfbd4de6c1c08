"""Keep ``environment.yml`` (conda users) in step with ``pyproject.toml``.

``python -m workbench.devtools.sync_env`` rewrites environment.yml from pyproject's runtime
and ``dev`` dependencies (``dev`` names other extras of workbench: they are spelled out);
``--check`` exits 1 when the file is out of date (a test runs it). ``workbench-native`` is
installed from ``./native``, not by name (it is not on PyPI).
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEADER = """\
# Conda environment for workbench. Generated from pyproject.toml by
# `python -m workbench.devtools.sync_env`: edit pyproject.toml, not this file.
# The pinned, tested set is requirements.lock (what `make setup` installs into .venv).
name: workbench
channels:
  - conda-forge
dependencies:
  - python=3.11
  - pip
  - rust>=1.80
  - pip:
"""


_SELF_EXTRAS = re.compile(r"^workbench\[(?P<extras>[^\]]+)\]$")
_FROM_FOLDER = ("workbench-native",)  # installed from ./native (last line of the file)


def _expand(extras: dict[str, list[str]], name: str) -> list[str]:
    """The requirements of extra ``name``, with ``workbench[a,b]`` replaced by a's and b's."""
    out: list[str] = []
    for req in extras[name]:
        own = _SELF_EXTRAS.match(req.replace(" ", ""))
        if own is None:
            out.append(req)
            continue
        for extra in own["extras"].split(","):
            out += [r for r in _expand(extras, extra) if r not in out]
    return out


def render(pyproject: Path = ROOT / "pyproject.toml") -> str:
    """environment.yml text for the dependencies declared in ``pyproject``."""
    meta = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    deps = list(meta["dependencies"]) + _expand(meta["optional-dependencies"], "dev")
    deps = [d for d in deps if not d.startswith(_FROM_FOLDER)]
    lines = [f'      - "{d}"' for d in deps]
    lines.append("      - -e .")
    lines.append("      - ./native")
    return HEADER + "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    """Write (or with ``--check`` verify) environment.yml."""
    target = ROOT / "environment.yml"
    text = render()
    if "--check" in argv:
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            print("environment.yml is out of date: run `python -m workbench.devtools.sync_env`")
            return 1
        return 0
    target.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
