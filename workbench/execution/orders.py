"""``OrderManager``: order intents, their life cycle, idempotent sending, reconciliation.

Every intent gets a unique ``order_ref`` (``{session}-{seq}``: deterministic, so a restarted
session that recomputes its past bars finds the same references) and is keyed by it and by
the broker's ``perm_id``. Sending is idempotent:

1. the intent is journaled (status ``pending``; the journal's intent log) *before* the
   broker sees it;
2. while a restarted session replays the bars it had done, intents already in the journal
   are not sent: their journaled fills are applied where they happened;
3. an intent in the journal without an acknowledgement (the session died between 1 and the
   broker's answer) is looked up at the broker by ``order_ref``: adopted if there, sent
   only if not.

The life cycle (:class:`~workbench.model.OrderStatus`): pending -> working ->
partially_filled -> filled, and cancelled / rejected; any other transition is refused.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from workbench.errors import WorkbenchError
from workbench.execution.brokers.base import Broker
from workbench.execution.journal import Journal, JournalOrder
from workbench.model import Fill, Order, OrderStatus, OrderType, Side

P, W, PF, F, C, R = (
    OrderStatus.PENDING,
    OrderStatus.WORKING,
    OrderStatus.PARTIALLY_FILLED,
    OrderStatus.FILLED,
    OrderStatus.CANCELLED,
    OrderStatus.REJECTED,
)
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    P: frozenset({W, PF, F, C, R}),
    W: frozenset({PF, F, C, R}),
    PF: frozenset({PF, F, C}),
    F: frozenset(),
    C: frozenset(),
    R: frozenset(),
}
"""Allowed status changes (a repeated status is ignored, not an error)."""


class OrderStateError(WorkbenchError):
    """A status change the life cycle does not allow."""


@dataclass
class ManagedOrder:
    """An intent and what became of it."""

    order: Order
    purpose: str  # entry, exit, stop, target, roll_exit, roll_entry, flatten
    bar: int
    status: OrderStatus = OrderStatus.PENDING
    perm_id: int = 0
    filled: int = 0
    fills: list[Fill] = field(default_factory=list)
    expected_price: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        """The order's ``order_ref``."""
        return self.order.order_ref


@dataclass(frozen=True)
class ReconcileDecision:
    """The outcome of :meth:`OrderManager.reconcile_positions`."""

    differences: dict[str, tuple[int, int]]  # symbol -> (ours, broker's)
    action: str  # "none", "adopt", "flatten", "halt"

    @property
    def ok(self) -> bool:
        """Whether the positions agreed."""
        return not self.differences


FillHandler = Callable[[ManagedOrder, Fill], None]


class OrderManager:
    """Creates, sends and tracks orders for one session.

    Parameters
    ----------
    broker : Broker
        Where orders go.
    journal : Journal
        Where intents, states and fills are written first.
    session_id : str
        Prefix of every ``order_ref``.
    on_fill : callable
        ``on_fill(managed_order, fill)`` after each fill is journaled.
    on_mismatch : {"adopt", "flatten", "halt"}
        The decision :meth:`reconcile_positions` returns for a difference.
    """

    def __init__(
        self,
        broker: Broker,
        journal: Journal,
        session_id: str,
        on_fill: FillHandler,
        *,
        on_mismatch: str = "halt",
    ) -> None:
        self.broker = broker
        self.journal = journal
        self.session_id = session_id
        self.on_fill = on_fill
        self.on_mismatch = on_mismatch
        self.orders: dict[str, ManagedOrder] = {}
        self.by_perm: dict[int, str] = {}
        self._seq = 0
        self.bar = 0
        self.phase = "idle"
        self.sent = 0  # orders actually sent to the broker by this process
        self.adopted = 0  # journaled intents found at the broker after a restart
        self._journaled: dict[str, JournalOrder] = journal.orders()
        self._jfills: dict[str, list[tuple[int, str, Fill]]] = defaultdict(list)
        self._jfills_by_bar: dict[int, list[tuple[str, Fill]]] = defaultdict(list)
        for bar, phase, fill in journal.fills():
            self._jfills[fill.order_ref].append((bar, phase, fill))
            self._jfills_by_bar[bar].append((phase, fill))
        self.replay_until = journal.bars_done()
        self.on_rejected: Callable[[ManagedOrder], None] | None = None
        broker.set_listeners(self._broker_fill, self._broker_status)

    @property
    def replaying(self) -> bool:
        """Whether the current bar was done by an earlier run (nothing is sent)."""
        return self.bar < self.replay_until

    # -- intents ----------------------------------------------------------------------------
    def _ref(self) -> str:
        self._seq += 1
        return f"{self.session_id}-{self._seq:07d}"

    def create_entry_order(self, side: Side, quantity: int, symbol: str, **info: Any) -> Order:
        """A market order opening ``quantity`` contracts on ``side``."""
        return Order(self._ref(), symbol, side, quantity)

    def create_exit_order(self, position: int, symbol: str) -> Order:
        """A market order closing the signed ``position``."""
        return Order(self._ref(), symbol, Side.of(-position), abs(position))

    def create_stop_order(self, position: int, stop_price: float, symbol: str) -> Order:
        """A protective stop for the signed ``position`` at ``stop_price`` dollars."""
        return Order(
            self._ref(),
            symbol,
            Side.of(-position),
            abs(position),
            OrderType.STOP,
            stop_price=stop_price,
        )

    def create_target_order(self, position: int, limit_price: float, symbol: str) -> Order:
        """A profit target (limit) for the signed ``position``."""
        return Order(
            self._ref(),
            symbol,
            Side.of(-position),
            abs(position),
            OrderType.LIMIT,
            limit_price=limit_price,
        )

    # -- sending ----------------------------------------------------------------------------
    def submit(
        self, order: Order, purpose: str, *, expected_price: float = 0.0, oca_group: str = ""
    ) -> ManagedOrder:
        """Journal ``order``, then send it (or adopt it; see the module docstring)."""
        mo = ManagedOrder(order, purpose, self.bar, expected_price=expected_price)
        self.orders[order.order_ref] = mo
        known = self._journaled.get(order.order_ref)
        if known is not None and self.replaying:
            self._restore(mo, known)
            return mo
        if known is not None:
            found = self.broker.find_order(order.order_ref)
            if found is not None:
                self.adopted += 1
                self._restore(mo, known, broker_fills=found.fills)
                mo.perm_id = found.perm_id
                self._set_status(mo, found.status, found.perm_id)
                return mo
        body = {
            "symbol": order.symbol,
            "side": int(order.side),
            "quantity": order.quantity,
            "type": order.order_type.value,
            "stop": order.stop_price,
            "limit": order.limit_price,
            "oca": oca_group,
            "expected_price": expected_price,
        }
        self.journal.log_intent(order.order_ref, self.bar, purpose, body)  # before acting
        self.sent += 1
        perm = self.broker.submit(order, oca_group)
        self.journal.record_order(order.order_ref, self.bar, purpose, body, OrderStatus.PENDING)
        if perm and not mo.perm_id:
            mo.perm_id = perm
            self.by_perm[perm] = order.order_ref
        return mo

    def _restore(
        self, mo: ManagedOrder, known: JournalOrder, broker_fills: list[Fill] | None = None
    ) -> None:
        """Take a journaled order's state; apply its fills taken inside ``submit``."""
        mo.perm_id = known.perm_id
        if known.perm_id:
            self.by_perm[known.perm_id] = mo.ref
        if known.status is OrderStatus.REJECTED:
            mo.status = OrderStatus.REJECTED
        journaled = self._jfills.get(mo.ref, [])
        for bar, phase, fill in journaled:
            if phase == "submit" and bar == self.bar:
                self._apply_fill(mo, fill, journal=False)
        if broker_fills is not None:  # fills the journal missed (the crash came first)
            for fill in broker_fills[len(journaled) :]:
                self._apply_fill(mo, fill, journal=True)
        if mo.filled >= mo.order.quantity:
            mo.status = OrderStatus.FILLED

    def replay_fills(self, phase: str) -> None:
        """While replaying, apply the journaled fills taken at this bar and ``phase``."""
        if not self.replaying:
            return
        for p, fill in self._jfills_by_bar.get(self.bar, ()):
            mo = self.orders.get(fill.order_ref)
            if mo is not None and p == phase and fill not in mo.fills:
                self._apply_fill(mo, fill, journal=False)

    def cancel(self, order_ref: str) -> None:
        """Cancel a working order (journaled; not sent while replaying)."""
        mo = self.orders.get(order_ref)
        if mo is None or mo.status.is_done:
            return
        if self.replaying:
            known = self._journaled.get(order_ref)
            if known is not None and known.status is OrderStatus.CANCELLED:
                mo.status = OrderStatus.CANCELLED
            return
        self.broker.cancel(order_ref)

    def modify_stop(self, order_ref: str, stop_price: float) -> None:
        """Move a working stop (not sent while replaying)."""
        mo = self.orders.get(order_ref)
        if mo is None or mo.status.is_done:
            return
        mo.info["stop"] = stop_price
        if not self.replaying:
            self.broker.modify_stop(order_ref, stop_price)

    # -- broker events ----------------------------------------------------------------------
    def _broker_status(self, ref: str, status: OrderStatus, perm_id: int, message: str) -> None:
        mo = self.orders.get(ref)
        if mo is None:
            return
        if message:
            mo.info["message"] = message
        self._set_status(mo, status, perm_id)

    def _set_status(self, mo: ManagedOrder, status: OrderStatus, perm_id: int = 0) -> None:
        if perm_id and not mo.perm_id:
            mo.perm_id = perm_id
            self.by_perm[perm_id] = mo.ref
        if status is mo.status:
            return
        if status is OrderStatus.PENDING:
            return
        if mo.status.is_done:
            return  # a late echo of a state already final
        if status not in TRANSITIONS[mo.status]:
            raise OrderStateError(f"order {mo.ref}: {mo.status.value} -> {status.value}")
        mo.status = status
        if not self.replaying:
            self.journal.update_order(mo.ref, status, mo.perm_id, mo.filled)
            if status is R:
                why = mo.info.get("message", "")
                # in the bar's transaction, not committed here: a commit mid-bar would make
                # the bar's earlier fills durable while ``bars_done`` says the bar is to be
                # redone, and a resume would journal them twice
                self.journal.alert(self.bar, "order_rejected", f"{mo.ref} ({mo.purpose}): {why}")
                if self.on_rejected is not None:
                    self.on_rejected(mo)

    def _broker_fill(self, ref: str, fill: Fill) -> None:
        mo = self.orders.get(ref)
        if mo is not None and not self.replaying:
            self.track_fill(mo, fill)

    def track_fill(self, mo: ManagedOrder, fill: Fill) -> None:
        """Record ``fill`` of ``mo``: journal, life cycle, then the engine's handler."""
        self._apply_fill(mo, fill, journal=True)

    def _apply_fill(self, mo: ManagedOrder, fill: Fill, *, journal: bool) -> None:
        mo.fills.append(fill)
        mo.filled += fill.quantity
        if not mo.status.is_done:
            mo.status = OrderStatus.FILLED if mo.filled >= mo.order.quantity else PF
        if journal:
            # before the engine reacts: a fill taken while it does (its stop's sync) comes
            # after this one in the journal too, so a replay applies them in the same order
            self.journal.record_fill(fill, self.bar, self.phase)
        self.on_fill(mo, fill)  # the engine updates its position
        if journal:
            self.journal.record_position(fill.symbol, self.position_hint, fill.time)
            self.journal.update_order(mo.ref, mo.status, mo.perm_id, mo.filled)

    position_hint = 0  # the engine's position after the last fill (journaled with it)

    # -- reconciliation ---------------------------------------------------------------------
    def working(self) -> list[ManagedOrder]:
        """Orders not done."""
        return [mo for mo in self.orders.values() if not mo.status.is_done]

    def catch_up(self) -> list[ManagedOrder]:
        """Apply fills the broker has for working orders and the journal missed.

        A session killed between the broker's fill and the journal's commit (or a link down
        while a stop filled) finds them here, before positions are compared: journaled and
        handed to the engine as if they had just arrived. Returns the orders that had some.
        """
        caught = []
        for mo in self.working():
            found = self.broker.find_order(mo.ref)
            if found is None or len(found.fills) <= len(mo.fills):
                continue
            for fill in found.fills[len(mo.fills) :]:
                self._apply_fill(mo, fill, journal=True)
            caught.append(mo)
            self._set_status(mo, found.status, found.perm_id)
        if caught:
            self.journal.alert(
                self.bar, "fills_caught_up", ", ".join(mo.ref for mo in caught) + " (broker)"
            )
            self.journal.commit()
        return caught

    def reconcile_positions(self, expected: dict[str, int]) -> ReconcileDecision:
        """Compare ``expected`` (the journal's positions) with the broker's.

        A difference is journaled as an alert and answered with the configured decision
        (``adopt``, ``flatten`` or ``halt``); the caller carries it out. Nothing is
        overwritten here.
        """
        theirs = self.broker.positions()
        diffs = {
            s: (expected.get(s, 0), theirs.get(s, 0))
            for s in set(expected) | set(theirs)
            if expected.get(s, 0) != theirs.get(s, 0)
        }
        if not diffs:
            return ReconcileDecision({}, "none")
        text = "; ".join(f"{s}: journal {a:+d}, broker {b:+d}" for s, (a, b) in diffs.items())
        self.journal.alert(self.bar, "position_mismatch", f"{text} -> {self.on_mismatch}")
        self.journal.commit()
        return ReconcileDecision(diffs, self.on_mismatch)
