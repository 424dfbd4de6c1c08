"""Paper and live execution, broker-independent (layer 4; never imports ``adapters``).

The live path of the architecture: a feed of bars (:mod:`.feeds`) -> the strategy's
incremental signal (native) -> the native pre-trade risk check -> :class:`OrderManager` ->
a :class:`~workbench.execution.brokers.base.Broker` (``sim`` here; ``ib`` in
``workbench.adapters.ib.broker``) -> fills -> the SQLite :class:`Journal` -> a session record
shaped like a backtest's, so ``workbench compare`` puts paper beside backtest.
"""

from __future__ import annotations

from workbench.execution.brokers.base import Broker, BrokerOrder
from workbench.execution.brokers.sim import SimBroker
from workbench.execution.config import ExecutionConfig
from workbench.execution.engine import ExecutionEngine
from workbench.execution.events import Event
from workbench.execution.feeds import Bar, FeedNotice, LiveFeed, ReplayFeed
from workbench.execution.journal import Journal
from workbench.execution.orders import OrderManager, ReconcileDecision

__all__ = [
    "Bar",
    "Broker",
    "BrokerOrder",
    "Event",
    "ExecutionConfig",
    "ExecutionEngine",
    "FeedNotice",
    "Journal",
    "LiveFeed",
    "OrderManager",
    "ReconcileDecision",
    "ReplayFeed",
    "SimBroker",
]

from workbench.execution.session import PaperSession, SessionInterrupted
from workbench.execution.state_lock import StateFolderInUse

__all__ += ["PaperSession", "SessionInterrupted", "StateFolderInUse"]
