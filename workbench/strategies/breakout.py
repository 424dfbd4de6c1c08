"""Donchian breakout: turtle-style channel breakouts with a shorter exit channel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from workbench.strategies.base import MAX_ATR_STOP_MULT, ParamRange, Strategy, register
from workbench.strategies.indicators import donchian
from workbench.strategies.signals import atr_stop_distance, column, hold_positions

if TYPE_CHECKING:
    import pandas as pd


@register
@dataclass(frozen=True)
class BreakoutStrategy(Strategy):
    """Go long when the close breaks above the previous ``entry_period`` bars' high.

    Turtle-style, with channels of the bars BEFORE the current one
    (:func:`~workbench.strategies.indicators.donchian`):

    - enter long when ``close > max(high)`` of the previous ``entry_period`` bars; exit when
      ``close < min(low)`` of the previous ``exit_period`` bars;
    - enter short when ``close < min(low)`` of the previous ``entry_period`` bars; exit when
      ``close > max(high)`` of the previous ``exit_period`` bars;
    - an entry on one side reverses a position on the other.

    Path dependent, computed without a loop over bars by
    :func:`~workbench.strategies.signals.hold_positions`. Flat during the warm-up (the first
    ``entry_period`` bars).

    Parameters
    ----------
    time_filter : TimeFilter, optional
        Trade only inside this New York time window.
    entry_period : int, default 55
        Bars in the entry channel.
    exit_period : int, default 20
        Bars in the exit channel (usually shorter than the entry channel).
    atr_period : int, default 14
        ATR period for the protective stop.
    atr_stop_mult : float, default 2.0
        Stop distance in ATRs (the turtles' "2N").
    allow_short : bool, default True
        Also trade downside breakouts.
    """

    name: ClassVar[str] = "donchian_breakout"
    display_name: ClassVar[str] = "Donchian Breakout"
    param_space: ClassVar[dict[str, ParamRange]] = {
        "entry_period": ParamRange(20, 120, 5),
        "exit_period": ParamRange(5, 60, 5),
        "atr_period": ParamRange(7, 28, 7),
        "atr_stop_mult": ParamRange(1.0, 4.0, 0.5),
    }

    entry_period: int = 55
    exit_period: int = 20
    atr_period: int = 14
    atr_stop_mult: float = 2.0
    allow_short: bool = True

    def validate(self) -> None:
        """Check types and ranges."""
        super().validate()
        self._check_int("entry_period")
        self._check_int("exit_period")
        self._check_int("atr_period")
        self._check_number("atr_stop_mult", positive=True, maximum=MAX_ATR_STOP_MULT)
        self._check_bool("allow_short")

    def compute_signals(self, bars: pd.DataFrame) -> np.ndarray:
        """Held position: +1 after an upside breakout until the exit, -1 symmetric, else 0.

        Parameters
        ----------
        bars : pandas.DataFrame
            OHLCV bars; uses ``high``, ``low`` and ``close``.

        Returns
        -------
        numpy.ndarray
            int8 of -1/0/+1.
        """
        high, low, close = column(bars, "high"), column(bars, "low"), column(bars, "close")
        entry_hi, entry_lo = donchian(high, low, self.entry_period)
        exit_hi, exit_lo = donchian(high, low, self.exit_period)
        long_entry = close > entry_hi
        long_exit = close < exit_lo
        if not self.allow_short:
            return hold_positions(long_entry, long_exit)
        short_entry = close < entry_lo
        short_exit = close > exit_hi
        return hold_positions(long_entry, long_exit, short_entry, short_exit)

    def stop_distance(self, bars: pd.DataFrame) -> np.ndarray:
        """``atr_stop_mult x ATR(atr_period)`` in price units; NaN during the ATR warm-up.

        Parameters
        ----------
        bars : pandas.DataFrame
            OHLCV bars.

        Returns
        -------
        numpy.ndarray
            float64 per bar.
        """
        return atr_stop_distance(bars, self.atr_period, self.atr_stop_mult)
