"""Protective stops and targets, on integer ticks.

One object serves the vectorized backtest (whose compiled kernel follows the same rules, held
to it by a test) and the paper-trading engine, bar by bar.
"""

from __future__ import annotations

import math

from workbench.model.codes import EXIT_STOP, EXIT_TARGET
from workbench.risk.config import StopConfig


class StopLossManager:
    """Stop distance, stop and target prices, trailing updates and intrabar triggers.

    Parameters
    ----------
    config : StopConfig
        The stop mode and its distances.
    tick_value : float
        Dollars per tick per contract (MCL: 1.0).
    """

    def __init__(self, config: StopConfig | None = None, tick_value: float = 1.0) -> None:
        self.config = config or StopConfig()
        self.tick_value = tick_value

    @property
    def uses_stop(self) -> bool:
        """Whether a protective stop is placed at all."""
        return self.config.mode != "none"

    @property
    def trailing(self) -> bool:
        """Whether the stop ratchets behind the best price."""
        return self.config.mode.startswith("trailing")

    def distance_ticks(self, ref_price_ticks: int, strategy_stop_ticks: int) -> int:
        """Stop distance in ticks, decided at signal time (before the fill).

        ``strategy_stop_ticks`` is the strategy's own distance (e.g. 2 x ATR) rounded up to
        whole ticks, or 0 when it has none. Returns 0 when no stop can be placed.
        """
        mode = self.config.mode
        if mode == "none":
            return 0
        if mode in ("fixed_pct", "trailing_pct"):
            return max(1, math.ceil(abs(ref_price_ticks) * self.config.pct - 1e-9))
        if mode == "fixed_usd":
            return max(1, math.floor(self.config.usd / self.tick_value + 1e-9))
        return max(0, strategy_stop_ticks)  # atr, trailing_atr

    def place(self, side: int, fill_ticks: int, dist: int) -> tuple[int | None, int | None]:
        """Stop and target prices (ticks) for a position of ``side`` (+1/-1) filled at
        ``fill_ticks``; None where not used."""
        if dist <= 0:
            return None, None
        stop = fill_ticks - side * dist
        target = None
        if self.config.target_r is not None:
            target = fill_ticks + side * math.ceil(dist * self.config.target_r - 1e-9)
        return stop, target

    def trail(self, side: int, stop: int | None, high: int, low: int, dist: int) -> int | None:
        """Ratchet a trailing stop at bar close behind the bar's extreme (never loosens)."""
        if stop is None or not self.trailing or dist <= 0:
            return stop
        if side > 0:
            return max(stop, high - dist)
        return min(stop, low + dist)

    @staticmethod
    def check(
        side: int, stop: int | None, target: int | None, open_: int, high: int, low: int
    ) -> tuple[int, int] | None:
        """Whether the bar triggers the stop or the target, and at what price.

        A bar that opens through a level fills at the open (a gap). When both the stop and
        the target lie inside one bar's range, the order of touches is unknown: the worse
        outcome (the stop) is assumed. Returns ``(price_ticks, exit_reason)`` or None.
        """
        if side > 0:
            if stop is not None and open_ <= stop:
                return open_, EXIT_STOP
            if target is not None and open_ >= target:
                return open_, EXIT_TARGET
            if stop is not None and low <= stop:
                return stop, EXIT_STOP
            if target is not None and high >= target:
                return target, EXIT_TARGET
        elif side < 0:
            if stop is not None and open_ >= stop:
                return open_, EXIT_STOP
            if target is not None and open_ <= target:
                return open_, EXIT_TARGET
            if stop is not None and high >= stop:
                return stop, EXIT_STOP
            if target is not None and low <= target:
                return target, EXIT_TARGET
        return None
