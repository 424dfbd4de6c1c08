"""The pre-trade risk check of the live path, in the native crate.

:func:`pretrade_risk` builds a ``workbench.native.PreTradeRisk`` from a :class:`RiskConfig`:
the rules of :class:`~workbench.risk.RiskManager` (halts, the daily loss limit by CME trade
date, trading hours, size, the position cap, exposure), in the same order, with the same
decisions, codes and logged events (a test drives both with the same random sequences), at a
few tens of nanoseconds per check. Two rules RiskManager does not have:

- **kill switch** (checked first): ``kill()`` rejects every entry with
  ``Reason.KILL_SWITCH`` until ``reset_kill()``; a new trade date does not clear it. Tripping
  it logs a circuit-breaker event.
- **order rate** (checked last, so only an entry that would go out counts): with
  ``max_orders_per_minute=n``, an entry at ``ts_ns`` is rejected with ``Reason.ORDER_RATE``
  when ``n`` orders went out in ``(ts_ns - 60 s, ts_ns]``. Approved entries count, and so do
  the orders reported with ``record_order(ts_ns)`` (exits, cancels: never blocked). The
  window runs on the caller's timestamps (the feed's event times, i64 ns), never the wall
  clock; a timestamp earlier than one already seen raises ``ValueError``.

The futures margin model is RiskManager's (and the backtest kernel's): ``check_entry``'s
``margin_cap`` (:func:`margin_cap`: the contracts whose initial margin the equity can post)
resizes or rejects an entry with ``Reason.INITIAL_MARGIN`` after the exposure cap;
``check_margin(bar, requested, margin_cap)`` applies that cap alone when risk management is
off; ``margin_call(bar, contracts)`` logs a margin call (``Action.MARGIN_CALL``,
``Reason.MAINTENANCE_MARGIN``).

Call order per bar, as RiskManager's: ``start_bar(bar, day, equity)`` with ``day`` from
:func:`trade_day`, ``check_entry(requested, price_ticks, equity, in_trading_hours, ts_ns,
margin_cap)`` per entry, ``on_trade_closed(net_pnl)`` per closed trade, ``end_bar(equity)`` at
the close.
"""

from __future__ import annotations

import math

import numpy as np

from workbench.errors import ConfigError
from workbench.market.calendar import trade_dates
from workbench.native import PreTradeDecision, PreTradeRisk
from workbench.risk.config import RiskConfig
from workbench.risk.risk_manager import Decision

__all__ = [
    "PreTradeDecision",
    "PreTradeRisk",
    "as_decision",
    "margin_cap",
    "pretrade_risk",
    "trade_day",
]


def pretrade_risk(
    config: RiskConfig | None = None,
    *,
    multiplier: float = 100.0,
    tick_size: float = 0.01,
    max_orders_per_minute: int | None = None,
) -> PreTradeRisk:
    """A fresh native pre-trade check with ``config``'s limits.

    Parameters
    ----------
    config : RiskConfig, optional
        The limits (default ``RiskConfig()``).
    multiplier : float, default 100.0
        Contract multiplier, for exposure (MCL: 100).
    tick_size : float, default 0.01
        Price of one tick, for exposure (MCL: 0.01).
    max_orders_per_minute : int, optional
        Most orders in any 60 s; None for no limit.

    Returns
    -------
    PreTradeRisk

    Raises
    ------
    ConfigError
        For an order-rate limit that is not a positive integer.
    """
    c = config or RiskConfig()
    if max_orders_per_minute is not None and (
        isinstance(max_orders_per_minute, bool)
        or not isinstance(max_orders_per_minute, int)
        or not 1 <= max_orders_per_minute < 2**32
    ):
        raise ConfigError(
            f"max_orders_per_minute must be a positive integer, got {max_orders_per_minute!r}",
            hint="e.g. 30, or None for no order-rate limit",
        )
    return PreTradeRisk(
        daily_loss_limit=c.daily_loss_limit,
        max_position=c.max_position_contracts,
        max_exposure=c.max_exposure,
        max_consecutive_losses=c.max_consecutive_losses,
        intraday_drawdown_limit=c.intraday_drawdown_limit,
        max_drawdown_limit=c.max_drawdown_limit,
        cooloff_days=c.cooloff_days,
        tick_size=tick_size,
        multiplier=multiplier,
        max_orders_per_minute=max_orders_per_minute,
    )


def as_decision(decision: PreTradeDecision) -> Decision:
    """The native decision as RiskManager's :class:`~workbench.risk.Decision` (plain ints)."""
    return Decision(
        int(decision.action), int(decision.reason), decision.requested, decision.approved
    )


def margin_cap(equity: float, initial_margin: float) -> int | None:
    """The contracts whose ``initial_margin`` each ``equity`` can post (None: margin 0, none).

    The backtest's rule: ``floor(max(equity, 0) / initial_margin)`` (with a 1e-9 tolerance).
    """
    if initial_margin <= 0:
        return None
    return math.floor(max(equity, 0.0) / initial_margin + 1e-9)


def trade_day(ts_ns: int) -> int:
    """The CME trade date of a UTC nanosecond timestamp, as days since 1970-01-01.

    What ``start_bar`` takes as ``day`` (18:00 New York starts the next trade date). Costs a
    pandas time-zone conversion (tens of microseconds): call it once per bar, or once per
    hour, since the trade date only changes on the hour.
    """
    day = trade_dates(np.array([ts_ns], dtype=np.int64))[0]
    return int(day.astype("datetime64[D]").astype(np.int64))
