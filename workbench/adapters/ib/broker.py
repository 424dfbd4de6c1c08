"""The ``ib`` broker: the execution engine's :class:`~workbench.execution.Broker` over IBClient.

One object is both the broker (orders, fills, positions) and the session's live feed
(:class:`~workbench.execution.feeds.LiveFeed`: IB's real-time bars aggregated to the
strategy's bar size, each handed over at its end, and warm-up history from
``reqHistoricalData``). Everything runs on the paper session's own event loop: ib-async's
events call the :class:`~workbench.execution.OrderManager` directly, bars go through a queue
to :meth:`~workbench.execution.ExecutionEngine.step_live`.

- Orders carry the OrderManager's ``order_ref`` as IB's ``orderRef``; every status and fill
  is matched to its intent by that reference (order ids change across API sessions), so
  after a reconnect or a gateway restart the same orders are found, never sent again.
- Fills reach the journal with their commission: a fill is handed over when its commission
  report arrives, once per ``execId``. Executions that happened while the link was down come
  back with ``reqExecutions`` on reconnect and are handed over then, before the session is
  told to reconcile (a :class:`~workbench.execution.feeds.FeedNotice`).
- A rejected order (IB error 201 and the like) becomes ``rejected`` with IB's text.
- The contract rolls as a calendar-rolled continuous series does
  (``load_bars(roll="calendar", roll_days=N)``): the session starts on the contract that
  series holds now (or on ``expiry``), and at the end of the last bar before the current
  contract's roll date (``roll_days`` CME business days before its last trade date) the next
  contract is qualified from IB's contract details, the bar subscription (and the registry
  restored after a reconnect) moves to it, and the session closes the old contract and
  re-enters on the new one (:class:`~workbench.execution.feeds.RollingFeed`).
  ``roll_days=None`` trades one contract only.
- ib-async paces outgoing messages (``MaxRequests``, 45 per second by default, under IB's
  50/s limit). ``max_messages_per_second`` sets it; 0 turns the pacing off, which only the
  simulated gateway should see.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import time

from ib_async import Contract, Trade
from ib_async import Fill as IBFill

from workbench.adapters.ib.bars import LiveBar
from workbench.adapters.ib.client import (
    _BAR_SIZE_NAMES,
    NS,
    BarSubscription,
    IBClient,
    PlacedOrder,
    intent_of,
    to_fill,
)
from workbench.adapters.ib.contracts import next_bar_trade_date, roll_date
from workbench.data.continuous import Roll
from workbench.errors import ConfigError
from workbench.execution.brokers.base import BrokerOrder, FillListener, StatusListener
from workbench.execution.feeds import Bar, FeedNotice
from workbench.model import Order, OrderStatus

log = logging.getLogger(__name__)


class IBBroker:
    """Interactive Brokers (TWS, IB Gateway or the simulated gateway) for a paper session.

    Parameters
    ----------
    client : IBClient
        A client (connected or not; :meth:`open` connects it). Give it
        ``auto_reconnect=True`` for a session that survives a dropped link.
    expiry : str, optional
        The contract traded (``None``: the front month; ``"MCLZ5"``, ``"202512"``).
    bar_seconds : int, default 60
        The strategy's bar size (IB's 5-second bars are aggregated to it).
    warm_up_bars : int, default 0
        History bars handed to the strategy before the first live bar.
    max_messages_per_second : int, default 45
        ib-async's outgoing pacing (``MaxRequests``); 0: none (simulated gateway only).
    roll_days : int or None, default 5
        Roll this many CME business days before the contract's last trade date (the
        backtest's ``roll="calendar"`` rule); None: trade one contract, never roll.

    Examples
    --------
    >>> client = IBClient(port=4002, auto_reconnect=True)          # doctest: +SKIP
    >>> broker = IBBroker(client, warm_up_bars=200)                 # doctest: +SKIP
    >>> session = PaperSession(None, strategy, broker=broker, feed=broker)  # doctest: +SKIP
    """

    name = "ib"

    def __init__(
        self,
        client: IBClient,
        *,
        expiry: str | None = None,
        bar_seconds: int = 60,
        warm_up_bars: int = 0,
        max_messages_per_second: int = 45,
        roll_days: int | None = 5,
    ) -> None:
        if bar_seconds not in _BAR_SIZE_NAMES or bar_seconds % 5:
            raise ConfigError(
                f"bar size {bar_seconds} s is not one IB serves",
                hint="use 60 (1 min), 300 (5 mins), ...",
            )
        if warm_up_bars < 0:
            raise ConfigError(f"warm_up_bars must be >= 0, got {warm_up_bars}")
        if roll_days is not None and roll_days < 0:
            raise ConfigError(f"roll_days must be >= 0, got {roll_days}")
        self.client = client
        self.expiry = expiry
        self.bar_seconds = bar_seconds
        self.warm_up_bars = warm_up_bars
        client.ib.client.MaxRequests = max_messages_per_second
        self.contract: Contract | None = None
        self.contracts: dict[str, Contract] = {}
        self.roll_days = roll_days
        self.roll_at: dt.date | None = None  # first trade date past the contract's roll
        self._resume_on: str | None = None
        self._orders: dict[str, Order] = {}
        self._trades: dict[str, Trade] = {}
        self._exec_ids: set[str] = set()
        self._sent_at: dict[str, int] = {}
        self.ack_ns: list[int] = []  # submit -> first acknowledgement, per order
        self.reconnects = 0
        self._connects = 0
        self._on_fill: FillListener | None = None
        self._on_status: StatusListener | None = None
        self._queue: asyncio.Queue[Bar | FeedNotice | None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sub: BarSubscription | None = None
        self._stopped = False
        ib = client.ib
        ib.orderStatusEvent += self._status
        ib.openOrderEvent += self._status
        ib.commissionReportEvent += self._commission
        ib.connectedEvent += self._connected

    # -- Broker ------------------------------------------------------------------------
    def set_listeners(self, on_fill: FillListener, on_status: StatusListener) -> None:
        """Where fills and status changes go (the OrderManager's handlers)."""
        self._on_fill, self._on_status = on_fill, on_status

    def connect(self) -> None:
        """The connection is opened by :meth:`open` (async); here only checked."""
        if not self.client.is_connected:
            raise ConnectionError("the IB broker is not connected: await broker.open() first")

    async def account_value(self) -> float:
        """The account's NetLiquidation (USD): a new session's capital by default."""
        values = await self.client.get_account_summary()
        if "NetLiquidation" not in values:
            raise ConnectionError(f"account {self.client.account} reported no NetLiquidation")
        return values["NetLiquidation"]

    def close(self) -> None:
        """Disconnect (subscriptions are dropped)."""
        if self._sub is not None:
            self.client.unsubscribe_bars(self._sub)
            self._sub = None
        self.client.disconnect()

    def submit(self, order: Order, oca_group: str = "") -> int:
        """Send ``order`` (``orderRef`` = its ``order_ref``); the perm id comes with the ack."""
        self.client.check_account()
        contract = self.contracts.get(order.symbol)
        if contract is None:
            raise ConfigError(
                f"order {order.order_ref} is for {order.symbol}, not a contract this session "
                f"trades ({', '.join(self.contracts) or 'none yet'})"
            )
        self._orders[order.order_ref] = order
        self._sent_at[order.order_ref] = time.perf_counter_ns()
        self._trades[order.order_ref] = self.client.submit(contract, order, oca_group=oca_group)
        return 0

    def cancel(self, order_ref: str) -> None:
        """Cancel a working order (nothing when it is done or unknown)."""
        trade = self._trades.get(order_ref)
        if trade is not None and not trade.isDone() and self.client.is_connected:
            self.client.cancel(trade)

    def modify_stop(self, order_ref: str, stop_price: float) -> None:
        """Move a working stop's trigger (the same order id, a new ``auxPrice``)."""
        trade = self._trades.get(order_ref)
        if trade is None or trade.isDone() or not self.client.is_connected:
            return
        self.client.move_stop(trade, stop_price)

    def find_order(self, order_ref: str) -> BrokerOrder | None:
        """IB's record of ``order_ref`` (open, done, or executed), or None.

        An order this process did not send (a restarted session's, journaled by its earlier
        run) is adopted: its states and fills reach the session from now on, and the
        executions returned here are not handed over again.
        """
        trade, ib_fills = self.client.find_trade(order_ref)
        if trade is None and not ib_fills:
            return None
        fills = [to_fill(f) for f in ib_fills]
        if trade is not None:
            self._trades[order_ref] = trade
        order = self._orders.get(order_ref)
        if order is None:
            order = self._orders[order_ref] = intent_of(order_ref, trade, ib_fills)
            self._exec_ids.update(f.execution.execId for f in ib_fills)
        if trade is None:
            status = OrderStatus.FILLED if sum(f.quantity for f in fills) else OrderStatus.WORKING
            perm = 0
        else:
            placed = PlacedOrder(order, trade)
            status, perm = placed.status, placed.perm_id
        return BrokerOrder(order, perm, status, sum(f.quantity for f in fills), fills)

    def positions(self) -> dict[str, int]:
        """Signed contracts held, by local symbol (as IB reports them)."""
        out: dict[str, int] = {}
        for p in self.client.get_positions():
            out[p.symbol] = out.get(p.symbol, 0) + p.quantity
        return {s: q for s, q in out.items() if q}

    def on_bar_open(self, bar: Bar) -> None:
        """IB fills at its own market: nothing to do."""

    def on_bar(self, bar: Bar) -> None:
        """IB matches resting orders itself: nothing to do."""

    # -- ib-async events -------------------------------------------------------------------
    def _status(self, trade: Trade) -> None:
        ref = trade.order.orderRef
        order = self._orders.get(ref)
        if order is None or self._on_status is None:
            return
        self._trades[ref] = trade
        placed = PlacedOrder(order, trade)
        status = placed.status
        if status is not OrderStatus.PENDING and ref in self._sent_at:
            self.ack_ns.append(time.perf_counter_ns() - self._sent_at.pop(ref))
        message = next((e.message for e in reversed(trade.log) if e.errorCode), "")
        self._on_status(ref, status, placed.perm_id, message)

    def _commission(self, trade: Trade, fill: IBFill, report: object) -> None:
        self._hand_over(fill)

    def _hand_over(self, fill: IBFill) -> None:
        ex = fill.execution
        if ex.execId in self._exec_ids or ex.orderRef not in self._orders:
            return
        self._exec_ids.add(ex.execId)
        if self._on_fill is not None:
            self._on_fill(ex.orderRef, to_fill(fill))

    def _connected(self) -> None:
        """After a reconnect: statuses and executions missed, then a notice to reconcile."""
        self._connects += 1
        if self._connects == 1:
            return
        self.reconnects += 1
        for trade in self.client.ib.trades():
            self._status(trade)
        for fill in sorted(self.client.ib.fills(), key=lambda f: f.execution.time):
            self._hand_over(fill)
        if self._queue is not None:
            self._queue.put_nowait(FeedNotice("reconnected", f"reconnect {self.reconnects}"))

    # -- LiveFeed --------------------------------------------------------------------------
    async def open(self) -> list[Bar]:
        """Connect, qualify the contract, fetch the warm-up history, subscribe to bars."""
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue()
        self._stopped = False
        if not self.client.is_connected:
            await self.client.connect()
        self._hold(await self._first_contract())
        history = await self._history()
        self._sub = self._subscribe()
        return history

    async def _first_contract(self) -> Contract:
        """The resumed session's contract, ``expiry``, or what the roll rule holds now."""
        if self._resume_on is not None:
            return await self.client.get_mcl_contract(self._resume_on)
        if self.expiry is not None or self.roll_days is None:
            return await self.client.get_mcl_contract(self.expiry)
        now = await self.client.server_time()
        return await self.client.front_contract(
            next_bar_trade_date(int(now.timestamp()) * NS), self.roll_days
        )

    def _hold(self, contract: Contract) -> None:
        """Trade ``contract`` from now on (the old one stays known for its exit)."""
        self.contract = contract
        self.contracts[contract.localSymbol] = contract
        if self.roll_days is not None:
            last = dt.datetime.strptime(contract.lastTradeDateOrContractMonth[:8], "%Y%m%d")
            self.roll_at = roll_date(last.date(), self.roll_days)

    def _subscribe(self) -> BarSubscription:
        assert self.contract is not None
        on_bar = functools.partial(self._on_bar, self.contract.localSymbol)
        return self.client.subscribe_bars(self.contract, self.bar_seconds, on_bar)

    # -- RollingFeed ------------------------------------------------------------------------
    @property
    def symbol(self) -> str:
        """The contract traded now (``MCLH4``; empty before :meth:`open`)."""
        return "" if self.contract is None else self.contract.localSymbol

    def continue_on(self, symbol: str) -> None:
        """Open on ``symbol``: a resumed session's contract (its journal's, past any roll)."""
        self._resume_on = symbol

    async def roll_after(self, bar: Bar) -> Roll | None:
        """Roll when the bar after ``bar`` trades on or after the contract's roll date.

        The next contract is qualified through IB's contract details (the one the
        calendar rule holds on that trade date), the bar subscription moves to it (the old
        one is cancelled and leaves the registry restored on reconnect), and the roll is
        returned with the old contract's close and the new one's last close at ``bar``'s end.
        """
        if self.roll_at is None or self.contract is None or self.roll_days is None:
            return None
        trade_date = next_bar_trade_date(bar.end)
        if trade_date < self.roll_at:
            return None
        old = self.contract
        new = await self.client.front_contract(trade_date, self.roll_days)
        if new.conId == old.conId:
            return None
        to_close = await self._last_close(new, bar.end, bar.close)
        self._hold(new)
        previous, self._sub = self._sub, self._subscribe()
        if previous is not None:
            self.client.unsubscribe_bars(previous)
        log.info("rolled %s -> %s for trade date %s", old.localSymbol, new.localSymbol, trade_date)
        return Roll(
            trade_date=trade_date.isoformat(),
            ts=dt.datetime.fromtimestamp(bar.end // NS, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            from_symbol=old.localSymbol,
            to_symbol=new.localSymbol,
            from_close=bar.close,
            to_close=to_close,
            adjustment=0.0,
        )

    async def _last_close(self, contract: Contract, end_ns: int, default: float) -> float:
        """``contract``'s last close before ``end_ns`` (``default`` if it has not traded)."""
        end = dt.datetime.fromtimestamp(end_ns // NS, dt.UTC)
        frame = await self.client.historical_bars(
            contract, "86400 S", _BAR_SIZE_NAMES[self.bar_seconds], end=end
        )
        return float(frame["close"].iloc[-1]) if len(frame) else default

    async def _history(self) -> list[Bar]:
        if not self.warm_up_bars:
            return []
        assert self.contract is not None
        span = self.warm_up_bars * self.bar_seconds
        frame = await self.client.historical_bars(
            self.contract, f"{span} S", _BAR_SIZE_NAMES[self.bar_seconds]
        )
        frame = frame.iloc[-self.warm_up_bars :]
        starts = frame.index.asi8 if frame.index.unit == "ns" else frame.index.as_unit("ns").asi8
        symbol = self.contract.localSymbol
        return [
            Bar(k - len(frame), int(ts), int(ts) + self.bar_seconds * NS, o, h, lo, c, v, symbol)
            for k, (ts, o, h, lo, c, v) in enumerate(
                zip(
                    starts,
                    frame["open"].tolist(),
                    frame["high"].tolist(),
                    frame["low"].tolist(),
                    frame["close"].tolist(),
                    frame["volume"].tolist(),
                    strict=True,
                )
            )
        ]

    def _on_bar(self, symbol: str, bar: LiveBar) -> None:
        if self._queue is None or self._stopped or symbol != self.symbol:
            return
        self._queue.put_nowait(
            Bar(
                -1,
                bar.ts,
                bar.end,
                bar.open,
                bar.high,
                bar.low,
                bar.close,
                bar.volume,
                symbol,
            )
        )

    def __aiter__(self) -> IBBroker:
        """Each bar at its end, and a notice after each reconnect, until :meth:`stop`."""
        if self._queue is None:
            raise ConnectionError("the IB feed is not open: await broker.open() first")
        return self

    async def __anext__(self) -> Bar | FeedNotice:
        """The next bar or notice (``StopAsyncIteration`` after :meth:`stop`)."""
        assert self._queue is not None
        item = None if self._stopped else await self._queue.get()
        if item is None:
            raise StopAsyncIteration
        return item

    def backlog(self) -> int:
        """Bars and notices queued, not yet taken by the session."""
        return 0 if self._queue is None else self._queue.qsize()

    def stop(self) -> None:
        """End the bar iteration (from any thread)."""
        self._stopped = True
        loop, queue = self._loop, self._queue
        if loop is not None and queue is not None and not loop.is_closed():
            loop.call_soon_threadsafe(queue.put_nowait, None)

    async def aclose(self) -> None:
        """Unsubscribe and disconnect."""
        self.close()
