"""Brokers behind one interface: :class:`~.base.Broker`; ``sim`` here, ``ib`` in adapters."""

from __future__ import annotations
