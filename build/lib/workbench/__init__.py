"""workbench: research and paper trading for CME Micro WTI crude oil futures (MCL).

Subpackages, one per domain:

- :mod:`workbench.data` -- Databento download, DBN ingest, Parquet catalog, continuous series.
- :mod:`workbench.cli` -- the ``workbench`` console command.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
