"""Strategy signals one bar at a time, for the live path.

:func:`incremental_signal` turns a strategy (its parameters) into an
:class:`IncrementalSignal`: ``update(high, low, close, ts_ns)`` takes one closed bar and
returns the position wanted after it (+1/0/-1), the same value
:meth:`Strategy.generate_signals` gives that bar on the whole series (held to it by the
tests, time filter included), in about a microsecond instead of a pandas recomputation. The
indicators and the strategy state machines run in the native crate
(``workbench.native.EmaCrossoverSignal`` and friends); the strategy's protective stop
distance (``atr_stop_mult x ATR``) comes with each bar.

>>> sig = incremental_signal(MomentumStrategy(fast_period=10, slow_period=40))
>>> sig.run(history)                      # warm up on past bars (same values as update)
>>> side = sig.update(h, l, c, ts_ns)     # each new bar, ts_ns = its start (UTC ns)
>>> stop = sig.stop_distance

Prices must be finite: a bar with a NaN raises ``ValueError`` and is not applied (the
vectorized indicators would either raise or carry the NaN through their windows).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pandas as pd

from workbench.errors import ConfigError
from workbench.native import BollingerReversionSignal, DonchianBreakoutSignal, EmaCrossoverSignal
from workbench.strategies.base import Strategy, TimeFilter, bar_interval
from workbench.strategies.breakout import BreakoutStrategy
from workbench.strategies.mean_reversion import MeanReversionStrategy
from workbench.strategies.momentum import MomentumStrategy
from workbench.strategies.signals import column

__all__ = ["IncrementalSignal", "NativeSignal", "incremental_signal", "native_signal"]

NativeSignal = EmaCrossoverSignal | BollingerReversionSignal | DonchianBreakoutSignal

_NS_PER_SECOND = 1_000_000_000
_NS_PER_MINUTE = 60 * _NS_PER_SECOND
_NS_PER_HOUR = 60 * _NS_PER_MINUTE


def native_signal(strategy: Strategy) -> NativeSignal:
    """The native one-bar-at-a-time signal of ``strategy`` (its raw signal, no time filter).

    Parameters
    ----------
    strategy : Strategy
        A :class:`MomentumStrategy`, :class:`MeanReversionStrategy` or
        :class:`BreakoutStrategy` (or a subclass that keeps their ``compute_signals``).

    Returns
    -------
    EmaCrossoverSignal or BollingerReversionSignal or DonchianBreakoutSignal
        A fresh state (no bar seen).

    Raises
    ------
    ConfigError
        For a strategy without an incremental version.
    """
    compute = type(strategy).compute_signals
    if isinstance(strategy, MomentumStrategy) and compute is MomentumStrategy.compute_signals:
        return EmaCrossoverSignal(
            fast_period=strategy.fast_period,
            slow_period=strategy.slow_period,
            atr_period=strategy.atr_period,
            atr_stop_mult=strategy.atr_stop_mult,
            allow_short=strategy.allow_short,
        )
    if (
        isinstance(strategy, MeanReversionStrategy)
        and compute is MeanReversionStrategy.compute_signals
    ):
        return BollingerReversionSignal(
            period=strategy.period,
            num_std=strategy.num_std,
            exit_z=strategy.exit_z,
            atr_period=strategy.atr_period,
            atr_stop_mult=strategy.atr_stop_mult,
            allow_short=strategy.allow_short,
        )
    if isinstance(strategy, BreakoutStrategy) and compute is BreakoutStrategy.compute_signals:
        return DonchianBreakoutSignal(
            entry_period=strategy.entry_period,
            exit_period=strategy.exit_period,
            atr_period=strategy.atr_period,
            atr_stop_mult=strategy.atr_stop_mult,
            allow_short=strategy.allow_short,
        )
    raise ConfigError(
        f"strategy {type(strategy).__name__} ({strategy.name!r}) has no incremental signal",
        hint="incremental signals exist for ema_crossover, bollinger_reversion and "
        "donchian_breakout; use generate_signals on the bars instead",
    )


class _WindowClock:
    """Whether a bar END time (UTC ns) is inside a :class:`TimeFilter` window, per bar.

    The same answer as ``TimeFilter.mask``; the UTC offset is looked up once per UTC hour
    (re-checked at the hour's end, so an offset change inside the hour is still exact).
    """

    def __init__(self, window: TimeFilter) -> None:
        self.lo, self.hi = window.minutes()
        self.tz = ZoneInfo(window.tz)
        self._hour = -1
        self._offset_ns: int | None = None

    def _offset(self, ns: int) -> int:
        moment = dt.datetime.fromtimestamp(ns // _NS_PER_SECOND, tz=self.tz)
        off = moment.utcoffset()
        assert off is not None
        return int(off.total_seconds()) * _NS_PER_SECOND

    def inside(self, end_ns: int) -> bool:
        hour = end_ns // _NS_PER_HOUR
        if hour != self._hour:
            self._hour = hour
            start = self._offset(hour * _NS_PER_HOUR)
            end = self._offset(hour * _NS_PER_HOUR + _NS_PER_HOUR - 1)
            self._offset_ns = start if start == end else None
        offset = self._offset_ns if self._offset_ns is not None else self._offset(end_ns)
        minute = ((end_ns + offset) // _NS_PER_MINUTE) % (24 * 60)
        if self.lo <= self.hi:
            return self.lo <= minute < self.hi
        return minute >= self.lo or minute < self.hi


class IncrementalSignal:
    """A strategy's signal one bar at a time, time filter included.

    Parameters
    ----------
    strategy : Strategy
        See :func:`native_signal` for the strategies supported.
    interval : pandas.Timedelta, default 1 minute
        Bar length: a bar starting at ``ts`` is known (and time-filtered) at ``ts + interval``,
        as :meth:`Strategy.generate_signals` does with :func:`bar_interval`.
    """

    def __init__(self, strategy: Strategy, *, interval: pd.Timedelta | None = None) -> None:
        self.strategy = strategy
        self.native = native_signal(strategy)
        step = pd.Timedelta(minutes=1) if interval is None else pd.Timedelta(interval)
        self.interval_ns = int(step.value)
        self._clock = None if strategy.time_filter is None else _WindowClock(strategy.time_filter)

    def update(self, high: float, low: float, close: float, ts_ns: int | None = None) -> int:
        """Take one closed bar; the position wanted after it (+1, 0, -1).

        Parameters
        ----------
        high, low, close : float
            The bar's prices (finite).
        ts_ns : int, optional
            The bar's START, UTC nanoseconds (``ts_event``); needed with a time filter.

        Returns
        -------
        int
            The signal, 0 outside the time filter's window.

        Raises
        ------
        ValueError
            For a non-finite price (the bar is not applied).
        ConfigError
            With a time filter and no ``ts_ns``.
        """
        raw = self.native.update(high, low, close)
        if self._clock is None:
            return raw
        if ts_ns is None:
            raise ConfigError(
                f"{self.strategy.name}: the time filter needs each bar's start time",
                hint="pass ts_ns (UTC nanoseconds) to update()",
            )
        return raw if self._clock.inside(int(ts_ns) + self.interval_ns) else 0

    @property
    def stop_distance(self) -> float:
        """``atr_stop_mult x ATR(atr_period)`` after the last bar (NaN while warming up)."""
        return self.native.stop_distance

    def run(self, bars: pd.DataFrame) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.float64]]:
        """Feed every bar of ``bars`` (a warm-up, or a replay), in the native crate.

        Parameters
        ----------
        bars : pandas.DataFrame
            OHLCV bars indexed by bar start, as :func:`workbench.data.load_bars` returns them.

        Returns
        -------
        signals : numpy.ndarray
            int8 per bar, time filter applied (``generate_signals(bars)`` when the state was
            fresh).
        stop_distance : numpy.ndarray
            float64 per bar.
        """
        high, low, close = column(bars, "high"), column(bars, "low"), column(bars, "close")
        sig, stop = self.native.run(high, low, close)
        if self.strategy.time_filter is not None and len(bars):
            ends = bars.index + bar_interval(bars)
            sig[~self.strategy.time_filter.mask(ends)] = 0
        return sig, stop


def incremental_signal(
    strategy: Strategy, *, interval: pd.Timedelta | None = None
) -> IncrementalSignal:
    """``strategy``'s signal one bar at a time; see :class:`IncrementalSignal`."""
    return IncrementalSignal(strategy, interval=interval)
