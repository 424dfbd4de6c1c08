"""Session events for listeners (alerts, a notebook's blotter): what happened, as data.

The engine calls each listener with an :class:`Event` whose ``kind`` says what it is:

``fill``      an execution (``fill``: the :class:`~workbench.model.Fill`)
``trade``     a round trip closed (``trade``: a mapping with ``side contracts entry_price
              exit_price net_pnl exit_reason symbol``)
``drawdown``  the equity crossed ``threshold`` below its peak (``drawdown``, ``threshold``)
``risk``      an entry refused by the pre-trade check, or a position mismatch found by
              reconciliation (``message``)
``reject``    the broker rejected an order (``message``)
``error``     the session failed (``message``; ``error`` the exception)

Listeners run in the session's thread and must not block (an ``AlertManager`` queues and
delivers on its own thread); one that raises is counted and logged, never stops the session.
Execution never imports the alerts package: the CLI or a notebook connects them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from workbench.model import Fill

log = logging.getLogger(__name__)

KINDS = ("fill", "trade", "drawdown", "risk", "reject", "error")


@dataclass(frozen=True)
class Event:
    """One session event (see the module docstring for the kinds)."""

    kind: str
    message: str = ""
    bar: int = -1
    fill: Fill | None = None
    trade: dict[str, Any] | None = None
    drawdown: float | None = None
    threshold: float | None = None
    error: BaseException | None = None
    data: dict[str, Any] = field(default_factory=dict)


Listener = Callable[[Event], None]


class Emitter:
    """Calls every listener with an event; a failing listener is logged and counted."""

    def __init__(self) -> None:
        self.listeners: list[Listener] = []
        self.failures = 0

    def __bool__(self) -> bool:
        return bool(self.listeners)

    def emit(self, event: Event) -> None:
        """Hand ``event`` to every listener (exceptions are caught: the loop goes on)."""
        for listener in self.listeners:
            try:
                listener(event)
            except Exception:  # a listener never stops the session
                self.failures += 1
                log.exception("event listener %r failed on a %s event", listener, event.kind)
