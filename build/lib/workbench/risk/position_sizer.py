"""Position sizing: fixed, fixed fractional, volatility (ATR) and fractional Kelly."""

from __future__ import annotations

import math
from dataclasses import dataclass

from workbench.risk.config import SizingConfig


@dataclass
class TradeStats:
    """Running statistics of closed trades, for Kelly sizing."""

    wins: int = 0
    losses: int = 0
    sum_win: float = 0.0
    sum_loss: float = 0.0  # positive

    def record(self, net_pnl: float) -> None:
        """Add a closed trade."""
        if net_pnl > 0:
            self.wins += 1
            self.sum_win += net_pnl
        elif net_pnl < 0:
            self.losses += 1
            self.sum_loss += -net_pnl

    @property
    def count(self) -> int:
        """Closed trades with a non-zero result."""
        return self.wins + self.losses


class PositionSizer:
    """Contracts for an entry. Whole contracts only; the cap is applied by the RiskManager.

    Parameters
    ----------
    config : SizingConfig
        Method and its parameters.
    risk_per_trade : float
        Fraction of equity risked per trade.
    tick_value : float
        Dollars per tick per contract.
    """

    def __init__(
        self,
        config: SizingConfig | None = None,
        risk_per_trade: float = 0.02,
        tick_value: float = 1.0,
    ) -> None:
        self.config = config or SizingConfig()
        self.risk_per_trade = risk_per_trade
        self.tick_value = tick_value
        self.stats = TradeStats()

    def kelly_fraction(self) -> float | None:
        """Capped fractional Kelly bet from the trade history, None before enough trades."""
        s, c = self.stats, self.config
        if s.count < c.kelly_min_trades or s.wins == 0 or s.losses == 0:
            return None
        w = s.wins / s.count
        r = (s.sum_win / s.wins) / (s.sum_loss / s.losses)
        f = w - (1.0 - w) / r
        return min(max(c.kelly_fraction * f, 0.0), c.kelly_cap)

    def size(self, equity: float, stop_ticks: int, atr_ticks: int) -> int:
        """Contracts for an entry: 0 when the risk budget buys less than one contract, -1
        when there is no distance to size from (both are rejected by the RiskManager).

        ``stop_ticks`` is the stop distance, ``atr_ticks`` the strategy's volatility measure
        (its stop distance) in ticks; 0 when unknown.
        """
        c = self.config
        if c.method == "fixed":
            return c.contracts
        risk = self.risk_per_trade
        if c.method == "kelly":
            k = self.kelly_fraction()
            if k is not None:
                risk = k
        if c.method == "volatility":
            per_contract = atr_ticks * self.tick_value
        else:
            per_contract = stop_ticks * self.tick_value
        if per_contract <= 0:
            return -1  # nothing to size from (e.g. ATR still warming up)
        return max(0, math.floor(equity * risk / per_contract + 1e-9))
