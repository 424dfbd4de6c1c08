"""FIX 4.4: the simulated exchange behind a FIX acceptor (``workbench fix-exchange``) and a
blocking FIX initiator, both from the native engine (``workbench_native``, cargo feature
``fix``).

An order sent over FIX reaches the native simulated exchange, which matches it against the
real L3 book of a replayed Databento MBO file, and the answer comes back as FIX
ExecutionReports: a paper session or a rehearsal routes orders exactly as it would to a
broker or exchange gateway.
"""

from __future__ import annotations

from workbench.adapters.fix.dictionary import write_dictionary_file
from workbench.adapters.fix.exchange import (
    FixExchangeConfig,
    parse_feed_time,
    start_fix_exchange,
)
from workbench.adapters.fix.message_log import LoggedMessage, read_message_log
from workbench.native import FixExchange, FixInitiator, FixReport

__all__ = [
    "FixExchange",
    "FixExchangeConfig",
    "FixInitiator",
    "FixReport",
    "LoggedMessage",
    "parse_feed_time",
    "read_message_log",
    "start_fix_exchange",
    "write_dictionary_file",
]
