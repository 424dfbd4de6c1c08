"""``IBClient``: MCL trading on Interactive Brokers through the real ib-async client.

Async throughout (it runs in the paper session's own event loop): ``await client.connect()``,
``await client.get_mcl_contract()``, ``await client.place_market_order(Side.BUY, 1)``, ...
Orders go in as :class:`workbench.model.Order` intents, each with a unique ``orderRef``, and
fills come back as :class:`workbench.model.Fill`.

Safety: the paper ports (TWS 7497, Gateway 4002) are the default. A live port
(:data:`LIVE_PORTS`: TWS 7496, Gateway 4001, the docker image's 4003) or an account that
is not a paper account (paper ids start with ``DU``) is refused, before any order can be
sent, unless ``live=True`` and ``confirm_live`` equal to :data:`LIVE_CONFIRMATION` are both
given.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from ib_async import IB, Contract, Future, LimitOrder, MarketOrder, StopOrder, Trade
from ib_async import Fill as IBFill
from ib_async import Order as IBOrder

from workbench.adapters.ib.bars import BarAggregator, LiveBar, RequestPacer
from workbench.adapters.ib.connectivity import Action, Connectivity, LinkState
from workbench.adapters.ib.contracts import roll_date
from workbench.errors import ConfigError, WorkbenchError
from workbench.market.contracts import contract_spec, parse_symbol
from workbench.model import Fill, Order, OrderStatus, OrderType, Side, TimeInForce

log = logging.getLogger(__name__)

#: The paper ports, by what listens there: 4004 is the docker image's relay of the paper API
#: (infrastructure/docker/docker-compose.yml).
PAPER_PORT_NAMES = {7497: "TWS", 4002: "IB Gateway", 4004: "IB Gateway in docker"}
PAPER_PORTS = frozenset(PAPER_PORT_NAMES)
#: The live ports, by what listens there: 4003 is the docker image's relay of the live API.
LIVE_PORT_NAMES = {7496: "TWS", 4001: "IB Gateway", 4003: "IB Gateway in docker"}
LIVE_PORTS = frozenset(LIVE_PORT_NAMES)
#: What a user must type (``confirm_live=``) to trade a live account.
LIVE_CONFIRMATION = "I understand this sends real orders to a live account"
#: The hint of every refusal: the Python and the CLI spelling of the confirmation.
HOW_TO_GO_LIVE = (
    f"to trade a live account on purpose: live=True, confirm_live={LIVE_CONFIRMATION!r} "
    f"(CLI: --live --confirm '{LIVE_CONFIRMATION}')"
)
NS = 1_000_000_000

_STATUS = {
    "PendingSubmit": OrderStatus.PENDING,
    "ApiPending": OrderStatus.PENDING,
    "PreSubmitted": OrderStatus.WORKING,
    "Submitted": OrderStatus.WORKING,
    "PendingCancel": OrderStatus.WORKING,
    "ValidationError": OrderStatus.WORKING,
    "Filled": OrderStatus.FILLED,
    "Cancelled": OrderStatus.CANCELLED,
    "ApiCancelled": OrderStatus.CANCELLED,
    "Inactive": OrderStatus.REJECTED,
}
_REJECT_CODES = frozenset({200, 201, 203, 321})
_BAR_SIZE_NAMES = {
    5: "5 secs", 10: "10 secs", 15: "15 secs", 30: "30 secs", 60: "1 min", 120: "2 mins",
    180: "3 mins", 300: "5 mins", 600: "10 mins", 900: "15 mins", 1200: "20 mins",
    1800: "30 mins", 3600: "1 hour", 7200: "2 hours", 14400: "4 hours", 86400: "1 day",
}  # fmt: skip
_TIF = {TimeInForce.DAY: "DAY", TimeInForce.GTC: "GTC", TimeInForce.IOC: "IOC"}


class LiveTradingRefused(WorkbenchError):
    """A live port or a non-paper account without ``live=True`` and the typed confirmation."""


class GatewayUnreachable(WorkbenchError, ConnectionError):
    """No TWS / IB Gateway answered at the host and port: a ``ConnectionError`` (the
    reconnection loop retries it) that reads as one message in a notebook."""


class ExpectedCancels(logging.Filter):
    """Drops ib-async's "Error 202, reqId N: Order Canceled" log lines for the cancels a
    client asked for itself (and the one-cancels-all cancels of the groups it placed):
    ib-async logs every cancel as an error, so a session would print one per stop moved
    out of the way. Other 202s (an order cancelled by IB, or by another client) still show.
    """

    _LINE = re.compile(r"^Error 202, reqId (-?\d+): (.*)")

    def __init__(self) -> None:
        super().__init__("ib_async.wrapper")
        self.order_ids: set[int] = set()  # cancels we asked for
        self.oca_ids: set[int] = set()  # orders we placed in a one-cancels-all group

    def filter(self, record: logging.LogRecord) -> bool:
        """False (drop) for an expected cancel's line."""
        match = self._LINE.match(record.getMessage())
        if match is None:
            return True
        order_id = int(match.group(1))
        if order_id in self.order_ids:
            return False
        return not (order_id in self.oca_ids and "OCA" in match.group(2))


def _ports(names: dict[int, str]) -> str:
    """``"TWS 7496, IB Gateway 4001, ..."``: the ports of a refusal message."""
    return ", ".join(f"{name} {port}" for port, name in names.items())


def new_order_ref(prefix: str = "wb") -> str:
    """A unique order reference (``wb-3f9c2a...``): keys an intent across reconnects."""
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


@dataclass
class PlacedOrder:
    """An order sent to IB: the intent, and ib-async's live ``Trade`` behind it."""

    order: Order
    trade: Trade

    @property
    def order_ref(self) -> str:
        """The intent's unique reference (IB's ``orderRef``)."""
        return self.order.order_ref

    @property
    def order_id(self) -> int:
        """IB's order id (unique only within one API session)."""
        return int(self.trade.order.orderId)

    @property
    def perm_id(self) -> int:
        """IB's permanent id (0 until acknowledged)."""
        return int(self.trade.order.permId or self.trade.orderStatus.permId)

    @property
    def error_code(self) -> int:
        """The last IB error code logged against the order (0 if none)."""
        codes = [e.errorCode for e in self.trade.log if e.errorCode]
        return codes[-1] if codes else 0

    @property
    def status(self) -> OrderStatus:
        """Where the order is, in the model's terms."""
        ib_status = self.trade.orderStatus.status
        if ib_status in ("Cancelled", "ApiCancelled") and self.error_code in _REJECT_CODES:
            return OrderStatus.REJECTED
        status = _STATUS.get(ib_status, OrderStatus.WORKING)
        if status is OrderStatus.WORKING and self.trade.orderStatus.filled > 0:
            return OrderStatus.PARTIALLY_FILLED
        return status

    @property
    def fills(self) -> list[Fill]:
        """Executions so far, with their commissions."""
        return [to_fill(f) for f in self.trade.fills]

    async def wait(self, *statuses: OrderStatus, timeout: float = 10.0) -> OrderStatus:
        """Wait until the order reaches one of ``statuses`` (default: done); returns it.

        For a fill, also waits for its commission report.
        """
        want = set(statuses) or {OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        changed = asyncio.Event()

        def poke(*_: object) -> None:
            changed.set()

        events = (self.trade.statusEvent, self.trade.fillEvent, self.trade.commissionReportEvent)
        for ev in events:
            ev += poke
        try:
            while True:
                status = self.status
                if status in want and (status is not OrderStatus.FILLED or self._commissions_in()):
                    return status
                left = deadline - loop.time()
                if left <= 0:
                    raise TimeoutError(
                        f"order {self.order_ref} is {status.value} after {timeout} s, "
                        f"not {', '.join(sorted(s.value for s in want))}"
                    )
                changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), left)
        finally:
            for ev in events:
                ev -= poke

    def _commissions_in(self) -> bool:
        return all(f.commissionReport.execId for f in self.trade.fills)


@dataclass
class BracketOrders:
    """The three orders of a bracket: entry, take-profit limit, stop-loss."""

    entry: PlacedOrder
    take_profit: PlacedOrder
    stop_loss: PlacedOrder


@dataclass(frozen=True)
class BrokerPosition:
    """A position as the broker reports it."""

    symbol: str
    con_id: int
    quantity: int
    avg_price: float
    account: str


@dataclass
class BarSubscription:
    """Real-time bars of one contract aggregated to ``seconds``; restored after 1101 or a
    reconnect by :class:`IBClient`."""

    contract: Contract
    seconds: int
    callback: Callable[[LiveBar], Any] | None
    aggregator: BarAggregator
    bars: list[LiveBar] = field(default_factory=list)
    ib_bars: Any = None  # ib-async's RealTimeBarList
    active: bool = True
    on_partial: Callable[[BarSubscription, LiveBar], Any] | None = None
    gap_filled: int = 0  # bars taken from history after an interruption

    def _on_update(self, bar_list: Any, has_new: bool) -> None:
        if not has_new or not bar_list:
            return
        rt = bar_list[-1]
        ts = int(rt.time.timestamp()) * NS
        for done in self.aggregator.add(ts, rt.open_, rt.high, rt.low, rt.close, rt.volume):
            if done.complete:
                self.emit(done)
            elif self.bars and self.on_partial is not None:
                self.on_partial(self, done)  # restored feed: take the whole bar from history

    def emit(self, bar: LiveBar) -> None:
        """Hand a finished bar to the strategy, once, in time order."""
        if self.bars and bar.ts <= self.bars[-1].ts:
            return
        self.bars.append(bar)
        if self.callback is not None:
            self.callback(bar)


class IBClient:
    """Interactive Brokers for the workbench, over ``ib_async.IB``.

    Parameters
    ----------
    host : str
        TWS / Gateway host.
    port : int
        API port; default 4002 (paper Gateway). 7497 is paper TWS.
    client_id : int
        API client id (one connection per id).
    timeout : float
        Seconds to wait for the connection and each request.
    live : bool
        Allow a live port or a non-paper account (also needs ``confirm_live``).
    confirm_live : str
        Must equal :data:`LIVE_CONFIRMATION` when ``live`` is True.
    pacer : RequestPacer, optional
        Paces historical requests (default: IB's limits with a margin).
    product : str
        Futures root (``MCL``).
    auto_reconnect : bool
        After the socket closes unexpectedly, reconnect with backoff (same client id) and
        restore the bar feeds; :attr:`link` tracks the state.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 4002,
        client_id: int = 1,
        timeout: float = 10.0,
        *,
        live: bool = False,
        confirm_live: str = "",
        pacer: RequestPacer | None = None,
        product: str = "MCL",
        auto_reconnect: bool = False,
    ) -> None:
        self.host, self.port, self.client_id, self.timeout = host, port, client_id, timeout
        self.live = live and confirm_live == LIVE_CONFIRMATION
        if live and not self.live:
            raise LiveTradingRefused(
                "live=True needs the typed confirmation",
                hint=HOW_TO_GO_LIVE,
            )
        self.ib = IB()
        self.pacer = pacer or RequestPacer()
        self.spec = contract_spec(product)
        self.account = ""
        self.subscriptions: list[BarSubscription] = []
        self.notices: list[tuple[int, str]] = []
        self._placed: dict[str, PlacedOrder] = {}
        self.link = Connectivity()
        self.auto_reconnect = auto_reconnect
        self._was_connected = False
        self._reconnect_task: asyncio.Task[None] | None = None
        self._time_lock = asyncio.Lock()
        self.ib.errorEvent += self._on_error
        self.expected_cancels = ExpectedCancels()
        logging.getLogger("ib_async.wrapper").addFilter(self.expected_cancels)
        self.ib.disconnectedEvent += self._on_disconnected

    # ------------------------------------------------------------------ session
    def check_port(self) -> None:
        """Refuse a live port unless live trading was confirmed."""
        if self.port in LIVE_PORTS and not self.live:
            raise LiveTradingRefused(
                f"port {self.port} is a live trading port ({_ports(LIVE_PORT_NAMES)}); refused",
                hint=f"use a paper port ({_ports(PAPER_PORT_NAMES)}); {HOW_TO_GO_LIVE}",
            )

    def check_account(self) -> None:
        """Refuse a non-paper account (ids not starting with ``DU``) unless confirmed."""
        if not self.account:
            raise ConfigError("not connected: call connect() first")
        if not self.account.startswith("DU") and not self.live:
            raise LiveTradingRefused(
                f"account {self.account[:1]}***{self.account[-2:]} is not a paper account "
                "(paper ids start with 'DU'); "
                "no order will be sent",
                hint=f"connect to a paper account; {HOW_TO_GO_LIVE}",
            )

    async def connect(self) -> None:
        """Connect, check the port and account, and restore bar subscriptions (filling the
        bars missed while away from history).

        Raises
        ------
        LiveTradingRefused
            A live port or account without confirmation (checked before the socket opens
            for the port, right after the handshake for the account; then disconnected).
        GatewayUnreachable
            The gateway did not answer in time (a ``ConnectionError``).
        """
        self.check_port()
        logging.getLogger("ib_async.wrapper").addFilter(self.expected_cancels)  # once
        self.link.connecting()
        try:
            await self.ib.connectAsync(
                self.host, self.port, clientId=self.client_id, timeout=self.timeout
            )
        except (TimeoutError, OSError) as exc:
            self.ib.disconnect()
            self.link.connect_failed()
            raise GatewayUnreachable(
                f"no IB API at {self.host}:{self.port} (client id {self.client_id}): {exc!r}",
                hint="start TWS or IB Gateway on a paper login, or the simulator: workbench "
                f"ib-gateway-sim --port {self.port}",
            ) from exc
        accounts = self.ib.managedAccounts()
        self.account = accounts[0] if accounts else ""
        try:
            self.check_account()
        except LiveTradingRefused:
            self.link.closed_by_user()
            self.ib.disconnect()
            raise
        action = self.link.connected(restored=self._was_connected)
        self._was_connected = True
        if action is Action.RESUBSCRIBE or any(s.active for s in self.subscriptions):
            await self.restore_subscriptions()

    def disconnect(self) -> None:
        """Close the connection and stop reconnecting (subscriptions are kept and restored by
        the next :meth:`connect`)."""
        self.link.closed_by_user()
        if self._reconnect_task is not None:
            self._reconnect_task.cancel()
            self._reconnect_task = None
        self.ib.disconnect()
        logging.getLogger("ib_async.wrapper").removeFilter(self.expected_cancels)

    @property
    def is_connected(self) -> bool:
        """Whether the API connection is up."""
        return bool(self.ib.isConnected())

    def _on_disconnected(self) -> None:
        action = self.link.socket_closed()
        if action is Action.RECONNECT and self.auto_reconnect:
            self._spawn_reconnect()

    def _spawn_reconnect(self) -> None:
        if self._reconnect_task is None or self._reconnect_task.done():
            self._reconnect_task = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        """Reconnect with exponential backoff, same client id, once the socket has closed."""
        while self.link.wanted and not self.is_connected:
            await asyncio.sleep(self.link.backoff)
            if not self.link.wanted:
                return
            try:
                await self.connect()
            except ConnectionError as exc:
                log.warning("reconnect attempt %d failed: %s", self.link.attempts, exc)
            except LiveTradingRefused:
                return

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Wait until the connection is up again (after a drop, with auto-reconnect)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (timeout if timeout is not None else self.timeout)
        while not (self.is_connected and self.link.state is LinkState.CONNECTED):
            if loop.time() > deadline:
                raise TimeoutError(f"not reconnected to {self.host}:{self.port} in time")
            await asyncio.sleep(0.02)

    def _on_error(self, req_id: int, code: int, text: str, contract: Any = None) -> None:
        if req_id == -1 or code in (1100, 1101, 1102):
            self.notices.append((code, text))
        action = self.link.code(code)
        if action is Action.RESUBSCRIBE and self.subscriptions:
            asyncio.get_running_loop().create_task(self.restore_subscriptions())
        elif action is Action.FILL_GAP and self.subscriptions:
            asyncio.get_running_loop().create_task(self.restore_subscriptions(resubscribe=False))

    async def restore_subscriptions(self, resubscribe: bool = True) -> None:
        """Request every active bar feed again and fill the bars missed from history."""
        for sub in self.subscriptions:
            if not sub.active:
                continue
            if resubscribe:
                sub.aggregator.restart()
                self._request_bars(sub)
            await self._fill_gap(sub)

    async def _fill_gap(self, sub: BarSubscription) -> None:
        """Bars that ended between the last one emitted and now, from history."""
        size = _BAR_SIZE_NAMES.get(sub.seconds)
        if not sub.bars or size is None:
            return
        now_ns = int((await self.server_time()).timestamp()) * NS
        last_end = sub.bars[-1].end
        if now_ns - last_end < sub.seconds * NS:
            return
        span = (now_ns - last_end) // NS + sub.seconds
        frame = await self.historical_bars(sub.contract, f"{span} S", size)
        for ts, row in frame.iterrows():
            start = int(pd.Timestamp(ts).value)
            if start >= last_end and start + sub.seconds * NS <= now_ns:
                sub.gap_filled += 1
                sub.emit(LiveBar(start, sub.seconds, row.open, row.high, row.low, row.close,
                                 float(row.volume)))  # fmt: skip

    async def _fill_one(self, sub: BarSubscription, bar: LiveBar) -> None:
        """A bar that straddled a resubscription: the whole bar from history."""
        size = _BAR_SIZE_NAMES.get(sub.seconds)
        if size is None:
            return
        end = dt.datetime.fromtimestamp(bar.end // NS, dt.UTC)
        frame = await self.historical_bars(sub.contract, f"{sub.seconds} S", size, end=end)
        for ts, row in frame.iterrows():
            if int(pd.Timestamp(ts).value) == bar.ts:
                sub.gap_filled += 1
                sub.emit(LiveBar(bar.ts, sub.seconds, row.open, row.high, row.low, row.close,
                                 float(row.volume)))  # fmt: skip

    def _on_partial(self, sub: BarSubscription, bar: LiveBar) -> None:
        asyncio.get_running_loop().create_task(self._fill_one(sub, bar))

    # ---------------------------------------------------------------- contracts
    async def server_time(self) -> dt.datetime:
        """The gateway's clock (UTC). Calls are serialised: ib-async keys every current-time
        request alike, so two at once would lose one answer."""
        async with self._time_lock:
            now = await asyncio.wait_for(self.ib.reqCurrentTimeAsync(), self.timeout)
        return now.astimezone(dt.UTC)

    async def server_date(self) -> dt.date:
        """Today's date at the gateway (UTC), which decides the front month."""
        return (await self.server_time()).date()

    async def get_mcl_contract(self, expiry: str | None = None, roll_days: int = 0) -> Contract:
        """The qualified MCL contract (conId, localSymbol such as ``MCLZ5``).

        Parameters
        ----------
        expiry : str, optional
            ``None`` for the front month; a contract month ``"202503"``, a local symbol
            ``"MCLH5"``, or a last trade date ``"20250219"``.
        roll_days : int
            With ``expiry=None``, skip a contract within this many calendar days of its
            last trade date.

        Raises
        ------
        ConfigError
            If no listed contract matches.
        """
        listed = await self.listed_contracts()
        if expiry is None:
            today = await self.server_date()
            cutoff = (today + dt.timedelta(days=roll_days)).strftime("%Y%m%d")
            for last, _, c in listed:
                if last >= cutoff:
                    return c
            raise ConfigError(f"every listed {self.spec.root} contract expires before {cutoff}")
        want = expiry.strip().upper()
        if want[:1].isalpha():
            try:
                parse_symbol(want)
            except ValueError as exc:
                raise ConfigError(f"expiry {expiry!r}: {exc}", hint="e.g. MCLZ5") from None
        for last, c_month, c in listed:
            if want in (c.localSymbol, c_month, last):
                return c
        names = ", ".join(c.localSymbol for _, _, c in listed)
        raise ConfigError(
            f"no listed {self.spec.root} contract matches expiry {expiry!r}",
            hint=f"listed: {names} (give a month YYYYMM, a symbol like MCLZ5 or a date YYYYMMDD)",
        )

    async def front_contract(self, trade_date: dt.date, roll_days: int) -> Contract:
        """The contract a calendar-rolled continuous series holds on ``trade_date``.

        The first listed contract whose roll date (:func:`~workbench.adapters.ib.contracts.
        roll_date`: ``roll_days`` CME business days before its last trade date) is after
        ``trade_date``: ``load_bars(roll="calendar", roll_days=roll_days)``'s choice.

        Raises
        ------
        ConfigError
            If every listed contract is past its roll date.
        """
        for last, _, c in await self.listed_contracts():
            expiry = dt.datetime.strptime(last, "%Y%m%d").date()
            if roll_date(expiry, roll_days) > trade_date:
                return c
        raise ConfigError(
            f"every listed {self.spec.root} contract is within {roll_days} business days of "
            f"its last trade date on {trade_date}"
        )

    async def listed_contracts(self) -> list[tuple[str, str, Contract]]:
        """IB's listed contracts of the product, by last trade date: ``(YYYYMMDD of the last
        trade date, YYYYMM contract month, qualified contract)``; a last trade date differing
        from :mod:`workbench.market`'s expiry rule is logged."""
        query = Future(symbol=self.spec.root, exchange=self.spec.exchange, currency="USD")
        details = await asyncio.wait_for(self.ib.reqContractDetailsAsync(query), self.timeout)
        if not details:
            raise ConfigError(f"IB lists no {self.spec.root} futures on {self.spec.exchange}")
        listed = []
        for d in details:
            c = d.contract
            assert c is not None
            year, month = int(d.contractMonth[:4]), int(d.contractMonth[4:6])
            ours = self.spec.last_trade_date(year, month).strftime("%Y%m%d")
            if c.lastTradeDateOrContractMonth[:8] != ours:
                log.warning(
                    "%s: IB's last trade date %s differs from the expiry rule's %s",
                    c.localSymbol,
                    c.lastTradeDateOrContractMonth,
                    ours,
                )
            listed.append((c.lastTradeDateOrContractMonth[:8], d.contractMonth, c))
        listed.sort(key=lambda t: t[0])
        return listed

    # ------------------------------------------------------------------- orders
    async def place_order(
        self, order: Order, contract: Contract | None = None, *, wait_ack: bool = True
    ) -> PlacedOrder:
        """Send one order intent; returns once IB acknowledged it (unless ``wait_ack=False``).

        Raises
        ------
        LiveTradingRefused
            Not a paper account and live trading not confirmed (nothing is sent).
        ValueError
            The ``order_ref`` was already used by this client.
        """
        self.check_account()
        if order.order_ref in self._placed:
            raise ValueError(f"order_ref {order.order_ref!r} was already sent")
        c = contract or await self.get_mcl_contract()
        placed = PlacedOrder(order, self.ib.placeOrder(c, self.ib_order(order)))
        self._placed[order.order_ref] = placed
        if wait_ack:
            await placed.wait(
                OrderStatus.WORKING,
                OrderStatus.PARTIALLY_FILLED,
                OrderStatus.FILLED,
                OrderStatus.CANCELLED,
                OrderStatus.REJECTED,
                timeout=self.timeout,
            )
        return placed

    def ib_order(self, order: Order, **extra: Any) -> IBOrder:
        """The ib-async order for ``order`` (``orderRef`` its reference, prices on the tick).

        ``extra`` sets further IB order fields (``ocaGroup``, ``transmit``, ``parentId``).
        """
        action = "BUY" if order.side is Side.BUY else "SELL"
        qty = float(order.quantity)
        ib_order: IBOrder
        if order.order_type is OrderType.MARKET:
            ib_order = MarketOrder(action, qty)
        elif order.order_type is OrderType.LIMIT:
            assert order.limit_price is not None
            ib_order = LimitOrder(action, qty, self.round_to_tick(order.limit_price))
        elif order.order_type is OrderType.STOP:
            assert order.stop_price is not None
            ib_order = StopOrder(action, qty, self.round_to_tick(order.stop_price))
        else:
            raise ValueError(f"order type {order.order_type.value} is not supported on IB here")
        ib_order.orderRef = order.order_ref
        ib_order.tif = _TIF[order.time_in_force]
        ib_order.account = self.account
        for key, value in extra.items():
            setattr(ib_order, key, value)
        return ib_order

    def round_to_tick(self, price: float) -> float:
        """``price`` rounded to the contract's tick (IB refuses other prices)."""
        tick = self.spec.tick_size
        return round(round(price / tick) * tick, 10)

    def submit(self, contract: Contract, order: Order, *, oca_group: str = "") -> Trade:
        """Send ``order`` without waiting for an answer (a one-cancels-all group with
        ``oca_group``); ib-async's ``Trade`` follows its states and fills."""
        extra: dict[str, Any] = {"ocaGroup": oca_group, "ocaType": 1} if oca_group else {}
        trade = self.ib.placeOrder(contract, self.ib_order(order, **extra))
        if oca_group:
            self.expected_cancels.oca_ids.add(trade.order.orderId)
        return trade

    def cancel(self, trade: Trade) -> None:
        """Cancel ``trade``'s order (and, for a parent, its children), its 202 not logged."""
        order_id = trade.order.orderId
        self.expected_cancels.order_ids.add(order_id)
        self.expected_cancels.order_ids.update(
            t.order.orderId for t in self.ib.trades() if t.order.parentId == order_id
        )
        self.ib.cancelOrder(trade.order)

    def move_stop(self, trade: Trade, stop_price: float) -> None:
        """Move a working stop's trigger to ``stop_price`` (same order id, new ``auxPrice``)."""
        trade.order.auxPrice = self.round_to_tick(stop_price)
        self.ib.placeOrder(trade.contract, trade.order)

    def find_trade(self, order_ref: str) -> tuple[Trade | None, list[IBFill]]:
        """IB's ``Trade`` for ``order_ref`` (open or done, this API session's or an earlier
        one's with the same client id) and its executions; ``(None, [])`` if IB has neither."""
        trade = next((t for t in self.ib.trades() if t.order.orderRef == order_ref), None)
        fills = [f for f in self.ib.fills() if f.execution.orderRef == order_ref]
        return trade, fills

    async def place_market_order(
        self, side: Side, quantity: int, *, contract: Contract | None = None, order_ref: str = ""
    ) -> PlacedOrder:
        """A market order (fills at the next price)."""
        self.check_account()
        c = contract or await self.get_mcl_contract()
        intent = Order(order_ref or new_order_ref(), c.localSymbol, side, quantity)
        return await self.place_order(intent, c)

    async def place_limit_order(
        self,
        side: Side,
        quantity: int,
        limit_price: float,
        *,
        contract: Contract | None = None,
        order_ref: str = "",
        time_in_force: TimeInForce = TimeInForce.DAY,
    ) -> PlacedOrder:
        """A limit order at ``limit_price`` (rounded to the tick)."""
        self.check_account()
        contract = contract or await self.get_mcl_contract()
        intent = Order(
            order_ref or new_order_ref(),
            contract.localSymbol,
            side,
            quantity,
            OrderType.LIMIT,
            limit_price=limit_price,
            time_in_force=time_in_force,
        )
        return await self.place_order(intent, contract)

    async def place_stop_order(
        self,
        side: Side,
        quantity: int,
        stop_price: float,
        *,
        contract: Contract | None = None,
        order_ref: str = "",
        time_in_force: TimeInForce = TimeInForce.DAY,
    ) -> PlacedOrder:
        """A stop (market) order triggered at ``stop_price``."""
        self.check_account()
        contract = contract or await self.get_mcl_contract()
        intent = Order(
            order_ref or new_order_ref(),
            contract.localSymbol,
            side,
            quantity,
            OrderType.STOP,
            stop_price=stop_price,
            time_in_force=time_in_force,
        )
        return await self.place_order(intent, contract)

    async def place_bracket_order(
        self,
        side: Side,
        quantity: int,
        take_profit: float,
        stop_loss: float,
        *,
        entry_price: float | None = None,
        contract: Contract | None = None,
        order_ref: str = "",
    ) -> BracketOrders:
        """Entry (market, or limit at ``entry_price``) with a take-profit limit and a stop.

        The children carry ``parentId`` and are transmitted with the last one, as IB
        requires; they work once the entry fills and one cancels the other. Their
        ``orderRef`` is the entry's plus ``-tp`` / ``-sl``.
        """
        self.check_account()
        sign = 1 if side is Side.BUY else -1
        if (take_profit - stop_loss) * sign <= 0:
            raise ValueError(
                f"a {side.name} bracket needs take_profit on the profit side of stop_loss "
                f"(got take_profit={take_profit}, stop_loss={stop_loss})"
            )
        c = contract or await self.get_mcl_contract()
        ref = order_ref or new_order_ref()
        symbol = c.localSymbol
        exit_side = Side.SELL if side is Side.BUY else Side.BUY
        entry = Order(
            ref,
            symbol,
            side,
            quantity,
            OrderType.MARKET if entry_price is None else OrderType.LIMIT,
            limit_price=entry_price,
        )
        tp = Order(
            f"{ref}-tp", symbol, exit_side, quantity, OrderType.LIMIT, limit_price=take_profit
        )
        sl = Order(f"{ref}-sl", symbol, exit_side, quantity, OrderType.STOP, stop_price=stop_loss)
        for o in (entry, tp, sl):
            if o.order_ref in self._placed:
                raise ValueError(f"order_ref {o.order_ref!r} was already sent")
        parent_ib = self.ib_order(entry, transmit=False)
        parent_ib.orderId = self.ib.client.getReqId()
        tp_ib = self.ib_order(tp, transmit=False, parentId=parent_ib.orderId)
        sl_ib = self.ib_order(sl, transmit=True, parentId=parent_ib.orderId)
        placed = [
            PlacedOrder(o, self.ib.placeOrder(c, ib_o))
            for o, ib_o in ((entry, parent_ib), (tp, tp_ib), (sl, sl_ib))
        ]
        self.expected_cancels.oca_ids.update((tp_ib.orderId, sl_ib.orderId))  # siblings
        for p in placed:
            self._placed[p.order_ref] = p
        for p in placed:
            await p.wait(
                OrderStatus.WORKING,
                OrderStatus.FILLED,
                OrderStatus.CANCELLED,
                OrderStatus.REJECTED,
                timeout=self.timeout,
            )
        return BracketOrders(*placed)

    async def cancel_order(self, order: PlacedOrder | str) -> OrderStatus:
        """Cancel a working order (by handle or ``order_ref``); returns its final status."""
        placed = self._placed.get(order) if isinstance(order, str) else order
        if placed is None:
            raise ValueError(f"no order with order_ref {order!r} was sent by this client")
        if placed.status.is_done:
            return placed.status
        self.cancel(placed.trade)
        return await placed.wait(timeout=self.timeout)

    def placed_orders(self) -> dict[str, PlacedOrder]:
        """Every order this client sent, by ``order_ref``."""
        return dict(self._placed)

    # --------------------------------------------------------- account and data
    def get_positions(self) -> list[BrokerPosition]:
        """Open positions as IB reports them (kept current by the connection)."""
        out = []
        for p in self.ib.positions():
            if not p.position:
                continue
            mult = float(p.contract.multiplier or self.spec.multiplier)
            out.append(
                BrokerPosition(
                    symbol=p.contract.localSymbol,
                    con_id=p.contract.conId,
                    quantity=int(p.position),
                    avg_price=p.avgCost / mult,
                    account=p.account,
                )
            )
        return out

    async def get_account_summary(self) -> dict[str, float]:
        """Account values in the account currency (NetLiquidation, AvailableFunds, ...)."""
        values = await asyncio.wait_for(self.ib.accountSummaryAsync(self.account), self.timeout)
        out: dict[str, float] = {}
        for v in values:
            try:
                out[v.tag] = float(v.value)
            except ValueError:
                continue
        return out

    async def historical_bars(
        self,
        contract: Contract | None = None,
        duration: str = "1 D",
        bar_size: str = "1 min",
        end: str | dt.datetime = "",
    ) -> pd.DataFrame:
        """Historical bars to warm indicators up, paced under IB's limits.

        Returns
        -------
        pandas.DataFrame
            Indexed by bar start (UTC), columns ``open high low close volume``.
        """
        c = contract or await self.get_mcl_contract()
        await self.pacer.acquire((c.conId, duration, bar_size, str(end)))
        bars = await asyncio.wait_for(
            self.ib.reqHistoricalDataAsync(
                c, end, duration, bar_size, "TRADES", useRTH=False, formatDate=2
            ),
            self.timeout,
        )
        frame = pd.DataFrame(
            {
                "open": [b.open for b in bars],
                "high": [b.high for b in bars],
                "low": [b.low for b in bars],
                "close": [b.close for b in bars],
                "volume": [b.volume for b in bars],
            },
            index=pd.DatetimeIndex([pd.Timestamp(b.date) for b in bars], name="ts_event"),
        )
        if len(frame) and frame.index.tz is None:
            frame.index = frame.index.tz_localize("UTC")
        return frame

    def subscribe_bars(
        self,
        contract: Contract,
        seconds: int = 60,
        callback: Callable[[LiveBar], Any] | None = None,
    ) -> BarSubscription:
        """Real-time 5-second bars aggregated to ``seconds``; ``callback(bar)`` at each bar's end.

        The subscription is restored after a 1101 notice (market data lost) and after
        :meth:`connect` following a disconnect.
        """
        sub = BarSubscription(contract, seconds, callback, BarAggregator(seconds))
        sub.on_partial = self._on_partial
        self.subscriptions.append(sub)
        self._request_bars(sub)
        return sub

    def unsubscribe_bars(self, sub: BarSubscription) -> None:
        """Stop a bar subscription."""
        sub.active = False
        if sub.ib_bars is not None and self.is_connected:
            self.ib.cancelRealTimeBars(sub.ib_bars)
        if sub in self.subscriptions:
            self.subscriptions.remove(sub)

    def _request_bars(self, sub: BarSubscription) -> None:
        if sub.ib_bars is not None:
            sub.ib_bars.updateEvent -= sub._on_update
            if self.is_connected:
                self.ib.cancelRealTimeBars(sub.ib_bars)
        sub.ib_bars = self.ib.reqRealTimeBars(sub.contract, 5, "TRADES", False)
        sub.ib_bars.updateEvent += sub._on_update


def to_fill(f: IBFill) -> Fill:
    """An ib-async fill as the model's :class:`~workbench.model.Fill`."""
    ex = f.execution
    return Fill(
        time=int(ex.time.timestamp() * NS),
        symbol=f.contract.localSymbol,
        side=Side.BUY if ex.side == "BOT" else Side.SELL,
        quantity=int(ex.shares),
        price=float(ex.price),
        commission=float(f.commissionReport.commission),
        order_ref=ex.orderRef,
    )


_ORDER_TYPES = {"MKT": OrderType.MARKET, "LMT": OrderType.LIMIT, "STP": OrderType.STOP}


def intent_of(order_ref: str, trade: Trade | None, fills: list[IBFill]) -> Order:
    """The model's :class:`~workbench.model.Order` behind an IB order found by reference
    (an order of an earlier run of the session, adopted after a restart)."""
    if trade is not None:
        o = trade.order
        kind = _ORDER_TYPES.get(o.orderType, OrderType.MARKET)
        return Order(
            order_ref,
            trade.contract.localSymbol,
            Side.BUY if o.action == "BUY" else Side.SELL,
            int(o.totalQuantity),
            kind,
            limit_price=float(o.lmtPrice or 0) if kind is OrderType.LIMIT else None,
            stop_price=float(o.auxPrice or 0) if kind is OrderType.STOP else None,
        )
    ex = fills[0].execution
    return Order(
        order_ref,
        fills[0].contract.localSymbol,
        Side.BUY if ex.side == "BOT" else Side.SELL,
        int(sum(f.execution.shares for f in fills)),
    )
