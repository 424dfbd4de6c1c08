"""The simulated gateway's account: orders, matching on the replayed bars, fills, positions.

Pure and synchronous (the server calls it from its event loop and turns the events it returns
into messages), so it is deterministic: the same orders on the same bars give the same fills,
prices, commissions and ids.

Matching, per 5-second bar, along the bar's path (open, nearer extreme, farther extreme,
close): a market order fills at the open of the first bar after it arrived; a limit order at
its price when the path reaches it (at the open when the bar opens through it); a stop at its
price when touched (at the open on a gap through it). Bracket children wait for their parent's
fill and work from the next bar on; they share an OCA group, so one fill cancels the other.
Orders sent with ``transmit=False`` are held until an order of the same family is transmitted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from workbench.adapters.ib.contracts import IBFuture
from workbench.adapters.ib.feed import RT_SECONDS, Bar
from workbench.adapters.ib.messages import ExecutionView, OrderView

NS = 1_000_000_000
#: IBKR-like cost per contract per side, dollars (commission plus exchange and regulatory
#: fees; the backtest's default ``commission_per_contract`` is the same $1.25).
DEFAULT_COMMISSION = 1.25
#: Initial and maintenance margin per MCL contract, dollars (close to CME's published rates).
DEFAULT_INITIAL_MARGIN = 800.0
DEFAULT_MAINT_MARGIN = 730.0

SUPPORTED_TYPES = ("MKT", "LMT", "STP")
WORKING = ("PreSubmitted", "Submitted")


@dataclass
class SimOrder:
    """An order the gateway holds."""

    order_id: int
    client_id: int
    perm_id: int
    contract: IBFuture
    action: str  # BUY / SELL
    quantity: float
    order_type: str
    lmt_price: float | None
    aux_price: float | None
    tif: str
    order_ref: str
    parent_id: int
    transmit: bool
    oca_group: str
    account: str
    status: str = "PendingSubmit"
    filled: float = 0.0
    avg_fill_price: float = 0.0
    last_fill_price: float = 0.0
    placed_at_bar: int = 0  # feed cursor when it became active

    @property
    def remaining(self) -> float:
        """Contracts still to fill."""
        return self.quantity - self.filled

    @property
    def sign(self) -> int:
        """+1 for a buy, -1 for a sell."""
        return 1 if self.action == "BUY" else -1

    def view(self) -> OrderView:
        """The message view of this order."""
        return OrderView(
            order_id=self.order_id,
            client_id=self.client_id,
            perm_id=self.perm_id,
            parent_id=self.parent_id,
            contract=self.contract,
            action=self.action,
            quantity=self.quantity,
            order_type=self.order_type,
            lmt_price=self.lmt_price,
            aux_price=self.aux_price,
            tif=self.tif,
            oca_group=self.oca_group,
            account=self.account,
            order_ref=self.order_ref,
            status=self.status,
            filled=self.filled,
            remaining=self.remaining,
            avg_fill_price=self.avg_fill_price,
            last_fill_price=self.last_fill_price,
        )


@dataclass
class Position:
    """Contracts held and IB's average cost (price x multiplier, with the entry commission:
    added for a long, subtracted for a short)."""

    contract: IBFuture
    quantity: float = 0.0
    avg_cost: float = 0.0
    avg_price: float = 0.0
    realized: float = 0.0


# --- events the server turns into messages ------------------------------------------------
@dataclass(frozen=True)
class OrderChanged:
    """An order's status changed: OPEN_ORDER then ORDER_STATUS to its client."""

    order: OrderView


@dataclass(frozen=True)
class Executed:
    """A fill: EXECUTION_DATA, OPEN_ORDER, ORDER_STATUS, COMMISSION_REPORT, then positions."""

    execution: ExecutionView
    order: OrderView


@dataclass(frozen=True)
class OrderError:
    """An error about one order (201 rejected, 202 cancelled, 10147 unknown, 200 contract)."""

    client_id: int
    order_id: int
    code: int
    text: str


Event = OrderChanged | Executed | OrderError


@dataclass
class SimAccount:
    """Cash, positions and orders of one paper account.

    Parameters
    ----------
    account : str
        Account id (``DU`` + digits).
    cash : float
        Starting cash, dollars.
    commission : float
        Cost per contract per side, dollars.
    """

    account: str = "DU1234567"
    cash: float = 100_000.0
    commission: float = DEFAULT_COMMISSION
    initial_margin: float = DEFAULT_INITIAL_MARGIN
    maint_margin: float = DEFAULT_MAINT_MARGIN
    next_order_id: int = 1
    next_perm_id: int = 1_000_001
    orders: dict[int, SimOrder] = field(default_factory=dict)
    positions: dict[int, Position] = field(default_factory=dict)
    executions: list[ExecutionView] = field(default_factory=list)
    realized: float = 0.0
    commissions_paid: float = 0.0
    marks: dict[int, float] = field(default_factory=dict)
    reject_next: list[str] = field(default_factory=list)
    _exec_seq: int = 0

    # --- orders ---------------------------------------------------------------------
    def reserve_ids(self, order_id: int) -> None:
        """Ids up to ``order_id`` are used (client-chosen ids move the counter on)."""
        self.next_order_id = max(self.next_order_id, order_id + 1)

    def place(self, order: SimOrder, cursor: int) -> list[Event]:
        """Accept, hold, modify or reject an order arriving while ``cursor`` bars are out."""
        self.reserve_ids(order.order_id)
        old = self.orders.get(order.order_id)
        if old is not None:
            return self._modify(old, order)
        if self.reject_next:
            reason = self.reject_next.pop(0)
            return [
                OrderError(
                    order.client_id, order.order_id, 201, f"Order rejected - reason:{reason}"
                )
            ]
        problem = self._invalid(order)
        if problem:
            return [
                OrderError(
                    order.client_id, order.order_id, 201, f"Order rejected - reason:{problem}"
                )
            ]
        order.perm_id = self.next_perm_id
        self.next_perm_id += 1
        order.placed_at_bar = cursor
        self.orders[order.order_id] = order
        events: list[Event] = []
        if not order.transmit:
            order.status = "PreSubmitted"
            return [OrderChanged(order.view())]
        # Transmitting releases the held family: parent first, then its children.
        family = self._family(order)
        for o in family:
            o.transmit = True
            held_child = o.parent_id and self._parent_active(o)
            o.status = "PreSubmitted" if held_child else "Submitted"
            o.placed_at_bar = cursor
            events.append(OrderChanged(o.view()))
        return events

    def _invalid(self, order: SimOrder) -> str:
        if order.order_type not in SUPPORTED_TYPES:
            return (
                f"order type {order.order_type!r} is not supported by the simulator (MKT, LMT, STP)"
            )
        if order.quantity <= 0 or order.quantity != int(order.quantity):
            return f"quantity must be a whole number of contracts >= 1, got {order.quantity:g}"
        if order.action not in ("BUY", "SELL"):
            return f"action must be BUY or SELL, got {order.action!r}"
        tick = order.contract.min_tick
        for name, price in (("limit", order.lmt_price), ("stop", order.aux_price)):
            needed = (name == "limit" and order.order_type == "LMT") or (
                name == "stop" and order.order_type == "STP"
            )
            if needed and (price is None or price <= 0):
                return f"a {order.order_type} order needs a {name} price"
            if needed and price is not None and abs(price / tick - round(price / tick)) > 1e-6:
                return f"{name} price {price} is not a multiple of the minimum tick {tick}"
        if order.parent_id and order.parent_id not in self.orders:
            return f"parent order {order.parent_id} is not known"
        return ""

    def _family(self, order: SimOrder) -> list[SimOrder]:
        root = self.orders.get(order.parent_id, order) if order.parent_id else order
        members = [root] + [
            o for o in self.orders.values() if o.parent_id == root.order_id and o is not root
        ]
        return [o for o in members if o.status in ("PendingSubmit", "PreSubmitted") or o is order]

    def _parent_active(self, child: SimOrder) -> bool:
        parent = self.orders.get(child.parent_id)
        return parent is not None and parent.status != "Filled"

    def _modify(self, old: SimOrder, new: SimOrder) -> list[Event]:
        if old.status not in WORKING:
            return [
                OrderError(
                    new.client_id,
                    new.order_id,
                    201,
                    f"Order rejected - reason:order {old.order_id} is {old.status}",
                )
            ]
        old.quantity = max(new.quantity, old.filled)
        old.lmt_price, old.aux_price = new.lmt_price, new.aux_price
        return [OrderChanged(old.view())]

    def cancel(self, client_id: int, order_id: int) -> list[Event]:
        """Cancel a working order (and, for a parent, its children)."""
        order = self.orders.get(order_id)
        if order is None or order.client_id != client_id or order.status not in WORKING:
            return [
                OrderError(
                    client_id,
                    order_id,
                    10147,
                    f"OrderId {order_id} that needs to be cancelled is not found.",
                )
            ]
        events: list[Event] = []
        targets = [order] + [o for o in self.orders.values() if o.parent_id == order_id]
        for o in targets:
            if o.status in WORKING:
                o.status = "Cancelled"
                events.append(OrderChanged(o.view()))
                events.append(OrderError(o.client_id, o.order_id, 202, "Order Canceled - reason:"))
        return events

    def cancel_all(self) -> list[Event]:
        """REQ_GLOBAL_CANCEL: every working order."""
        events: list[Event] = []
        for o in list(self.orders.values()):
            if o.status in WORKING:
                events += self.cancel(o.client_id, o.order_id)
        return events

    def working(self, client_id: int | None = None) -> list[SimOrder]:
        """Working orders (of one client), by order id."""
        return sorted(
            (
                o
                for o in self.orders.values()
                if o.status in WORKING and (client_id is None or o.client_id == client_id)
            ),
            key=lambda o: o.order_id,
        )

    # --- matching -------------------------------------------------------------------
    def on_bar(self, bar: Bar, index: int, con_id: int | None = None) -> list[Event]:
        """Match working orders against the ``index``-th 5-second bar: of contract ``con_id``
        only, or (None) a path every contract trades on."""
        candidates: list[tuple[float, int, SimOrder, float]] = []
        for o in self.working():
            if not o.transmit or o.status != "Submitted" or o.placed_at_bar > index:
                continue
            if con_id is not None and o.contract.con_id != con_id:
                continue
            hit = _trigger(o, bar)
            if hit is not None:
                where, price = hit
                candidates.append((where, o.order_id, o, price))
        events: list[Event] = []
        for where, _, o, price in sorted(candidates, key=lambda c: (c[0], c[1])):
            # The fill's time: as far into the bar as the path point where it happened.
            time_ns = bar.ts + round(where / 3 * RT_SECONDS * NS)
            if o.status != "Submitted":  # an OCA sibling filled first
                continue
            events += self._fill(o, price, time_ns)
            events += self._after_fill(o, index)
        if con_id is not None:
            self.marks[con_id] = bar.close
            return events
        self.marks[0] = bar.close
        for pos in self.positions.values():
            self.marks[pos.contract.con_id] = bar.close
        return events

    def _after_fill(self, order: SimOrder, index: int) -> list[Event]:
        events: list[Event] = []
        for child in self.working():
            if (
                child.parent_id == order.order_id
                and child.status == "PreSubmitted"
                and child.transmit
            ):
                child.status = "Submitted"
                child.placed_at_bar = index + 1
                events.append(OrderChanged(child.view()))
        if order.oca_group or order.parent_id:
            for sib in self.working():
                same_oca = order.oca_group and sib.oca_group == order.oca_group
                same_parent = order.parent_id and sib.parent_id == order.parent_id
                if sib is not order and (same_oca or same_parent):
                    sib.status = "Cancelled"
                    events.append(OrderChanged(sib.view()))
                    events.append(
                        OrderError(
                            sib.client_id,
                            sib.order_id,
                            202,
                            "Order Canceled - reason:OCA group fill",
                        )
                    )
        return events

    def _fill(self, o: SimOrder, price: float, time_ns: int) -> list[Event]:
        qty = o.remaining
        fee = round(self.commission * qty, 2)
        realized = self._book(o.contract, o.sign * qty, price, fee)
        o.avg_fill_price = (o.avg_fill_price * o.filled + price * qty) / (o.filled + qty)
        o.filled += qty
        o.last_fill_price = price
        o.status = "Filled"
        self._exec_seq += 1
        ex = ExecutionView(
            exec_id=f"{o.perm_id:08x}.{self._exec_seq:08x}.01.01",
            order_id=o.order_id,
            client_id=o.client_id,
            perm_id=o.perm_id,
            contract=o.contract,
            time_ns=time_ns,
            account=self.account,
            side="BOT" if o.sign > 0 else "SLD",
            shares=qty,
            price=price,
            cum_qty=o.filled,
            avg_price=o.avg_fill_price,
            order_ref=o.order_ref,
            commission=fee,
            realized_pnl=realized,
        )
        self.executions.append(ex)
        return [Executed(ex, o.view())]

    def _book(self, c: IBFuture, signed_qty: float, price: float, fee: float) -> float | None:
        """Move the position; returns the realized P&L (net of both sides' costs) if it closed."""
        pos = self.positions.setdefault(c.con_id, Position(c))
        self.cash -= fee
        self.commissions_paid += fee
        mult = c.multiplier
        per_fee = fee / abs(signed_qty)
        # IB's average cost carries the commission: paid on a buy, netted from a sale.
        entry_fee = per_fee if signed_qty > 0 else -per_fee
        realized: float | None = None
        if pos.quantity == 0 or (pos.quantity > 0) == (signed_qty > 0):
            n_old, n_add = abs(pos.quantity), abs(signed_qty)
            pos.avg_cost = (pos.avg_cost * n_old + (price * mult + entry_fee) * n_add) / (
                n_old + n_add
            )
            pos.avg_price = (pos.avg_price * n_old + price * n_add) / (n_old + n_add)
            pos.quantity += signed_qty
        else:
            closing = min(abs(signed_qty), abs(pos.quantity))
            direction = 1 if pos.quantity > 0 else -1
            realized = ((price * mult - pos.avg_cost) * direction - per_fee) * closing
            pos.realized += realized
            self.realized += realized
            self.cash += (price - pos.avg_price) * mult * direction * closing
            pos.quantity += signed_qty
            rest = abs(signed_qty) - closing
            if pos.quantity == 0:
                pos.avg_cost = pos.avg_price = 0.0
            elif rest > 0:
                pos.avg_cost, pos.avg_price = price * mult + entry_fee, price
            realized = round(realized, 2)
        self.marks[c.con_id] = price
        return realized

    # --- account values -----------------------------------------------------------
    def unrealized(self, pos: Position) -> float:
        """Open P&L of a position at its last mark (avg cost includes the entry commission)."""
        mark = self.marks.get(pos.contract.con_id, 0.0)
        if pos.quantity == 0:
            return 0.0
        return (mark * pos.contract.multiplier - pos.avg_cost) * pos.quantity

    def values(self) -> dict[str, float]:
        """Account values by IB tag (USD)."""
        unreal = sum(self.unrealized(p) for p in self.positions.values())
        # Cash has paid the entry commissions already: mark positions against the fill prices.
        open_pnl = sum(
            (self.marks.get(p.contract.con_id, 0.0) - p.avg_price)
            * p.contract.multiplier
            * p.quantity
            for p in self.positions.values()
        )
        contracts = sum(abs(p.quantity) for p in self.positions.values())
        gross = sum(
            abs(p.quantity) * self.marks.get(p.contract.con_id, 0.0) * p.contract.multiplier
            for p in self.positions.values()
        )
        net_liq = self.cash + open_pnl
        init = contracts * self.initial_margin
        maint = contracts * self.maint_margin
        return {
            "NetLiquidation": net_liq,
            "TotalCashValue": self.cash,
            "SettledCash": self.cash,
            "EquityWithLoanValue": net_liq,
            "AvailableFunds": net_liq - init,
            "ExcessLiquidity": net_liq - maint,
            "BuyingPower": net_liq - init,
            "InitMarginReq": init,
            "MaintMarginReq": maint,
            "FullInitMarginReq": init,
            "FullMaintMarginReq": maint,
            "GrossPositionValue": gross,
            "UnrealizedPnL": unreal,
            "RealizedPnL": self.realized,
            "Cushion": (net_liq - maint) / net_liq if net_liq else 0.0,
        }


def _trigger(o: SimOrder, bar: Bar) -> tuple[float, float] | None:
    """Where along the bar's path (0 = open .. 3 = close) the order fills, and at what price."""
    path = bar.path
    if o.order_type == "MKT":
        return 0.0, path[0]
    level = o.lmt_price if o.order_type == "LMT" else o.aux_price
    assert level is not None
    # A buy limit and a sell stop fill when the price falls to the level; the others when it rises.
    falling = (o.order_type == "LMT") == (o.sign > 0)
    if (falling and path[0] <= level) or (not falling and path[0] >= level):
        return 0.0, path[0]
    for k in range(1, 4):
        a, b = path[k - 1], path[k]
        if (falling and b <= level < a) or (not falling and a < level <= b):
            frac = (a - level) / (a - b) if a != b else 0.0
            return k - 1 + frac, level
    return None
