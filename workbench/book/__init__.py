"""Order books from Databento market data, computed by the native (Rust) books.

- :func:`replay`: a whole DBN file (MBO or MBP-10) into a DataFrame in Databento's MBP-10
  layout, one row per event boundary (or per record).
- :class:`OrderBook`: the L3 book of one instrument, fed one record at a time from Python,
  with its queries (best bid/ask, depth, spread, mid, imbalance, orders at a price, queue
  position).
- :class:`SimExchange`: the simulated exchange over an MBO replay: place market, limit, stop
  and stop-limit orders from Python against the real book, with queue-position, latency,
  session and fee models; execution reports as a DataFrame (:func:`reports_frame`).
- :func:`publish` / :func:`subscribe`: a DBN file streamed over TCP or UDP multicast into the
  books, with the sequence/gap check and backpressure counts (:mod:`workbench.book.stream`).
"""

from __future__ import annotations

from workbench.book.errors import BookFileError, RecordRefusedError, TruncatedBookFileError
from workbench.book.exchange import (
    REPORT_COLUMNS,
    ExchangeConfig,
    OffHours,
    OrderState,
    QueueFunction,
    QueueModel,
    SimExchange,
    cme_sessions,
    fixed,
    reports_frame,
)
from workbench.book.exchange_codes import ExecReason, ExecType
from workbench.book.order_book import BookLevel, OrderBook, QueuePosition, RestingOrder
from workbench.book.replay import PRICE_SCALE, UNDEF_PRICE, level_columns, replay
from workbench.book.stream import (
    Publication,
    PublisherStats,
    StreamError,
    StreamResult,
    StreamStats,
    Subscription,
    publish,
    subscribe,
)

__all__ = [
    "PRICE_SCALE",
    "REPORT_COLUMNS",
    "UNDEF_PRICE",
    "BookFileError",
    "BookLevel",
    "ExchangeConfig",
    "ExecReason",
    "ExecType",
    "OffHours",
    "OrderBook",
    "OrderState",
    "Publication",
    "PublisherStats",
    "QueueFunction",
    "QueueModel",
    "QueuePosition",
    "RecordRefusedError",
    "RestingOrder",
    "SimExchange",
    "StreamError",
    "StreamResult",
    "StreamStats",
    "Subscription",
    "TruncatedBookFileError",
    "cme_sessions",
    "fixed",
    "level_columns",
    "publish",
    "replay",
    "reports_frame",
    "subscribe",
]
