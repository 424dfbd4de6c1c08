"""Bollinger mean reversion: fade closes outside the bands, exit back at the mean."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from workbench.strategies.base import MAX_ATR_STOP_MULT, ParamRange, Strategy, register
from workbench.strategies.indicators import rolling_mean_std
from workbench.strategies.signals import atr_stop_distance, column, hold_positions

if TYPE_CHECKING:
    import pandas as pd

#: Widest entry band in standard deviations: closes further out practically never happen,
#: and much larger values overflow ``num_std * std``.
MAX_NUM_STD = 10.0


@register
@dataclass(frozen=True)
class MeanReversionStrategy(Strategy):
    """Buy a close below the lower Bollinger band, hold until price is back at the mean.

    With ``z = (close - SMA) / std`` over the last ``period`` closes (population std):

    - enter long when ``z < -num_std`` (close below the lower band), hold until
      ``z >= exit_z`` (with ``exit_z = 0``: close back at or above the middle band);
    - enter short when ``z > num_std``, hold until ``z <= -exit_z``;
    - an entry on one side reverses a position on the other.

    The comparisons are made on prices (``close < mid - num_std * std`` and so on), so a flat
    window (``std = 0``) never triggers an entry. Path dependent, computed without a loop over
    bars by :func:`~workbench.strategies.signals.hold_positions`. Flat during the warm-up (the
    first ``period - 1`` bars).

    Parameters
    ----------
    time_filter : TimeFilter, optional
        Trade only inside this New York time window.
    period : int, default 20
        Bollinger window (bars), ``>= 2``.
    num_std : float, default 2.0
        Entry band width in standard deviations, ``0 < num_std <= 10``.
    exit_z : float, default 0.0
        Exit z-score for longs (``-exit_z`` for shorts); ``-num_std < exit_z < num_std``.
        Negative exits earlier, positive lets the trade run past the mean.
    atr_period : int, default 14
        ATR period for the protective stop.
    atr_stop_mult : float, default 2.0
        Stop distance in ATRs.
    allow_short : bool, default True
        Also fade closes above the upper band.
    """

    name: ClassVar[str] = "bollinger_reversion"
    display_name: ClassVar[str] = "Bollinger Mean Reversion"
    param_space: ClassVar[dict[str, ParamRange]] = {
        "period": ParamRange(10, 100, 10),
        "num_std": ParamRange(1.0, 3.0, 0.25),
        "exit_z": ParamRange(-0.5, 0.5, 0.25),
        "atr_period": ParamRange(7, 28, 7),
        "atr_stop_mult": ParamRange(1.0, 4.0, 0.5),
    }

    period: int = 20
    num_std: float = 2.0
    exit_z: float = 0.0
    atr_period: int = 14
    atr_stop_mult: float = 2.0
    allow_short: bool = True

    def validate(self) -> None:
        """Check types and ranges, and that ``exit_z`` lies inside the entry bands."""
        super().validate()
        self._check_int("period", minimum=2)
        self._check_number("num_std", positive=True, maximum=MAX_NUM_STD)
        self._check_number("exit_z")
        self._check_int("atr_period")
        self._check_number("atr_stop_mult", positive=True, maximum=MAX_ATR_STOP_MULT)
        self._check_bool("allow_short")
        if not -self.num_std < self.exit_z < self.num_std:
            self._fail(
                f"exit_z ({self.exit_z}) must lie strictly between -num_std and num_std "
                f"({self.num_std})",
                hint="a long exits when z rises to exit_z, so exit_z must be inside the bands "
                "it entered from (0 = exit at the middle band)",
            )

    def compute_signals(self, bars: pd.DataFrame) -> np.ndarray:
        """Held position: +1 after a lower-band entry until the exit, -1 symmetric, else 0.

        Parameters
        ----------
        bars : pandas.DataFrame
            OHLCV bars; uses ``close``.

        Returns
        -------
        numpy.ndarray
            int8 of -1/0/+1.
        """
        close = column(bars, "close")
        mid, sd = rolling_mean_std(close, self.period)
        long_entry = close < mid - self.num_std * sd
        long_exit = close >= mid + self.exit_z * sd
        if not self.allow_short:
            return hold_positions(long_entry, long_exit)
        short_entry = close > mid + self.num_std * sd
        short_exit = close <= mid - self.exit_z * sd
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
