"""A simulated IB Gateway: the TWS API wire protocol on 127.0.0.1, for the unmodified ib-async.

IB Gateway cannot run everywhere (it needs an IB login, Java and a display or IBC), so this
server speaks its socket protocol (server version 178) to the real ``ib_async.IB`` client: the
handshake and everything ``IB.connect()`` waits for, MCL contract details, orders (market,
limit, stop, brackets through ``parentId``/``transmit``) filled on a replayed feed of 5-second
bars with IBKR-like commissions, cancels, positions, portfolio and account values, real-time
and historical bars, errors and notices. On command it drops connections, restarts (same
account, order ids continue), rejects the next order, delays its answers, and sends the
connectivity (1100/1101/1102) and farm (2103/2104/2105/2106/2158) notices: for fault tests and
rehearsals with no TWS. ``workbench ib-gateway-sim --port 4002`` runs it.

The server runs on its own event loop in a background thread; the control methods
(:meth:`SimulatedGateway.step`, :meth:`~SimulatedGateway.drop_connections`, ...) may be
called from any other thread. With ``speed=0`` (the default in Python) the market moves only
when :meth:`~SimulatedGateway.step` is called, so a test is deterministic.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from workbench.adapters.ib import messages as m
from workbench.adapters.ib.account import (
    Event,
    Executed,
    OrderChanged,
    OrderError,
    SimAccount,
    SimOrder,
)
from workbench.adapters.ib.contracts import ContractQuery, IBFuture, con_id_for, listed_contracts
from workbench.adapters.ib.control import serve_control
from workbench.adapters.ib.feed import NS, RT_SECONDS, Bar, BarFeed, ContractFeeds
from workbench.adapters.ib.protocol import (
    API_PREFIX,
    MIN_CLIENT_VERSION,
    SERVER_VERSION,
    FrameReader,
    ProtocolError,
    encode,
    ib_time,
    parse_version_range,
)
from workbench.market.contracts import parse_symbol

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Bar sizes ``reqHistoricalData`` accepts, in seconds.
BAR_SIZES: dict[str, int] = {
    "5 secs": 5, "10 secs": 10, "15 secs": 15, "30 secs": 30,
    "1 min": 60, "2 mins": 120, "3 mins": 180, "5 mins": 300, "10 mins": 600,
    "15 mins": 900, "20 mins": 1200, "30 mins": 1800, "1 hour": 3600, "2 hours": 7200,
    "3 hours": 10800, "4 hours": 14400, "8 hours": 28800, "1 day": 86400,
}  # fmt: skip
_DURATION_UNITS = {"S": 1, "D": 86_400, "W": 7 * 86_400, "M": 31 * 86_400, "Y": 365 * 86_400}
#: The most 5-second bars one historical request may aggregate (IB limits small bars too).
MAX_SUB_BARS = 20_000


@dataclass(frozen=True)
class GatewayConfig:
    """Settings of a simulated gateway.

    Parameters
    ----------
    host : str
        Interface; only loopback addresses are accepted.
    port : int
        TCP port (0: any free port; IB's paper gateway uses 4002, paper TWS 7497).
    account : str
        The account id: ``DU`` + digits is a paper account (the default); another id
        (``U1234567``) plays a live account, to rehearse the client's refusal.
    cash : float
        Starting cash, dollars.
    commission : float
        Dollars per contract per side.
    speed : float
        Replay speed: 1.0 publishes one 5-second bar every 5 s, 10.0 every 0.5 s; 0 publishes
        bars only on :meth:`SimulatedGateway.step`.
    pacing_requests, pacing_window : int, float
        Historical requests allowed per window (seconds) before error 162, as IB's
        "60 requests in 10 minutes" rule.
    root : str
        Product served (``MCL``).
    control_port : int, optional
        Also listen for line commands (``drop``, ``restart 5``, ``notice 1101``, ...; see
        :mod:`workbench.adapters.ib.control`) on this loopback port (0: any free port).
    """

    host: str = "127.0.0.1"
    port: int = 4002
    account: str = "DU1234567"
    cash: float = 100_000.0
    commission: float = 1.25
    speed: float = 0.0
    pacing_requests: int = 60
    pacing_window: float = 600.0
    root: str = "MCL"
    control_port: int | None = None

    def __post_init__(self) -> None:
        if self.host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"the simulated gateway listens on loopback only, not {self.host!r}")
        letters = self.account.rstrip("0123456789")
        if not (1 <= len(letters) <= 2 and letters.isalpha() and len(self.account) > len(letters)):
            raise ValueError(
                f"account must be letters and digits like IB's, e.g. 'DU1234567' "
                f"(paper), got {self.account!r}"
            )
        if self.speed < 0:
            raise ValueError(f"speed must be >= 0, got {self.speed}")


@dataclass(eq=False)
class _Session:
    """One client connection."""

    writer: asyncio.StreamWriter
    peer: str
    client_id: int | None = None
    out: asyncio.Queue[list[bytes] | None] = field(default_factory=asyncio.Queue)
    positions: bool = False
    account_updates: bool = False
    multi: set[int] = field(default_factory=set)
    summaries: dict[int, set[str] | None] = field(default_factory=dict)
    rt_bars: dict[int, IBFuture] = field(default_factory=dict)
    mkt_data: dict[int, IBFuture] = field(default_factory=dict)

    def send(self, *messages: list[object]) -> None:
        """Queue messages for this client (written in order, after the configured delay)."""
        self.out.put_nowait([encode(msg) for msg in messages])


class SimulatedGateway:
    """The simulated IB Gateway server and its controls.

    Parameters
    ----------
    feed : BarFeed or ContractFeeds
        The market to replay: one path served for every contract (:meth:`BarFeed.from_catalog`,
        the continuous front month, or :meth:`BarFeed.from_prices`), or each contract's own
        bars (:meth:`ContractFeeds.from_catalog`: a session can roll from one to the next).
    config : GatewayConfig, optional
        Port, account, costs, speed, pacing.

    Examples
    --------
    >>> gw = SimulatedGateway(BarFeed.from_prices([70.0, 70.1, 70.2]), GatewayConfig(port=0))
    >>> port = gw.start()             # doctest: +SKIP
    >>> gw.step()                     # doctest: +SKIP
    >>> gw.stop()                     # doctest: +SKIP
    """

    def __init__(self, feed: BarFeed | ContractFeeds, config: GatewayConfig | None = None) -> None:
        self.config = config or GatewayConfig()
        self.market = feed if isinstance(feed, ContractFeeds) else ContractFeeds.single(feed)
        self.account = SimAccount(
            account=self.config.account, cash=self.config.cash, commission=self.config.commission
        )
        self.delay_ms = 0.0
        self.connected = True  # IB <-> gateway connectivity (1100 / 1101 / 1102)
        self._sessions: set[_Session] = set()
        self._server: asyncio.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._clock_task: asyncio.Task[None] | None = None
        self._hist_times: deque[float] = deque()
        self._port = self.config.port
        self._on_bar: list[Callable[[Bar], None]] = []
        self._control: asyncio.Server | None = None
        self.control_port: int | None = None

    # ----------------------------------------------------------------- lifecycle
    @property
    def host(self) -> str:
        """The interface it listens on."""
        return self.config.host

    @property
    def port(self) -> int:
        """The port it listens on (the bound one when configured with 0)."""
        return self._port

    def start(self) -> int:
        """Start the server on its own thread; returns the port once it listens."""
        if self._thread is not None:
            raise RuntimeError("the simulated gateway is already running")
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._listen())
                loop.run_until_complete(self._listen_control())
            except BaseException as exc:  # reported to start()'s caller
                failure.append(exc)
                ready.set()
                loop.close()
                return
            if self.config.speed > 0:
                self._clock_task = loop.create_task(self._clock())
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name="ib-gateway-sim", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        log.info(
            "simulated IB Gateway on %s:%d, account %s", self.host, self.port, self.config.account
        )
        return self.port

    def stop(self) -> None:
        """Close every connection and the listener, and end the thread."""
        if self._thread is None or self._loop is None:
            return
        loop = self._loop
        with contextlib.suppress(RuntimeError):
            self._call(self._shutdown())
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(timeout=10)
        self._thread = None
        self._loop = None

    def __enter__(self) -> SimulatedGateway:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        if self._loop is None:
            coro.close()
            raise RuntimeError("the simulated gateway is not running: call start() first")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _listen_control(self) -> None:
        if self.config.control_port is not None and self._control is None:
            self._control = await serve_control(self, self.config.host, self.config.control_port)
            self.control_port = self._control.sockets[0].getsockname()[1]

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(
            self._handle, self.config.host, self._port, reuse_address=True
        )
        self._port = self._server.sockets[0].getsockname()[1]

    async def _close_sessions(self) -> None:
        for s in list(self._sessions):
            s.writer.transport.abort()
        self._sessions.clear()
        await asyncio.sleep(0)

    async def _shutdown(self) -> None:
        if self._clock_task is not None:
            self._clock_task.cancel()
        if self._control is not None:
            self._control.close()
            self._control = None
        if self._server is not None:
            self._server.close()
        await self._close_sessions()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    # ------------------------------------------------------------------- controls
    def step(self, n: int = 1) -> list[Bar]:
        """Publish the next ``n`` 5-second bars: fills first, then the bars to subscribers.

        Returns the bars published: one per step, or, with :class:`ContractFeeds`, one per
        contract trading at each step.
        """
        return self._call(self._step(n))

    def drop_connections(self, client_id: int | None = None) -> int:
        """Cut client connections (one client id, or all) as a network failure would."""
        return self._call(self.drop(client_id))

    def restart(self, down_for: float = 0.0) -> None:
        """Close the listener and every connection, wait ``down_for`` s, listen again.

        The account, its positions, working orders and the order id sequence survive.
        """
        self._call(self.restart_async(down_for), timeout=down_for + 30)

    def reject_next_order(self, reason: str = "rejected on command (simulator)") -> None:
        """The next new order is rejected with error 201 and ``reason``."""
        self._call(self._run(lambda: self.account.reject_next.append(reason)))

    def set_delay(self, ms: float) -> None:
        """Delay every message to clients by ``ms`` milliseconds (0 to stop)."""
        if ms < 0:
            raise ValueError(f"delay must be >= 0 ms, got {ms}")
        self.delay_ms = float(ms)

    def send_notice(self, code: int, text: str | None = None) -> None:
        """Send an error/notice with reqId -1 to every client (e.g. 2103, 2105, 1100)."""
        self._call(self.notice(code, text))

    # The same controls as coroutines, for the control socket (on the server's loop).
    async def drop(self, client_id: int | None = None) -> int:
        """Coroutine of :meth:`drop_connections`."""
        victims = [s for s in self._sessions if client_id is None or s.client_id == client_id]
        for s in victims:
            s.writer.transport.abort()
            self._sessions.discard(s)
        return len(victims)

    async def restart_async(self, down_for: float = 0.0) -> None:
        """Coroutine of :meth:`restart`."""
        if self._server is not None:
            self._server.close()
        await self._close_sessions()
        if self._server is not None:
            await self._server.wait_closed()
        await asyncio.sleep(down_for)
        await self._listen()

    async def notice(self, code: int, text: str | None = None) -> None:
        """Coroutine of :meth:`send_notice`."""
        self._apply_connectivity(code)
        for s in self._ready_sessions():
            s.send(m.notice(code, text))

    async def step_async(self, n: int = 1) -> list[Bar]:
        """Coroutine of :meth:`step`."""
        return await self._step(n)

    def status(self) -> dict[str, Any]:
        """A snapshot: clock, clients, positions, working orders, account values."""
        return {
            "clock": ib_time(self.market.clock_ns()),
            "bars_published": self.market.cursor,
            "clients": sorted(s.client_id or 0 for s in self._ready_sessions()),
            "positions": {
                p.contract.local_symbol: p.quantity
                for p in self.account.positions.values()
                if p.quantity
            },
            "working_orders": [o.order_id for o in self.account.working()],
            "net_liquidation": round(self.account.values()["NetLiquidation"], 2),
            "connected_to_ib": self.connected,
            "delay_ms": self.delay_ms,
        }

    def connectivity_lost(self) -> None:
        """IB's servers are unreachable: 1100; real-time bars stop."""
        self.send_notice(1100)

    def connectivity_restored(self, data_lost: bool = True) -> None:
        """Back: 1101 (market data subscriptions were lost; clients must resubscribe) or
        1102 (kept)."""
        self.send_notice(1101 if data_lost else 1102)

    # ---------------------------------------------------------------- inspection
    def positions(self) -> dict[str, float]:
        """Open positions by local symbol (``{"MCLZ5": 2.0}``)."""
        return self._call(
            self._run(
                lambda: {
                    p.contract.local_symbol: p.quantity
                    for p in self.account.positions.values()
                    if p.quantity
                }
            )
        )

    def orders(self) -> list[SimOrder]:
        """Every order the gateway has seen (copies)."""
        return self._call(
            self._run(lambda: [dataclasses.replace(o) for o in self.account.orders.values()])
        )

    def account_values(self) -> dict[str, float]:
        """The account values by IB tag."""
        return self._call(self._run(self.account.values))

    def client_ids(self) -> list[int]:
        """Client ids of the connected clients."""
        return self._call(
            self._run(lambda: sorted(s.client_id or 0 for s in self._ready_sessions()))
        )

    def contracts(self) -> list[IBFuture]:
        """The contracts listed at the simulation's current date, front first."""
        return listed_contracts(self.config.root, self._today())

    def on_bar(self, callback: Callable[[Bar], None]) -> None:
        """Call ``callback(bar)`` on the server thread after each published bar."""
        self._on_bar.append(callback)

    async def _run(self, fn: Callable[[], T]) -> T:
        return fn()

    # --------------------------------------------------------------------- market
    def _today(self) -> dt.date:
        return dt.datetime.fromtimestamp(self.market.clock_ns() // NS, dt.UTC).date()

    async def _clock(self) -> None:
        interval = RT_SECONDS / self.config.speed
        next_at = time.monotonic()
        while not self.market.done:
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            await self._step(1)
        log.info("the replayed feed is exhausted; bars stop, the account stays up")

    async def _step(self, n: int) -> list[Bar]:
        out: list[Bar] = []
        for _ in range(n):
            index = self.market.cursor
            if self.market.done:
                break
            for symbol, bar in self.market.step():
                out.append(bar)
                self._dispatch(self.account.on_bar(bar, index, self._con_id(symbol)))
                self._publish_bar(bar, symbol)
                for cb in self._on_bar:
                    cb(bar)
        return out

    def _con_id(self, symbol: str) -> int | None:
        """The conId of a served contract (None: the one path serves every contract)."""
        if symbol == ContractFeeds.ANY:
            return None
        p = parse_symbol(symbol, self._today().year)
        return con_id_for(p.root, p.year, p.month)

    def _publish_bar(self, bar: Bar, symbol: str) -> None:
        if not self.connected:
            return
        secs = bar.ts // NS
        every = symbol == ContractFeeds.ANY
        for s in self._ready_sessions():
            for req_id, contract in s.rt_bars.items():
                if not every and contract.local_symbol != symbol:
                    continue
                s.send(
                    m.real_time_bar(
                        req_id, secs, bar.open, bar.high, bar.low, bar.close, bar.volume, bar.count
                    )
                )
            if s.account_updates and any(p.quantity for p in self.account.positions.values()):
                s.send(*self._portfolio_messages())

    def _apply_connectivity(self, code: int) -> None:
        if code == 1100:
            self.connected = False
        elif code in (1101, 1102):
            self.connected = True
            if code == 1101:  # market data lost: subscriptions are gone
                for s in self._sessions:
                    s.rt_bars.clear()
                    s.mkt_data.clear()

    # --------------------------------------------------------------- connections
    def _ready_sessions(self) -> list[_Session]:
        return [s for s in self._sessions if s.client_id is not None]

    async def _writer(self, s: _Session) -> None:
        """Write a session's queued messages in order; ``None`` flushes and closes it."""
        while (batch := await s.out.get()) is not None:
            if self.delay_ms:
                await asyncio.sleep(self.delay_ms / 1000)
            if s.writer.is_closing():
                return
            s.writer.write(b"".join(batch))
            with contextlib.suppress(ConnectionError):
                await s.writer.drain()
        s.writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = str(writer.get_extra_info("peername"))
        s = _Session(writer, peer)
        writer_task = asyncio.create_task(self._writer(s))
        try:
            await self._handshake(reader, s)
            frames = FrameReader()
            while data := await reader.read(65536):
                frames.feed(data)
                for fields in frames.messages():
                    self._on_message(s, fields)
        except (ProtocolError, asyncio.IncompleteReadError) as exc:
            log.warning("closing %s: %s", peer, exc)
        except ConnectionError:
            pass
        finally:
            self._sessions.discard(s)
            s.out.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await asyncio.wait_for(writer_task, 5)
            writer.close()

    async def _handshake(self, reader: asyncio.StreamReader, s: _Session) -> None:
        prefix = await reader.readexactly(len(API_PREFIX))
        if prefix != API_PREFIX:
            raise ProtocolError(f"expected {API_PREFIX!r}, got {prefix!r}")
        size = int.from_bytes(await reader.readexactly(4), "big")
        low, high = parse_version_range(await reader.readexactly(size))
        if high < MIN_CLIENT_VERSION:
            raise ProtocolError(
                f"client versions {low}..{high} are too old (need {MIN_CLIENT_VERSION})"
            )
        self._sessions.add(s)
        now = ib_time(self.market.clock_ns())
        s.out.put_nowait([encode([min(high, SERVER_VERSION), now])])

    def _on_message(self, s: _Session, f: list[str]) -> None:
        try:
            msg_id = int(f[0])
        except (ValueError, IndexError):
            log.warning("%s sent a message without an id: %r", s.peer, f[:3])
            return
        handler = self._handlers.get(msg_id)
        if handler is None:
            log.debug("ignoring message %d from client %s", msg_id, s.client_id)
            return
        if s.client_id is None and msg_id != m.IN_START_API:
            return
        try:
            handler(self, s, f)
        except (IndexError, ValueError) as exc:
            log.warning("bad message %d from client %s: %s", msg_id, s.client_id, exc)
            req = _int(f[2]) if len(f) > 2 else -1
            s.send(m.error(req, 320, f"Error reading request: {exc}"))

    # ------------------------------------------------------------------ handlers
    def _start_api(self, s: _Session, f: list[str]) -> None:
        client_id = int(f[2])
        if any(o.client_id == client_id for o in self._ready_sessions() if o is not s):
            s.send(
                m.error(
                    -1,
                    326,
                    "Unable to connect as the client id is already in use. "
                    "Retry with a unique client id.",
                )
            )
            s.out.put_nowait(None)
            self._sessions.discard(s)
            return
        s.client_id = client_id
        s.send(
            m.next_valid_id(self.account.next_order_id),
            m.managed_accounts([self.config.account]),
            m.notice(2104),
            m.notice(2106),
            m.notice(2158),
        )

    def _req_ids(self, s: _Session, f: list[str]) -> None:
        s.send(m.next_valid_id(self.account.next_order_id))

    def _req_current_time(self, s: _Session, f: list[str]) -> None:
        s.send(m.current_time(self.market.clock_ns() // NS))

    def _req_managed_accts(self, s: _Session, f: list[str]) -> None:
        s.send(m.managed_accounts([self.config.account]))

    def _resolve(self, f: list[str], at: int) -> list[IBFuture]:
        query = ContractQuery.from_fields(f[at : at + 12])
        if query.root != self.config.root:
            return []
        return [c for c in self.contracts() if query.matches(c)]

    def _req_contract_data(self, s: _Session, f: list[str]) -> None:
        req_id = int(f[2])
        found = self._resolve(f, 3)
        if not found:
            s.send(m.error(req_id, 200, "No security definition has been found for the request"))
            return
        s.send(*(m.contract_data(req_id, c) for c in found), m.contract_data_end(req_id))

    def _place_order(self, s: _Session, f: list[str]) -> None:
        order_id = int(f[1])
        assert s.client_id is not None
        found = self._resolve(f, 2)
        if len(found) != 1:
            what = (
                "No security definition has been found for the request"
                if not found
                else ("The contract description specified is ambiguous")
            )
            s.send(m.error(order_id, 200, what))
            return
        order = SimOrder(
            order_id=order_id,
            client_id=s.client_id,
            perm_id=0,
            contract=found[0],
            action=f[16],
            quantity=float(f[17] or 0),
            order_type=f[18],
            lmt_price=_float(f[19]),
            aux_price=_float(f[20]),
            tif=f[21] or "DAY",
            oca_group=f[22],
            account=f[23] or self.config.account,
            order_ref=f[26],
            transmit=f[27] != "0",
            parent_id=_int(f[28]),
        )
        if order.account != self.config.account:
            s.send(
                m.error(
                    order_id,
                    201,
                    f"Order rejected - reason:account {order.account} is not {self.config.account}",
                )
            )
            return
        self._dispatch(self.account.place(order, self.market.cursor))

    def _cancel_order(self, s: _Session, f: list[str]) -> None:
        assert s.client_id is not None
        self._dispatch(self.account.cancel(s.client_id, int(f[2])))

    def _global_cancel(self, s: _Session, f: list[str]) -> None:
        self._dispatch(self.account.cancel_all())

    def _order_messages(self, client_id: int | None) -> list[list[object]]:
        out: list[list[object]] = []
        for o in self.account.working(None if client_id == 0 else client_id):
            v = o.view()
            out += [m.open_order(v), m.order_status(v)]
        return out

    def _req_open_orders(self, s: _Session, f: list[str]) -> None:
        s.send(*self._order_messages(s.client_id), m.open_order_end())

    def _req_all_open_orders(self, s: _Session, f: list[str]) -> None:
        s.send(*self._order_messages(0), m.open_order_end())

    def _req_completed_orders(self, s: _Session, f: list[str]) -> None:
        s.send(m.completed_orders_end())

    def _req_executions(self, s: _Session, f: list[str]) -> None:
        req_id = int(f[2])
        want_client = _int(f[3])
        out: list[list[object]] = []
        for e in self.account.executions:
            if want_client and e.client_id != want_client:
                continue
            out += [m.execution_data(req_id, e, ib_time(e.time_ns)), m.commission_report(e)]
        s.send(*out, m.execution_data_end(req_id))

    def _position_messages(self) -> list[list[object]]:
        return [
            m.position(self.config.account, p.contract, p.quantity, round(p.avg_cost, 6))
            for p in self.account.positions.values()
        ]

    def _req_positions(self, s: _Session, f: list[str]) -> None:
        s.positions = True
        s.send(*self._position_messages(), m.position_end())

    def _cancel_positions(self, s: _Session, f: list[str]) -> None:
        s.positions = False

    def _value_rows(self) -> list[tuple[str, str, str]]:
        rows = [
            ("AccountCode", self.config.account, ""),
            ("AccountType", "INDIVIDUAL", ""),
            ("Currency", "USD", "USD"),
        ]
        rows += [(k, f"{v:.2f}", "USD") for k, v in self.account.values().items()]
        return rows

    def _portfolio_messages(self) -> list[list[object]]:
        out: list[list[object]] = []
        for p in self.account.positions.values():
            mark = self.account.marks.get(
                p.contract.con_id, self.market.last_price(p.contract.local_symbol)
            )
            value = p.quantity * mark * p.contract.multiplier
            out.append(
                m.portfolio_value(
                    self.config.account,
                    p.contract,
                    p.quantity,
                    mark,
                    round(value, 2),
                    round(p.avg_cost, 6),
                    round(self.account.unrealized(p), 2),
                    round(p.realized, 2),
                )
            )
        return out

    def _req_account_updates(self, s: _Session, f: list[str]) -> None:
        subscribe = f[2] == "1"
        s.account_updates = subscribe
        if not subscribe:
            return
        acct = self.config.account
        hhmm = dt.datetime.fromtimestamp(self.market.clock_ns() // NS, dt.UTC).strftime("%H:%M")
        s.send(
            *(m.account_value(k, v, cur, acct) for k, v, cur in self._value_rows()),
            *self._portfolio_messages(),
            m.account_time(hhmm),
            m.account_download_end(acct),
        )

    def _req_account_updates_multi(self, s: _Session, f: list[str]) -> None:
        req_id = int(f[2])
        s.multi.add(req_id)
        acct = self.config.account
        s.send(
            *(m.account_update_multi(req_id, acct, k, v, cur) for k, v, cur in self._value_rows()),
            m.account_update_multi_end(req_id),
        )

    def _cancel_account_updates_multi(self, s: _Session, f: list[str]) -> None:
        s.multi.discard(int(f[2]))

    def _req_account_summary(self, s: _Session, f: list[str]) -> None:
        req_id = int(f[2])
        tags = {t for t in f[4].split(",") if t} if len(f) > 4 else set()
        s.summaries[req_id] = tags or None
        s.send(*self._summary_messages(req_id, tags), m.account_summary_end(req_id))

    def _summary_messages(self, req_id: int, tags: set[str]) -> list[list[object]]:
        acct = self.config.account
        return [
            m.account_summary(req_id, acct, k, v, cur)
            for k, v, cur in self._value_rows()
            if not tags or k in tags
        ]

    def _cancel_account_summary(self, s: _Session, f: list[str]) -> None:
        s.summaries.pop(int(f[2]), None)

    def _req_mkt_data(self, s: _Session, f: list[str]) -> None:
        req_id = int(f[2])
        found = self._resolve(f, 3)
        if len(found) != 1:
            s.send(m.error(req_id, 200, "No security definition has been found for the request"))
            return
        last = self.market.last_price(found[0].local_symbol)
        tick = found[0].min_tick
        s.send(
            [1, 6, req_id, 1, round(last - tick, 10), 1, 0],
            [1, 6, req_id, 2, round(last + tick, 10), 1, 0],
            [1, 6, req_id, 4, last, 1, 0],
        )
        snapshot = len(f) > 17 and f[17] == "1"
        if snapshot:
            s.send([57, 1, req_id])
        else:
            s.mkt_data[req_id] = found[0]

    def _cancel_mkt_data(self, s: _Session, f: list[str]) -> None:
        s.mkt_data.pop(int(f[2]), None)

    def _req_real_time_bars(self, s: _Session, f: list[str]) -> None:
        req_id = int(f[2])
        found = self._resolve(f, 3)
        if len(found) != 1:
            s.send(m.error(req_id, 200, "No security definition has been found for the request"))
            return
        s.rt_bars[req_id] = found[0]

    def _cancel_real_time_bars(self, s: _Session, f: list[str]) -> None:
        s.rt_bars.pop(int(f[2]), None)

    def _paced(self) -> bool:
        """Whether one more historical request fits IB's pacing window."""
        now = time.monotonic()
        while self._hist_times and now - self._hist_times[0] >= self.config.pacing_window:
            self._hist_times.popleft()
        if len(self._hist_times) >= self.config.pacing_requests:
            return False
        self._hist_times.append(now)
        return True

    def _req_historical_data(self, s: _Session, f: list[str]) -> None:
        req_id = int(f[1])
        if not self._paced():
            s.send(
                m.error(
                    req_id,
                    162,
                    "Historical Market Data Service error message:"
                    "API historical data query cancelled: pacing violation",
                )
            )
            return
        found = self._resolve(f, 2)
        if not found:
            s.send(m.error(req_id, 200, "No security definition has been found for the request"))
            return
        feed = self.market.feed_for(found[0].local_symbol)
        end_text, bar_text, duration_text = f[15], f[16], f[17]
        format_date = _int(f[20]) or 1
        try:
            bar_seconds = BAR_SIZES[bar_text]
            duration = _duration_seconds(duration_text)
            end_ns = _parse_end(end_text) if end_text else self.market.clock_ns()
        except (KeyError, ValueError):
            s.send(
                m.error(
                    req_id,
                    321,
                    f"Error validating request:-'bar size {bar_text!r}, duration "
                    f"{duration_text!r}, end {end_text!r}' is not supported",
                )
            )
            return
        if bar_seconds % self.market.base_seconds and duration // RT_SECONDS > MAX_SUB_BARS:
            s.send(
                m.error(
                    req_id,
                    162,
                    "Historical Market Data Service error message:Time length exceed max.",
                )
            )
            return
        bars = [] if feed is None else feed.history(end_ns, duration, bar_seconds)
        rows = [
            (
                _bar_date(b.ts, bar_seconds, format_date),
                b.open,
                b.high,
                b.low,
                b.close,
                b.volume,
                b.count,
            )
            for b in bars
        ]
        start_text = ib_time(end_ns - duration * NS)
        s.send(m.historical_data(req_id, start_text, ib_time(end_ns), rows))

    # ------------------------------------------------------------------ events
    def _dispatch(self, events: list[Event]) -> None:
        moved = False
        for ev in events:
            if isinstance(ev, OrderChanged):
                self._to_client(
                    ev.order.client_id, m.open_order(ev.order), m.order_status(ev.order)
                )
            elif isinstance(ev, Executed):
                e = ev.execution
                self._to_client(
                    e.client_id,
                    m.execution_data(-1, e, ib_time(e.time_ns)),
                    m.open_order(ev.order),
                    m.order_status(ev.order),
                    m.commission_report(e),
                )
                moved = True
            elif isinstance(ev, OrderError):
                self._to_client(ev.client_id, m.error(ev.order_id, ev.code, ev.text))
        if moved:
            self._push_account()

    def _push_account(self) -> None:
        positions = self._position_messages()
        portfolio = self._portfolio_messages()
        values = self._value_rows()
        acct = self.config.account
        for s in self._ready_sessions():
            if s.positions:
                s.send(*positions)
            if s.account_updates:
                s.send(*portfolio, *(m.account_value(k, v, cur, acct) for k, v, cur in values))
            for req_id in s.multi:
                s.send(*(m.account_update_multi(req_id, acct, k, v, cur) for k, v, cur in values))
            for req_id, tags in s.summaries.items():
                msgs = self._summary_messages(req_id, tags or set())
                if msgs:
                    s.send(*msgs)

    def _to_client(self, client_id: int, *msgs: list[object]) -> None:
        for s in self._ready_sessions():
            if s.client_id == client_id:
                s.send(*msgs)

    _handlers: ClassVar[dict[int, Callable[[SimulatedGateway, _Session, list[str]], None]]] = {
        m.IN_START_API: _start_api,
        m.IN_REQ_IDS: _req_ids,
        m.IN_REQ_CURRENT_TIME: _req_current_time,
        m.IN_REQ_MANAGED_ACCTS: _req_managed_accts,
        m.IN_REQ_CONTRACT_DATA: _req_contract_data,
        m.IN_PLACE_ORDER: _place_order,
        m.IN_CANCEL_ORDER: _cancel_order,
        m.IN_REQ_GLOBAL_CANCEL: _global_cancel,
        m.IN_REQ_OPEN_ORDERS: _req_open_orders,
        m.IN_REQ_ALL_OPEN_ORDERS: _req_all_open_orders,
        m.IN_REQ_COMPLETED_ORDERS: _req_completed_orders,
        m.IN_REQ_EXECUTIONS: _req_executions,
        m.IN_REQ_POSITIONS: _req_positions,
        m.IN_CANCEL_POSITIONS: _cancel_positions,
        m.IN_REQ_ACCOUNT_UPDATES: _req_account_updates,
        m.IN_REQ_ACCOUNT_UPDATES_MULTI: _req_account_updates_multi,
        m.IN_CANCEL_ACCOUNT_UPDATES_MULTI: _cancel_account_updates_multi,
        m.IN_REQ_ACCOUNT_SUMMARY: _req_account_summary,
        m.IN_CANCEL_ACCOUNT_SUMMARY: _cancel_account_summary,
        m.IN_REQ_MKT_DATA: _req_mkt_data,
        m.IN_CANCEL_MKT_DATA: _cancel_mkt_data,
        m.IN_REQ_REAL_TIME_BARS: _req_real_time_bars,
        m.IN_CANCEL_REAL_TIME_BARS: _cancel_real_time_bars,
        m.IN_REQ_HISTORICAL_DATA: _req_historical_data,
    }


def _int(text: str) -> int:
    return int(text) if text and text.lstrip("-").isdigit() else 0


def _float(text: str) -> float | None:
    if not text:
        return None
    value = float(text)
    return None if value >= 1.7e308 else value


def _duration_seconds(text: str) -> int:
    """``"3600 S"``, ``"2 D"``, ``"1 W"`` -> seconds."""
    num, _, unit = text.strip().partition(" ")
    if unit not in _DURATION_UNITS or not num.isdigit() or int(num) <= 0:
        raise ValueError(f"bad duration {text!r}")
    return int(num) * _DURATION_UNITS[unit]


def _parse_end(text: str) -> int:
    """An endDateTime (``20250102 14:30:00 UTC``, ``20250102-14:30:00``, ``20250102``) -> ns."""
    t = text.strip()
    if t.endswith(" UTC"):
        t = t[:-4]
    for fmt in ("%Y%m%d %H:%M:%S", "%Y%m%d-%H:%M:%S", "%Y%m%d"):
        try:
            stamp = dt.datetime.strptime(t, fmt).replace(tzinfo=dt.UTC)
        except ValueError:
            continue
        return int(stamp.timestamp()) * NS
    raise ValueError(f"bad end time {text!r}")


def _bar_date(ts_ns: int, bar_seconds: int, format_date: int) -> str:
    secs = ts_ns // NS
    if format_date == 2:
        return str(secs)
    stamp = dt.datetime.fromtimestamp(secs, dt.UTC)
    if bar_seconds >= 86_400:
        return stamp.strftime("%Y%m%d")
    return stamp.strftime("%Y%m%d %H:%M:%S UTC")
