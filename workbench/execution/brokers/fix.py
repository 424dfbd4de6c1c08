"""``fix``: a paper broker that routes the session's orders over FIX 4.4.

Orders go through :class:`workbench.native.FixInitiator` to ``workbench fix-exchange`` (the
native simulated exchange over an MBO file behind a FIX acceptor) or any FIX 4.4 acceptor,
and the ExecutionReports come back into the engine's order and fill model:

- **Ids**: ClOrdID (11) is the OrderManager's ``order_ref`` (unique across sessions and
  reconnects); a stop move is an OrderCancelReplaceRequest with ClOrdID ``<ref>.r<n>``, a
  cancel ``<ref>.c<n>``. ``perm_id`` is the number after the last ``-`` of OrderID (37).
- **Reports**: new -> working, partial fill / fill -> :class:`~workbench.model.Fill` (price
  LastPx, fee MiscFeeAmt 137, liquidity LastLiquidityInd 851), canceled / expired ->
  cancelled, replaced -> working with the new ClOrdID, rejected -> rejected with OrdRejReason
  and Text. A resend (PossDup) of a report already applied (same ExecID) is skipped.
- **Clock** (``clock="driven"``, the default): the exchange replays its feed in lock-step with
  the session (``workbench fix-exchange --speed driven``). :meth:`on_bar_open` asks it for
  the records before the bar (a ReplayRequest, 35=U1, user-defined), :meth:`on_bar` for the
  bar's records, stopping after each record that caused a report so that the engine reacts
  between two records (an OCA sibling is cancelled before the next record), exactly as the
  in-process ``sim-l3`` broker steps; so the same strategy on the same file gives the same
  fills through both. Every request ends with a barrier (a ReplayRequest to the current
  time): its ReplayStatus (35=U2) arrives after every report the request caused, so fills
  are dispatched before :meth:`submit` returns, as in process. ``clock="free"``: an acceptor
  that replays by itself (or a real venue); reports are read as they come, after a wait of
  ``settle`` seconds.
- **Reconnect**: the session's message store is a file store (``store_dir``, a temporary
  folder by default), so after a dropped connection the broker logs on again with the
  sequence numbers kept; the FIX session layer recovers lost messages (ResendRequest,
  PossDup resends of reports, our own unacknowledged requests resent by the session, never
  re-sent by the broker). The broker then reconciles its open orders by ClOrdID with an
  OrderStatusRequest (35=H, answered by ``fix-exchange`` with ExecType I): a quantity filled
  that no report brought becomes a fill at the AvgPx; an order the exchange does not know
  (an exchange restarted without its book) is marked cancelled, never sent again.

- **Resume** (a ``log``, ``state_dir/fix.log`` with ``--state``): the broker logs the calls
  it gets, the requests it sends and the reports it reads, and a restarted session picks up
  the same FIX session where the killed one left it (:mod:`.fix_resume`): the broker's books
  rebuilt from the log, a logon that asks again for what the killed process had received but
  not logged, the uncommitted bar redone against the logged exchange traffic (nothing sent
  twice), then every open order reconciled by OrderStatusRequest and the clock driven on.

The strategy's bars are the MBO file's trades aggregated, by the same code as ``sim-l3``
(:meth:`workbench.book.SimExchange.trade_bars`).
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

from workbench.backtest.config import BacktestConfig
from workbench.book import ExchangeConfig, SimExchange, fixed
from workbench.errors import ConfigError
from workbench.execution.brokers.base import (
    BrokerOrder,
    FillListener,
    StatusListener,
    book_fill,
    oca_siblings,
)
from workbench.execution.brokers.exchange_log import ExchangeLog, logged_order, order_entry
from workbench.execution.brokers.fix_resume import (
    LoggedReport,
    LoggingInitiator,
    TailInitiator,
    answers,
    logged_report,
)
from workbench.execution.brokers.sim_l3 import book_identity
from workbench.execution.config import ExecutionConfig
from workbench.execution.feeds import Bar
from workbench.execution.session import PaperSession
from workbench.market import contract_spec
from workbench.model import Fill, Liquidity, Order, OrderStatus, OrderType, Side, TimeInForce
from workbench.native import FixInitiator, FixReport
from workbench.strategies.base import Strategy

Clock = Literal["driven", "free"]
Side_ = Literal["buy", "sell"]
Report = FixReport | LoggedReport
Session = FixInitiator | LoggingInitiator | TailInitiator
_COUNTER = re.compile(r"(?:^[ps]|\.[cr])(\d+)$")  # the request counter in an id of ours

_ORD_TYPE: dict[OrderType, Literal["market", "limit", "stop", "stop_limit"]] = {
    OrderType.MARKET: "market",
    OrderType.LIMIT: "limit",
    OrderType.STOP: "stop",
    OrderType.STOP_LIMIT: "stop_limit",
}
_TIF: dict[TimeInForce, Literal["day", "gtc", "ioc"]] = {
    TimeInForce.DAY: "day",
    TimeInForce.GTC: "gtc",
    TimeInForce.IOC: "ioc",
}
_DONE = {"canceled": OrderStatus.CANCELLED, "expired": OrderStatus.CANCELLED}
_STATUS = {  # OrdStatus (39) of a status report
    "0": OrderStatus.WORKING,
    "1": OrderStatus.PARTIALLY_FILLED,
    "2": OrderStatus.FILLED,
    "4": OrderStatus.CANCELLED,
    "C": OrderStatus.CANCELLED,
    "8": OrderStatus.REJECTED,
}


def _price(value: float) -> str:
    """A price as the exact decimal FIX carries (at most 9 decimals, no float noise)."""
    text = f"{round(value, 9):.9f}".rstrip("0").rstrip(".")
    return text or "0"


def _perm_id(order_id: str | None) -> int:
    tail = (order_id or "").rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else 0


class FixBroker:
    """The paper broker over FIX (see the module docstring).

    Parameters
    ----------
    port : int
        The acceptor's port.
    host : str, default "127.0.0.1"
        The acceptor's host.
    sender_comp_id, target_comp_id : str
        Our CompID and the acceptor's.
    symbol : str
        Symbol (55) of every order (the exchange's instrument: its raw symbol or id).
    clock : {"driven", "free"}, default "driven"
        Who moves the exchange's feed clock: the session (``fix-exchange --speed driven``),
        or the acceptor itself.
    store_dir : str or os.PathLike, optional
        Folder of the FIX file store (kept across reconnects; an existing store resumes the
        sequence numbers, a new one resets them at the first logon). Default: a temporary
        folder.
    timeout : float, default 10.0
        Seconds to wait for a logon or an answer before reconnecting.
    reconnect_for : float, default 30.0
        Seconds of trying to log on again after a dropped connection before giving up.
    settle : float, default 0.2
        ``clock="free"``: seconds to wait for reports after a request.
    heartbeat : int, default 30
        HeartBtInt (108), seconds.
    log_dir : str or os.PathLike, optional
        Folder of the FIX message and event log (QuickFIX's FileLog files, appended to
        across reconnects). Default: no log.
    log : str or os.PathLike, optional
        The broker's session log (resumable sessions, see the module docstring); with it
        ``store_dir`` should be kept too. Default: none.
    busy_poll_us : int, optional
        After each message, the FIX session polls its socket for up to this many
        microseconds before parking on epoll (lower latency, a core busy). Default: park.
    """

    name = "fix"

    def __init__(
        self,
        port: int,
        host: str = "127.0.0.1",
        *,
        sender_comp_id: str = "CLIENT",
        target_comp_id: str = "EXCH",
        symbol: str,
        clock: Clock = "driven",
        store_dir: str | os.PathLike[str] | None = None,
        timeout: float = 10.0,
        reconnect_for: float = 30.0,
        settle: float = 0.2,
        heartbeat: int = 30,
        log_dir: str | os.PathLike[str] | None = None,
        log: str | os.PathLike[str] | None = None,
        busy_poll_us: int | None = None,
    ) -> None:
        if clock not in ("driven", "free"):
            raise ConfigError(f"clock {clock!r} must be 'driven' or 'free'")
        self.host, self.port, self.symbol, self.clock = host, port, symbol, clock
        self.sender_comp_id, self.target_comp_id = sender_comp_id, target_comp_id
        self.timeout, self.reconnect_for, self.settle = timeout, reconnect_for, settle
        self.heartbeat = heartbeat
        self.busy_poll_us = busy_poll_us
        self._tmp = None
        if store_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="wb-fix-")
            store_dir = self._tmp.name
        self.store_dir = Path(store_dir)
        self.log_dir = None if log_dir is None else Path(log_dir)
        self._ini: Session | None = None
        self.log = None if log is None else ExchangeLog(Path(log))
        self.resume_bar = 0
        """The bar the session goes on at (its journal's ``bars_done``): :meth:`connect`
        rebuilds the broker's books up to its start and replays the log's rest."""
        self.resumed: TailInitiator | None = None
        """The tail replayed by a resumed session (None: a new one)."""
        self._rebuilding = False  # the books being rebuilt from the log: nobody is told
        self._resyncs = 0  # the resyncs of earlier resumes in the log
        self.resent = 0
        """Requests of the dead process sent again on resume (they never reached the
        exchange)."""
        self._orders: dict[str, BrokerOrder] = {}
        self._cl_ord_id: dict[str, str] = {}  # order_ref -> its current ClOrdID
        self._ref_of: dict[str, str] = {}  # any ClOrdID of ours -> order_ref
        self._oca: dict[str, str] = {}
        self._exec_ids: set[str] = set()
        self._position: dict[str, int] = {}
        self._requests = 0
        self._waiting: set[str] = set()  # ReplayReqIDs of the barriers being waited for
        self._barriers: dict[str, Report] = {}  # their answers, read by a nested wait
        self._on_fill: FillListener | None = None
        self._on_status: StatusListener | None = None
        self.reports: list[Report] = []
        """Every report applied (ExecutionReports, cancel and business rejects)."""
        self.connections = 0
        """Logons made (1 + the reconnects)."""
        self.orders_sent = 0
        """NewOrderSingle messages handed to the FIX session."""

    # -- account -------------------------------------------------------------------------
    def set_listeners(self, on_fill: FillListener, on_status: StatusListener) -> None:
        """Where fills and status changes go."""
        self._on_fill, self._on_status = on_fill, on_status

    def connect(self) -> None:
        """Log on (a no-op when logged on); after a drop, reconcile the open orders; a
        resumed session first rebuilds from its log (see the module docstring)."""
        if self._ini is not None and self._ini.logged_on:
            return
        entries: list[dict[str, Any]] = []
        if self.log is not None and not self.connections:
            entries, offsets = self.log.read()
            self.log.truncate(offsets[-1])  # a torn last line: never acted on
        if not entries:
            self._logon()
            return
        cut = next(
            (k for k, e in enumerate(entries) if e["k"] == "O" and e["i"] >= self.resume_bar),
            len(entries),
        )
        self._rebuild(entries[:cut])
        # each resync's requests get ids of their own: an earlier resync's barrier answer,
        # resent when that process died before logging past it, must not end this one's
        self._resyncs = sum(1 for e in entries if e.get("x") and e["m"] == "replay")
        seqs = [e["seq_num"] for e in entries if e["k"] == "R" and e.get("seq_num")]
        self._logon(max(seqs) + 1 if seqs else None)
        assert isinstance(self._ini, LoggingInitiator)
        self.resumed = self._ini = TailInitiator(entries[cut:], self._ini, self._resync)

    def _rebuild(self, entries: list[dict[str, Any]]) -> None:
        """The books (orders, ClOrdIDs, fills, positions) as the log left them."""
        self._rebuilding = True
        try:
            for e in entries:
                kind = e["k"]
                if kind == "S" and e["ref"] not in self._orders:
                    order = logged_order(e)
                    self._orders[order.order_ref] = BrokerOrder(order, 0, OrderStatus.PENDING)
                    self._cl_ord_id[order.order_ref] = self._ref_of_set(e["ref"], e["ref"])
                    if e["oca"]:
                        self._oca[order.order_ref] = e["oca"]
                elif kind in ("C", "M"):
                    self._ref_of_set(e["cl"], e["ref"])
                elif kind == "Q" and not e.get("x"):
                    ident = e["kw"].get("req_id") if e["m"] in ("replay", "order_status") else None
                    found = _COUNTER.search(ident or (e["a"][0] if e["m"] != "replay" else ""))
                    if found:
                        self._requests = max(self._requests, int(found.group(1)))
                elif kind == "R":
                    self._apply(logged_report(e))
        finally:
            self._rebuilding = False

    def _resync(self, tail: TailInitiator) -> None:
        """The tail is spent: collect the resends behind a barrier, send what never reached
        the exchange, ask for every open order (see the module docstring)."""
        live = tail.live
        k = self._resyncs + 1
        rid = f"x{k}"
        live.call("replay", 0, stop_on_report=False, req_id=rid, inclusive=True, x=True)
        while True:
            r = live.ini.next_report(self.timeout)
            if r is None:
                raise ConnectionError(f"no answer from the FIX exchange at {self.host}:{self.port}")
            if r.kind == "replay_status" and r.req_id == rid:
                break
            tail.buffer.append(r)
        for q in tail.unanswered:
            if not any(answers(q, r) for r in tail.buffer):
                live.call(q["m"], *q["a"], x=True, **q["kw"])  # it never got there
                self.resent += 1
                self.orders_sent += q["m"] == "new_order"
        for j, ref in enumerate(list(self._open())):
            cl, side = self._cl_ord_id[ref], self._side(self._orders[ref].order)
            live.call("order_status", cl, side, req_id=f"x{k}s{j}", symbol=self.symbol, x=True)

    def _entry(self, entry: dict[str, Any]) -> None:
        """Log one of the engine's calls (not while the log's tail is replayed)."""
        tail = self._ini if isinstance(self._ini, TailInitiator) else None
        if self.log is not None and (tail is None or tail.spent):
            self.log.append(entry)

    def close(self) -> None:
        """Log out, close the log and remove the temporary store."""
        if self._ini is not None:
            for r in self._ini.logout(timeout=2.0):
                self._apply(r)
            self._ini = None
        if self.log is not None:
            self.log.close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def find_order(self, order_ref: str) -> BrokerOrder | None:
        """The broker's record of ``order_ref``."""
        return self._orders.get(order_ref)

    def positions(self) -> dict[str, int]:
        """Signed contracts by symbol."""
        return {s: q for s, q in self._position.items() if q}

    # -- orders --------------------------------------------------------------------------
    def submit(self, order: Order, oca_group: str = "") -> int:
        """Send ``order`` as a NewOrderSingle (ClOrdID = ``order_ref``); its reports are
        dispatched before this returns (``clock="driven"``)."""
        ref = order.order_ref
        if ref in self._orders:
            raise ValueError(f"duplicate order_ref {ref!r}: the broker has it")
        o = order
        self._entry(order_entry(order, oca_group))
        bo = BrokerOrder(order, 0, OrderStatus.PENDING)
        self._orders[ref] = bo
        self._cl_ord_id[ref] = self._ref_of_set(ref, ref)
        if oca_group:
            self._oca[ref] = oca_group

        def send(ini: Session) -> int:
            return ini.new_order(
                ref,
                self._side(o),
                o.quantity,
                _ORD_TYPE[o.order_type],
                price=None if o.limit_price is None else _price(o.limit_price),
                stop_price=None if o.stop_price is None else _price(o.stop_price),
                tif=_TIF[o.time_in_force],
                symbol=self.symbol,
            )

        if self._request(send):  # not a logged order replayed by a resumed session
            self.orders_sent += 1
        self._sync()
        return bo.perm_id

    def cancel(self, order_ref: str) -> None:
        """Cancel a working order (no error when it is already done)."""
        bo = self._orders.get(order_ref)
        if bo is None or bo.status.is_done:
            return
        new = self._ref_of_set(f"{order_ref}.c{self._next()}", order_ref)
        self._entry({"k": "C", "ref": order_ref, "cl": new})
        orig, side = self._cl_ord_id[order_ref], self._side(bo.order)
        self._request(lambda ini: ini.cancel(new, orig, side, symbol=self.symbol))
        self._sync()

    def modify_stop(self, order_ref: str, stop_price: float) -> None:
        """Move a working stop's trigger (an OrderCancelReplaceRequest)."""
        bo = self._orders.get(order_ref)
        if bo is None or bo.status.is_done:
            return
        o = bo.order
        new = self._ref_of_set(f"{order_ref}.r{self._next()}", order_ref)
        self._entry({"k": "M", "ref": order_ref, "cl": new, "stop": stop_price})
        orig = self._cl_ord_id[order_ref]
        limit = None if o.limit_price is None else _price(o.limit_price)
        self._request(
            lambda ini: ini.replace(
                new,
                orig,
                self._side(o),
                o.quantity,
                _ORD_TYPE[o.order_type],
                price=limit,
                stop_price=_price(stop_price),
                tif=_TIF[o.time_in_force],
                symbol=self.symbol,
            )
        )
        self._sync()

    # -- market data ---------------------------------------------------------------------
    def on_bar_open(self, bar: Bar) -> None:
        """Driven: replay the records before ``bar`` and let feed time reach its start (the
        records at its start come with the bar)."""
        self._entry({"k": "O", "i": bar.index})
        if self.clock == "driven":
            self._replay(bar.ts, stop=False, inclusive=False)
        else:
            self._drain(0.0)

    def on_bar(self, bar: Bar) -> None:
        """Driven: replay ``bar``'s records, stopping after each one that caused a report so
        the engine reacts before the next."""
        self._entry({"k": "B", "i": bar.index})
        if self.clock == "driven":
            while not self._replay(bar.end - 1, stop=any(self._open())):
                pass
        else:
            self._drain(self.settle)

    # -- the session ---------------------------------------------------------------------
    def _logon(self, next_target_seq: int | None = None) -> None:
        """Log on, retrying for ``reconnect_for`` seconds; reconcile after a reconnect.
        ``next_target_seq``: the MsgSeqNum to expect (a resumed session's rewind).

        A reconnect is logged (``D``) before the reconcile's requests; a resumed session
        redoing a bar the dead process reconnected in does so against the log (nothing sent).
        """
        tail = self._ini if isinstance(self._ini, TailInitiator) else None
        if tail is not None and tail.reconnect():
            self.connections += 1
            self._reconcile()
            return
        fresh = not self.store_dir.exists() or not any(self.store_dir.iterdir())
        self.store_dir.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + (self.reconnect_for if self.connections else 0.0)
        while True:
            ini = FixInitiator(
                port=self.port,
                host=self.host,
                sender_comp_id=self.sender_comp_id,
                target_comp_id=self.target_comp_id,
                heartbeat=self.heartbeat,
                symbol=self.symbol,
                store_dir=str(self.store_dir),
                reset_on_logon=fresh and not self.connections,
                timeout=self.timeout,
                log_dir=None if self.log_dir is None else str(self.log_dir),
                busy_poll_us=self.busy_poll_us,
            )
            try:
                try:
                    ini.connect(next_target_seq)
                except ValueError:  # the store expects less already: nothing to ask again
                    ini.connect()
                break
            except (OSError, ConnectionError):
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.2)
        self._ini = ini if self.log is None else LoggingInitiator(ini, self.log)
        self.connections += 1
        if self.connections > 1:
            self._entry({"k": "D"})
            self._reconcile()

    def _reconcile(self) -> None:
        """After a reconnect: the reports resent by the session layer, then an
        OrderStatusRequest for every order still open here."""
        for ref in list(self._open()):
            cl, side = self._cl_ord_id[ref], self._side(self._orders[ref].order)
            rid = f"s{self._next()}"

            def send(ini: Session, cl: str = cl, side: Side_ = side, rid: str = rid) -> int:
                return ini.order_status(cl, side, req_id=rid, symbol=self.symbol)

            self._request(send)
        self._sync()

    def _request(self, send: Callable[[Session], object]) -> object:
        """Hand a message to the session; log on again first when the connection is gone
        (the message is then sent on the new connection, once). Returns what ``send`` did:
        the MsgSeqNum sent, 0 for a request replayed from the log (not sent again)."""
        for attempt in range(2):
            if self._ini is None or not self._ini.logged_on:
                self._logon()
            assert self._ini is not None
            try:
                return send(self._ini)
            except RuntimeError:
                # refused by the session (not logged on): nothing went out; once more
                if attempt:
                    raise
                self._ini = None
        raise AssertionError("unreachable")  # the loop returns or raises

    def _sync(self) -> None:
        """Driven: a barrier (every report caused so far is applied); free: a short wait."""
        if self.clock == "driven":
            self._replay(-1, stop=False)
        else:
            self._drain(self.settle)

    def _replay(self, until_ns: int, *, stop: bool, inclusive: bool = True) -> bool:
        """A ReplayRequest (``until_ns=-1``: no move, a barrier); applies the reports up to
        its ReplayStatus; returns whether the requested time was reached. A dropped
        connection is survived by logging on again and asking again."""
        target = max(until_ns, 0)
        while True:
            rid = f"p{self._next()}"

            def send(ini: Session, rid: str = rid) -> int:
                return ini.replay(target, stop_on_report=stop, req_id=rid, inclusive=inclusive)

            self._request(send)
            self._waiting.add(rid)
            try:
                status = self._until(rid)
            finally:
                self._waiting.discard(rid)
            if status is not None:
                return until_ns < 0 or bool(status.replay_reached)

    def _until(self, rid: str) -> Report | None:
        """Apply reports until the ReplayStatus ``rid``; None when the connection dropped."""
        ini = self._ini
        assert ini is not None
        while True:
            # a fill applied below may make the engine send (and sync) at once: the nested
            # reader may take this barrier's answer, so it is kept for us
            if rid in self._barriers:
                return self._barriers.pop(rid)
            r = ini.next_report(self.timeout)
            if r is None:
                if ini.logged_on:
                    raise ConfigError(
                        f"no answer from the FIX exchange at {self.host}:{self.port} within "
                        f"{self.timeout} s",
                        hint="is it a driven exchange (workbench fix-exchange --speed driven)?",
                    )
                if not isinstance(ini, TailInitiator):  # the tail logs on again itself
                    self._ini = None
                return None
            if r.kind == "replay_status":
                if r.req_id == rid:
                    return r
                if r.req_id in self._waiting:
                    self._barriers[r.req_id] = r
                continue
            if r.kind == "business_reject" and (r.text or "").startswith("ReplayRequest"):
                raise ConfigError(
                    f"the FIX exchange refused to be driven: {r.text}",
                    hint="start it with --speed driven, or use --fix-clock free",
                )
            self._apply(r)

    def _drain(self, wait: float) -> None:
        ini = self._ini
        if ini is None:
            return
        deadline = time.monotonic() + wait
        while (r := ini.next_report(max(deadline - time.monotonic(), 0.0))) is not None:
            self._apply(r)

    # -- reports -------------------------------------------------------------------------
    def _apply(self, r: Report) -> None:
        if r.exec_id is not None:
            if r.poss_dup and r.exec_id in self._exec_ids:
                return  # a resend (PossDup) of a report already applied
            self._exec_ids.add(r.exec_id)
        ref = self._ref_of.get(r.cl_ord_id or "") or self._ref_of.get(r.orig_cl_ord_id or "")
        bo = None if ref is None else self._orders.get(ref)
        self.reports.append(r)
        if bo is None or ref is None:
            return
        if not bo.perm_id and r.order_id and r.order_id != "NONE":
            bo.perm_id = _perm_id(r.order_id)
        kind = r.kind
        if kind in ("fill", "partial_fill"):
            self._fill(bo, int(r.last_qty or 0), float(r.last_px or 0.0), r)
        elif kind == "new":
            self._status(bo, OrderStatus.WORKING)
        elif kind == "replaced":
            if r.cl_ord_id:
                self._cl_ord_id[ref] = r.cl_ord_id
            self._status(bo, OrderStatus.WORKING)
        elif kind == "rejected":
            why = f"rejected (103={r.ord_rej_reason}): {r.text or ''}".rstrip(": ")
            self._status(bo, OrderStatus.REJECTED, why)
        elif kind in _DONE:
            if r.cl_ord_id:
                self._cl_ord_id[ref] = r.cl_ord_id
            self._status(bo, _DONE[kind], r.text or kind)
        elif kind == "status":
            self._status_report(bo, r)

    def _status_report(self, bo: BrokerOrder, r: Report) -> None:
        if r.ord_status == "8" and r.ord_rej_reason == 5:
            self._status(bo, OrderStatus.CANCELLED, "unknown at the FIX exchange after reconnect")
            return
        missed = int(r.cum_qty or 0) - bo.filled
        if missed > 0:  # filled while no report could reach us, and not resent
            self._fill(bo, missed, float(r.avg_px or 0.0), None)
        status = _STATUS.get(r.ord_status or "")
        if status is not None and not bo.status.is_done:
            self._status(bo, status, r.text or "")

    def _status(self, bo: BrokerOrder, status: OrderStatus, message: str = "") -> None:
        if bo.status is status:
            return
        bo.status, bo.message = status, message
        if self._on_status is not None and not self._rebuilding:
            self._on_status(bo.order.order_ref, status, bo.perm_id, message)

    def _fill(self, bo: BrokerOrder, qty: int, price: float, r: Report | None) -> None:
        o = bo.order
        liquidity = Liquidity.MAKER if r is not None and r.last_liquidity_ind == 1 else None
        fill = Fill(
            int(r.transact_time_ns or 0) if r is not None else 0,
            o.symbol,
            o.side,
            qty,
            price,
            float(r.misc_fee_amt or 0.0) if r is not None else 0.0,
            o.order_ref,
            liquidity or Liquidity.TAKER,
        )
        book_fill(bo, fill, self._position)
        if self._rebuilding:
            return  # the engine has it from its journal; the OCA cancels are in the log
        if self._on_fill is not None:
            self._on_fill(o.order_ref, fill)
        if self._on_status is not None:
            self._on_status(o.order_ref, bo.status, bo.perm_id, "")
        for ref in oca_siblings(self._oca, o.order_ref):
            self.cancel(ref)  # over FIX: the exchange knows no OCA groups

    # -- helpers -------------------------------------------------------------------------
    def _open(self) -> Iterator[str]:
        return (ref for ref, bo in self._orders.items() if not bo.status.is_done)

    def _next(self) -> int:
        self._requests += 1
        return self._requests

    def _ref_of_set(self, cl_ord_id: str, ref: str) -> str:
        self._ref_of[cl_ord_id] = ref
        return cl_ord_id

    @staticmethod
    def _side(order: Order) -> Literal["buy", "sell"]:
        return "buy" if order.side is Side.BUY else "sell"


def fix_session(
    book: str | os.PathLike[str],
    strategy: Strategy,
    config: BacktestConfig | None = None,
    *,
    port: int,
    host: str = "127.0.0.1",
    sender_comp_id: str = "CLIENT",
    target_comp_id: str = "EXCH",
    fix_symbol: str | None = None,
    clock: Clock = "driven",
    store_dir: str | os.PathLike[str] | None = None,
    bar_size: str = "1min",
    symbol: str = "MCL_FUT",
    max_bars: int | None = None,
    execution: ExecutionConfig | None = None,
    product: str = "MCL_FUT",
    speed: float = 0.0,
    state_dir: str | os.PathLike[str] | None = None,
    log_dir: str | os.PathLike[str] | None = None,
    busy_poll_us: int | None = None,
) -> PaperSession:
    """A paper session whose orders go over FIX, on bars made from an MBO file's trades.

    Parameters
    ----------
    book : str or os.PathLike
        The MBO file the exchange replays (``workbench fix-exchange --feed``); the strategy's
        bars are its trades aggregated to ``bar_size`` (as ``sim-l3``'s).
    strategy : Strategy
        The strategy.
    config : BacktestConfig, optional
        Capital, costs, sizing, stops, risk limits (the fees are the exchange's).
    port, host : int, str
        The acceptor.
    sender_comp_id, target_comp_id : str
        Our CompID and the acceptor's.
    fix_symbol : str, optional
        Symbol (55) of the orders; default: the file's instrument id (which
        ``fix-exchange`` accepts beside the raw symbol).
    clock : {"driven", "free"}, default "driven"
        See :class:`FixBroker`.
    store_dir : str or os.PathLike, optional
        The FIX file store folder (default: temporary).
    bar_size : str, default "1min"
        Bar length.
    symbol : str, default "MCL_FUT"
        The name the bars and orders carry.
    max_bars : int, optional
        Stop after this many bars.
    execution : ExecutionConfig, optional
        Order size and rate limits.
    product : str, default "MCL_FUT"
        Contract spec of the tick used to read the file.
    speed : float, default 0.0
        Bars per second x bar length: the session's pacing (0: as fast as the exchange
        answers).
    state_dir : str or os.PathLike, optional
        The journal folder: a resumable session (``clock="driven"`` only). The broker's
        session log is ``fix.log`` in it, and the FIX store ``fix-store`` unless
        ``store_dir`` is given.
    log_dir : str or os.PathLike, optional
        Folder of the FIX message and event log (QuickFIX's FileLog files).
    busy_poll_us : int, optional
        See :class:`FixBroker`.

    Returns
    -------
    PaperSession
        Ready to :meth:`~PaperSession.run` (its broker is a :class:`FixBroker`).

    Raises
    ------
    ConfigError
        ``state_dir`` with ``clock="free"`` (an exchange that replays by itself cannot be
        met again where the session left it), or ``state_dir`` holding another session.
    """
    cfg = config or BacktestConfig()
    if state_dir is not None and clock != "driven":
        raise ConfigError(
            "a resumable fix session (--state) needs the driven clock",
            hint="run workbench fix-exchange --speed driven and drop --fix-clock free",
        )
    x = SimExchange(book, ExchangeConfig(tick=fixed(contract_spec(product).tick_size)))
    bars = x.trade_bars(bar_size, symbol)
    if state_dir is not None and store_dir is None:
        store_dir = Path(state_dir) / "fix-store"
    fix_symbol = fix_symbol or str(x.instrument_id)
    broker = FixBroker(
        port,
        host,
        sender_comp_id=sender_comp_id,
        target_comp_id=target_comp_id,
        symbol=fix_symbol,
        clock=clock,
        store_dir=store_dir,
        log_dir=log_dir,
        log=None if state_dir is None else Path(state_dir) / "fix.log",
        busy_poll_us=busy_poll_us,
    )
    session = PaperSession(
        bars,
        strategy,
        cfg,
        execution=execution,
        broker=broker,
        max_bars=max_bars,
        speed=speed,
        state_dir=None if state_dir is None else Path(state_dir),
        identity_extra={
            "symbol": symbol,
            "bar_size": bar_size,
            "book": book_identity(book),
            "fix": {"sender": sender_comp_id, "target": target_comp_id, "symbol": fix_symbol},
        },
    )
    broker.resume_bar = session.engine.om.replay_until
    return session
