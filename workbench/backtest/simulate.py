"""The path-dependent part of a backtest, on integer ticks: one state machine, two engines.

:func:`simulate_python` walks the bars with the risk classes themselves
(:class:`~workbench.risk.RiskManager`, :class:`~workbench.risk.PositionSizer`,
:class:`~workbench.risk.StopLossManager`): it is the reference, and what the paper-trading
engine does live. :func:`simulate_native` runs the same rules compiled in Rust
(``workbench_native``); a test holds the two to the same trades, equity and risk events.
Both return the trades and risk events as NumPy record arrays of the kernel's dtypes
(:data:`TRADE_DTYPE`, :data:`RISK_EVENT_DTYPE`, mirrors of ``#[repr(C)]`` Rust structs).

Execution rules (a bar is known at its end):

1. At a contract roll (the continuous series changes contract between bars ``i-1`` and
   ``i``: ``i`` is in ``rolls``), an open position is closed at bar ``i-1``'s close (exit
   slippage and commission) and, with ``roll_mode="roll"``, re-opened at bar ``i``'s open
   with the same size and stop distance.
2. A new CME trade date resets the daily limits (``RiskManager.start_bar``).
3. At bar ``i``'s open, act on the signal computed at bar ``i-1``'s close: exit a position
   whose direction the signal no longer wants; close before the halt (``force_flat``); enter
   when the signal has just changed to long or short (sized, validated, resized or rejected
   by the risk manager). Market fills pay ``slippage_ticks``.
4. Inside bar ``i``: stop and target from its high and low. A gap through a level fills at the
   open; stop and target both inside the range: the stop (the worse) is assumed. Stops pay
   slippage, targets (limit orders) do not.
5. At bar ``i``'s close: mark to market; if that equity is below ``maintenance_margin`` x
   the contracts held, a margin call: the position is flattened at this close (exit
   slippage and commission; exit reason ``margin_call``, a ``margin_call`` risk event) and
   the account is closed, with no more trading for the rest of the run (equity stays at the
   cash left). Then ratchet a trailing stop and trip drawdown breakers.
6. After the last bar, an open position is closed at its close.

Margin applies in every mode (risk management on or off): an entry needs
``initial_margin`` per contract out of the previous close's equity (the size is cut to what
the equity can post, or the entry rejected: reason ``initial_margin``). A roll's re-entry is
a continuation and is not re-checked. Margins of 0 turn the model off.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from workbench.model import codes as D
from workbench.native import (
    RISK_EVENT_DTYPE,
    TRADE_DTYPE,
    BacktestParams,
    Sizing,
    StopMode,
    native_members,
)
from workbench.native import simulate as native_simulate
from workbench.risk.config import RiskConfig, SizingConfig, StopConfig
from workbench.risk.position_sizer import PositionSizer
from workbench.risk.risk_manager import RiskManager
from workbench.risk.stop_loss import StopLossManager

TRADE_FIELDS: tuple[str, ...] = TRADE_DTYPE.names or ()
"""The fields of a trade record (the kernel's ``Trade`` struct)."""
EVENT_FIELDS: tuple[str, ...] = RISK_EVENT_DTYPE.names or ()
"""The fields of a risk-event record (the kernel's ``RiskEvent`` struct)."""

# The kernel's enums by the names the configs use ("fixed_pct", "kelly", ...).
_STOP_MODES = {k.lower(): v for k, v in native_members(StopMode).items()}
_SIZINGS = {k.lower(): v for k, v in native_members(Sizing).items()}


@dataclass
class SimInputs:
    """Per-bar arrays (all the same length) and the bars where the trade date or contract
    changes (few: no per-bar arrays for what changes a few hundred times)."""

    open: np.ndarray  # float64 prices (converted to ticks with rint(price / tick))
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    signal: np.ndarray  # int8: direction wanted after the bar closes
    stop_distance: np.ndarray  # float64: strategy stop distance at the bar's close (NaN: none)
    day_starts: np.ndarray  # int64: first bar of each CME trade date after the first
    rolls: np.ndarray  # int64: bars whose contract differs from the previous bar's
    entry_ok: np.ndarray | None = None  # bool: entries allowed at this bar's open (None: all)
    force_flat: np.ndarray | None = None  # bool: be flat at this bar's open (None: never)

    def __len__(self) -> int:
        return len(self.open)

    def day_index(self) -> np.ndarray:
        """The trade-date index of every bar (0 for the first date)."""
        marks = np.zeros(len(self), dtype=np.int64)
        marks[np.asarray(self.day_starts, dtype=np.int64)] = 1
        return np.cumsum(marks)


@dataclass(frozen=True)
class SimParams:
    """Scalars of the simulation."""

    initial_capital: float
    commission: float
    slippage_ticks: int
    tick_value: float
    tick_size: float
    multiplier: float
    use_risk: bool
    roll: bool
    fixed_contracts: int
    initial_margin: float = 0.0  # per contract, to enter (0: no margin model)
    maintenance_margin: float = 0.0  # per contract held, checked at each close (0: none)
    risk: RiskConfig = field(default_factory=RiskConfig)
    sizing: SizingConfig = field(default_factory=SizingConfig)
    stop: StopConfig = field(default_factory=StopConfig)


@dataclass
class SimOutputs:
    """What a simulation produced."""

    equity: np.ndarray  # float64, at each bar's close
    position: np.ndarray | None  # signed contracts at each close (None: from the trades)
    trades: np.ndarray  # TRADE_DTYPE records, in the order closed
    events: np.ndarray  # RISK_EVENT_DTYPE records, in the order taken
    trades_rejected: int
    circuit_breaker_triggered: int


def prices_to_ticks(prices: np.ndarray, tick: float) -> np.ndarray:
    """Whole ticks: ``rint(price / tick)`` (ties to even), as the kernel does."""
    return np.rint(np.asarray(prices, dtype=np.float64) / tick).astype(np.int64)


def distances_to_ticks(dist: np.ndarray, tick: float) -> np.ndarray:
    """Stop distances to whole ticks, rounded up; NaN (no stop) -> 0, as the kernel does."""
    t = np.asarray(dist, dtype=np.float64) / tick
    out = np.ceil(np.maximum(t, 0.0) - 1e-9)
    return np.where(np.isnan(t), 0, out).astype(np.int64)


def simulate_python(x: SimInputs, p: SimParams) -> SimOutputs:
    """Reference simulation with the bar-by-bar risk classes (see the module docstring)."""
    n = len(x)
    o, h, lo, c = (
        prices_to_ticks(a, p.tick_size).tolist() for a in (x.open, x.high, x.low, x.close)
    )
    sig = np.asarray(x.signal, dtype=np.int64).tolist()
    stop_t = distances_to_ticks(x.stop_distance, p.tick_size).tolist()
    day = x.day_index().tolist()
    roll_at = np.zeros(n, dtype=bool)
    roll_at[np.asarray(x.rolls, dtype=np.int64)] = True
    roll_bar = roll_at.tolist()
    entry_ok = [True] * n if x.entry_ok is None else np.asarray(x.entry_ok, dtype=bool).tolist()
    flat = [False] * n if x.force_flat is None else np.asarray(x.force_flat, dtype=bool).tolist()

    risk = RiskManager(p.risk, multiplier=p.multiplier, tick_size=p.tick_size)
    sizer = PositionSizer(p.sizing, p.risk.risk_per_trade, p.tick_value)
    stops = StopLossManager(p.stop, p.tick_value)
    slip, tv, comm = p.slippage_ticks, p.tick_value, p.commission

    equity = np.zeros(n)
    position = np.zeros(n, dtype=np.int64)
    trades: dict[str, list[float]] = {k: [] for k in TRADE_FIELDS}
    cash = p.initial_capital
    eq_prev = cash
    side = qty = 0
    entry_px = entry_bar = dist = 0
    entry_slip = 0
    stop: int | None = None
    target: int | None = None

    def margin_cap(equity: float) -> int | None:
        if p.initial_margin <= 0:
            return None
        return math.floor(max(equity, 0.0) / p.initial_margin + 1e-9)

    def close_trade(px: int, bar: int, reason: int, at_close: bool, exit_slip: int) -> None:
        nonlocal cash, side, qty, stop, target
        gross = float(side * (px - entry_px) * qty) * tv
        cost = comm * qty
        cash += gross
        cash -= cost
        net = gross - 2.0 * cost
        for k, v in (
            ("entry_bar", entry_bar),
            ("exit_bar", bar),
            ("side", side),
            ("contracts", qty),
            ("entry_px", entry_px),
            ("exit_px", px),
            ("gross_pnl", gross),
            ("commission", 2.0 * cost),
            ("slippage_cost", float((entry_slip + exit_slip) * qty) * tv),
            ("net_pnl", net),
            ("exit_reason", reason),
            ("exit_at_close", at_close),
        ):
            trades[k].append(v)
        if p.use_risk:
            risk.on_trade_closed(net)
            sizer.stats.record(net)
        side = qty = 0
        stop = target = None

    def open_trade(new_side: int, n_contracts: int, bar: int, d: int) -> None:
        nonlocal cash, side, qty, entry_px, entry_bar, dist, entry_slip, stop, target
        side, qty, entry_bar, dist = new_side, n_contracts, bar, d
        entry_px = o[bar] + side * slip
        entry_slip = slip
        cash -= comm * qty
        if p.use_risk:
            stop, target = stops.place(side, entry_px, dist)

    for i in range(n):
        # 1. roll
        if qty and roll_bar[i]:
            keep_side, keep_qty, keep_dist = side, qty, dist
            close_trade(c[i - 1] - side * slip, i - 1, D.EXIT_ROLL, True, slip)
            eq_prev = cash
            if p.roll:
                open_trade(keep_side, keep_qty, i, keep_dist)
                # the re-entry is a continuation: no new risk request
        # 2. trade date
        if p.use_risk:
            risk.start_bar(i, day[i], eq_prev)
        # 3. act at the open on the previous bar's signal
        if i > 0:
            s1 = sig[i - 1]
            s2 = sig[i - 2] if i > 1 else 0
            if qty and (s1 != side or flat[i]):
                reason = D.EXIT_SESSION if (flat[i] and s1 == side) else D.EXIT_SIGNAL
                close_trade(o[i] - side * slip, i, reason, False, slip)
            if qty == 0 and s1 != 0 and s1 != s2:
                if p.use_risk:
                    d = stops.distance_ticks(c[i - 1], stop_t[i - 1])
                    req = sizer.size(eq_prev, d, stop_t[i - 1])
                    dec = risk.check_entry(
                        req, c[i - 1], eq_prev, entry_ok[i] and not flat[i], margin_cap(eq_prev)
                    )
                    if dec.approved > 0:
                        open_trade(s1, dec.approved, i, d)
                elif not flat[i]:
                    cap = margin_cap(eq_prev)
                    n_contracts = p.fixed_contracts
                    if cap is not None:
                        n_contracts = risk.check_margin(i, n_contracts, cap)
                    if n_contracts > 0:
                        open_trade(s1, n_contracts, i, 0)
        # 4. intrabar stop / target
        if qty and (stop is not None or target is not None):
            hit = StopLossManager.check(side, stop, target, o[i], h[i], lo[i])
            if hit is not None:
                px, reason = hit
                if reason == D.EXIT_STOP:
                    close_trade(px - side * slip, i, reason, False, slip)
                else:
                    close_trade(px, i, reason, False, 0)
        # 5. close (a margin call flattens at the close and closes the account)
        mtm = cash + (float(side * (c[i] - entry_px) * qty) * tv if qty else 0.0)
        margin_call = bool(qty) and p.maintenance_margin > 0 and mtm < p.maintenance_margin * qty
        if margin_call:
            risk.margin_call(i, qty)
            close_trade(c[i] - side * slip, i, D.EXIT_MARGIN_CALL, True, slip)
            mtm = cash
        if qty and stops.trailing:
            stop = stops.trail(side, stop, h[i], lo[i], dist)
        if p.use_risk:
            risk.end_bar(mtm)
        equity[i] = mtm
        position[i] = side * qty
        eq_prev = mtm
        if margin_call:  # the account is closed: nothing more happens
            equity[i + 1 :] = mtm
            break
    # 6. end of data
    if qty and n:
        close_trade(c[n - 1] - side * slip, n - 1, D.EXIT_END, True, slip)
        equity[n - 1] = cash
        position[n - 1] = 0
    trade_records = np.zeros(len(trades["entry_bar"]), dtype=TRADE_DTYPE)
    for k, v in trades.items():
        trade_records[k] = v
    events = np.zeros(len(risk.events), dtype=RISK_EVENT_DTYPE)
    for k in EVENT_FIELDS:
        events[k] = [getattr(e, k) for e in risk.events]
    return SimOutputs(
        equity=equity,
        position=position,
        trades=trade_records,
        events=events,
        trades_rejected=risk.trades_rejected,
        circuit_breaker_triggered=risk.circuit_breaker_triggered,
    )


def positions_from_trades(n: int, trades: np.ndarray) -> np.ndarray:
    """Signed contracts held at each bar's close (int64), from the trades (``TRADE_DTYPE``).

    A trade holds ``side x contracts`` from its entry bar (fills at the open) up to, not
    including, its exit bar (exits at the open or intrabar), except a roll exit, made at the
    close of its bar, which still holds at that close. The end-of-data exit leaves the last
    bar flat, and so does a margin call at its bar's close. (The Python reference records the
    position bar by bar; a test holds the two to the same values.)
    """
    entry = np.asarray(trades["entry_bar"], dtype=np.int64)
    exit_ = np.asarray(trades["exit_bar"], dtype=np.int64)
    held_at_exit = (np.asarray(trades["exit_at_close"]) != 0) & ~np.isin(
        np.asarray(trades["exit_reason"]), (D.EXIT_END, D.EXIT_MARGIN_CALL)
    )
    end = exit_ + held_at_exit
    signed = np.asarray(trades["side"], dtype=np.int64) * np.asarray(
        trades["contracts"], dtype=np.int64
    )
    steps = np.zeros(n + 1, dtype=np.int64)
    np.add.at(steps, entry, signed)
    np.add.at(steps, end, -signed)
    return np.cumsum(steps[:n])


def native_params(p: SimParams) -> BacktestParams:
    """The kernel's typed parameters for ``p``."""
    return BacktestParams(
        initial_capital=float(p.initial_capital),
        commission=float(p.commission),
        slippage_ticks=int(p.slippage_ticks),
        tick_value=float(p.tick_value),
        tick_size=float(p.tick_size),
        multiplier=float(p.multiplier),
        use_risk=bool(p.use_risk),
        roll=bool(p.roll),
        fixed_contracts=int(p.fixed_contracts),
        stop_mode=_STOP_MODES[p.stop.mode],
        stop_pct=float(p.stop.pct),
        stop_usd=float(p.stop.usd),
        target_r=None if p.stop.target_r is None else float(p.stop.target_r),
        sizing=_SIZINGS[p.sizing.method],
        sizing_contracts=int(p.sizing.contracts),
        kelly_fraction=float(p.sizing.kelly_fraction),
        kelly_cap=float(p.sizing.kelly_cap),
        kelly_min_trades=int(p.sizing.kelly_min_trades),
        risk_per_trade=float(p.risk.risk_per_trade),
        daily_loss_limit=float(p.risk.daily_loss_limit),
        max_position=int(p.risk.max_position_contracts),
        max_exposure=float(p.risk.max_exposure),
        max_consecutive_losses=int(p.risk.max_consecutive_losses),
        intraday_drawdown_limit=float(p.risk.intraday_drawdown_limit),
        max_drawdown_limit=float(p.risk.max_drawdown_limit),
        cooloff_days=int(p.risk.cooloff_days),
        initial_margin=float(p.initial_margin),
        maintenance_margin=float(p.maintenance_margin),
    )


def simulate_native(x: SimInputs, p: SimParams) -> SimOutputs:
    """The compiled simulation (same rules as :func:`simulate_python`)."""
    out = native_simulate(
        np.ascontiguousarray(x.open, dtype=np.float64),
        np.ascontiguousarray(x.high, dtype=np.float64),
        np.ascontiguousarray(x.low, dtype=np.float64),
        np.ascontiguousarray(x.close, dtype=np.float64),
        np.ascontiguousarray(x.signal, dtype=np.int8),
        np.ascontiguousarray(x.stop_distance, dtype=np.float64),
        np.ascontiguousarray(x.day_starts, dtype=np.int64),
        np.ascontiguousarray(x.rolls, dtype=np.int64),
        None if x.entry_ok is None else np.ascontiguousarray(x.entry_ok, dtype=np.bool_),
        None if x.force_flat is None else np.ascontiguousarray(x.force_flat, dtype=np.bool_),
        native_params(p),
    )
    return SimOutputs(
        equity=out.equity,
        position=None,
        trades=out.trades,
        events=out.events,
        trades_rejected=out.trades_rejected,
        circuit_breaker_triggered=out.circuit_breaker_triggered,
    )
