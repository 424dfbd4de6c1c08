"""The interface every broker implements for the :class:`ExecutionEngine`.

Orders are keyed by the caller's ``order_ref`` (unique across sessions and reconnects) and
the broker's ``perm_id``; ``find_order(order_ref)`` is what makes a resend after a crash or a
reconnect safe (an order the broker already has is adopted, never sent twice).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from workbench.execution.feeds import Bar
from workbench.model import Fill, Order, OrderStatus

FillListener = Callable[[str, Fill], None]
"""Called with ``(order_ref, fill)`` for every execution."""
StatusListener = Callable[[str, OrderStatus, int, str], None]
"""Called with ``(order_ref, status, perm_id, message)`` on every status change."""


@dataclass
class BrokerOrder:
    """What a broker knows of one order."""

    order: Order
    perm_id: int
    status: OrderStatus
    filled: int = 0
    fills: list[Fill] = field(default_factory=list)
    message: str = ""


def book_fill(bo: BrokerOrder, fill: Fill, position: dict[str, int]) -> OrderStatus:
    """Book ``fill`` of ``bo``: its fills, filled quantity and status, and the signed
    ``position`` by symbol. Returns the order's new status (filled or partially filled)."""
    o = bo.order
    bo.fills.append(fill)
    bo.filled += fill.quantity
    position[o.symbol] = position.get(o.symbol, 0) + int(o.side) * fill.quantity
    full = bo.filled >= o.quantity
    bo.status = OrderStatus.FILLED if full else OrderStatus.PARTIALLY_FILLED
    return bo.status


def oca_siblings(oca: dict[str, str], order_ref: str) -> list[str]:
    """The other orders of ``order_ref``'s one-cancels-all group (``oca``: ref -> group)."""
    group = oca.get(order_ref)
    if not group:
        return []
    return [ref for ref, g in oca.items() if g == group and ref != order_ref]


class Broker(Protocol):
    """A broker (simulated or real) as the execution engine sees it."""

    name: str

    def set_listeners(self, on_fill: FillListener, on_status: StatusListener) -> None:
        """Where fills and status changes go."""

    def connect(self) -> None:
        """Open the account (a no-op when already open)."""

    def close(self) -> None:
        """Release the connection or files."""

    def submit(self, order: Order, oca_group: str = "") -> int:
        """Send ``order``; returns the broker's ``perm_id``. ``oca_group``: one cancels all."""

    def cancel(self, order_ref: str) -> None:
        """Cancel a working order (no error when it is already done)."""

    def modify_stop(self, order_ref: str, stop_price: float) -> None:
        """Move a working stop order's trigger."""

    def find_order(self, order_ref: str) -> BrokerOrder | None:
        """The broker's record of ``order_ref`` (None if it never received it)."""

    def positions(self) -> dict[str, int]:
        """Signed contracts held, by symbol (flat symbols omitted)."""

    def on_bar_open(self, bar: Bar) -> None:
        """Market data: ``bar`` opens (a simulated broker fills market orders at its open)."""

    def on_bar(self, bar: Bar) -> None:
        """Market data: ``bar`` closed (a simulated broker matches resting orders in it)."""


@runtime_checkable
class AccountValue(Protocol):
    """A broker with an account whose value can start a session (the ib broker)."""

    async def account_value(self) -> float:
        """The account's net liquidation value now, in USD."""
        ...
