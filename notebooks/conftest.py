"""nbval runs the notebooks of this folder (``--nbval-lax``); those whose default parameters
read ../shared/data/real are marked ``realdata`` and skipped, saying why, when it is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REAL_DATA

HERE = Path(__file__).resolve().parent

#: Notebook name -> the real file its default parameters read.
NEEDS_REAL_DATA = {"07_order_book.ipynb": REAL_DATA / "clx5-mbo" / "CLX5_mbo.dbn"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the cells of the notebooks that need real data; skip them when it is absent."""
    for item in items:
        needed = NEEDS_REAL_DATA.get(item.path.name)
        if needed is None or item.path.resolve().parent != HERE:
            continue
        item.add_marker(pytest.mark.realdata)
        if not needed.exists():
            reason = f"real data not available: {needed} (a fresh clone has no ../shared)"
            item.add_marker(pytest.mark.skip(reason=reason))
