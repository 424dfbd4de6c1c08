"""Risk parameters: stops, position sizing, limits and circuit breakers (frozen, JSON)."""

from __future__ import annotations

from dataclasses import dataclass

from workbench.config import FrozenConfig
from workbench.errors import ConfigError

STOP_MODES = ("none", "fixed_pct", "fixed_usd", "atr", "trailing_atr", "trailing_pct")
SIZING_METHODS = ("fixed", "fixed_fractional", "volatility", "kelly")


@dataclass(frozen=True)
class StopConfig(FrozenConfig):
    """Protective stop and optional profit target.

    Attributes
    ----------
    mode : str
        ``none``; ``fixed_pct`` (``pct`` of the entry price); ``fixed_usd`` (``usd`` per
        contract); ``atr`` (the strategy's stop distance, ``atr_stop_mult`` x ATR);
        ``trailing_atr`` / ``trailing_pct`` (the same distances, ratcheting behind the best
        price reached, updated at each bar close).
    pct : float
        Stop distance as a fraction of the entry price for the ``*_pct`` modes.
    usd : float
        Loss per contract in dollars for ``fixed_usd``.
    target_r : float or None
        Profit target at this multiple of the initial stop distance (None: no target).
    """

    mode: str = "atr"
    pct: float = 0.01
    usd: float = 50.0
    target_r: float | None = None

    def __post_init__(self) -> None:
        if self.mode not in STOP_MODES:
            raise ConfigError(
                f"unknown stop mode {self.mode!r}", hint=f"use one of {', '.join(STOP_MODES)}"
            )
        if self.pct <= 0 or self.usd <= 0:
            raise ConfigError("stop pct and usd must be positive")
        if self.target_r is not None and self.target_r <= 0:
            raise ConfigError(f"target_r must be positive, got {self.target_r}")


@dataclass(frozen=True)
class SizingConfig(FrozenConfig):
    """How many contracts an accepted entry gets.

    ``fixed``: ``contracts``. ``fixed_fractional``: floor(equity x risk_per_trade / (stop
    distance in $ per contract)). ``volatility``: floor(equity x risk_per_trade / (ATR in $ per
    contract)), a constant dollar volatility per bar. ``kelly``: the fractional Kelly bet
    ``kelly_fraction`` x (W - (1 - W) / R) from the strategy's own closed trades (W win rate,
    R average win / average loss), capped at ``kelly_cap``, once ``kelly_min_trades`` trades
    exist; fixed fractional before that. Never more than the risk limit's max contracts.
    """

    method: str = "fixed_fractional"
    contracts: int = 1
    kelly_fraction: float = 0.5
    kelly_cap: float = 0.25
    kelly_min_trades: int = 30

    def __post_init__(self) -> None:
        if self.method not in SIZING_METHODS:
            raise ConfigError(
                f"unknown sizing method {self.method!r}",
                hint=f"use one of {', '.join(SIZING_METHODS)}",
            )
        if self.contracts < 1:
            raise ConfigError(f"contracts must be >= 1, got {self.contracts}")


@dataclass(frozen=True)
class RiskConfig(FrozenConfig):
    """Limits and circuit breakers enforced before every entry and at every bar.

    Attributes
    ----------
    risk_per_trade : float
        Fraction of equity risked per trade (sizing).
    daily_loss_limit : float
        No new entries for the rest of the CME trade date once the day's realised loss reaches
        this fraction of the equity at the start of the day.
    max_position_contracts : int
        Hard cap on position size (larger requests are resized).
    max_exposure : float
        Max notional (contracts x price x multiplier) as a multiple of equity.
    max_consecutive_losses : int
        Circuit breaker: this many losing trades in a row halt entries until the next trade date.
    intraday_drawdown_limit : float
        Circuit breaker: equity falling this fraction below the day's peak halts entries for
        the rest of the trade date.
    max_drawdown_limit : float
        Circuit breaker: equity falling this fraction below its all-time peak halts entries
        for ``cooloff_days`` trade dates; the peak is then reset to the current equity.
    cooloff_days : int
        Trade dates of the max-drawdown halt.
    """

    risk_per_trade: float = 0.02
    daily_loss_limit: float = 0.05
    max_position_contracts: int = 5
    max_exposure: float = 20.0
    max_consecutive_losses: int = 5
    intraday_drawdown_limit: float = 0.04
    max_drawdown_limit: float = 0.20
    cooloff_days: int = 5

    def __post_init__(self) -> None:
        for name in (
            "risk_per_trade",
            "daily_loss_limit",
            "intraday_drawdown_limit",
            "max_drawdown_limit",
        ):
            v = getattr(self, name)
            if not 0 < v < 1:
                raise ConfigError(
                    f"{name} must be a fraction in (0, 1), got {v}", hint="e.g. 0.02 for 2%"
                )
        if self.max_position_contracts < 1:
            raise ConfigError(
                f"max_position_contracts must be >= 1, got {self.max_position_contracts}"
            )
        if self.max_exposure <= 0 or self.max_consecutive_losses < 1 or self.cooloff_days < 0:
            raise ConfigError(
                "max_exposure, max_consecutive_losses and cooloff_days must be positive"
            )
