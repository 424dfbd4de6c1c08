"""Pre-trade validation, the daily loss limit and circuit breakers, bar by bar.

The same rules run in three places: this class (bar by bar, the reference and the
paper-trading engine), and the compiled backtest kernel (``native/src/backtest/``), which a
test holds to this class trade for trade and rejection for rejection.

Call order per bar: :meth:`start_bar` (trade-date boundary), :meth:`check_entry` for each
entry request, :meth:`on_trade_closed` for each closed trade, :meth:`end_bar` with the
marked-to-market equity at the bar's close.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from workbench.model import codes as D
from workbench.risk.config import RiskConfig


@dataclass(frozen=True)
class Decision:
    """The answer to one entry request."""

    action: int  # model.codes.Action
    reason: int  # model.codes.Reason
    requested: int
    approved: int

    @property
    def ok(self) -> bool:
        """Whether at least one contract may be traded."""
        return self.approved > 0


@dataclass
class RiskEvent:
    """A logged decision or circuit-breaker event."""

    bar: int
    action: int
    reason: int
    requested: int = 0
    approved: int = 0


@dataclass
class RiskManager:
    """Risk limits with state carried from bar to bar.

    Parameters
    ----------
    config : RiskConfig
        The limits.
    multiplier : float
        Contract multiplier, for exposure (MCL: 100).
    tick_size : float
        Price of one tick, for exposure (MCL: 0.01).
    """

    config: RiskConfig = field(default_factory=RiskConfig)
    multiplier: float = 100.0
    tick_size: float = 0.01
    events: list[RiskEvent] = field(default_factory=list)
    trades_rejected: int = 0
    circuit_breaker_triggered: int = 0
    # state
    day: int = -1
    day_start_equity: float = 0.0
    day_realized: float = 0.0
    day_peak: float = 0.0
    peak: float = 0.0
    consecutive_losses: int = 0
    halt_consecutive: bool = False
    halt_intraday: bool = False
    halt_until_day: int = -1  # max-drawdown cool-off: entries allowed from this day index
    bar: int = 0

    def start_bar(self, bar: int, day: int, equity: float) -> None:
        """Begin bar ``bar`` of trade date index ``day``; ``equity`` as of the last close."""
        self.bar = bar
        if self.peak == 0.0:
            self.peak = equity
        if day != self.day:
            self.day = day
            self.day_start_equity = equity
            self.day_realized = 0.0
            self.day_peak = equity
            self.halt_consecutive = False
            self.halt_intraday = False
            if self.halt_until_day >= 0 and day >= self.halt_until_day:
                self.halt_until_day = -1
                self.peak = equity  # a fresh start after the cool-off

    def _reject(self, reason: int, requested: int) -> Decision:
        self.trades_rejected += 1
        d = Decision(D.REJECTED, reason, requested, 0)
        self.events.append(RiskEvent(self.bar, d.action, d.reason, requested, 0))
        return d

    def check_entry(
        self,
        requested: int,
        price_ticks: int,
        equity: float,
        in_trading_hours: bool = True,
        margin_cap: int | None = None,
    ) -> Decision:
        """Validate an entry of ``requested`` contracts (from the PositionSizer) at about
        ``price_ticks``: halts, the daily loss limit, trading hours, size, position cap,
        exposure and (``margin_cap``: the contracts whose initial margin the equity can post)
        margin. Resizes down where it can, rejects otherwise."""
        c = self.config
        if self.halt_until_day >= 0:
            return self._reject(D.HALT_MAX_DRAWDOWN, requested)
        if self.halt_consecutive:
            return self._reject(D.HALT_CONSECUTIVE_LOSSES, requested)
        if self.halt_intraday:
            return self._reject(D.HALT_INTRADAY_DRAWDOWN, requested)
        if self.day_realized <= -c.daily_loss_limit * self.day_start_equity:
            return self._reject(D.DAILY_LOSS_LIMIT, requested)
        if not in_trading_hours:
            return self._reject(D.OUTSIDE_TRADING_HOURS, requested)
        if requested < 0:
            return self._reject(D.NO_STOP_DISTANCE, requested)
        if requested < 1:
            return self._reject(D.SIZE_BELOW_ONE, requested)
        approved, reason = requested, D.OK
        if approved > c.max_position_contracts:
            approved, reason = c.max_position_contracts, D.MAX_POSITION
        notional = abs(price_ticks) * self.tick_size * self.multiplier
        if notional > 0:
            cap = int(c.max_exposure * max(equity, 0.0) / notional + 1e-9)
            if approved > cap:
                if cap < 1:
                    return self._reject(D.MAX_EXPOSURE, requested)
                approved, reason = cap, D.MAX_EXPOSURE
        if margin_cap is not None and approved > margin_cap:
            if margin_cap < 1:
                return self._reject(D.INITIAL_MARGIN, requested)
            approved, reason = margin_cap, D.INITIAL_MARGIN
        action = D.ACCEPTED if approved == requested else D.RESIZED
        d = Decision(action, reason, requested, approved)
        self.events.append(RiskEvent(self.bar, action, reason, requested, approved))
        return d

    def check_margin(self, bar: int, requested: int, margin_cap: int) -> int:
        """Risk management off: only the initial margin resizes or rejects an entry of
        ``requested`` contracts (recorded only when it does). Returns the contracts allowed."""
        if requested <= margin_cap:
            return requested
        self.bar = bar
        if margin_cap < 1:
            return self._reject(D.INITIAL_MARGIN, requested).approved
        self.events.append(RiskEvent(bar, D.RESIZED, D.INITIAL_MARGIN, requested, margin_cap))
        return margin_cap

    def margin_call(self, bar: int, contracts: int) -> None:
        """Record a margin call at ``bar`` on a position of ``contracts``."""
        self.bar = bar
        self.events.append(RiskEvent(bar, D.MARGIN_CALL, D.MAINTENANCE_MARGIN, contracts, 0))

    def on_trade_closed(self, net_pnl: float) -> None:
        """Record a closed trade: the day's realised P&L and the losing streak."""
        self.day_realized += net_pnl
        if net_pnl < 0:
            self.consecutive_losses += 1
            if self.consecutive_losses >= self.config.max_consecutive_losses:
                self.consecutive_losses = 0
                if not self.halt_consecutive:
                    self.halt_consecutive = True
                    self._breaker(D.HALT_CONSECUTIVE_LOSSES)
        elif net_pnl > 0:
            self.consecutive_losses = 0

    def end_bar(self, equity: float) -> None:
        """Bar close: update the peaks and trip the drawdown breakers."""
        c = self.config
        self.day_peak = max(self.day_peak, equity)
        if not self.halt_intraday and equity < self.day_peak * (1.0 - c.intraday_drawdown_limit):
            self.halt_intraday = True
            self._breaker(D.HALT_INTRADAY_DRAWDOWN)
        if self.halt_until_day < 0:
            self.peak = max(self.peak, equity)
            if equity < self.peak * (1.0 - c.max_drawdown_limit):
                self.halt_until_day = self.day + 1 + c.cooloff_days
                self._breaker(D.HALT_MAX_DRAWDOWN)

    def _breaker(self, reason: int) -> None:
        self.circuit_breaker_triggered += 1
        self.events.append(RiskEvent(self.bar, D.CIRCUIT_BREAKER, reason))

    @property
    def halted(self) -> bool:
        """Whether new entries are blocked right now by a breaker."""
        return self.halt_consecutive or self.halt_intraday or self.halt_until_day >= 0
