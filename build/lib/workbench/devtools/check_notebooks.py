"""Fail when a committed notebook carries outputs or execution counts.

Notebooks are committed thin and stripped (cell tags such as ``parameters`` are kept);
``python -m workbench.devtools.check_notebooks notebooks`` exits 1 naming each offender.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def offenders(folder: Path) -> list[str]:
    """Notebooks under ``folder`` with outputs or execution counts in a code cell."""
    bad = []
    for nb_path in sorted(folder.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in nb_path.parts:
            continue
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
        for i, cell in enumerate(nb.get("cells", [])):
            if cell.get("cell_type") != "code":
                continue
            if cell.get("outputs") or cell.get("execution_count") is not None:
                bad.append(f"{nb_path}: cell {i} has outputs or an execution count")
                break
    return bad


def main(argv: list[str]) -> int:
    """Check each folder given (default ``notebooks``)."""
    problems = [p for folder in (argv or ["notebooks"]) for p in offenders(Path(folder))]
    for p in problems:
        print(p)
    if problems:
        print("strip them with `nbstripout --keep-id <notebook>` (cell tags are kept)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
