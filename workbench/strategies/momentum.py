"""EMA crossover: trend following on two exponential moving averages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from workbench.strategies.base import MAX_ATR_STOP_MULT, ParamRange, Strategy, register
from workbench.strategies.indicators import ema_cross
from workbench.strategies.signals import atr_stop_distance, column

if TYPE_CHECKING:
    import pandas as pd


@register
@dataclass(frozen=True)
class MomentumStrategy(Strategy):
    """Long while the fast EMA is above the slow EMA, short while below.

    Always in the market once warmed up (flat instead of short with ``allow_short=False``, and
    flat on the rare bar where the averages are equal). Flat during the warm-up: the first
    ``slow_period - 1`` bars, until ``slow_period`` closes have been seen.

    Parameters
    ----------
    time_filter : TimeFilter, optional
        Trade only inside this New York time window.
    fast_period : int, default 20
        Span of the fast EMA (bars), ``< slow_period``.
    slow_period : int, default 50
        Span of the slow EMA (bars).
    atr_period : int, default 14
        ATR period for the protective stop.
    atr_stop_mult : float, default 2.0
        Stop distance in ATRs.
    allow_short : bool, default True
        Go short on a bearish cross (else flat).
    """

    name: ClassVar[str] = "ema_crossover"
    display_name: ClassVar[str] = "EMA Crossover"
    param_space: ClassVar[dict[str, ParamRange]] = {
        "fast_period": ParamRange(5, 50, 5),
        "slow_period": ParamRange(20, 200, 10),
        "atr_period": ParamRange(7, 28, 7),
        "atr_stop_mult": ParamRange(1.0, 4.0, 0.5),
    }

    fast_period: int = 20
    slow_period: int = 50
    atr_period: int = 14
    atr_stop_mult: float = 2.0
    allow_short: bool = True

    def validate(self) -> None:
        """Check types and ranges, and that ``fast_period < slow_period``."""
        super().validate()
        self._check_int("fast_period")
        self._check_int("slow_period")
        self._check_int("atr_period")
        self._check_number("atr_stop_mult", positive=True, maximum=MAX_ATR_STOP_MULT)
        self._check_bool("allow_short")
        if self.fast_period >= self.slow_period:
            self._fail(
                f"fast_period ({self.fast_period}) must be < slow_period ({self.slow_period})",
                hint="swap the two, or pick a fast_period below the slow one",
            )

    def compute_signals(self, bars: pd.DataFrame) -> np.ndarray:
        """+1 where EMA(fast) > EMA(slow), -1 (or 0) where below, 0 during warm-up.

        Parameters
        ----------
        bars : pandas.DataFrame
            OHLCV bars; uses ``close``.

        Returns
        -------
        numpy.ndarray
            int8 of -1/0/+1.
        """
        sig = ema_cross(column(bars, "close"), self.fast_period, self.slow_period)
        if not self.allow_short:
            np.maximum(sig, 0, out=sig)
        return sig

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
