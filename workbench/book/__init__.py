"""Order books from Databento market data, computed by the native (Rust) books.

- :func:`replay`: a whole DBN file (MBO or MBP-10) into a DataFrame in Databento's MBP-10
  layout, one row per event boundary (or per record).
- :class:`OrderBook`: the L3 book of one instrument, fed one record at a time from Python,
  with its queries (best bid/ask, depth, spread, mid, imbalance, orders at a price, queue
  position).
"""

from __future__ import annotations

from workbench.book.errors import BookFileError, RecordRefusedError, TruncatedBookFileError
from workbench.book.order_book import BookLevel, OrderBook, QueuePosition, RestingOrder
from workbench.book.replay import PRICE_SCALE, UNDEF_PRICE, level_columns, replay

__all__ = [
    "PRICE_SCALE",
    "UNDEF_PRICE",
    "BookFileError",
    "BookLevel",
    "OrderBook",
    "QueuePosition",
    "RecordRefusedError",
    "RestingOrder",
    "TruncatedBookFileError",
    "level_columns",
    "replay",
]
