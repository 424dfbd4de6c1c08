"""Market data: Databento downloads, DBN ingest, the Parquet catalog and bar loading.

>>> from workbench.data import load_bars
>>> bars = load_bars("MCL_FUT", "ohlcv-1m", start="2024-03-01", end="2024-06-30")

Names are imported on first use, so that ``workbench data info`` starts fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - names for type checkers and IDEs
    from workbench.data.continuous import Roll  # noqa: F401
    from workbench.data.downloader import DownloadRequest, download, parse_request  # noqa: F401
    from workbench.data.ingest import IngestReport, ingest_files  # noqa: F401
    from workbench.data.inventory import CatalogEntry, catalog  # noqa: F401
    from workbench.data.loader import load_bars  # noqa: F401
    from workbench.data.quality import ValidationReport, validate  # noqa: F401
    from workbench.data.resample import resample_bars  # noqa: F401
    from workbench.data.sample import SampleConfig, build_sample  # noqa: F401
    from workbench.data.store import DataRoot  # noqa: F401

_EXPORTS = {
    "CatalogEntry": "inventory",
    "catalog": "inventory",
    "Roll": "continuous",
    "DownloadRequest": "downloader",
    "download": "downloader",
    "parse_request": "downloader",
    "IngestReport": "ingest",
    "ingest_files": "ingest",
    "load_bars": "loader",
    "resample_bars": "resample",
    "SampleConfig": "sample",
    "build_sample": "sample",
    "DataRoot": "store",
    "ValidationReport": "quality",
    "validate": "quality",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module = importlib.import_module(f"workbench.data.{_EXPORTS[name]}")
        value = getattr(module, name)
        # Importing a submodule binds it on the package under its own name
        # (``validate``, ``catalog``, ``download``); the function wins.
        globals()[name] = value
        return value
    raise AttributeError(f"module 'workbench.data' has no attribute {name!r}")
