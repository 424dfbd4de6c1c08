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

The account lives in memory only (no resume from a journal folder).
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from workbench.backtest.config import BacktestConfig
from workbench.book import ExchangeConfig, SimExchange, fixed
from workbench.execution.brokers.base import BrokerOrder, FillListener, StatusListener
from workbench.execution.config import ExecutionConfig
from workbench.execution.feeds import Bar
from workbench.execution.session import PaperSession
from workbench.market import contract_spec
from workbench.model import Fill, Liquidity, Order, OrderStatus
from workbench.strategies.base import Strategy

_DONE_TYPES = {"cancelled": OrderStatus.CANCELLED, "expired": OrderStatus.CANCELLED}


class L3SimBroker:
    """The simulated broker over an MBO replay (see the module docstring).

    Parameters
    ----------
    exchange : SimExchange
        The exchange, its feed loaded and not yet replayed.
    """

    name = "sim-l3"

    def __init__(self, exchange: SimExchange) -> None:
        self.x = exchange
        self._orders: dict[str, BrokerOrder] = {}
        self._oca: dict[str, str] = {}
        self._ref_of: dict[int, str] = {}
        self._position: dict[str, int] = {}
        self._on_fill: FillListener | None = None
        self._on_status: StatusListener | None = None
        self.reports: list[pd.DataFrame] = []
        """Every execution report, as :func:`workbench.book.reports_frame` frames."""

    # -- account -------------------------------------------------------------------------
    def set_listeners(self, on_fill: FillListener, on_status: StatusListener) -> None:
        """Where fills and status changes go."""
        self._on_fill, self._on_status = on_fill, on_status

    def connect(self) -> None:
        """Nothing to open: the account is in memory."""

    def close(self) -> None:
        """Nothing to release."""

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
        self.x.cancel(bo.perm_id)
        self._pump()

    def modify_stop(self, order_ref: str, stop_price: float) -> None:
        """Move a working stop's trigger (a replace at the exchange)."""
        bo = self._orders.get(order_ref)
        if bo is None or bo.status.is_done:
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
        if self._on_status is not None:
            self._on_status(bo.order.order_ref, status, bo.perm_id, message)

    def _fill(self, bo: BrokerOrder, r: Any) -> None:
        o = bo.order
        qty = int(r.last_qty)
        fill = Fill(
            int(r.ts_exchange.value),
            o.symbol,
            o.side,
            qty,
            float(r.last_px),
            float(r.fee),
            o.order_ref,
            Liquidity(r.liquidity),
        )
        bo.fills.append(fill)
        bo.filled += qty
        self._position[o.symbol] = self._position.get(o.symbol, 0) + int(o.side) * qty
        done = bo.filled >= o.quantity
        bo.status = OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED
        if self._on_fill is not None:
            self._on_fill(o.order_ref, fill)
        if self._on_status is not None:
            self._on_status(o.order_ref, bo.status, bo.perm_id, "")
        group = self._oca.get(o.order_ref)
        if group:
            for ref, g in list(self._oca.items()):
                if g == group and ref != o.order_ref:
                    self.cancel(ref)

    # -- market data ---------------------------------------------------------------------
    def on_bar_open(self, bar: Bar) -> None:
        """Replay the records before ``bar`` starts; orders sent now arrive at its start."""
        self.x.run_until(bar.ts - 1)
        self.x.advance_to(bar.ts)
        self._dispatch()

    def on_bar(self, bar: Bar) -> None:
        """Replay ``bar``'s records, one event at a time while orders are working."""
        x = self.x
        while (nxt := x.next_ts) is not None and nxt < bar.end:
            if x.open_orders == 0:
                x.run_until(bar.end - 1)
                break
            x.step()
            self._dispatch()
        x.advance_to(max(x.now, bar.end - 1))
        self._dispatch()


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

    Returns
    -------
    PaperSession
        Ready to :meth:`~PaperSession.run` (its broker is an :class:`L3SimBroker`).
    """
    cfg = config or BacktestConfig()
    if exchange_config is None:
        fee = fixed(cfg.commission_per_contract)
        exchange_config = ExchangeConfig(
            tick=fixed(contract_spec(product).tick_size), maker_fee=fee, taker_fee=fee
        )
    x = SimExchange(book, exchange_config)
    bars = x.trade_bars(bar_size, symbol)
    return PaperSession(
        bars, strategy, cfg, execution=execution, broker=L3SimBroker(x), max_bars=max_bars
    )
