"""Backtest parameters (frozen, JSON), with documented defaults.

Costs: ``commission_per_contract`` is per contract per side. The default $1.25 is Interactive
Brokers' fixed-rate US futures commission of $0.85 per contract plus an allowance of $0.40 for
exchange, clearing and NFA regulatory fees on a micro energy contract (IBKR's published
commission page; check your own rate card). ``slippage_ticks`` is per side: 1 tick = $1.00 per
MCL contract.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workbench.config import FrozenConfig
from workbench.errors import ConfigError
from workbench.risk.config import RiskConfig, SizingConfig, StopConfig

ROLL_MODES = ("roll", "close")
ENGINES = ("native", "python")


@dataclass(frozen=True)
class BacktestConfig(FrozenConfig):
    """Everything but the data and the strategy.

    Attributes
    ----------
    initial_capital : float
        Starting equity in USD.
    commission_per_contract : float
        USD per contract per side (see the module docstring for the default's source).
    slippage_ticks : int
        Ticks lost per side on market fills (entries, exits, stops; not on targets).
    use_risk_manager : bool
        Sizing, stops, limits and circuit breakers. Off: a fixed ``sizing.contracts``, no
        stops, no limits (the setting compared with vectorbt).
    roll_mode : {"roll", "close"}
        At a contract roll in the continuous series, a position is closed at the old contract's
        last close and re-opened at the new contract's open ("roll", two trades' costs), or
        just closed ("close").
    flat_before_halt_minutes : int
        If > 0, positions are closed and entries blocked this many minutes before the daily
        17:00 New York halt (and before early closes).
    entry_window : str or None
        "HH:MM-HH:MM" New York time in which entries are allowed (risk manager's trading hours).
    engine : {"native", "python"}
        The compiled kernel, or the bar-by-bar Python classes (same rules, slower).
    initial_margin, maintenance_margin : float or None
        USD per contract, in every mode (risk management on or off). An entry needs
        ``initial_margin`` per contract out of the equity (fewer contracts, or rejected); when
        the equity marked at a bar's close falls below ``maintenance_margin`` x the contracts
        held, the position is flattened at that close and the account is closed for the rest
        of the run (a margin call). None: the contract's figures
        (:data:`workbench.market.contracts.MARGIN_SOURCE`: MCL $770 / $700, assumed); 0: off.
    """

    initial_capital: float = 5_000.0
    commission_per_contract: float = 1.25
    slippage_ticks: int = 1
    use_risk_manager: bool = True
    risk: RiskConfig = field(default_factory=RiskConfig)
    sizing: SizingConfig = field(default_factory=SizingConfig)
    stop: StopConfig = field(default_factory=StopConfig)
    roll_mode: str = "roll"
    flat_before_halt_minutes: int = 0
    entry_window: str | None = None
    engine: str = "native"
    initial_margin: float | None = None
    maintenance_margin: float | None = None

    def __post_init__(self) -> None:
        if self.initial_capital <= 0:
            raise ConfigError(f"initial_capital must be positive, got {self.initial_capital}")
        if self.commission_per_contract < 0 or self.slippage_ticks < 0:
            raise ConfigError("commission_per_contract and slippage_ticks must be >= 0")
        if self.roll_mode not in ROLL_MODES:
            raise ConfigError(f"unknown roll_mode {self.roll_mode!r}", hint="use roll or close")
        if self.engine not in ENGINES:
            raise ConfigError(f"unknown engine {self.engine!r}", hint="use native or python")
        for name in ("initial_margin", "maintenance_margin"):
            v = getattr(self, name)
            if v is not None and not v >= 0:
                raise ConfigError(f"{name} must be >= 0 (0: no margin model), got {v}")
        if self.flat_before_halt_minutes < 0:
            raise ConfigError("flat_before_halt_minutes must be >= 0")
        if (
            self.use_risk_manager
            and self.sizing.method in ("fixed_fractional", "kelly")
            and self.stop.mode == "none"
        ):
            raise ConfigError(
                f"{self.sizing.method} sizing needs a stop distance, but the stop mode is 'none'",
                hint="choose a stop mode (e.g. atr) or sizing method 'fixed' or 'volatility'",
            )

    def applied(self) -> dict[str, Any]:
        """The configuration as applied (for parameters.json and summary.json): with risk
        management off, the risk limits and stops were not applied and are not shown as if
        they were (``{"applied": False}``), and sizing is the fixed contract count."""
        d = self.to_dict()
        if not self.use_risk_manager:
            off = "not applied: use_risk_manager is false"
            d["risk"] = {"applied": False, "note": off}
            d["stop"] = {"applied": False, "note": off}
            d["sizing"] = {"method": "fixed", "contracts": self.sizing.contracts}
        return d
