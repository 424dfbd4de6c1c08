"""Shared fixtures: the real-data folder, and small synthetic catalogs built once per session."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REAL_DATA = REPO.parent / "shared" / "data" / "real"


def real_data_path(*parts: str) -> Path:
    """A file under ../shared/data/real, skipping the test when it is absent."""
    path = REAL_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not available: {path} (a fresh clone has no ../shared)")
    return path


@pytest.fixture(scope="session")
def small_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic catalog over ~10 weeks (with a roll and a holiday), built once."""
    from workbench.data.sample import SampleConfig, build_sample

    root = tmp_path_factory.mktemp("sample")
    build_sample(
        str(root), SampleConfig(start=dt.date(2024, 1, 2), end=dt.date(2024, 3, 15), seconds_days=1)
    )
    return root
