"""Adapters to the outside world: brokers and data vendors (``ib``: Interactive Brokers)."""

from __future__ import annotations
