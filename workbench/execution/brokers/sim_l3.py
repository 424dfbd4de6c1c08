"""``sim-l3``: a paper broker that fills against the real order book of an MBO replay.

The bar ``sim`` broker fills by the backtest's bar model; this one sends every order to
:class:`workbench.book.SimExchange` (the native simulated exchange over a Databento MBO
file) and hands its fills back to the engine, so a paper session sees queue position, the
depth of the book and its spread:

- the strategy's bars are the feed's trades aggregated (:meth:`SimExchange.trade_bars`);
- :meth:`on_bar_open` replays the records before the bar's start; orders sent then arrive
  at the exchange at once (plus the configured entry latency) and are matched against the
  book as it stands: a market order walks the real opposite side as taker;
- :meth:`on_bar` replays the bar's records one event at a time, dispatching fills and status
  changes as they happen (a stop triggers on the feed's trades, a limit fills as maker when
  the volume ahead of it in the queue has traded); orders of one OCA group cancel the others;
- fills carry the exchange's liquidity flag; the commission is the exchange's fee per
  contract (the config's ``commission_per_contract`` for makers and takers alike).

With a journal folder (``state_dir``) the session is resumable. The exchange's inbound
calls are logged to ``state_dir/exchange.log`` before they act
(:class:`~workbench.execution.brokers.exchange_log.ExchangeLog`); a restarted session
rebuilds the exchange from the file by replaying the feed and re-issuing the logged calls up
to the start of the bar its journal resumes at (``bars_done``: every bar before it was fully
processed and committed), with their nested calls at the notices they answered. The exchange
is deterministic, so its reports reproduce the fills, statuses and positions the journal
holds. The calls logged after that point belong to the bars the killed process had not
committed: they are dropped from the log, and the engine redoes those bars from the same
state, issuing the same calls at the same exchange times (the intents journaled for them
have no acknowledgement from the rebuilt exchange, so they are sent to it, once). The session
identity names the book file (path, size, SHA-256): another file is refused.
"""

from __future__ import annotations

import hashlib
import os
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.backtest.config import BacktestConfig
from workbench.book import ExchangeConfig, SimExchange, fixed
from workbench.errors import WorkbenchError
from workbench.execution.brokers.base import (
    BrokerOrder,
    FillListener,
    StatusListener,
    book_fill,
    oca_siblings,
)
from workbench.execution.brokers.exchange_log import ExchangeLog, logged_order, order_entry
from workbench.execution.config import ExecutionConfig
from workbench.execution.feeds import Bar
from workbench.execution.session import PaperSession
from workbench.market import contract_spec
from workbench.model import Fill, Liquidity, Order, OrderStatus
from workbench.strategies.base import Strategy

_DONE_TYPES = {"cancelled": OrderStatus.CANCELLED, "expired": OrderStatus.CANCELLED}


class ExchangeLogError(WorkbenchError):
    """The exchange log does not replay as it was written (a bug or an edited file)."""


class L3SimBroker:
    """The simulated broker over an MBO replay (see the module docstring).

    Parameters
    ----------
    exchange : SimExchange
        The exchange, its feed loaded and not yet replayed.
    log : str or Path, optional
        The exchange's inbound log (resumable sessions); None: in memory only.
    """

    name = "sim-l3"

    def __init__(self, exchange: SimExchange, log: str | Path | None = None) -> None:
        self.x = exchange
        self._orders: dict[str, BrokerOrder] = {}
        self._oca: dict[str, str] = {}
        self._ref_of: dict[int, str] = {}
        self._position: dict[str, int] = {}
        self._on_fill: FillListener | None = None
        self._on_status: StatusListener | None = None
        self.reports: list[pd.DataFrame] = []
        """Every execution report, as :func:`workbench.book.reports_frame` frames."""
        self.log = None if log is None else ExchangeLog(log)
        self.resume_bar = 0
        """The bar the session goes on at (its journal's ``bars_done``): :meth:`connect`
        rebuilds the exchange up to its start."""
        self.rebuilt = 0
        """Calls re-issued from the log by :meth:`connect`."""
        self._depth = 0  # nesting of broker calls (0: none running)
        self._notices = 0  # fill and status notices handed out
        self._replay: deque[dict[str, Any]] | None = None  # the log being re-issued
        self._connected = False

    # -- account -------------------------------------------------------------------------
    def set_listeners(self, on_fill: FillListener, on_status: StatusListener) -> None:
        """Where fills and status changes go."""
        self._on_fill, self._on_status = on_fill, on_status

    def connect(self) -> None:
        """Rebuild the exchange from its log (a resumed session; see the module docstring)."""
        if self._connected:
            return
        self._connected = True
        if self.log is None:
            return
        entries, offsets = self.log.read()
        cut = next(
            (
                k
                for k, e in enumerate(entries)
                if e["k"] == "O" and e["d"] == 0 and e["i"] >= self.resume_bar
            ),
            len(entries),
        )
        # the uncommitted bars (redone by the engine) and a torn last line go
        self.log.truncate(offsets[cut])
        self._replay = deque(entries[:cut])
        try:
            while self._replay:
                entry = self._replay.popleft()
                if entry["d"] != 0:
                    raise ExchangeLogError(
                        f"{self.log.path}: call {entry} came at no notice of the replay",
                        hint="the log was written by another version, or edited; "
                        "start the session in a new --state DIR",
                    )
                self._reissue(entry)
                self.rebuilt += 1
        finally:
            self._replay = None

    def _reissue(self, e: dict[str, Any]) -> None:
        kind = e["k"]
        if kind == "O":
            self._call(None, self._open_at, e["ts"])
        elif kind == "B":
            self._call(None, self._replay_until, e["end"])
        elif kind == "S":
            self._call(None, self._submit, logged_order(e), e["oca"])
        elif kind == "C":
            self._call(None, self._cancel, e["ref"])
        elif kind == "M":
            self._call(None, self._modify_stop, e["ref"], e["stop"])
        else:
            raise ExchangeLogError(f"{self.log.path if self.log else 'log'}: unknown call {e}")

    def _call(self, entry: dict[str, Any] | None, fn: Callable[..., Any], *args: Any) -> Any:
        """Log ``entry`` (before acting), then run ``fn(*args)`` one level deeper."""
        if entry is not None and self.log is not None and self._replay is None:
            entry.update(d=self._depth, n=self._notices)
            self.log.append(entry)
        self._depth += 1
        try:
            return fn(*args)
        finally:
            self._depth -= 1

    def _notice(self) -> bool:
        """Count a notice; while rebuilding, re-issue the nested calls that answered it
        (instead of telling the engine, which has them from its journal). Whether to tell."""
        self._notices += 1
        q = self._replay
        if q is None:
            return True
        while q and q[0]["d"] == self._depth and q[0]["n"] == self._notices:
            self._reissue(q.popleft())
            self.rebuilt += 1
        return False

    def close(self) -> None:
        """Close the log."""
        if self.log is not None:
            self.log.close()

    def find_order(self, order_ref: str) -> BrokerOrder | None:
        """The broker's record of ``order_ref``."""
        return self._orders.get(order_ref)

    def positions(self) -> dict[str, int]:
        """Signed contracts by symbol."""
        return {s: q for s, q in self._position.items() if q}

    def report_frame(self) -> pd.DataFrame:
        """All execution reports so far, one frame."""
        return pd.concat(self.reports, ignore_index=True) if self.reports else pd.DataFrame()

    # -- orders --------------------------------------------------------------------------
    def submit(self, order: Order, oca_group: str = "") -> int:
        """Send ``order`` to the exchange; it is matched when it arrives (at once with no
        entry latency)."""
        if order.order_ref in self._orders:
            raise ValueError(f"duplicate order_ref {order.order_ref!r}: the broker has it")
        entry = order_entry(order, oca_group)
        return int(self._call(entry, self._submit, order, oca_group))

    def _submit(self, order: Order, oca_group: str) -> int:
        cid = self.x.submit_order(order)
        bo = BrokerOrder(order, cid, OrderStatus.PENDING)
        self._orders[order.order_ref] = bo
        self._ref_of[cid] = order.order_ref
        if oca_group:
            self._oca[order.order_ref] = oca_group
        self._pump()
        return cid

    def cancel(self, order_ref: str) -> None:
        """Cancel a working order (no error when it is already done)."""
        bo = self._orders.get(order_ref)
        if bo is None or bo.status.is_done:
            return
        self._call({"k": "C", "ref": order_ref}, self._cancel, order_ref)

    def _cancel(self, order_ref: str) -> None:
        bo = self._orders.get(order_ref)
        if bo is None or bo.status.is_done:
            return
        self.x.cancel(bo.perm_id)
        self._pump()

    def modify_stop(self, order_ref: str, stop_price: float) -> None:
        """Move a working stop's trigger (a replace at the exchange)."""
        bo = self._orders.get(order_ref)
        if bo is None or bo.status.is_done:
            return
        entry = {"k": "M", "ref": order_ref, "stop": stop_price}
        self._call(entry, self._modify_stop, order_ref, stop_price)

    def _modify_stop(self, order_ref: str, stop_price: float) -> None:
        bo = self._orders[order_ref]
        if bo.status.is_done:
            return
        self.x.replace(bo.perm_id, bo.order.quantity, stop_price=stop_price)
        self._pump()

    # -- the exchange's reports ------------------------------------------------------------
    def _pump(self) -> None:
        """Process what is due at the exchange clock and dispatch the reports."""
        self.x.advance_to(self.x.now)
        self._dispatch()

    def _dispatch(self) -> None:
        if not self.x.pending_reports:
            return
        frame = self.x.reports()
        self.reports.append(frame)
        for r in frame.itertuples(index=False):
            ref = self._ref_of.get(int(r.client_id))
            bo = None if ref is None else self._orders.get(ref)
            if bo is None:
                continue
            kind = str(r.exec_type)
            if kind in ("fill", "partial_fill"):
                self._fill(bo, r)
            elif kind == "new":
                self._status(bo, OrderStatus.WORKING)
            elif kind == "rejected" and bo.status is OrderStatus.PENDING:
                self._status(bo, OrderStatus.REJECTED, f"rejected: {r.reason}")
            elif kind in _DONE_TYPES:
                self._status(bo, _DONE_TYPES[kind], str(r.reason))

    def _status(self, bo: BrokerOrder, status: OrderStatus, message: str = "") -> None:
        if bo.status is status:
            return
        bo.status, bo.message = status, message
        if self._notice() and self._on_status is not None:
            self._on_status(bo.order.order_ref, status, bo.perm_id, message)

    def _fill(self, bo: BrokerOrder, r: Any) -> None:
        o = bo.order
        fill = Fill(
            int(r.ts_exchange.value),
            o.symbol,
            o.side,
            int(r.last_qty),
            float(r.last_px),
            float(r.fee),
            o.order_ref,
            Liquidity(r.liquidity),
        )
        book_fill(bo, fill, self._position)
        if self._notice() and self._on_fill is not None:
            self._on_fill(o.order_ref, fill)
        if self._notice() and self._on_status is not None:
            self._on_status(o.order_ref, bo.status, bo.perm_id, "")
        for ref in oca_siblings(self._oca, o.order_ref):
            self._cancel(ref)  # the exchange's own doing: not a logged call

    # -- market data ---------------------------------------------------------------------
    def on_bar_open(self, bar: Bar) -> None:
        """Replay the records before ``bar`` starts; orders sent now arrive at its start."""
        self._call({"k": "O", "i": bar.index, "ts": bar.ts}, self._open_at, bar.ts)

    def _open_at(self, ts: int) -> None:
        self.x.run_until(ts - 1)
        self.x.advance_to(ts)
        self._dispatch()

    def on_bar(self, bar: Bar) -> None:
        """Replay ``bar``'s records, one event at a time while orders are working."""
        self._call({"k": "B", "i": bar.index, "end": bar.end}, self._replay_until, bar.end)

    def _replay_until(self, end: int) -> None:
        x = self.x
        while (nxt := x.next_ts) is not None and nxt < end:
            if x.open_orders == 0:
                x.run_until(end - 1)
                break
            x.step()
            self._dispatch()
        x.advance_to(max(x.now, end - 1))
        self._dispatch()


def book_identity(book: str | os.PathLike[str]) -> dict[str, Any]:
    """The book file a session runs on: absolute path, size and SHA-256 (its identity)."""
    path = Path(book).resolve()
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return {"path": str(path), "size": path.stat().st_size, "sha256": digest.hexdigest()}


def l3_session(
    book: str | os.PathLike[str],
    strategy: Strategy,
    config: BacktestConfig | None = None,
    *,
    exchange_config: Any = None,
    bar_size: str = "1min",
    symbol: str = "MCL_FUT",
    max_bars: int | None = None,
    execution: ExecutionConfig | None = None,
    product: str = "MCL_FUT",
    state_dir: str | Path | None = None,
    speed: float = 0.0,
) -> PaperSession:
    """A paper session whose broker is the simulated exchange over an MBO file.

    Parameters
    ----------
    book : str or os.PathLike
        A Databento MBO file (``.dbn`` or ``.dbn.zst``) of one instrument.
    strategy : Strategy
        The strategy, run on the feed's trades aggregated to ``bar_size`` bars.
    config : BacktestConfig, optional
        Capital, costs (``commission_per_contract`` is the exchange's maker and taker fee),
        sizing, stops, risk limits.
    exchange_config : ExchangeConfig, optional
        Queue model, latencies, seed, fees, tick; default: conservative queue, no latency,
        the config's commission as fees, the product's tick.
    bar_size : str, default "1min"
        Bar length.
    symbol : str, default "MCL_FUT"
        The name the bars and orders carry.
    max_bars : int, optional
        Stop after this many bars.
    execution : ExecutionConfig, optional
        Order size and rate limits.
    product : str, default "MCL_FUT"
        Contract spec of the exchange's default tick.
    state_dir : str or Path, optional
        The journal folder (resumable; the exchange's log is ``exchange.log`` in it).
    speed : float, default 0
        Replay speed (0: full speed; 60: a one-minute bar a second).

    Returns
    -------
    PaperSession
        Ready to :meth:`~PaperSession.run` (its broker is an :class:`L3SimBroker`).

    Raises
    ------
    ConfigError
        ``state_dir`` holds another session (another book file included).
    """
    cfg = config or BacktestConfig()
    if exchange_config is None:
        fee = fixed(cfg.commission_per_contract)
        exchange_config = ExchangeConfig(
            tick=fixed(contract_spec(product).tick_size), maker_fee=fee, taker_fee=fee
        )
    x = SimExchange(book, exchange_config)
    bars = x.trade_bars(bar_size, symbol)
    log = None if state_dir is None else Path(state_dir) / "exchange.log"
    broker = L3SimBroker(x, log=log)
    session = PaperSession(
        bars,
        strategy,
        cfg,
        execution=execution,
        broker=broker,
        max_bars=max_bars,
        state_dir=state_dir,
        speed=speed,
        identity_extra={
            "symbol": symbol,
            "bar_size": bar_size,
            "book": book_identity(book),
            "exchange": repr(exchange_config),
        },
    )
    broker.resume_bar = session.engine.om.replay_until
    return session
