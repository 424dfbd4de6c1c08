"""Databento: the Live feed (``databento.Live`` records -> bars for the execution engine).

The historical download lives in :mod:`workbench.data.downloader` (it fills the catalog).
"""

from __future__ import annotations

from workbench.adapters.databento.live import Bar, BarBuilder, DatabentoLiveFeed, LiveFeedError

__all__ = ["Bar", "BarBuilder", "DatabentoLiveFeed", "LiveFeedError"]
