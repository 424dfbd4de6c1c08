"""``ExecutionEngine``: bar -> signal (native, incremental) -> pre-trade risk -> orders.

The same strategy classes and risk rules as the backtest, one bar at a time: the strategy's
:class:`~workbench.strategies.incremental.IncrementalSignal`, the native pre-trade check
(:func:`~workbench.risk.pretrade.pretrade_risk`: RiskManager's rules, order rate, kill
switch), :class:`~workbench.risk.PositionSizer` and :class:`~workbench.risk.StopLossManager`.
It follows :mod:`workbench.backtest.simulate`'s rules step for step, so on the ``sim`` broker
(the backtest's fill model) it produces the backtest's trades, prices and P&L:

``step(bar)``, for each bar of a replay:

1. *open*: a contract roll (the bar's symbol differs from the position's) closes the old
   contract at its last close and re-opens on the new one; the trade date's limits reset;
   the previous bar's signal acts (exit, then a sized, risk-checked entry with its stop and
   target); the broker fills market orders at the bar's open;
2. *bar*: the broker matches the resting stop and target in the bar;
3. *close*: mark to market, ratchet a trailing stop, the drawdown breakers, the signal.

``step_live(bar)`` is the order for a bar that arrives at its end (IB): close, then the next
bar's open phase at once (its orders fill at the market). ``step_live(bar, roll=(symbol,
price))`` says the next bar is on another contract (the feed rolled): the position is closed
on the old contract and the orders for the new one (the re-entry, a new signal's entry) wait
until that exit has filled, so the account is flat on the old contract before the first
order on the new one. ``warm_up(bars)`` feeds history to
the signal only (no order, no record), so a live session's indicators start warm.

Listeners (``engine.listeners.append(fn)``) get an :class:`~workbench.execution.events.Event`
for each fill, closed trade, drawdown crossing, risk refusal, broker rejection and position
mismatch (not while a resumed session replays its journal).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.backtest.config import BacktestConfig
from workbench.backtest.engine import margins
from workbench.execution.brokers.base import Broker
from workbench.execution.config import ExecutionConfig
from workbench.execution.events import Emitter, Event, Listener
from workbench.execution.feeds import Bar
from workbench.execution.journal import Journal
from workbench.execution.orders import ManagedOrder, OrderManager, ReconcileDecision
from workbench.market.contracts import ContractSpec, contract_spec
from workbench.model import Fill, Side
from workbench.model import codes as D
from workbench.native import RISK_EVENT_DTYPE, TRADE_DTYPE
from workbench.risk.position_sizer import PositionSizer
from workbench.risk.pretrade import margin_cap, pretrade_risk, trade_day
from workbench.risk.stop_loss import StopLossManager
from workbench.strategies.base import Strategy
from workbench.strategies.incremental import IncrementalSignal

_NS_PER_HOUR = 3_600_000_000_000
_EXIT_REASON = {
    "exit": D.EXIT_SIGNAL,
    "stop": D.EXIT_STOP,
    "target": D.EXIT_TARGET,
    "roll_exit": D.EXIT_ROLL,
    "end": D.EXIT_END,
    "flatten": D.EXIT_SIGNAL,
    "margin_call": D.EXIT_MARGIN_CALL,
}


@dataclass
class _Trade:
    side: int
    qty: int
    entry_px: int
    entry_bar: int
    entry_slip: int
    dist: int
    symbol: str


class ExecutionEngine:
    """Runs a strategy against a broker, bar by bar (see the module docstring).

    Parameters
    ----------
    broker : Broker
        ``SimBroker`` or the IB adapter.
    strategy : Strategy
        A strategy with an incremental signal (ema_crossover, bollinger_reversion,
        donchian_breakout).
    config : BacktestConfig, optional
        Capital, costs, sizing, stops and risk limits: the backtest's (``entry_window`` and
        ``flat_before_halt_minutes`` are not supported yet).
    execution : ExecutionConfig, optional
        Max order size, order rate, the mismatch policy.
    journal : Journal, optional
        Defaults to an in-memory journal.
    session_id : str, default "wb"
        Prefix of the orders' ``order_ref``.
    product : str, default "MCL_FUT"
        For the contract's tick size and value.
    """

    def __init__(
        self,
        broker: Broker,
        strategy: Strategy,
        config: BacktestConfig | None = None,
        *,
        execution: ExecutionConfig | None = None,
        journal: Journal | None = None,
        session_id: str = "wb",
        product: str = "MCL_FUT",
        interval: pd.Timedelta | None = None,
        listeners: list[Listener] | None = None,
    ) -> None:
        self.cfg = cfg = config or BacktestConfig()
        if cfg.entry_window or cfg.flat_before_halt_minutes:
            from workbench.errors import ConfigError  # optional: the error path only

            raise ConfigError(
                "paper sessions do not support entry_window or flat_before_halt_minutes yet",
                hint="run without them (the strategy's own time filter is supported)",
            )
        self.exe = execution or ExecutionConfig()
        self.spec: ContractSpec = contract_spec(product)
        self.tick = self.spec.tick_size
        self.tv = self.spec.tick_value
        self.broker = broker
        self.strategy = strategy
        self.signal = IncrementalSignal(strategy, interval=interval)
        self.journal = journal or Journal(":memory:")
        self.om = OrderManager(
            broker, self.journal, session_id, self._on_fill, on_mismatch=self.exe.on_mismatch
        )
        self.risk = pretrade_risk(
            cfg.risk,
            multiplier=self.spec.multiplier,
            tick_size=self.tick,
            max_orders_per_minute=self.exe.max_orders_per_minute,
        )
        self.use_risk = cfg.use_risk_manager
        self.sizer = PositionSizer(cfg.sizing, cfg.risk.risk_per_trade, self.tv)
        self.stops = StopLossManager(cfg.stop, self.tv)
        self.slip = cfg.slippage_ticks
        # state
        self.cash = cfg.initial_capital
        self.eq_prev = self.cash
        self.pos: _Trade | None = None
        self.stop: int | None = None
        self.target: int | None = None
        self.stop_ref = self.target_ref = ""
        self.sig1 = self.sig2 = 0
        self.stop_t1 = 0
        self.c1 = 0  # previous close, ticks
        self.prev_symbol = ""
        self.i = -1
        self.bar: Bar | None = None
        self._hour = -1
        self._tdate = -1
        self._day = -1
        self.stopped = False
        self.halted_reason = ""
        self.margin_called = False  # the account is closed: no more trading (not a stop)
        self._exit_sent = False
        self._flattened_after_close = False  # finish() or kill() sent a flatten: mark_end()
        # a live roll: entries for the new contract, sent once the old one is flat
        self._after_roll: list[tuple[Any, ...]] | None = None
        # the record
        self.equity: list[float] = []
        self.position: list[int] = []
        self.signals: list[int] = []
        self.trades: list[tuple[Any, ...]] = []
        self.events: list[np.ndarray] = []
        self.blotter: list[dict[str, Any]] = []
        # events
        self._emitter = Emitter()
        self.listeners = self._emitter.listeners
        self.listeners.extend(listeners or ())
        self.om.on_rejected = self._on_rejected
        self._peak = self.cash
        dd = self.exe.alert_drawdown
        self._dd_frac = dd
        self._dd_level = self.cash * (1 - dd) if dd else -math.inf
        self._in_dd = False

    def set_capital(self, capital: float) -> None:
        """Start on ``capital`` USD instead of the config's (before the first bar only)."""
        if self.equity or self.trades:
            raise RuntimeError("the capital is set before the first bar")
        self.cfg = dataclasses.replace(self.cfg, initial_capital=capital)
        self.cash = self.eq_prev = self._peak = capital
        self._dd_level = capital * (1 - self._dd_frac) if self._dd_frac else -math.inf

    # -- helpers ------------------------------------------------------------------------------
    @property
    def position_qty(self) -> int:
        """Signed contracts held."""
        return 0 if self.pos is None else self.pos.side * self.pos.qty

    def _ticks(self, price: float) -> int:
        return round(price / self.tick)

    def _price(self, ticks: int) -> float:
        return round(ticks * self.tick, 10)

    def _day_of(self, ts: int) -> int:
        hour = ts // _NS_PER_HOUR
        if hour != self._hour:
            self._hour = hour
            d = trade_day(hour * _NS_PER_HOUR)
            if d != self._tdate:
                self._tdate = d
                self._day += 1
        return self._day

    # -- the step -------------------------------------------------------------------------
    def step(self, bar: Bar) -> None:
        """Process one bar of a replay (its open is known when it starts)."""
        om = self.om
        om.bar = bar.index
        om.replay_fills("idle")
        live = not om.replaying
        if live:
            self.broker.on_bar_open(bar)
        self._open_phase(bar.index, bar.ts, bar.symbol, bar.open)
        om.phase = "bar"
        self.bar = bar
        if live:
            self.broker.on_bar(bar)
        else:
            om.replay_fills("bar")
        self._close_phase(bar)
        om.phase = "idle"

    def warm_up(self, bars: Iterable[Bar]) -> int:
        """Feed history to the signal only (no order, no record); returns the bars used.

        The indicators, the last signals and the last close are those the backtest would
        have at the end of ``bars``, so the first live bar acts as it would there.
        """
        n = 0
        update = self.signal.update
        for bar in bars:
            s = update(bar.high, bar.low, bar.close, bar.ts)
            t = self.signal.stop_distance / self.tick
            stop_t = 0 if math.isnan(t) else math.ceil(max(t, 0.0) - 1e-9)
            self.sig2, self.sig1, self.stop_t1 = self.sig1, s, stop_t
            self.c1 = self._ticks(bar.close)
            n += 1
        return n

    @property
    def roll_pending(self) -> bool:
        """Whether a roll's orders for the new contract wait for the old one's exit."""
        return self._after_roll is not None

    def step_live(
        self, bar: Bar, *, act: bool = True, roll: tuple[str, float] | None = None
    ) -> None:
        """Process a bar that arrives at its end, then act at once for the next one.

        ``act=False`` for the session's last bar: no order for a bar that will not come.
        ``roll``: the next bar is on contract ``roll[0]``, last traded at ``roll[1]`` (the
        expected price of its orders).
        """
        self.om.bar = bar.index
        self.om.replay_fills("idle")
        self.bar = bar
        self.om.phase = "bar"
        self.om.replay_fills("bar")
        self._close_phase(bar)
        if act and not self.stopped:
            self.om.bar = bar.index + 1
            symbol, price = roll if roll is not None else (bar.symbol, bar.close)
            self._open_phase(bar.index + 1, bar.end, symbol, price)
        self.om.phase = "idle"

    def _open_phase(self, i: int, ts: int, symbol: str, open_px: float) -> None:
        self.om.phase = "submit"
        self.i = i
        c1_px = self._price(self.c1)
        # 1. roll
        rolling = reentry = False
        if self.pos is not None and symbol != self.pos.symbol:
            side, qty, dist = self.pos.side, self.pos.qty, self.pos.dist
            self._exit("roll_exit", ts, c1_px)
            self.eq_prev = self.cash
            if self.pos is not None:
                # a live broker fills the exit later: the new contract's orders wait for it,
                # and a re-entry that this bar's signal would close at once is not sent
                rolling = True
                self._after_roll = []
                reentry = self.cfg.roll_mode == "roll" and self.sig1 == side
                reentry = reentry and not self.stopped and not self.margin_called
            if self.cfg.roll_mode == "roll" and (not rolling or reentry):
                self._enter(side, qty, symbol, dist, ts, open_px, "roll_entry")
        # 2. trade date
        if self.use_risk:
            self.risk.start_bar(i, self._day_of(ts), self.eq_prev)
        # 3. the previous bar's signal
        if i > 0 and not self.stopped and not self.margin_called:
            s1, s2 = self.sig1, self.sig2
            exiting = False
            if self.pos is not None and s1 != self.pos.side and not rolling:
                self._exit("exit", ts, open_px)
                exiting = self._exit_sent
            exiting = exiting or (rolling and not reentry)
            if (self.pos is None or exiting) and s1 != 0 and s1 != s2:
                cap = margin_cap(self.eq_prev, self._margins[0])
                if self.use_risk:
                    d = self.stops.distance_ticks(self.c1, self.stop_t1)
                    req = self.sizer.size(self.eq_prev, d, self.stop_t1)
                    dec = self.risk.check_entry(req, self.c1, self.eq_prev, True, ts, cap)
                    if dec.approved > 0:
                        self._enter(s1, dec.approved, symbol, d, ts, open_px, "entry")
                    elif self._emitter:
                        self.emit("risk", f"entry of {req} refused by the pre-trade check")
                else:
                    req = self.cfg.sizing.contracts
                    qty = req if cap is None else self.risk.check_margin(i, req, cap)
                    if qty > 0:
                        self._enter(s1, qty, symbol, 0, ts, open_px, "entry")
                    elif self._emitter:
                        self.emit("risk", f"entry of {req} refused: not enough initial margin")
        self.prev_symbol = symbol

    def _close_phase(self, bar: Bar) -> None:
        self.om.phase = "close"
        c = self._ticks(bar.close)
        p = self.pos
        mtm = self.cash + (float(p.side * (c - p.entry_px) * p.qty) * self.tv if p else 0.0)
        closed = self.margin_called
        maintenance = self._margins[1]
        if p is not None and maintenance > 0 and mtm < maintenance * p.qty and not closed:
            mtm = self._margin_call(bar, p, mtm)
            p = self.pos
        if p is not None and self.stops.trailing and self.stop is not None:
            new = self.stops.trail(
                p.side, self.stop, self._ticks(bar.high), self._ticks(bar.low), p.dist
            )
            if new is not None and new != self.stop:
                self.stop = new
                self.om.modify_stop(self.stop_ref, self._price(new))
        if self.use_risk and not closed:  # a closed account: no more breakers (the backtest)
            self.risk.end_bar(mtm)
        s = self.signal.update(bar.high, bar.low, bar.close, bar.ts)
        dist = self.signal.stop_distance
        t = dist / self.tick
        stop_t = 0 if math.isnan(t) else math.ceil(max(t, 0.0) - 1e-9)
        if mtm < self._dd_level or mtm > self._peak:
            self._drawdown(mtm)
        self.equity.append(mtm)
        self.position.append(self.position_qty)
        self.signals.append(s)
        self.eq_prev = mtm
        self.sig2, self.sig1, self.stop_t1, self.c1 = self.sig1, s, stop_t, c
        if not self.om.replaying:
            self.journal.record_bar(bar.index, bar.ts, s, dist, mtm, self.position_qty)
            if self.journal.dirty or bar.index % 1000 == 0:
                self._drain_events()
            self.journal.bar_done(bar.index)

    @functools.cached_property
    def _margins(self) -> tuple[float, float]:
        """(initial, maintenance) margin per contract (0: off), as the backtest's."""
        return margins(self.cfg, self.spec)

    def _margin_call(self, bar: Bar, p: _Trade, mtm: float) -> float:
        """Equity ``mtm`` at ``bar``'s close is below the maintenance margin of position ``p``:
        flatten at the close (the sim broker's price now) and close the account: no more
        trading, but the session goes on (its equity stays at the cash, as the backtest's).
        Returns the equity after it (``mtm`` while a live broker has not filled the exit)."""
        self.risk.margin_call(bar.index, p.qty)
        self.om.phase = "submit"
        self._exit("margin_call", bar.end, bar.close)
        self.om.phase = "close"
        self.margin_called = True
        self.halted_reason = (
            f"margin call: equity {mtm:,.2f} below the maintenance margin of {p.qty} contracts"
        )
        self.emit("risk", self.halted_reason)
        return self.cash if self.pos is None else mtm

    # -- events ---------------------------------------------------------------------------
    def emit(self, kind: str, message: str = "", **fields: Any) -> None:
        """Hand an event to the listeners (nothing while replaying a journal)."""
        if self._emitter and not self.om.replaying:
            self._emitter.emit(Event(kind, message, self.i, **fields))

    def _on_rejected(self, mo: ManagedOrder) -> None:
        """The broker refused an order: recorded (journal alert), an event; the session goes on."""
        if mo.ref == self.stop_ref:
            self.stop_ref = ""
        if mo.ref == self.target_ref:
            self.target_ref = ""
        if mo.purpose == "roll_exit":
            self._after_roll = None  # still on the old contract: the next bar rolls again
        if mo.purpose in ("exit", "roll_exit", "end", "flatten"):
            # the position stays: a reversal's entry sent behind the exit must not fill
            for other in self.om.working():
                if other.purpose in ("entry", "roll_entry") and other.bar == mo.bar:
                    self.om.cancel(other.ref)
        why = mo.info.get("message", "")
        self.emit("reject", f"order {mo.ref} ({mo.purpose}) rejected: {why}".rstrip(": "))

    def _drawdown(self, mtm: float) -> None:
        """A new peak re-arms the drawdown event; falling through the level fires it once."""
        frac = self._dd_frac
        if not frac:
            return
        if mtm > self._peak:
            self._peak = mtm
            self._dd_level = mtm * (1 - frac)
            self._in_dd = False
            return
        if not self._in_dd:
            self._in_dd = True
            dd = 1 - mtm / self._peak
            self.emit(
                "drawdown",
                f"equity {mtm:,.2f} is {dd:.1%} below its peak {self._peak:,.2f}",
                drawdown=dd,
                threshold=frac,
            )

    def _drain_events(self) -> None:
        ev = self.risk.take_events()
        if len(ev):
            self.events.append(ev)
            if not self.om.replaying:
                for e in ev:
                    self.journal.record_risk_event(
                        int(e["bar"]),
                        int(e["action"]),
                        int(e["reason"]),
                        int(e["requested"]),
                        int(e["approved"]),
                    )

    # -- orders -----------------------------------------------------------------------------
    def _enter(
        self, side: int, qty: int, symbol: str, dist: int, ts: int, ref_px: float, purpose: str
    ) -> None:
        if self._after_roll is not None:  # the old contract's exit has not filled yet
            self._after_roll.append((side, qty, symbol, dist, ts, ref_px, purpose))
            return
        if qty > self.exe.max_order_size:
            if not self.om.replaying:
                self.journal.alert(
                    self.i, "max_order_size", f"entry of {qty} cut to {self.exe.max_order_size}"
                )
            qty = self.exe.max_order_size
        order = self.om.create_entry_order(Side(side), qty, symbol)
        self._pending_dist = dist
        self.om.submit(order, purpose, expected_price=ref_px)

    def _exit(self, purpose: str, ts: int, ref_px: float) -> None:
        p = self.pos
        if p is None:
            return
        for ref in (self.stop_ref, self.target_ref):
            if ref:
                self.om.cancel(ref)
        self.stop_ref = self.target_ref = ""
        if self.exe.max_orders_per_minute is not None:
            self.risk.record_order(ts)
        order = self.om.create_exit_order(p.side * p.qty, p.symbol)
        self.om.submit(order, purpose, expected_price=ref_px)
        self._exit_sent = self.pos is not None  # not filled yet (a live broker)

    def _on_fill(self, mo: ManagedOrder, fill: Fill) -> None:
        """Position, cash and the trade record from one fill."""
        px = self._ticks(fill.price)
        slip = abs(px - self._ticks(mo.expected_price)) if mo.expected_price else 0
        self.blotter.append(
            {
                "bar": self.i,
                "order_ref": mo.ref,
                "purpose": mo.purpose,
                "side": int(fill.side),
                "quantity": fill.quantity,
                "price": fill.price,
                "commission": fill.commission,
            }
        )
        if mo.purpose in ("entry", "roll_entry"):
            self.cash -= fill.commission
            p = self.pos
            if p is None:
                self.pos = _Trade(
                    int(fill.side),
                    fill.quantity,
                    px,
                    self.i,
                    slip,
                    getattr(self, "_pending_dist", 0),
                    fill.symbol,
                )
            else:  # a partial fill adds to it (the first fill's price is kept)
                p.qty += fill.quantity
            self._protect()
        else:
            self._close_trade(mo, fill, px)
        self.om.position_hint = self.position_qty
        if self._emitter:
            self.emit("fill", f"{mo.purpose} {mo.ref}", fill=fill)

    def _protect(self) -> None:
        """Place (or resize) the stop and target of the position."""
        p = self.pos
        if p is None or not self.use_risk:
            return
        for ref in (self.stop_ref, self.target_ref):
            if ref:
                self.om.cancel(ref)
        self.stop, self.target = self.stops.place(p.side, p.entry_px, p.dist)
        signed = p.side * p.qty
        oca = f"oca-{self.om.session_id}-{self.i}-{p.entry_bar}"
        self.stop_ref = self.target_ref = ""
        if self.stop is not None:
            o = self.om.create_stop_order(signed, self._price(self.stop), p.symbol)
            self.stop_ref = o.order_ref
            self.om.submit(o, "stop", expected_price=self._price(self.stop), oca_group=oca)
        if self.target is not None:
            o = self.om.create_target_order(signed, self._price(self.target), p.symbol)
            self.target_ref = o.order_ref
            self.om.submit(o, "target", expected_price=self._price(self.target), oca_group=oca)

    def _close_trade(self, mo: ManagedOrder, fill: Fill, px: int) -> None:
        p = self.pos
        if p is None:
            return
        reason = _EXIT_REASON.get(mo.purpose, D.EXIT_SIGNAL)
        if mo.purpose == "stop" and self.bar is not None:
            o = self._ticks(self.bar.open)
            trigger = o if (o - self.stop if self.stop else 0) * p.side <= 0 else self.stop
            exit_slip = abs(px - (trigger if trigger is not None else px))
        elif mo.purpose == "target":
            exit_slip = 0
        else:
            exit_slip = abs(px - self._ticks(mo.expected_price)) if mo.expected_price else 0
        qty = fill.quantity
        gross = float(p.side * (px - p.entry_px) * qty) * self.tv
        cost = fill.commission
        self.cash += gross
        self.cash -= cost
        net = gross - 2.0 * cost
        at_close = mo.purpose in ("roll_exit", "end", "margin_call")
        exit_bar = self.i - 1 if mo.purpose == "roll_exit" else self.i
        self.trades.append(
            (
                p.entry_bar,
                exit_bar,
                p.side,
                qty,
                p.entry_px,
                px,
                gross,
                2.0 * cost,
                float((p.entry_slip + exit_slip) * qty) * self.tv,
                net,
                reason,
                at_close,
            )
        )
        if self.use_risk:
            self.risk.on_trade_closed(net)
            self.sizer.stats.record(net)
        if self._emitter:
            trade = {
                "symbol": p.symbol,
                "side": "long" if p.side > 0 else "short",
                "contracts": qty,
                "entry_price": self._price(p.entry_px),
                "exit_price": fill.price,
                "net_pnl": net,
                "exit_reason": mo.purpose,
                "exit_time": fill.time,
                "trade_id": mo.ref,
            }
            self.emit("trade", f"{mo.purpose}: net {net:+,.2f}", trade=trade)
        p.qty -= qty
        if p.qty <= 0:
            self.pos = None
            self.stop = self.target = None
            for ref in (self.stop_ref, self.target_ref):
                if ref and ref != mo.ref:
                    self.om.cancel(ref)
            self.stop_ref = self.target_ref = ""
            if mo.purpose == "roll_exit" and self._after_roll is not None:
                waiting, self._after_roll = self._after_roll, None
                for entry in waiting:  # flat on the old contract: the new one's orders
                    self._enter(*entry)

    # -- session control ------------------------------------------------------------------------
    def finish(self) -> None:
        """After the last bar: close an open position at the last close (as the backtest).

        The sim broker fills at once; a live broker fills later: call :meth:`mark_end` once
        its fill is in (the session does, after waiting for the last orders)."""
        if self.pos is not None and self.exe.flatten_at_end and self.i >= 0:
            self.om.phase = "submit"
            self._exit("end", self.bar.end if self.bar else 0, self._price(self.c1))
            self._flattened_after_close = True
        self.mark_end()
        self.checkpoint()

    def mark_end(self) -> None:
        """The record's last row once a flatten sent after the last close (the end of data,
        the kill switch) has filled: the equity is the cash, the position flat, as the
        backtest's ``end_of_data`` row. Until the fill is in, the row keeps its mark."""
        if not self._flattened_after_close or self.pos is not None or not self.equity:
            return
        self.equity[-1] = self.cash
        self.position[-1] = 0
        self.eq_prev = self.cash

    def checkpoint(self) -> None:
        """Journal the risk events and the bars done, and commit."""
        self._drain_events()
        if not self.om.replaying:
            self.journal.set_meta("bars_done", len(self.equity))
            self.journal.commit()

    def kill(self, reason: str = "kill switch") -> None:
        """Kill switch: no more entries, cancel working orders, flatten, stop."""
        self.risk.kill()
        self._after_roll = None  # no new contract's entry after a kill
        for mo in self.om.working():
            self.om.cancel(mo.ref)
        self.stop_ref = self.target_ref = ""
        if self.pos is not None:
            self.om.phase = "submit"
            self._exit("flatten", self.bar.end if self.bar else 0, self._price(self.c1))
            self._flattened_after_close = True
        self.journal.alert(self.i, "kill_switch", reason)
        self.journal.commit()
        self.stopped = True
        self.halted_reason = reason

    def reconcile(self) -> ReconcileDecision:
        """Positions against the broker's, and the configured answer to a difference.

        Fills the broker has and the journal missed (a crash or a dropped link in between)
        are applied first (:meth:`OrderManager.catch_up`).
        """
        self.om.phase = "bar"
        self.om.catch_up()
        self.om.phase = "idle"
        ours = {self.pos.symbol: self.position_qty} if self.pos is not None else {}
        decision = self.om.reconcile_positions(ours)
        if not decision.ok:
            text = "; ".join(
                f"{s}: ours {a:+d}, broker {b:+d}" for s, (a, b) in decision.differences.items()
            )
            self.emit(
                "risk",
                f"position mismatch ({text}) -> {decision.action}",
                data={"differences": decision.differences, "action": decision.action},
            )
        if decision.action == "halt":
            self.stopped = True
            self.halted_reason = f"position mismatch: {decision.differences}"
        elif decision.action == "flatten":
            for sym, (_, theirs) in decision.differences.items():
                if theirs:
                    o = self.om.create_exit_order(theirs, sym)
                    self.om.submit(o, "reconcile")
            self.pos = None
        elif decision.action == "adopt":
            for sym, (_, theirs) in decision.differences.items():
                self.pos = (
                    _Trade(1 if theirs > 0 else -1, abs(theirs), self.c1, self.i, 0, 0, sym)
                    if theirs
                    else None
                )
        return decision

    def trade_records(self) -> np.ndarray:
        """The closed trades as ``TRADE_DTYPE`` records (the backtest kernel's)."""
        out = np.zeros(len(self.trades), dtype=TRADE_DTYPE)
        names = TRADE_DTYPE.names or ()
        for k, name in enumerate(names):
            out[name] = [t[k] for t in self.trades]
        return out

    def event_records(self) -> np.ndarray:
        """The risk events as ``RISK_EVENT_DTYPE`` records."""
        self._drain_events()
        if not self.events:
            return np.zeros(0, dtype=RISK_EVENT_DTYPE)
        return np.concatenate(self.events)
