"""Settings of a paper/live session beyond the backtest's (frozen, JSON)."""

from __future__ import annotations

from dataclasses import dataclass

from workbench.config import FrozenConfig
from workbench.errors import ConfigError

ON_MISMATCH = ("adopt", "flatten", "halt")


@dataclass(frozen=True)
class ExecutionConfig(FrozenConfig):
    """Safety limits and policies that apply whatever the strategy says.

    Attributes
    ----------
    max_order_size : int
        Largest order sent, in contracts; a larger entry is cut to it (a risk event).
    max_orders_per_minute : int or None
        Most orders in any 60 s of feed time (the native pre-trade check); None: no limit.
    on_mismatch : {"adopt", "flatten", "halt"}
        What reconciliation does when the broker's position differs from the journal's:
        take the broker's, flatten the account, or stop the session. Always an alert.
    flatten_at_end : bool
        Close an open position after the last bar (as the backtest does).
    alert_drawdown : float or None
        A ``drawdown`` event when the equity falls this fraction below its peak (0.10: ten
        per cent); again only after a new peak. None: no drawdown events.
    """

    max_order_size: int = 10
    max_orders_per_minute: int | None = 30
    on_mismatch: str = "halt"
    flatten_at_end: bool = True
    alert_drawdown: float | None = 0.10

    def __post_init__(self) -> None:
        if self.max_order_size < 1:
            raise ConfigError(f"max_order_size must be >= 1, got {self.max_order_size}")
        if self.alert_drawdown is not None and not 0 < self.alert_drawdown < 1:
            raise ConfigError(
                f"alert_drawdown must be between 0 and 1, got {self.alert_drawdown}",
                hint="a fraction of the peak equity, e.g. 0.1",
            )
        if self.on_mismatch not in ON_MISMATCH:
            raise ConfigError(
                f"unknown on_mismatch {self.on_mismatch!r}", hint="use adopt, flatten or halt"
            )
