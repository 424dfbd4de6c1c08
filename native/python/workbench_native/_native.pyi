"""Typed stub for the compiled module ``workbench_native._native``.

``mypy.stubtest`` holds it to the binary (``make typecheck``): every name the module exports
is here, with its type and what it does.
"""

import os
from types import TracebackType
from typing import Any, Final, Literal, final

import numpy as np
import numpy.typing as npt

__all__ = [
    "Action",
    "BOOK_SNAPSHOT_DTYPE",
    "BacktestOutputs",
    "BacktestParams",
    "BollingerReversionSignal",
    "BookRecordError",
    "DbnMixedError",
    "DbnTruncatedError",
    "DonchianBreakoutSignal",
    "EXEC_REPORT_DTYPE",
    "EmaCrossoverSignal",
    "Exchange",
    "ExchangeConfig",
    "ExchangeOrder",
    "ExecReason",
    "ExecType",
    "ExitReason",
    "FeedPublisher",
    "FeedSubscriber",
    "FIXED_PRICE_SCALE",
    "FixExchange",
    "FixInitiator",
    "FixReport",
    "IncrementalAtr",
    "IncrementalDonchian",
    "IncrementalEma",
    "IncrementalMax",
    "IncrementalMeanStd",
    "IncrementalMin",
    "L3Book",
    "Liquidity",
    "OffHours",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "PreTradeDecision",
    "PreTradeRisk",
    "QueueFunction",
    "QueueModel",
    "RISK_EVENT_DTYPE",
    "Reason",
    "Sizing",
    "StopMode",
    "SweepOutputs",
    "TRADE_DTYPE",
    "TimeInForce",
    "UNDEF_PRICE",
    "__version__",
    "atr_wilder",
    "dbn_bar_columns",
    "dbn_symbol_codes",
    "ema_cross",
    "ema_filter",
    "first_not_finite",
    "first_not_increasing",
    "fix_decode",
    "fix_write_dictionary",
    "fixed_to_ticks",
    "max_drawdown",
    "read_dbn",
    "replay_book",
    "run_starts",
    "simulate",
    "sweep_simulate",
    "ticks_to_fixed",
]

__version__: str
"""The crate version, as compiled (``native/Cargo.toml``)."""

FIXED_PRICE_SCALE: int
"""Databento fixed-point scale: 1 price unit = 1e-9."""

TRADE_DTYPE: np.dtype[np.void]
"""The record dtype of the trades ``simulate`` returns, mirroring the ``#[repr(C)]`` Rust
struct ``Trade`` (96 bytes): ``entry_bar``, ``exit_bar``, ``side`` (+1/-1), ``contracts``,
``entry_px``, ``exit_px`` (whole ticks, slippage included) as int64; ``gross_pnl``,
``commission``, ``slippage_cost``, ``net_pnl`` (money, both sides) as float64;
``exit_reason`` (an :class:`ExitReason` value) and ``exit_at_close`` (1 when the exit was at
the bar's close: roll, end of data) as int64."""

RISK_EVENT_DTYPE: np.dtype[np.void]
"""The record dtype of the risk events ``simulate`` returns, mirroring the ``#[repr(C)]``
Rust struct ``RiskEvent`` (40 bytes, all int64): ``bar``, ``action`` (an :class:`Action`
value), ``reason`` (a :class:`Reason` value), ``requested`` (contracts asked for; 0 for a
breaker, -1 with no stop distance to size from) and ``approved`` (contracts allowed)."""

@final
class StopMode:
    """How the stop distance is set (``workbench.risk.config.STOP_MODES``, upper case)."""

    NONE: Final[StopMode]
    """No stop."""
    FIXED_PCT: Final[StopMode]
    """A fraction of the entry reference price (``stop_pct``)."""
    FIXED_USD: Final[StopMode]
    """Money per contract (``stop_usd``)."""
    ATR: Final[StopMode]
    """The strategy's stop distance (a multiple of the ATR)."""
    TRAILING_ATR: Final[StopMode]
    """As ``ATR``, then trailing the high (long) or low (short) at each close."""
    TRAILING_PCT: Final[StopMode]
    """As ``FIXED_PCT``, then trailing."""
    def __int__(self) -> int: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Sizing:
    """How an entry is sized (``workbench.risk.config.SIZING_METHODS``, upper case)."""

    FIXED: Final[Sizing]
    """``sizing_contracts`` contracts."""
    FIXED_FRACTIONAL: Final[Sizing]
    """Risk ``risk_per_trade`` of equity over the stop distance."""
    VOLATILITY: Final[Sizing]
    """Risk ``risk_per_trade`` of equity over the strategy's volatility distance."""
    KELLY: Final[Sizing]
    """Fractional Kelly from the closed trades (``risk_per_trade`` until enough trades)."""
    def __int__(self) -> int: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Action:
    """What happened to an entry request (``RISK_EVENT_DTYPE["action"]``)."""

    ACCEPTED: Final[Action]
    """Allowed as requested."""
    RESIZED: Final[Action]
    """Allowed with fewer contracts."""
    REJECTED: Final[Action]
    """Refused."""
    CIRCUIT_BREAKER: Final[Action]
    """A breaker tripped (not an entry request)."""
    MARGIN_CALL: Final[Action]
    """Equity fell below the maintenance margin: flattened, account closed for the run."""
    def __int__(self) -> int: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Reason:
    """Why a risk decision was taken (``RISK_EVENT_DTYPE["reason"]``)."""

    OK: Final[Reason]
    """Nothing limited the request."""
    MAX_POSITION: Final[Reason]
    """Resized to ``max_position``."""
    MAX_EXPOSURE: Final[Reason]
    """Resized or refused: notional above ``max_exposure`` x equity."""
    SIZE_BELOW_ONE: Final[Reason]
    """The sizing gave less than one contract."""
    DAILY_LOSS_LIMIT: Final[Reason]
    """The day's realized loss reached ``daily_loss_limit``."""
    OUTSIDE_TRADING_HOURS: Final[Reason]
    """Outside the entry window, or within the pre-halt flat period."""
    HALT_CONSECUTIVE_LOSSES: Final[Reason]
    """Halted for the day after ``max_consecutive_losses`` losing trades."""
    HALT_INTRADAY_DRAWDOWN: Final[Reason]
    """Halted for the day: drawdown from the day's peak above ``intraday_drawdown_limit``."""
    HALT_MAX_DRAWDOWN: Final[Reason]
    """Halted for ``cooloff_days``: drawdown from the peak above ``max_drawdown_limit``."""
    NO_STOP_DISTANCE: Final[Reason]
    """No stop distance to size from."""
    ORDER_RATE: Final[Reason]
    """Pre-trade check only: ``max_orders_per_minute`` orders went out in the last 60 s."""
    KILL_SWITCH: Final[Reason]
    """Pre-trade check only: the kill switch is on."""
    INITIAL_MARGIN: Final[Reason]
    """Resized or refused: equity cannot post ``initial_margin`` for the contracts."""
    MAINTENANCE_MARGIN: Final[Reason]
    """Equity marked at a close fell below ``maintenance_margin`` x contracts held."""
    def __int__(self) -> int: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class ExitReason:
    """Why a trade was closed (``TRADE_DTYPE["exit_reason"]``)."""

    SIGNAL: Final[ExitReason]
    """The signal no longer wants the position (exit at the next open)."""
    STOP: Final[ExitReason]
    """The stop was hit or gapped through."""
    TARGET: Final[ExitReason]
    """The profit target was reached."""
    ROLL: Final[ExitReason]
    """The continuous series changed contract (exit at the last bar's close)."""
    SESSION: Final[ExitReason]
    """Flat before the daily halt."""
    END: Final[ExitReason]
    """The data ended (exit at the last close)."""
    MARGIN_CALL: Final[ExitReason]
    """Margin call: equity below the maintenance margin (exit at that bar's close)."""
    def __int__(self) -> int: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class BacktestParams:
    """The scalars of a simulation (``workbench.backtest.simulate.SimParams``, flattened),
    immutable. Built with keyword arguments only; every one is required but the margins
    (0: no margin model).

    Raises ``ValueError`` when ``tick_size`` is not a positive number or a margin is negative.
    """

    def __new__(
        cls,
        *,
        initial_capital: float,
        commission: float,
        slippage_ticks: int,
        tick_value: float,
        tick_size: float,
        multiplier: float,
        use_risk: bool,
        roll: bool,
        fixed_contracts: int,
        stop_mode: StopMode,
        stop_pct: float,
        stop_usd: float,
        target_r: float | None,
        sizing: Sizing,
        sizing_contracts: int,
        kelly_fraction: float,
        kelly_cap: float,
        kelly_min_trades: int,
        risk_per_trade: float,
        daily_loss_limit: float,
        max_position: int,
        max_exposure: float,
        max_consecutive_losses: int,
        intraday_drawdown_limit: float,
        max_drawdown_limit: float,
        cooloff_days: int,
        initial_margin: float = 0.0,
        maintenance_margin: float = 0.0,
    ) -> BacktestParams: ...
    @property
    def initial_capital(self) -> float:
        """Starting equity."""
    @property
    def commission(self) -> float:
        """Per contract per side."""
    @property
    def slippage_ticks(self) -> int:
        """Ticks paid per side on market fills (entries, signal exits, stops)."""
    @property
    def tick_value(self) -> float:
        """Money per tick per contract."""
    @property
    def tick_size(self) -> float:
        """Price units per tick (positive)."""
    @property
    def multiplier(self) -> float:
        """Contract multiplier (exposure = price x multiplier x contracts)."""
    @property
    def use_risk(self) -> bool:
        """Sizing, stops, limits and breakers on; off: ``fixed_contracts``, no stops."""
    @property
    def roll(self) -> bool:
        """Re-open a position at a contract roll (else only close it)."""
    @property
    def fixed_contracts(self) -> int:
        """Contracts per entry with risk management off."""
    @property
    def stop_mode(self) -> StopMode:
        """How the stop distance is set."""
    @property
    def stop_pct(self) -> float:
        """Stop distance as a fraction of the price (``FIXED_PCT``, ``TRAILING_PCT``)."""
    @property
    def stop_usd(self) -> float:
        """Stop distance in money per contract (``FIXED_USD``)."""
    @property
    def target_r(self) -> float | None:
        """Profit target at this multiple of the stop distance; None: no target."""
    @property
    def sizing(self) -> Sizing:
        """How entries are sized."""
    @property
    def sizing_contracts(self) -> int:
        """Contracts per entry with ``Sizing.FIXED``."""
    @property
    def kelly_fraction(self) -> float:
        """Fraction of the Kelly bet (``Sizing.KELLY``)."""
    @property
    def kelly_cap(self) -> float:
        """Largest fraction of equity risked under Kelly."""
    @property
    def kelly_min_trades(self) -> int:
        """Closed trades needed before Kelly replaces ``risk_per_trade``."""
    @property
    def risk_per_trade(self) -> float:
        """Fraction of equity risked per entry."""
    @property
    def daily_loss_limit(self) -> float:
        """No entries once the day's realized loss reaches this fraction of its start."""
    @property
    def max_position(self) -> int:
        """Largest position, in contracts."""
    @property
    def max_exposure(self) -> float:
        """Largest notional as a multiple of equity."""
    @property
    def max_consecutive_losses(self) -> int:
        """Losing trades in a row that halt entries for the day."""
    @property
    def intraday_drawdown_limit(self) -> float:
        """Drawdown from the day's peak equity that halts entries for the day."""
    @property
    def max_drawdown_limit(self) -> float:
        """Drawdown from the peak equity that halts entries for a cool-off."""
    @property
    def cooloff_days(self) -> int:
        """Trade dates without entries after the max-drawdown breaker."""
    @property
    def initial_margin(self) -> float:
        """Equity needed per contract to enter (every mode); 0: no margin model."""
    @property
    def maintenance_margin(self) -> float:
        """Equity per contract held below which a close flattens and closes the account."""

@final
class BacktestOutputs:
    """What :func:`simulate` returns (immutable)."""

    @property
    def equity(self) -> npt.NDArray[np.float64]:
        """Equity at each bar's close."""
    @property
    def trades(self) -> npt.NDArray[np.void]:
        """Closed trades, ``TRADE_DTYPE`` records in the order closed."""
    @property
    def events(self) -> npt.NDArray[np.void]:
        """Risk decisions and breakers, ``RISK_EVENT_DTYPE`` records in the order taken."""
    @property
    def trades_rejected(self) -> int:
        """Entry requests refused."""
    @property
    def circuit_breaker_triggered(self) -> int:
        """Circuit breakers tripped."""

def fixed_to_ticks(price: int, tick_fixed: int) -> int | None:
    """Convert a Databento fixed-point price (1e-9) to whole ticks; None when off the grid."""

def ticks_to_fixed(ticks: int, tick_fixed: int) -> int:
    """Convert whole ticks to a Databento fixed-point price (1e-9)."""

def ema_filter(x: npt.NDArray[np.float64], alpha: float, seed: float) -> npt.NDArray[np.float64]:
    """EMA recursion ``y[t] = alpha * x[t] + (1 - alpha) * y[t-1]`` with ``y[-1] = seed``."""

def ema_cross(x: npt.NDArray[np.float64], fast: int, slow: int) -> npt.NDArray[np.int8] | None:
    """``sign(EMA(x, fast) - EMA(x, slow))`` per bar, 0 during the warm-up; None on NaN."""

def atr_wilder(
    high: npt.NDArray[np.float64],
    low: npt.NDArray[np.float64],
    close: npt.NDArray[np.float64],
    period: int,
    seed: float,
    scale: float,
) -> npt.NDArray[np.float64] | None:
    """``scale x`` Wilder ATR of ``period`` bars seeded with ``seed``; None on NaN prices."""

def first_not_increasing(ts: npt.NDArray[np.int64]) -> int | None:
    """Index of the first timestamp not greater than the one before it, or None."""

def first_not_finite(x: npt.NDArray[np.float64]) -> int | None:
    """Index of the first NaN or infinity, or None."""

def run_starts(ts: npt.NDArray[np.int64], bucket_ns: int) -> npt.NDArray[np.int64]:
    """Start index of each run of timestamps in the same ``bucket_ns`` bucket."""

def max_drawdown(
    values: npt.NDArray[np.float64], floor: float
) -> tuple[float, float | None] | None:
    """``(max drawdown, as a fraction of the peak or None)`` below the running peak from
    ``floor``; None for an empty series or one with NaN."""

def simulate(
    open: npt.NDArray[np.float64],
    high: npt.NDArray[np.float64],
    low: npt.NDArray[np.float64],
    close: npt.NDArray[np.float64],
    signal: npt.NDArray[np.int8],
    stop_distance: npt.NDArray[np.float64],
    day_starts: npt.NDArray[np.int64],
    rolls: npt.NDArray[np.int64],
    entry_ok: npt.NDArray[np.bool_] | None,
    force_flat: npt.NDArray[np.bool_] | None,
    params: BacktestParams,
) -> BacktestOutputs:
    """Run the backtest state machine over per-bar arrays (see ``workbench.backtest.simulate``).

    Prices and stop distances are in price units; they are converted to whole ticks with
    ``params.tick_size`` (prices: ``rint``; distances: rounded up, NaN = no stop).
    ``day_starts`` and ``rolls`` are the bars where a trade date starts and where the contract
    changes; ``entry_ok``/``force_flat`` may be None (always allowed / never forced).
    Raises ``ValueError`` when the lengths differ or a boundary list is not ascending bar
    indices in ``1..len(open)``.
    """

@final
class SweepOutputs:
    """What :func:`sweep_simulate` returns (immutable): per combination, in the order given."""

    @property
    def final_equity(self) -> npt.NDArray[np.float64]:
        """Equity after the last bar."""
    @property
    def max_drawdown_usd(self) -> npt.NDArray[np.float64]:
        """Largest drawdown in money below the running peak, the peak starting at the
        initial capital (:func:`max_drawdown` of the equity curve)."""
    @property
    def max_drawdown_frac(self) -> npt.NDArray[np.float64]:
        """Largest drawdown as a fraction of the peak; NaN when no peak was positive."""
    @property
    def day_equity(self) -> npt.NDArray[np.float64]:
        """Equity at the last bar of each trade date, shape (combinations, trade dates)."""
    @property
    def trade_counts(self) -> npt.NDArray[np.int64]:
        """Closed trades of each combination."""
    @property
    def net_pnl(self) -> npt.NDArray[np.float64]:
        """Net P&L of every closed trade, combination after combination."""
    @property
    def trades_rejected(self) -> npt.NDArray[np.int64]:
        """Entry requests refused."""
    @property
    def circuit_breaker_triggered(self) -> npt.NDArray[np.int64]:
        """Circuit breakers tripped."""
    @property
    def threads(self) -> int:
        """Worker threads used."""

def sweep_simulate(
    open: npt.NDArray[np.float64],
    high: npt.NDArray[np.float64],
    low: npt.NDArray[np.float64],
    close: npt.NDArray[np.float64],
    day_starts: npt.NDArray[np.int64],
    rolls: npt.NDArray[np.int64],
    entry_ok: npt.NDArray[np.bool_] | None,
    force_flat: npt.NDArray[np.bool_] | None,
    params: BacktestParams,
    *,
    stops: list[npt.NDArray[np.float64]],
    stop_index: npt.NDArray[np.int64],
    signals: list[npt.NDArray[np.int8]] = ...,
    signal_index: npt.NDArray[np.int64] | None = None,
    ema_fast: npt.NDArray[np.int64] | None = None,
    ema_slow: npt.NDArray[np.int64] | None = None,
    long_only: npt.NDArray[np.bool_] | None = None,
    signal_mask: npt.NDArray[np.bool_] | None = None,
    threads: int = 0,
    group: int = 0,
    block: int = 2048,
) -> SweepOutputs:
    """Run many combinations of one strategy through the :func:`simulate` kernel at once.

    Combination ``k`` uses stop distances ``stops[stop_index[k]]`` and the signal
    ``signals[signal_index[k]]``, or, where ``signal_index`` is None or -1, the EMA crossover
    of ``close`` with spans ``ema_fast[k]``/``ema_slow[k]`` (``long_only[k]``: flat instead of
    short), forced to 0 where ``signal_mask`` is False. ``group`` combinations (0: enough for
    two groups per thread, at most 64) run together over each ``block`` of bars, with one EMA
    per distinct span of the group, on ``threads`` threads (0: every core). Each combination's figures equal those of :func:`simulate` on its inputs.
    Raises ``ValueError`` on inconsistent inputs (lengths, indices, non-finite closes with
    EMA signals).
    """

# -- incremental indicators (one bar at a time; the vectorized values of
# workbench.strategies.indicators, bit for bit) -------------------------------------------

@final
class IncrementalEma:
    """``ema(x, span, min_periods=...)`` one value at a time, bit for bit.

    Leading NaNs give NaN (the average starts at the first non-NaN value); a NaN after the
    start raises ``ValueError`` and leaves the state unchanged.
    """

    def __new__(cls, span: int, *, min_periods: int | None = None) -> IncrementalEma: ...
    def update(self, x: float) -> float:
        """Take the next value; the average after it (NaN during the warm-up)."""
    @property
    def value(self) -> float:
        """The current average (NaN during the warm-up)."""
    def run(self, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Every value of ``x`` through :meth:`update`; the outputs."""

@final
class IncrementalAtr:
    """``atr(high, low, close, period, scale=...)`` (Wilder) one bar at a time, bit for bit.

    A bar with a non-finite price raises ``ValueError`` and leaves the state unchanged.
    """

    def __new__(cls, period: int = 14, *, scale: float = 1.0) -> IncrementalAtr: ...
    def update(self, high: float, low: float, close: float) -> float:
        """Take the next bar; ``scale x ATR`` after it (NaN before bar ``period - 1``)."""
    @property
    def value(self) -> float:
        """The current ``scale x ATR``."""
    def run(
        self,
        high: npt.NDArray[np.float64],
        low: npt.NDArray[np.float64],
        close: npt.NDArray[np.float64],
    ) -> npt.NDArray[np.float64]:
        """Every bar through :meth:`update`; the outputs."""

@final
class IncrementalMeanStd:
    """``rolling_mean_std(x, period, ddof=...)`` (SMA, Bollinger) one value at a time, bit for
    bit (the same pairwise window sums, O(log period) per value)."""

    def __new__(cls, period: int, *, ddof: int = 0) -> IncrementalMeanStd: ...
    def update(self, x: float) -> tuple[float, float]:
        """Take the next value; ``(mean, std)`` of the last ``period`` (NaN while warming up)."""
    @property
    def mean(self) -> float:
        """The current mean."""
    @property
    def std(self) -> float:
        """The current standard deviation."""
    def run(
        self, x: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Every value of ``x`` through :meth:`update`; the means and deviations."""

@final
class IncrementalMax:
    """``rolling_max(x, period)`` one value at a time (monotonic deque, amortized O(1))."""

    def __new__(cls, period: int) -> IncrementalMax: ...
    def update(self, x: float) -> float:
        """Take the next value; the maximum of the last ``period`` (NaN while warming up or
        when the window holds a NaN)."""
    def run(self, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Every value of ``x`` through :meth:`update`; the outputs."""

@final
class IncrementalMin:
    """``rolling_min(x, period)`` one value at a time (monotonic deque, amortized O(1))."""

    def __new__(cls, period: int) -> IncrementalMin: ...
    def update(self, x: float) -> float:
        """Take the next value; the minimum of the last ``period``."""
    def run(self, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Every value of ``x`` through :meth:`update`; the outputs."""

@final
class IncrementalDonchian:
    """``donchian(high, low, period)`` one bar at a time: the channel of the ``period`` bars
    before the current one."""

    def __new__(cls, period: int) -> IncrementalDonchian: ...
    def update(self, high: float, low: float) -> tuple[float, float]:
        """Take bar ``t``; ``(upper, lower)`` of bars ``t - period .. t - 1``."""
    def run(
        self, high: npt.NDArray[np.float64], low: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Every bar through :meth:`update`; the uppers and lowers."""

# -- strategy signals one bar at a time (Strategy.compute_signals, bar by bar) --------------

@final
class EmaCrossoverSignal:
    """``MomentumStrategy`` (``ema_crossover``) one bar at a time: ``sign(EMA(fast) -
    EMA(slow))`` of the closes, floored at 0 without shorts; the ATR stop distance beside it.
    A bar with a non-finite price raises ``ValueError`` (state unchanged)."""

    def __new__(
        cls,
        *,
        fast_period: int,
        slow_period: int,
        atr_period: int,
        atr_stop_mult: float,
        allow_short: bool,
    ) -> EmaCrossoverSignal: ...
    def update(self, high: float, low: float, close: float) -> int:
        """Take a bar; the position wanted after it (-1, 0, +1)."""
    @property
    def stop_distance(self) -> float:
        """``atr_stop_mult x ATR(atr_period)`` after the last bar (NaN while warming up)."""
    def run(
        self,
        high: npt.NDArray[np.float64],
        low: npt.NDArray[np.float64],
        close: npt.NDArray[np.float64],
    ) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.float64]]:
        """Every bar through :meth:`update`; the signals and stop distances."""

@final
class BollingerReversionSignal:
    """``MeanReversionStrategy`` (``bollinger_reversion``) one bar at a time: entries outside
    the bands, exits at ``exit_z``, held as ``hold_positions`` holds them; the ATR stop distance
    beside it. A bar with a non-finite price raises ``ValueError`` (state unchanged)."""

    def __new__(
        cls,
        *,
        period: int,
        num_std: float,
        exit_z: float,
        atr_period: int,
        atr_stop_mult: float,
        allow_short: bool,
    ) -> BollingerReversionSignal: ...
    def update(self, high: float, low: float, close: float) -> int:
        """Take a bar; the position wanted after it (-1, 0, +1)."""
    @property
    def stop_distance(self) -> float:
        """``atr_stop_mult x ATR(atr_period)`` after the last bar (NaN while warming up)."""
    def run(
        self,
        high: npt.NDArray[np.float64],
        low: npt.NDArray[np.float64],
        close: npt.NDArray[np.float64],
    ) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.float64]]:
        """Every bar through :meth:`update`; the signals and stop distances."""

@final
class DonchianBreakoutSignal:
    """``BreakoutStrategy`` (``donchian_breakout``) one bar at a time: breakouts of the entry
    channel, exits through the exit channel, held as ``hold_positions`` holds them; the ATR
    stop distance beside it. A bar with a non-finite price raises ``ValueError``."""

    def __new__(
        cls,
        *,
        entry_period: int,
        exit_period: int,
        atr_period: int,
        atr_stop_mult: float,
        allow_short: bool,
    ) -> DonchianBreakoutSignal: ...
    def update(self, high: float, low: float, close: float) -> int:
        """Take a bar; the position wanted after it (-1, 0, +1)."""
    @property
    def stop_distance(self) -> float:
        """``atr_stop_mult x ATR(atr_period)`` after the last bar (NaN while warming up)."""
    def run(
        self,
        high: npt.NDArray[np.float64],
        low: npt.NDArray[np.float64],
        close: npt.NDArray[np.float64],
    ) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.float64]]:
        """Every bar through :meth:`update`; the signals and stop distances."""

# -- pre-trade risk -------------------------------------------------------------------------

@final
class PreTradeDecision:
    """The answer to one entry request (``workbench.risk.Decision``), immutable."""

    @property
    def action(self) -> Action:
        """Accepted, resized or rejected."""
    @property
    def reason(self) -> Reason:
        """Why."""
    @property
    def requested(self) -> int:
        """Contracts asked for (-1: no stop distance to size from)."""
    @property
    def approved(self) -> int:
        """Contracts allowed (0 when rejected)."""
    @property
    def ok(self) -> bool:
        """Whether at least one contract may be traded."""
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...

@final
class PreTradeRisk:
    """The pre-trade risk check: ``workbench.risk.RiskManager``'s rules and decisions, plus
    a kill switch (checked first) and an order-rate limit on the caller's i64 ns timestamps
    (checked last). See ``workbench.risk.pretrade``.

    Raises ``ValueError`` for ``max_orders_per_minute=0`` or a non-positive tick or multiplier.
    """

    def __new__(
        cls,
        *,
        daily_loss_limit: float,
        max_position: int,
        max_exposure: float,
        max_consecutive_losses: int,
        intraday_drawdown_limit: float,
        max_drawdown_limit: float,
        cooloff_days: int,
        tick_size: float,
        multiplier: float,
        max_orders_per_minute: int | None = None,
    ) -> PreTradeRisk: ...
    def start_bar(self, bar: int, day: int, equity: float) -> None:
        """Begin bar ``bar`` of trade date ``day`` (an integer that changes with the CME trade
        date); ``equity`` as of the last close."""
    def check_entry(
        self,
        requested: int,
        price_ticks: int,
        equity: float,
        in_trading_hours: bool,
        ts_ns: int,
        margin_cap: int | None = None,
    ) -> PreTradeDecision:
        """Validate an entry of ``requested`` contracts at about ``price_ticks`` at feed time
        ``ts_ns``, ``margin_cap`` the contracts whose initial margin the equity can post (None:
        no margin model); ``ValueError`` when ``ts_ns`` is before a timestamp already seen."""
    def check_margin(self, bar: int, requested: int, margin_cap: int) -> int:
        """Risk management off: the contracts of ``requested`` the initial margin allows at
        bar ``bar`` (a resize or rejection is logged, reason ``INITIAL_MARGIN``)."""
    def margin_call(self, bar: int, contracts: int) -> None:
        """Log a margin call at bar ``bar`` on a position of ``contracts``."""
    def record_order(self, ts_ns: int) -> None:
        """Count an order the check does not gate (exit, cancel) against the order rate."""
    def on_trade_closed(self, net_pnl: float) -> None:
        """Record a closed trade: the day's realised P&L and the losing streak."""
    def end_bar(self, equity: float) -> None:
        """Bar close: update the peaks and trip the drawdown breakers."""
    def kill(self) -> None:
        """Turn the kill switch on (logged as a circuit breaker with reason KILL_SWITCH)."""
    def reset_kill(self) -> None:
        """Turn the kill switch off."""
    @property
    def killed(self) -> bool:
        """Whether the kill switch is on."""
    @property
    def halted(self) -> bool:
        """Whether a circuit breaker blocks entries (``RiskManager.halted``)."""
    @property
    def day(self) -> int:
        """The current trade date (-1 before the first bar)."""
    @property
    def trades_rejected(self) -> int:
        """Entry requests rejected so far."""
    @property
    def circuit_breaker_triggered(self) -> int:
        """Circuit breakers tripped so far (the kill switch included)."""
    @property
    def max_orders_per_minute(self) -> int | None:
        """The order-rate limit (None: none)."""
    def events(self) -> npt.NDArray[np.void]:
        """The logged decisions and breakers, ``RISK_EVENT_DTYPE`` records (a copy)."""
    def take_events(self) -> npt.NDArray[np.void]:
        """The logged events, and a fresh log."""

# -- order books (native/src/book) -----------------------------------------------------------

UNDEF_PRICE: int
"""DBN's "no price" (``i64::MAX``): the price of an empty level in a snapshot."""

BOOK_SNAPSHOT_DTYPE: np.dtype[np.void]
"""The record dtype of the snapshots ``replay_book`` returns, mirroring the ``#[repr(C)]``
Rust struct ``BookSnapshot`` (352 bytes): ``ts_event``, ``ts_recv`` (uint64 ns, UTC),
``instrument_id``, ``sequence`` (uint32), ``flags`` (uint8), then for levels 00..09
``bid_px_NN``, ``ask_px_NN`` (int64, 1e-9 fixed point, ``UNDEF_PRICE`` when empty),
``bid_sz_NN``, ``ask_sz_NN``, ``bid_ct_NN``, ``ask_ct_NN`` (uint32): Databento's MBP-10
names and order."""

class BookRecordError(ValueError):
    """A record the book refused (its orders are unchanged); ``args`` are ``(reason,
    message)``, ``reason`` one of ``unknown_action``, ``invalid_side``, ``duplicate_order``,
    ``unknown_order``, ``side_changed``, ``zero_size``, ``undefined_price``,
    ``wrong_record``, ``invariant``."""

@final
class L3Book:
    """The L3 (market-by-order) book of one instrument (``crate::book::L3Book``).

    Prices are 1e-9 fixed point integers; sides are ``"B"`` or ``"A"``. ``apply`` and
    ``apply_bytes`` return what the record did (``added``, ``reduced``, ``cancelled``,
    ``modified``, ``modified_lost_priority``, ``modified_as_add``, ``cleared``,
    ``unchanged``, ``replaced_top``) or raise :class:`BookRecordError`.
    """

    def __new__(cls, instrument_id: int = 0) -> L3Book: ...
    def apply(
        self,
        ts_event: int,
        order_id: int,
        price: int,
        size: int,
        side: str,
        action: str,
        *,
        flags: int = 0,
        instrument_id: int | None = None,
        ts_recv: int | None = None,
        sequence: int = 0,
        channel_id: int = 0,
        publisher_id: int = 0,
    ) -> str:
        """Apply one MBO record given by its fields (``instrument_id`` defaults to the
        book's, ``ts_recv`` to ``ts_event``)."""
    def apply_bytes(self, record: bytes) -> str:
        """Apply one MBO record given as its 56 DBN bytes (``bytes(databento_dbn.MBOMsg)``);
        ``ValueError`` when the bytes are not one MBO record."""
    def best_bid(self) -> tuple[int, int, int] | None:
        """``(price, size, count)`` of the best bid level, or ``None``."""
    def best_ask(self) -> tuple[int, int, int] | None:
        """``(price, size, count)`` of the best ask level, or ``None``."""
    def depth(self, side: str, n: int) -> list[tuple[int, int, int]]:
        """The best ``n`` levels of ``side``, best first, as ``(price, size, count)``."""
    def level(self, side: str, price: int) -> tuple[int, int, int] | None:
        """The level of ``side`` at ``price``, or ``None``."""
    def spread(self) -> int | None:
        """Best ask minus best bid (negative when crossed); ``None`` if a side is empty."""
    def mid(self) -> int | None:
        """Mid price, rounded down on a half unit; ``None`` if a side is empty."""
    def imbalance(self, levels: int = 1) -> float | None:
        """``(bid - ask) / (bid + ask)`` sizes over the best ``levels`` levels per side;
        ``None`` when both sides are empty."""
    def orders_at(self, side: str, price: int) -> list[tuple[int, int]]:
        """``(order_id, size)`` of the orders at a level, in priority order."""
    def order(self, order_id: int) -> tuple[str, int, int] | None:
        """``(side, price, size)`` of a resting order, or ``None``."""
    def queue_position(self, order_id: int) -> tuple[int, int, int, int] | None:
        """``(size_ahead, count_ahead, size_behind, count_behind)`` of a resting order at its
        level, or ``None``."""
    def level_count(self, side: str) -> int:
        """Number of price levels of ``side``."""
    def integrity(self) -> dict[str, int]:
        """The integrity counters (see the module docs of ``native/src/book``)."""
    def validate(self) -> None:
        """Check the internal invariants; :class:`BookRecordError` (``invariant``) if broken."""
    def clear(self) -> None:
        """Remove every order."""
    @property
    def instrument_id(self) -> int:
        """The instrument."""
    @property
    def ts_event(self) -> int:
        """``ts_event`` of the last record applied."""
    @property
    def ts_recv(self) -> int:
        """``ts_recv`` of the last record applied."""
    @property
    def sequence(self) -> int:
        """Venue sequence number of the last record applied."""
    @property
    def is_consistent(self) -> bool:
        """Whether the last record closed an event (``F_LAST``)."""
    @property
    def in_snapshot(self) -> bool:
        """Whether a snapshot run is in progress."""
    @property
    def order_count(self) -> int:
        """Number of resting orders."""
    @property
    def cross_state(self) -> str:
        """``"normal"``, ``"locked"`` or ``"crossed"``."""
    def __len__(self) -> int:
        """Number of resting orders."""

def replay_book(
    path: str,
    *,
    depth: int = 10,
    every: str = "event",
    instrument_id: int | None = None,
    strict: bool = False,
) -> tuple[npt.NDArray[np.void], dict[str, Any]]:
    """Replay a DBN file (plain or zstd; MBO into L3 books, MBP-10 into L2 books).

    Returns the snapshots (``BOOK_SNAPSHOT_DTYPE``; one per ``F_LAST`` record with
    ``every="event"``, one per record with ``"record"``) and the counts (records, actions,
    boundaries, refusals, ``integrity``). ``FileNotFoundError``/``OSError`` when the file
    cannot be opened; ``ValueError(kind, message)`` with ``kind`` ``"decode"`` (not DBN,
    corrupt, truncated) or ``"refused"`` (``strict``); ``ValueError`` for a ``depth`` outside
    1..10 or an unknown ``every``.
    """

# -- market-data streams (native/src/feed) -------------------------------------------------

@final
class FeedPublisher:
    """Replays a DBN file (plain or zstd) to one TCP client or to a UDP multicast group, on
    a native thread started by the constructor.

    TCP: listens on ``host:port`` (``port=0``: a free port, see :attr:`address`) and waits up
    to ``timeout`` seconds for one client. UDP: sends to the group ``host:port`` through
    ``interface`` (loopback by default). ``speed`` N paces by ``ts_event`` at N x real time
    (0: as fast as possible), ``max_rate`` caps records per second, ``repeat`` sends the file
    K times. ``drop_every``/``drop_seqs`` withhold UDP record datagrams (a test of the gap
    check). ``FileNotFoundError``, ``ValueError`` (not DBN, bad options), ``OSError`` (socket).
    """

    def __new__(
        cls,
        path: str,
        *,
        transport: str = "tcp",
        host: str = "127.0.0.1",
        port: int = 0,
        speed: float = 0.0,
        max_rate: float = 0.0,
        repeat: int = 1,
        chunk: int | None = None,
        timeout: float = 10.0,
        interface: str = "127.0.0.1",
        ttl: int = 0,
        drop_every: int = 0,
        drop_seqs: list[int] | None = None,
    ) -> FeedPublisher: ...
    @property
    def address(self) -> tuple[str, int]:
        """``(host, port)``: the TCP listener, or the multicast group."""
    @property
    def transport(self) -> str:
        """``"tcp"`` or ``"udp"``."""
    @property
    def running(self) -> bool:
        """Whether the publisher thread is still sending (or waiting for its client)."""
    def stop(self) -> None:
        """Ask the publisher to stop; it ends its stream cleanly (``stopped`` in the stats)."""
    def join(self, timeout: float | None = None) -> dict[str, Any] | None:
        """Wait (GIL released) up to ``timeout`` seconds (``None``: until done) for the
        publisher's counts (records, bytes, sends, stalls, blocked_ns, max_stall_ns,
        max_pending_bytes, send_buffer_bytes, dropped_by_plan, send_errors, max_lag_ns,
        elapsed_ns, stopped); ``None`` if still running. ``TimeoutError`` (no client, or a
        subscriber that stopped reading) or ``OSError`` if it failed."""

@final
class FeedSubscriber:
    """Reads a DBN stream into per-instrument books on a native thread started by the
    constructor: TCP connects to ``host:port`` (retrying while refused, up to ``timeout``
    seconds); UDP joins the group ``host:port`` on ``interface`` before returning (start the
    publisher after it) and ends at the end datagram or after ``timeout`` idle seconds.
    """

    def __new__(
        cls,
        *,
        port: int,
        transport: str = "tcp",
        host: str = "127.0.0.1",
        timeout: float = 5.0,
        interface: str = "127.0.0.1",
        recv_buffer: int = 16777216,
        stop_on_gap: bool = False,
        instrument_id: int | None = None,
        strict: bool = False,
    ) -> FeedSubscriber: ...
    @property
    def transport(self) -> str:
        """``"tcp"`` or ``"udp"``."""
    @property
    def running(self) -> bool:
        """Whether the stream is still being read."""
    def join(
        self, timeout: float | None = None
    ) -> tuple[dict[str, Any], dict[int, L3Book]] | None:
        """Wait (GIL released) up to ``timeout`` seconds for the end of the stream: ``(stats,
        books)`` (the final L3 book of each instrument), or ``None`` if still running.
        ``stats`` has records, bytes, datagrams, gaps, missing_datagrams,
        first_missing_seq, gap_ranges (inclusive ``(first, last)`` datagram sequence
        numbers), late/malformed datagrams, records_published, end_seen, timed_out,
        stopped_on_gap, complete, elapsed_ns, max_lag_ns, recv_buffer_bytes, dataset,
        ``replay`` counts and ``integrity``. ``OSError``/``TimeoutError`` on a socket
        failure, ``ValueError(kind, message)`` on bad DBN (``"decode"``) or a refusal in
        strict mode (``"refused"``)."""

class DbnTruncatedError(ValueError):
    """The DBN data is cut short (in its metadata, a record or the zstd stream) or corrupt."""

class DbnMixedError(ValueError):
    """The DBN file holds records of different lengths (mixed record types)."""

def read_dbn(path: str) -> tuple[npt.NDArray[np.uint8], int, int, int]:
    """Read a DBN file (plain or zstd) whole and check every record with the ``dbn`` crate.

    Returns ``(data, records_start, record_len, count)``: the plain DBN bytes (metadata,
    then the records exactly as the file holds them, no version upgrade), where the records
    start, the length of each and their number. The GIL is released while reading.
    ``OSError`` when the file cannot be read, :class:`DbnTruncatedError`,
    :class:`DbnMixedError`, or ``ValueError`` when it is not DBN.
    """

def dbn_bar_columns(
    records: npt.NDArray[np.uint8],
    record_len: int,
    sym_codes: npt.NDArray[np.int32],
    prod_codes: npt.NDArray[np.int32],
    n_products: int,
) -> tuple[
    npt.NDArray[np.int64],
    npt.NDArray[np.uint32],
    npt.NDArray[np.int32],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.int64],
    npt.NDArray[np.int64],
]:
    """OHLCV records as the catalog's columns, grouped by partition (product, UTC day).

    ``records`` is the records region of :func:`read_dbn`'s bytes (or any whole OHLCV
    records), ``sym_codes`` and ``prod_codes`` one code per record; a product code outside
    ``0..n_products`` drops the record. Returns ``ts_event``, ``instrument_id``, symbol
    codes, ``open``, ``high``, ``low``, ``close`` (divided by 1e9), ``volume`` and an
    ``(n, 4)`` array of partitions ``(product, day, start, end)``: rows come by product,
    each product's records in file order stably sorted by ``ts_event``. ``ValueError`` when
    the records are not whole OHLCV records or the codes do not match them.
    """

def dbn_symbol_codes(
    records: npt.NDArray[np.uint8],
    record_len: int,
    mappings: list[tuple[int, list[tuple[int, int, str]]]],
) -> tuple[npt.NDArray[np.int32], list[str]]:
    """Raw symbol of each record as ``(codes, names)`` from the metadata's symbology.

    ``records`` is the records region of :func:`read_dbn`'s bytes, ``mappings`` lists per
    instrument id its intervals ``(start_day, end_day, symbol)`` (days since the UNIX
    epoch, end excluded) in metadata order. ``names[0]`` is ``""`` (unknown); no records,
    no names.
    """

@final
class FixExchange:
    """The simulated exchange behind a FIX 4.4 acceptor (``crate::fix::gateway``).

    Starts at once: binds ``host:port`` (0 picks a free port), reads the MBO ``feed`` (a DBN
    file, ``.dbn`` or ``.dbn.zst``) and serves in a background thread with its own tokio
    runtime. One session (``sender_comp_id`` is ours, ``target_comp_id`` the client's);
    NewOrderSingle, OrderCancelRequest and OrderCancelReplaceRequest go into the native
    simulated exchange over the replayed book and are answered with ExecutionReports,
    OrderCancelReject or BusinessMessageReject. The replay runs at ``speed`` times the
    records' timestamps (``"max"``: as fast as possible), is held at ``hold_at_ns`` (every
    record up to then applied, then a still book), or is ``"driven"`` by the client in
    lock-step (:meth:`FixInitiator.replay`; nothing replays by itself). An
    OrderStatusRequest (35=H) is answered with an ExecutionReport 150=I. ``store_dir``: QuickFIX-layout file store
    (a restart resumes the sequence), else memory. ``tick``: price increment checked on
    orders. ``log_dir``: QuickFIX-style message and event log files there
    (``FIX.4.4-EXCH-CLIENT.messages.current.log``: one line per message in and out, UTC
    microseconds, ``IN``/``OUT``, raw SOH; ``….event.current.log``), else no log.
    ``FileNotFoundError`` for a missing feed, ``ValueError`` for a feed without MBO
    records or a bad setting, ``OSError`` when the port cannot be bound or the log
    cannot be opened. ``dictionary_path``: a QuickFIX XML data dictionary to validate
    received messages against (else the built-in FIX 4.4 one; :func:`fix_write_dictionary`
    writes that one out); ``ValueError`` naming the file and line when it is not one,
    ``FileNotFoundError`` when it is missing. ``busy_poll_us``: after each message, poll
    the socket for up to this many microseconds before parking on epoll (lower latency, a
    core busy; ``None`` or 0: park at once). A context manager: leaving it stops the
    exchange.
    """

    def __new__(
        cls,
        feed: str | os.PathLike[str],
        *,
        host: str = "127.0.0.1",
        port: int = 9878,
        sender_comp_id: str = "EXCH",
        target_comp_id: str = "CLIENT",
        heartbeat: int = 30,
        store_dir: str | os.PathLike[str] | None = None,
        reset_on_logon: bool = False,
        validate: bool = True,
        speed: float | Literal["max", "driven"] | None = None,
        hold_at_ns: int | None = None,
        instrument_id: int | None = None,
        symbol: str | None = None,
        tick: str | float | None = None,
        queue: Literal["conservative", "l3_known"] = "conservative",
        maker_fee: float = 0.0,
        taker_fee: float = 0.0,
        seed: int = 0,
        timestamp_precision: Literal["s", "ms", "us", "ns"] = "ms",
        log_dir: str | os.PathLike[str] | None = None,
        dictionary_path: str | os.PathLike[str] | None = None,
        busy_poll_us: int | None = None,
    ) -> FixExchange: ...
    @property
    def port(self) -> int:
        """The TCP port it listens on."""
    @property
    def host(self) -> str:
        """The address it listens on."""
    @property
    def symbol(self) -> str:
        """The Symbol (55) orders must carry (the feed's raw symbol, or its instrument id)."""
    @property
    def instrument_id(self) -> int:
        """The instrument traded (default: the feed's most frequent)."""
    @property
    def running(self) -> bool:
        """Whether it is serving."""
    @property
    def stats(self) -> dict[str, int | bool]:
        """Counters: ``connections``, ``refused``, ``logons``, ``logged_on``,
        ``session_rejects``, ``orders``, ``cancels``, ``replaces``, ``execution_reports``,
        ``fills``, ``rejects``, ``cancel_rejects``, ``business_rejects``, ``records_total``,
        ``records_replayed``, ``feed_time_ns``, ``next_sender_seq``, ``next_target_seq``."""
    def stop(self) -> None:
        """Log a connected client out ("exchange shutting down") and stop; idempotent."""
    def __enter__(self) -> FixExchange: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
        /,
    ) -> bool: ...

@final
class FixReport:
    """One application message received by :class:`FixInitiator`: an ExecutionReport
    (``msg_type`` ``"8"``), OrderCancelReject (``"9"``), BusinessMessageReject (``"j"``) or
    session Reject (``"3"``). Prices are floats parsed from the FIX decimals (``fields`` has
    the exact text)."""

    msg_type: str
    kind: Literal[
        "new",
        "partial_fill",
        "fill",
        "canceled",
        "replaced",
        "rejected",
        "expired",
        "restated",
        "status",
        "replay_status",
        "cancel_reject",
        "business_reject",
        "session_reject",
        "other",
    ]
    seq_num: int
    cl_ord_id: str | None
    orig_cl_ord_id: str | None
    order_id: str | None
    exec_id: str | None
    exec_type: str | None
    ord_status: str | None
    symbol: str | None
    side: Literal["buy", "sell", "other"] | None
    order_qty: int | None
    price: float | None
    last_qty: int | None
    last_px: float | None
    cum_qty: int | None
    leaves_qty: int | None
    avg_px: float | None
    ord_rej_reason: int | None
    cxl_rej_reason: int | None
    business_reject_reason: int | None
    text: str | None
    transact_time_ns: int | None
    last_liquidity_ind: int | None
    """LastLiquidityInd (851): 1 added liquidity (maker), 2 removed it (taker)."""
    misc_fee_amt: float | None
    """MiscFeeAmt (137): the fill's fee."""
    poss_dup: bool
    """PossDupFlag (43): a resend of a message sent before."""
    req_id: str | None
    """OrdStatusReqID (790) of a "status" report, ReplayReqID (5000) of a "replay_status"."""
    replay_reached: bool | None
    """"replay_status": whether the feed clock reached the requested time (5002)."""
    replay_next_ns: int | None
    """"replay_status": the next feed record's time (5004), None at the end of the feed."""
    fields: list[tuple[int, str]]
    def to_dict(self) -> dict[str, Any]:
        """Every attribute in a dict (``fields`` as a tag -> value dict)."""

@final
class FixInitiator:
    """A FIX 4.4 initiator driven by blocking calls (``crate::fix::client``): its session
    runs in a background thread (heartbeats go out while Python is busy); every call
    releases the GIL. ``connect()`` (or ``with``) logs on; ``new_order``, ``cancel`` and
    ``replace`` return the MsgSeqNum sent; ``next_report`` returns the next
    :class:`FixReport`. ``symbol`` is the default Symbol (55). ``store_dir``: file store,
    else memory; ``reset_on_logon`` sends 141=Y; ``log_dir``: message and event log files
    there, as :class:`FixExchange`'s; ``dictionary_path``: a QuickFIX XML data dictionary,
    as :class:`FixExchange`'s. ``busy_poll_us``: after each message, poll the socket for up
    to this many microseconds before parking on epoll (lower latency, a core busy; ``None``
    or 0: park at once), as :class:`FixExchange`'s. ``OSError`` when the log cannot be
    opened or the connection is
    refused, ``ConnectionError`` when the Logon is not answered, ``ValueError`` for bad
    arguments, ``RuntimeError`` when not logged on.
    """

    def __new__(
        cls,
        *,
        port: int,
        host: str = "127.0.0.1",
        sender_comp_id: str = "CLIENT",
        target_comp_id: str = "EXCH",
        heartbeat: int = 30,
        symbol: str = "",
        store_dir: str | os.PathLike[str] | None = None,
        reset_on_logon: bool = True,
        validate: bool = True,
        timeout: float = 10.0,
        log_dir: str | os.PathLike[str] | None = None,
        dictionary_path: str | os.PathLike[str] | None = None,
        busy_poll_us: int | None = None,
    ) -> FixInitiator: ...
    def connect(self, next_target_seq: int | None = None) -> None:
        """Connect and log on (blocks until the Logon answer). ``next_target_seq``: expect
        this MsgSeqNum next (1 up to the store's next expected, else ``ValueError``), so the
        counterparty's messages from there on are asked again with a ResendRequest and
        come back as PossDup resends (a restarted client that lost messages it had
        received)."""
    @property
    def logged_on(self) -> bool:
        """Whether the session is logged on."""
    def new_order(
        self,
        cl_ord_id: str,
        side: Literal["buy", "sell"],
        qty: int,
        order_type: Literal["market", "limit", "stop", "stop_limit"] = "limit",
        price: str | float | None = None,
        stop_price: str | float | None = None,
        tif: Literal["day", "gtc", "ioc"] = "day",
        symbol: str | None = None,
        account: str | None = None,
    ) -> int:
        """Send a NewOrderSingle (35=D)."""
    def cancel(
        self,
        cl_ord_id: str,
        orig_cl_ord_id: str,
        side: Literal["buy", "sell"],
        symbol: str | None = None,
    ) -> int:
        """Send an OrderCancelRequest (35=F) for the order ``orig_cl_ord_id``."""
    def order_status(
        self,
        cl_ord_id: str,
        side: Literal["buy", "sell"],
        req_id: str | None = None,
        symbol: str | None = None,
    ) -> int:
        """Send an OrderStatusRequest (35=H); the answer is a report of kind "status"
        (OrdStatus 8 with OrdRejReason 5 when the counterparty does not know the order)."""
    def replay(
        self,
        until_ns: int,
        stop_on_report: bool = False,
        req_id: str | None = None,
        inclusive: bool = True,
    ) -> int:
        """Send a ReplayRequest (35=U1, user-defined) to a driven exchange
        (``speed="driven"``): replay the feed up to ``until_ns`` (the records at it too when
        ``inclusive``; feed time reaches ``until_ns`` either way), stopping after the first
        record that caused a report when ``stop_on_report``. The answer, after those
        reports, is a report of kind "replay_status"."""
    def replace(
        self,
        cl_ord_id: str,
        orig_cl_ord_id: str,
        side: Literal["buy", "sell"],
        qty: int,
        order_type: Literal["market", "limit", "stop", "stop_limit"] = "limit",
        price: str | float | None = None,
        stop_price: str | float | None = None,
        tif: Literal["day", "gtc", "ioc"] = "day",
        symbol: str | None = None,
    ) -> int:
        """Send an OrderCancelReplaceRequest (35=G): new total ``qty`` and prices."""
    def next_report(self, timeout: float = 5.0) -> FixReport | None:
        """The next report within ``timeout`` seconds, else ``None``."""
    def logout(self, text: str | None = None, timeout: float = 5.0) -> list[FixReport]:
        """Log out and close; returns reports that arrived meanwhile."""
    def __enter__(self) -> FixInitiator: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
        /,
    ) -> bool: ...

# -- simulated exchange (native/src/exchange) --------------------------------------------------

EXEC_REPORT_DTYPE: np.dtype[np.void]
"""The record dtype of the reports ``Exchange.drain_reports`` returns, mirroring the
``#[repr(C)]`` Rust struct ``ExecReport`` (96 bytes): ``ts_exchange``, ``ts_local``,
``client_id``, ``seq`` (uint64), ``order_price``, ``last_px`` (int64, 1e-9 fixed point,
``UNDEF_PRICE`` when none), ``queue_ahead`` (uint64: size ahead when the order joined its
queue), ``fee_per_contract``, ``fee`` (int64, 1e-9 USD), ``order_qty``, ``last_qty``,
``cum_qty``, ``leaves_qty`` (uint32), ``exec_type`` (an :class:`ExecType` value),
``status`` (:class:`OrderStatus`), ``side`` (int8, :class:`OrderSide`), ``liquidity``
(:class:`Liquidity`), ``reason`` (:class:`ExecReason`) as uint8."""

@final
class OrderSide:
    """Direction of an order (``workbench.model.Side``: ``BUY = 1``, ``SELL = -1``)."""

    BUY: Final[OrderSide]
    """Buys; rests on the bid side."""
    SELL: Final[OrderSide]
    """Sells; rests on the ask side."""
    def __int__(self) -> int: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class OrderType:
    """Order types of the simulated exchange (``workbench.model.OrderType``, by name)."""

    MARKET: Final[OrderType]
    """Takes whatever the book offers; the rest is cancelled (``NO_LIQUIDITY``)."""
    LIMIT: Final[OrderType]
    """Takes up to its limit price, then rests (unless IOC)."""
    STOP: Final[OrderType]
    """Waits for a trade at or through its stop price, then acts as a market order."""
    STOP_LIMIT: Final[OrderType]
    """Waits for a trade at or through its stop price, then acts as a limit order."""
    def __int__(self) -> int: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class TimeInForce:
    """How long an order works (``workbench.model.TimeInForce``, by name)."""

    DAY: Final[TimeInForce]
    """Until the close of the session in which it was accepted."""
    GTC: Final[TimeInForce]
    """Good till cancelled."""
    IOC: Final[TimeInForce]
    """Immediate or cancel."""
    def __int__(self) -> int: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class OrderStatus:
    """Where an order is in its life (``workbench.model.OrderStatus``, by name)."""

    PENDING: Final[OrderStatus]
    """Sent, not yet arrived (or held while the market is closed)."""
    WORKING: Final[OrderStatus]
    """Accepted and working."""
    PARTIALLY_FILLED: Final[OrderStatus]
    """Some of it has filled; the rest is working."""
    FILLED: Final[OrderStatus]
    """Filled whole."""
    CANCELLED: Final[OrderStatus]
    """Cancelled (by the user, as an IOC/market remainder, or expired)."""
    REJECTED: Final[OrderStatus]
    """Refused at arrival."""
    def __int__(self) -> int: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Liquidity:
    """Whether a fill added or removed liquidity (``NONE`` on reports that are not fills)."""

    NONE: Final[Liquidity]
    """Not a fill."""
    MAKER: Final[Liquidity]
    """The order rested and was hit."""
    TAKER: Final[Liquidity]
    """The order took liquidity resting in the book."""
    def __int__(self) -> int: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class ExecType:
    """What an execution report says happened (``EXEC_REPORT_DTYPE["exec_type"]``)."""

    NEW: Final[ExecType]
    """The order was accepted."""
    PARTIAL_FILL: Final[ExecType]
    """Part of the order filled; some is left."""
    FILL: Final[ExecType]
    """The order's last contracts filled."""
    CANCELLED: Final[ExecType]
    """Cancelled (user request, IOC or market remainder)."""
    REPLACED: Final[ExecType]
    """A replace was applied."""
    REJECTED: Final[ExecType]
    """A new order, a cancel or a replace was refused (see the reason)."""
    EXPIRED: Final[ExecType]
    """A DAY order reached the end of its session."""
    TRIGGERED: Final[ExecType]
    """A stop's trigger was reached; it now works as a market or limit order."""
    def __int__(self) -> int: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class ExecReason:
    """Why a report was sent (``EXEC_REPORT_DTYPE["reason"]``)."""

    NONE: Final[ExecReason]
    """Nothing to explain."""
    INVALID_QUANTITY: Final[ExecReason]
    """Quantity zero, or a replace to a quantity not above what has filled."""
    INVALID_PRICE: Final[ExecReason]
    """A limit or stop price missing for the order type, or given to a type that takes none."""
    OFF_TICK: Final[ExecReason]
    """A price off the configured tick, or not positive."""
    DUPLICATE_CLIENT_ID: Final[ExecReason]
    """The client id is already in use."""
    MARKET_CLOSED: Final[ExecReason]
    """The order arrived outside the sessions."""
    HALTED: Final[ExecReason]
    """The order arrived during a halt."""
    UNKNOWN_ORDER: Final[ExecReason]
    """A cancel or replace of an order unknown or no longer working."""
    NO_LIQUIDITY: Final[ExecReason]
    """A market order (or triggered stop) found no more liquidity: the rest is cancelled."""
    IMMEDIATE_OR_CANCEL: Final[ExecReason]
    """The unfilled rest of an IOC order."""
    SESSION_END: Final[ExecReason]
    """A DAY order reached the close of its session."""
    REPLACE_NOT_ALLOWED: Final[ExecReason]
    """A replace of a price the order type does not have."""
    def __int__(self) -> int: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class OffHours:
    """What happens to orders arriving while the market is closed or halted."""

    REJECT: Final[OffHours]
    """Rejected (``MARKET_CLOSED`` or ``HALTED``)."""
    HOLD: Final[OffHours]
    """Held (``PENDING``) and processed in arrival order at the open."""
    def __int__(self) -> int: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class QueueModel:
    """Queue-position model of own resting orders (see ``native/src/exchange/queue.rs``)."""

    CONSERVATIVE: Final[QueueModel]
    """Only trades at the level advance the order (cancels never do)."""
    L3_KNOWN: Final[QueueModel]
    """Trades, and cancels of the real orders known by L3 id to be ahead."""
    PROBABILISTIC: Final[QueueModel]
    """Trades, and cancels attributed ahead at random (seeded), weighed by the queue
    function."""
    def __int__(self) -> int: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class QueueFunction:
    """The weighting ``f`` of the probabilistic model: a cancel comes from behind with
    probability ``f(back) / (f(back) + f(front))``."""

    POWER: Final[QueueFunction]
    """``f(x) = x ** queue_power``."""
    LOG: Final[QueueFunction]
    """``f(x) = ln(1 + x)``."""
    def __int__(self) -> int: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class ExchangeConfig:
    """The configuration of a simulated exchange, immutable, built with keywords only.

    Latencies are ns, constant (``*_latency_ns``) or drawn from recorded samples
    (``*_latency_samples``, seeded by ``seed``); fees are 1e-9 USD per contract (negative:
    rebate); ``tick`` is the price grid in 1e-9 fixed point (0: no check); ``sessions`` and
    ``halts`` are sorted, non-overlapping ``(start_ns, end_ns)`` intervals (no session: always
    open). ``ValueError`` for an invalid value.
    """

    def __new__(
        cls,
        *,
        queue: QueueModel = ...,
        queue_function: QueueFunction = ...,
        queue_power: float = 2.0,
        entry_latency_ns: int = 0,
        response_latency_ns: int = 0,
        entry_latency_samples: list[int] | None = None,
        response_latency_samples: list[int] | None = None,
        seed: int = 0,
        maker_fee: int = 0,
        taker_fee: int = 0,
        tick: int = 0,
        sessions: list[tuple[int, int]] = ...,
        halts: list[tuple[int, int]] = ...,
        off_hours: OffHours = ...,
    ) -> ExchangeConfig: ...
    @property
    def queue(self) -> QueueModel: ...
    @property
    def queue_function(self) -> QueueFunction: ...
    @property
    def queue_power(self) -> float: ...
    @property
    def entry_latency_ns(self) -> int: ...
    @property
    def response_latency_ns(self) -> int: ...
    @property
    def entry_latency_samples(self) -> list[int] | None: ...
    @property
    def response_latency_samples(self) -> list[int] | None: ...
    @property
    def seed(self) -> int: ...
    @property
    def maker_fee(self) -> int: ...
    @property
    def taker_fee(self) -> int: ...
    @property
    def tick(self) -> int: ...
    @property
    def sessions(self) -> list[tuple[int, int]]: ...
    @property
    def halts(self) -> list[tuple[int, int]]: ...
    @property
    def off_hours(self) -> OffHours: ...

@final
class ExchangeOrder:
    """The state of one own order (prices 1e-9 fixed point, ``None`` when the type has
    none)."""

    @property
    def client_id(self) -> int: ...
    @property
    def limit_price(self) -> int | None: ...
    @property
    def stop_price(self) -> int | None: ...
    @property
    def queue_ahead(self) -> int:
        """Current estimate of the size ahead in the queue (0 when not resting)."""
    @property
    def qty(self) -> int: ...
    @property
    def filled(self) -> int: ...
    @property
    def cancelled(self) -> int: ...
    @property
    def leaves(self) -> int: ...
    @property
    def status(self) -> OrderStatus: ...
    @property
    def side(self) -> OrderSide: ...
    @property
    def order_type(self) -> OrderType: ...
    @property
    def tif(self) -> TimeInForce: ...
    @property
    def resting(self) -> bool: ...

@final
class Exchange:
    """A simulated exchange for one instrument: the real L3 book of a replayed MBO feed plus
    own virtual orders (``native/src/exchange``). The feed is loaded whole (``from_file``,
    ``from_bytes``) and stepped (``run_until``, ``step``, ``run``), or given record by record
    (``apply``, ``apply_bytes``). Prices are 1e-9 fixed point; times ns since the epoch."""

    def __new__(cls, instrument_id: int, config: ExchangeConfig) -> Exchange: ...
    @staticmethod
    def from_file(
        path: str, config: ExchangeConfig, *, instrument_id: int | None = None
    ) -> Exchange:
        """Load the MBO records of a DBN file (plain or zstd) of one instrument (the only one,
        or ``instrument_id``). ``FileNotFoundError``/``OSError``; ``ValueError(kind,
        message)`` with ``kind`` ``"decode"``, ``"empty"`` or ``"instruments"``."""
    @staticmethod
    def from_bytes(
        data: bytes, config: ExchangeConfig, *, instrument_id: int | None = None
    ) -> Exchange:
        """As ``from_file``, from DBN bytes (metadata first)."""
    def apply(
        self,
        ts_event: int,
        order_id: int,
        price: int,
        size: int,
        side: str,
        action: str,
        *,
        flags: int = ...,
        ts_recv: int | None = None,
        sequence: int = 0,
    ) -> bool:
        """Apply one MBO record by its fields (``flags`` default ``F_LAST``, 128); ``False``
        when the book refused it."""
    def apply_bytes(self, record: bytes) -> bool:
        """Apply one MBO record given as its 56 DBN bytes; ``False`` when refused."""
    def extend_feed(self, records: bytes) -> int:
        """Append MBO records (their concatenated 56-byte DBN forms, no metadata) to the
        loaded feed, skipping other instruments; returns how many were kept."""
    def run_until(self, t: int) -> int:
        """Apply the loaded records with ``ts_event <= t``; returns how many."""
    def step(self, events: int = 1) -> int:
        """Apply loaded records through the next ``events`` event boundaries; how many."""
    def run(self) -> int:
        """Apply every remaining loaded record; returns how many."""
    def trades(
        self,
    ) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64], npt.NDArray[np.uint32]]:
        """The trades (``T`` records) of the loaded feed: ``(ts_event, price, size)``."""
    @property
    def next_ts(self) -> int | None:
        """``ts_event`` of the next loaded record, ``None`` at the end."""
    @property
    def remaining(self) -> int:
        """Loaded records not yet applied."""
    @property
    def feed_len(self) -> int:
        """Loaded records in all."""
    @property
    def feed_span(self) -> tuple[int, int] | None:
        """``(first, last)`` ``ts_event`` of the loaded feed."""
    def submit(
        self,
        ts_local: int,
        client_id: int,
        side: OrderSide,
        order_type: OrderType,
        qty: int,
        *,
        limit_price: int | None = None,
        stop_price: int | None = None,
        tif: TimeInForce = ...,
    ) -> None:
        """Send a new order at the client's time ``ts_local``; invalid orders are rejected at
        arrival with a report."""
    def cancel(self, ts_local: int, client_id: int) -> None:
        """Send a cancel."""
    def replace(
        self,
        ts_local: int,
        client_id: int,
        qty: int,
        *,
        limit_price: int | None = None,
        stop_price: int | None = None,
    ) -> None:
        """Send a replace (``qty`` the new total; ``None`` keeps a price)."""
    def advance_to(self, t: int) -> None:
        """Process arrivals, held orders and DAY expiries due by ``t`` with no record."""
    def order(self, client_id: int) -> ExchangeOrder | None:
        """The state of an order, ``None`` for an id never accepted."""
    def drain_reports(self) -> npt.NDArray[np.void]:
        """Take the reports produced so far (``EXEC_REPORT_DTYPE``)."""
    @property
    def pending_reports(self) -> int:
        """Reports waiting to be drained."""
    def stats(self) -> dict[str, int]:
        """Counters: records, other_instruments, refused, requests, fills, maker_qty,
        taker_qty, reports."""
    @property
    def instrument_id(self) -> int: ...
    @property
    def now(self) -> int:
        """The exchange clock (ns)."""
    @property
    def last_trade(self) -> int | None:
        """The last trade price of the feed."""
    @property
    def open_orders(self) -> int: ...
    @property
    def is_consistent(self) -> bool:
        """Whether the book is at an event boundary."""
    def best_bid(self) -> tuple[int, int, int] | None:
        """``(price, size, count)`` of the best bid of the real book."""
    def best_ask(self) -> tuple[int, int, int] | None:
        """``(price, size, count)`` of the best ask of the real book."""
    def depth(self, side: str, n: int) -> list[tuple[int, int, int]]:
        """The best ``n`` levels of ``side`` (``"B"``/``"A"``)."""
    def level(self, side: str, price: int) -> tuple[int, int, int] | None:
        """The level of ``side`` at ``price``."""

def fix_write_dictionary(path: str | os.PathLike[str]) -> None:
    """Write the built-in FIX 4.4 data dictionary (the messages the engine speaks) to
    ``path`` in QuickFIX's XML format, to edit and pass back as ``dictionary_path``."""

def fix_decode(frame: bytes) -> list[tuple[int, str]]:
    """Decode one FIX frame (BeginString, BodyLength and CheckSum checked) into its
    ``(tag, value)`` fields in order; ``ValueError`` when it is not a well-formed message."""
