"""``sim``: a bar-replay broker with the backtest's fill model (the offline default).

Fill model (that of :mod:`workbench.backtest.simulate`, so that paper and backtest agree):

- a market order fills at once at the symbol's current price +/- ``slippage_ticks``: the
  open of the bar being opened (:meth:`on_bar_open`), otherwise the symbol's last close (a
  roll's exit of the old contract, the end-of-session flatten);
- resting stop and limit orders are matched in each bar (:meth:`on_bar`): a bar that opens
  through a level fills at the open (a gap); otherwise a level inside the range fills at the
  level; when several trigger, the stop (the worse) wins. Stops pay the slippage, limits
  (targets) do not. Orders of one OCA group cancel each other;
- commission ``commission_per_contract`` per contract per fill.

With ``path`` the account (orders, fills) lives in SQLite like a broker's server-side
state: a crashed session reconnects to it, finds its orders by ``order_ref`` and reconciles.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path

from workbench.execution.brokers.base import (
    BrokerOrder,
    FillListener,
    StatusListener,
    book_fill,
)
from workbench.execution.feeds import Bar
from workbench.model import Fill, Order, OrderStatus, OrderType, Side, TimeInForce

_SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    order_ref TEXT PRIMARY KEY, perm_id INTEGER, body TEXT, status TEXT, filled INTEGER,
    oca TEXT, stop_price REAL);
CREATE TABLE IF NOT EXISTS fills (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, order_ref TEXT, time INTEGER, symbol TEXT,
    side INTEGER, quantity INTEGER, price REAL, commission REAL);
"""


def _order_body(order: Order) -> str:
    return json.dumps(
        {k: (v.value if hasattr(v, "value") else v) for k, v in dataclasses.asdict(order).items()}
    )


def _order_from(body: str) -> Order:
    d = json.loads(body)
    return Order(
        order_ref=d["order_ref"],
        symbol=d["symbol"],
        side=Side(d["side"]),
        quantity=d["quantity"],
        order_type=OrderType(d["order_type"]),
        limit_price=d["limit_price"],
        stop_price=d["stop_price"],
        time_in_force=TimeInForce(d["time_in_force"]),
    )


@dataclasses.dataclass
class _Resting:
    bo: BrokerOrder
    oca: str
    stop_ticks: int | None
    limit_ticks: int | None


class SimBroker:
    """The simulated broker (see the module docstring).

    Parameters
    ----------
    commission_per_contract : float, default 1.25
        USD per contract per fill.
    slippage_ticks : int, default 1
        Ticks lost by market and stop fills.
    tick_size : float, default 0.01
        Price of one tick (MCL).
    path : str or Path, optional
        SQLite file of the account; None keeps it in memory.
    """

    name = "sim"

    def __init__(
        self,
        *,
        commission_per_contract: float = 1.25,
        slippage_ticks: int = 1,
        tick_size: float = 0.01,
        path: str | Path | None = None,
    ) -> None:
        self.commission = commission_per_contract
        self.slip = slippage_ticks
        self.tick = tick_size
        self.path = None if path is None else Path(path)
        self._orders: dict[str, BrokerOrder] = {}
        self._resting: dict[str, _Resting] = {}
        self._price: dict[str, int] = {}  # symbol -> current price in ticks
        self._position: dict[str, int] = {}
        self._now = 0
        self._next_perm = 1_000_001
        self._on_fill: FillListener | None = None
        self._on_status: StatusListener | None = None
        self._db: sqlite3.Connection | None = None

    # -- account -------------------------------------------------------------------------
    def set_listeners(self, on_fill: FillListener, on_status: StatusListener) -> None:
        """Where fills and status changes go."""
        self._on_fill, self._on_status = on_fill, on_status

    def connect(self) -> None:
        """Open (or create) the account file and load its orders and fills."""
        if self.path is None or self._db is not None:
            return
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        for ref, perm, body, status, filled, oca, stop in self._db.execute(
            "SELECT order_ref, perm_id, body, status, filled, oca, stop_price FROM orders"
        ):
            order = _order_from(body)
            bo = BrokerOrder(order, perm, OrderStatus(status), filled)
            self._orders[ref] = bo
            self._next_perm = max(self._next_perm, perm + 1)
            if not bo.status.is_done and order.order_type is not OrderType.MARKET:
                self._rest(bo, oca, stop)
        for ref, t, sym, side, qty, px, comm in self._db.execute(
            "SELECT order_ref, time, symbol, side, quantity, price, commission FROM fills "
            "ORDER BY seq"
        ):
            fill = Fill(t, sym, Side(side), qty, px, comm, ref)
            self._orders[ref].fills.append(fill)
            self._position[sym] = self._position.get(sym, 0) + side * qty

    def close(self) -> None:
        """Close the account file."""
        if self._db is not None:
            self._db.close()
            self._db = None

    def find_order(self, order_ref: str) -> BrokerOrder | None:
        """The broker's record of ``order_ref``."""
        return self._orders.get(order_ref)

    def positions(self) -> dict[str, int]:
        """Signed contracts by symbol."""
        return {s: q for s, q in self._position.items() if q}

    # -- orders --------------------------------------------------------------------------
    def _ticks(self, price: float | None) -> int | None:
        return None if price is None else round(price / self.tick)

    def _rest(self, bo: BrokerOrder, oca: str, stop: float | None) -> None:
        o = bo.order
        stop_ticks = self._ticks(stop if stop is not None else o.stop_price)
        self._resting[o.order_ref] = _Resting(bo, oca, stop_ticks, self._ticks(o.limit_price))

    def _save_order(self, bo: BrokerOrder, oca: str = "") -> None:
        if self._db is None:
            return
        r = self._resting.get(bo.order.order_ref)
        stop = None if r is None or r.stop_ticks is None else r.stop_ticks * self.tick
        self._db.execute(
            "INSERT INTO orders VALUES (?,?,?,?,?,?,?) ON CONFLICT(order_ref) DO UPDATE SET "
            "status=excluded.status, filled=excluded.filled, stop_price=excluded.stop_price",
            (
                bo.order.order_ref,
                bo.perm_id,
                _order_body(bo.order),
                bo.status.value,
                bo.filled,
                oca,
                stop,
            ),
        )

    def _status(self, bo: BrokerOrder, status: OrderStatus, message: str = "") -> None:
        bo.status, bo.message = status, message
        if self._on_status is not None:
            self._on_status(bo.order.order_ref, status, bo.perm_id, message)

    def submit(self, order: Order, oca_group: str = "") -> int:
        """Accept ``order``: a market order fills now, a stop or limit order rests."""
        if order.order_ref in self._orders:
            raise ValueError(f"duplicate order_ref {order.order_ref!r}: the broker has it")
        bo = BrokerOrder(order, self._next_perm, OrderStatus.PENDING)
        self._next_perm += 1
        self._orders[order.order_ref] = bo
        if order.order_type is OrderType.MARKET:
            px = self._price.get(order.symbol)
            if px is None:
                self._save_order(bo)
                self._status(bo, OrderStatus.REJECTED, f"no price for {order.symbol}")
                return bo.perm_id
            self._save_order(bo)
            self._status(bo, OrderStatus.WORKING)
            self._fill(bo, px + int(order.side) * self.slip)
        else:
            self._rest(bo, oca_group, None)
            self._save_order(bo, oca_group)
            self._status(bo, OrderStatus.WORKING)
        return bo.perm_id

    def cancel(self, order_ref: str) -> None:
        """Cancel a working order."""
        bo = self._orders.get(order_ref)
        if bo is None or bo.status.is_done:
            return
        self._resting.pop(order_ref, None)
        bo.status = OrderStatus.CANCELLED
        self._save_order(bo)
        self._status(bo, OrderStatus.CANCELLED)

    def modify_stop(self, order_ref: str, stop_price: float) -> None:
        """Move a resting stop."""
        r = self._resting.get(order_ref)
        if r is not None:
            r.stop_ticks = self._ticks(stop_price)
            self._save_order(r.bo, r.oca)

    def _fill(self, bo: BrokerOrder, px_ticks: int) -> None:
        o = bo.order
        qty = o.quantity - bo.filled
        fill = Fill(
            self._now,
            o.symbol,
            o.side,
            qty,
            round(px_ticks * self.tick, 10),
            self.commission * qty,
            o.order_ref,
        )
        book_fill(bo, fill, self._position)  # the whole rest: filled
        self._resting.pop(o.order_ref, None)
        if self._db is not None:
            self._db.execute(
                "INSERT INTO fills (order_ref, time, symbol, side, quantity, price, commission) "
                "VALUES (?,?,?,?,?,?,?)",
                (o.order_ref, fill.time, o.symbol, int(o.side), qty, fill.price, fill.commission),
            )
        self._save_order(bo)
        if self._on_fill is not None:
            self._on_fill(o.order_ref, fill)
        self._status(bo, OrderStatus.FILLED)

    # -- market data ---------------------------------------------------------------------
    def on_bar_open(self, bar: Bar) -> None:
        """``bar`` opens: market orders now fill at its open."""
        self._now = bar.ts
        self._price[bar.symbol] = round(bar.open / self.tick)

    def on_bar(self, bar: Bar) -> None:
        """Match resting orders of ``bar.symbol`` in ``bar``; then its close is the price."""
        tick = self.tick
        o, h, lo = round(bar.open / tick), round(bar.high / tick), round(bar.low / tick)
        while self._resting:
            best: tuple[int, int, _Resting] | None = None
            for r in self._resting.values():
                if r.bo.order.symbol != bar.symbol:
                    continue
                hit = self._trigger(r, o, h, lo)
                if hit is not None and (best is None or hit[0] < best[0]):
                    best = (hit[0], hit[1], r)
            if best is None:
                break
            _, px, r = best
            for other in [x for x in self._resting.values() if r.oca and x.oca == r.oca]:
                if other is not r:
                    self.cancel(other.bo.order.order_ref)
            self._fill(r.bo, px)
        self._now = bar.end
        self._price[bar.symbol] = round(bar.close / tick)

    def _trigger(self, r: _Resting, o: int, h: int, lo: int) -> tuple[int, int] | None:
        """(priority, fill ticks): gap stop 0, gap limit 1, stop 2, limit 3; None: no fill."""
        s = int(r.bo.order.side)
        if r.stop_ticks is not None:
            st = r.stop_ticks
            if (s < 0 and o <= st) or (s > 0 and o >= st):
                return 0, o + s * self.slip
            if (s < 0 and lo <= st) or (s > 0 and h >= st):
                return 2, st + s * self.slip
        elif r.limit_ticks is not None:
            lt = r.limit_ticks
            if (s < 0 and o >= lt) or (s > 0 and o <= lt):
                return 1, o
            if (s < 0 and h >= lt) or (s > 0 and lo <= lt):
                return 3, lt
        return None
