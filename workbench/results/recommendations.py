"""Data-driven recommendations for summary.json.

Each rule is a small function ``rule(result) -> str | None``: it looks at one aspect of a
:class:`~workbench.backtest.result.BacktestResult` and, when the data show a problem, returns
one sentence that cites the numbers behind it and says what to try; otherwise None.
:func:`make_recommendations` runs them all (:data:`RULES`, in order) and keeps what fired, so a
run with nothing to say gets an empty list.

Definitions
-----------
Risk budget of a trade
    ``risk_per_trade x equity just before the entry`` (the equity at the close of the last
    bar before the entry fill, or the initial capital for a first-bar entry): what fixed
    fractional sizing allows a trade to lose at its stop, in USD for the whole position
    (all contracts). :func:`stops_vs_risk_budget` compares the losers' average loss with the
    average budget of those same trades.
Entry attempt
    A risk-manager decision in ``risk_events``: the engine asks for an entry at every bar whose
    signal wants a position it does not hold, so one refused signal can count at several
    consecutive bars (``trades_rejected`` counts the same way).
Before-costs P&L
    ``gross_pnl + slippage_cost`` summed over trades (``gross_pnl`` is at fill prices, which
    include slippage); costs are ``commission + slippage_cost``; ``net = before costs - costs``.
Time groups
    The hour (0-23) and weekday of the entry time on the New York wall clock, as in
    ``time_analysis``. A group is flagged when it has at least :data:`MIN_GROUP_TRADES`
    trades, lost money in total, and its mean trade is below the mean of all other trades by
    at least :data:`T_STAT` standard errors (Welch's t statistic).

Thresholds are module constants so that they are visible and testable.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.analysis import DAY_NAMES
from workbench.market.calendar import EXCHANGE_TZ

if TYPE_CHECKING:
    from workbench.backtest.result import BacktestResult

#: Below this many trades the metrics are not statistically meaningful.
MIN_TRADES = 30
#: Losers averaging this multiple of their risk budget (or more) call for tighter stops.
LOSER_BUDGET_RATIO = 1.5
#: Fewest losers for :func:`stops_vs_risk_budget`.
MIN_LOSERS = 5
#: Fewest trades in an hour/weekday group before it is judged.
MIN_GROUP_TRADES = 5
#: Welch t statistic (group mean vs the rest) at or below minus this flags a group.
T_STAT = 2.0
#: Fewest trades for :func:`win_rate_vs_payoff`.
MIN_PAYOFF_TRADES = 10
#: Circuit breakers firing on at least this fraction of trade dates (and at least
#: :data:`MIN_EVENTS` times) are "often".
BREAKER_DAY_SHARE = 0.10
#: Days at or beyond the daily loss limit on at least this fraction of trade dates (and at
#: least :data:`MIN_EVENTS` days) are "often".
LOSS_LIMIT_DAY_SHARE = 0.10
MIN_EVENTS = 3
#: Share of the entry attempts that reached sizing rejected as "size below one contract".
SIZE_REJECT_SHARE = 0.25
MIN_SIZE_REJECTS = 10
#: Costs taking at least this share of the before-costs profit "eat the edge".
COST_SHARE = 0.5

SIZE_BELOW_ONE = "size below one contract"
HALTED_PREFIX = "halted: "


def _usd(x: float) -> str:
    """``$-52.00`` / ``$+120.00``."""
    return f"${x:+,.2f}"


def _money(x: float) -> str:
    """``$52.00`` (no sign for magnitudes)."""
    return f"${x:,.2f}"


def _pct(x: float) -> str:
    return f"{x:.0%}"


def _risk(result: BacktestResult) -> dict[str, Any]:
    cfg = result.parameters.get("config") or {}
    risk: dict[str, Any] = cfg.get("risk") or {}
    return risk


def _net(result: BacktestResult) -> np.ndarray:
    return np.asarray(result.trades["net_pnl"], dtype=np.float64)


def _equity_before(result: BacktestResult, times: pd.Series) -> np.ndarray:
    """Equity at the close of the last bar ending at or before each time."""
    eq = result.equity
    if len(eq) == 0:
        return np.full(len(times), result.initial_capital)
    idx = pd.DatetimeIndex(eq.index).as_unit("ns").asi8
    t = pd.DatetimeIndex(times).as_unit("ns").asi8
    pos = np.searchsorted(idx, t, side="right") - 1
    values = np.asarray(eq, dtype=np.float64)
    return np.where(pos >= 0, values[np.maximum(pos, 0)], result.initial_capital)


def stops_vs_risk_budget(result: BacktestResult) -> str | None:
    """Losers averaging well beyond their risk budget: stops too wide, or gaps through them.

    Fires when there are at least :data:`MIN_LOSERS` losers and their average loss is at
    least :data:`LOSER_BUDGET_RATIO` times their average risk budget (see the module
    docstring).

    Parameters
    ----------
    result : BacktestResult
        The backtest.

    Returns
    -------
    str or None
        The recommendation, or None.
    """
    rpt = _risk(result).get("risk_per_trade")
    trades = result.trades
    if not rpt or len(trades) == 0:
        return None
    net = _net(result)
    losers = net < 0
    if losers.sum() < MIN_LOSERS:
        return None
    budget = rpt * _equity_before(result, trades["entry_time"][losers])
    avg_loss = float(net[losers].mean())
    avg_budget = float(budget.mean())
    if avg_budget <= 0:
        return None
    ratio = -avg_loss / avg_budget
    if ratio < LOSER_BUDGET_RATIO:
        return None
    return (
        f"avg loser {_usd(avg_loss)} is {ratio:.1f}x the average risk budget of "
        f"{_money(avg_budget)} per trade (risk_per_trade {rpt:.1%} of equity at entry, "
        f"n={int(losers.sum())} losers): consider tighter stops or smaller positions"
    )


def _group_flag(
    groups: np.ndarray, net: np.ndarray, group: int
) -> tuple[int, float, int, float, float] | None:
    """(n, sum, n_rest, sum_rest, t) for ``group`` if it is flagged, else None."""
    inside = groups == group
    n, n_rest = int(inside.sum()), int((~inside).sum())
    if n < MIN_GROUP_TRADES or n_rest < 2:
        return None
    a, b = net[inside], net[~inside]
    total = float(a.sum())
    if total >= 0:
        return None
    se = math.sqrt(float(a.var(ddof=1)) / n + float(b.var(ddof=1)) / n_rest)
    diff = float(a.mean() - b.mean())
    t = (-math.inf if diff < 0 else 0.0) if se == 0.0 else diff / se
    if t > -T_STAT:
        return None
    return n, total, n_rest, float(b.sum()), t


def _entry_local(result: BacktestResult) -> pd.DatetimeIndex:
    entry = pd.DatetimeIndex(result.trades["entry_time"])
    if entry.tz is None:
        entry = entry.tz_localize("UTC")
    return entry.tz_convert(EXCHANGE_TZ)


def _worst_group(sums_by: np.ndarray, net: np.ndarray, n_groups: int) -> int:
    sums = np.bincount(sums_by, weights=net, minlength=n_groups)
    counts = np.bincount(sums_by, minlength=n_groups)
    sums[counts == 0] = np.nan
    return int(np.nanargmin(sums))


def _rest(n_rest: int, sum_rest: float) -> str:
    verb = "made" if sum_rest >= 0 else "lost"  # the verb carries the sign, not the amount
    return (
        f"the other {n_rest} trades {verb} {_money(abs(sum_rest))} (avg {_usd(sum_rest / n_rest)})"
    )


def time_of_day_filter(result: BacktestResult) -> str | None:
    """The worst entry hour (New York) losing significantly more than the other hours.

    Parameters
    ----------
    result : BacktestResult
        The backtest.

    Returns
    -------
    str or None
        The recommendation, or None (see "Time groups" in the module docstring).
    """
    if len(result.trades) < MIN_GROUP_TRADES + 2:
        return None
    net = _net(result)
    hours = np.asarray(_entry_local(result).hour, dtype=np.intp)
    worst = _worst_group(hours, net, 24)
    flag = _group_flag(hours, net, worst)
    if flag is None:
        return None
    n, total, n_rest, sum_rest, t = flag
    return (
        f"trades entered at {worst:02d}:00-{worst:02d}:59 New York lost {_money(-total)} in total "
        f"(n={n}, avg {_usd(total / n)}) while {_rest(n_rest, sum_rest)}; t={t:.1f}: "
        f"consider a time filter (entry_window or TimeFilter) that skips {worst:02d}:00"
    )


def day_of_week_filter(result: BacktestResult) -> str | None:
    """The worst entry weekday (New York) losing significantly more than the other days.

    Parameters
    ----------
    result : BacktestResult
        The backtest.

    Returns
    -------
    str or None
        The recommendation, or None (see "Time groups" in the module docstring).
    """
    if len(result.trades) < MIN_GROUP_TRADES + 2:
        return None
    net = _net(result)
    days = np.asarray(_entry_local(result).day_of_week, dtype=np.intp)
    worst = _worst_group(days, net, 7)
    flag = _group_flag(days, net, worst)
    if flag is None:
        return None
    n, total, n_rest, sum_rest, t = flag
    name = DAY_NAMES[worst]
    return (
        f"trades entered on {name}s (New York) lost {_money(-total)} in total "
        f"(n={n}, avg {_usd(total / n)}) while {_rest(n_rest, sum_rest)}; t={t:.1f}: "
        f"consider skipping {name}s or trading them with a smaller size"
    )


def win_rate_vs_payoff(result: BacktestResult) -> str | None:
    """Win rate and payoff (avg winner / avg loser) that do not add up to a profit.

    Fires when there are at least :data:`MIN_PAYOFF_TRADES` trades, at least one loser and
    a profit factor below 1. The break-even payoff for the observed win rate is
    ``losers / winners`` (by counts).

    Parameters
    ----------
    result : BacktestResult
        The backtest.

    Returns
    -------
    str or None
        The recommendation, or None.
    """
    p = result.metrics["performance"]
    n, wins, losses = p["total_trades"], p["winning_trades"], p["losing_trades"]
    pf = p["profit_factor"]
    if n < MIN_PAYOFF_TRADES or losses == 0 or pf is None or pf >= 1:
        return None
    if wins == 0:
        return (
            f"none of the {n} trades won (avg loser {_usd(p['avg_loser'])}): the entry signal "
            "has no edge on this data; revisit the strategy or its parameters"
        )
    win_rate, aw, al = p["win_rate"], p["avg_winner"], p["avg_loser"]
    payoff = aw / -al
    breakeven = losses / wins
    head = (
        f"win rate {_pct(win_rate)} with profit factor {pf:.2f}: winners average {_usd(aw)} and "
        f"losers {_usd(al)} ({payoff:.2f}x), but at this win rate winners must reach "
        f"{breakeven:.2f}x losers to break even"
    )
    if win_rate >= 0.5:
        return head + ": winners are cut too early; let them run (profit target, trailing stop)"
    return head + ": improve the entry's hit rate or let winners run further"


def circuit_breakers_often(result: BacktestResult) -> str | None:
    """Circuit breakers firing on a large share of the trade dates.

    Fires when ``circuit_breaker_triggered`` is at least :data:`MIN_EVENTS` and at least
    :data:`BREAKER_DAY_SHARE` of the trade dates.

    Parameters
    ----------
    result : BacktestResult
        The backtest.

    Returns
    -------
    str or None
        The recommendation, or None.
    """
    count = int(result.circuit_breaker_triggered)
    days = int(result.data_range.get("trading_days") or 0)
    if count < MIN_EVENTS or days == 0 or count / days < BREAKER_DAY_SHARE:
        return None
    ev = result.risk_events
    kinds = ""
    blocked = 0
    if len(ev):
        fired = ev.loc[ev["action"] == "circuit_breaker", "reason"].astype(str).value_counts()
        kinds = ", ".join(
            f"{int(v)} {k.removeprefix(HALTED_PREFIX)}" for k, v in fired.items() if v > 0
        )
        reasons = ev.loc[ev["action"] == "rejected", "reason"].astype(str)
        blocked = int(reasons.str.startswith(HALTED_PREFIX).sum())
    detail = f": {kinds}" if kinds else ""
    return (
        f"circuit breakers fired {count} times in {days} trade dates ({count / days:.0%}"
        f"{detail}) and refused {blocked:,} entry attempts: losses come in clusters; reduce "
        "risk_per_trade or revisit the strategy rather than rely on the breakers"
    )


def risk_budget_too_small(result: BacktestResult) -> str | None:
    """Many entries refused because the risk budget cannot pay for one contract's stop.

    Fires when at least :data:`MIN_SIZE_REJECTS` entry attempts, and at least
    :data:`SIZE_REJECT_SHARE` of those that reached sizing (accepted, resized, or rejected
    for size), were rejected as "size below one contract".

    Parameters
    ----------
    result : BacktestResult
        The backtest.

    Returns
    -------
    str or None
        The recommendation, or None.
    """
    ev = result.risk_events
    if len(ev) == 0:
        return None
    too_small = int((ev["reason"] == SIZE_BELOW_ONE).sum())
    sized = int(ev["action"].isin(("accepted", "resized")).sum()) + too_small
    if too_small < MIN_SIZE_REJECTS or too_small / sized < SIZE_REJECT_SHARE:
        return None
    rpt = _risk(result).get("risk_per_trade")
    budget = f"{rpt:.1%} of equity" if rpt else "the risk budget"
    return (
        f"{too_small:,} of {sized:,} entry attempts that reached sizing "
        f"({too_small / sized:.0%}) were rejected because {budget} did not cover the stop "
        "loss of one contract: the risk budget is too small for the stop; raise "
        "risk_per_trade or the capital, or use a tighter stop"
    )


def too_few_trades(result: BacktestResult) -> str | None:
    """Fewer than :data:`MIN_TRADES` trades: the metrics are mostly noise.

    Parameters
    ----------
    result : BacktestResult
        The backtest.

    Returns
    -------
    str or None
        The recommendation, or None.
    """
    p = result.metrics["performance"]
    n = p["total_trades"]
    if n >= MIN_TRADES:
        return None
    bars = result.data_range.get("total_bars", 0)
    if n == 0:
        return (
            f"no trades in {bars:,} bars ({result.trades_rejected:,} entry attempts rejected): "
            "check the strategy parameters, the time filter and the risk settings"
        )
    pf = "n/a" if p["profit_factor"] is None else f"{p['profit_factor']:.2f}"
    return (
        f"only {n} trades: too few for statistically meaningful metrics (aim for at least "
        f"{MIN_TRADES}); the win rate of {_pct(p['win_rate'])} and profit factor {pf} could be "
        "luck: test on a longer date range or more markets"
    )


def costs_eat_edge(result: BacktestResult) -> str | None:
    """Commissions and slippage taking most (or more than all) of the before-costs profit.

    Fires when the trades made money before costs and costs are at least
    :data:`COST_SHARE` of it.

    Parameters
    ----------
    result : BacktestResult
        The backtest.

    Returns
    -------
    str or None
        The recommendation, or None.
    """
    t = result.trades
    if len(t) == 0:
        return None
    commission = float(t["commission"].sum())
    slippage = float(t["slippage_cost"].sum())
    before = float(t["gross_pnl"].sum()) + slippage
    costs = commission + slippage
    if before <= 0 or costs < COST_SHARE * before:
        return None
    net = before - costs
    hold = result.metrics["time_analysis"]["avg_hold_time_minutes"]
    what = (
        f"exceed the {_money(before)} the trades made before costs, turning it into {_usd(net)}"
        if costs > before
        else f"take {costs / before:.0%} of the {_money(before)} the trades made before costs"
    )
    return (
        f"costs of {_money(costs)} (commissions {_money(commission)} + slippage "
        f"{_money(slippage)}, {_money(costs / len(t))} per trade over {len(t)} trades) {what}: "
        f"trade less often or hold longer (avg hold {hold} min), or aim for larger moves"
    )


def daily_loss_limit_often(result: BacktestResult) -> str | None:
    """Many trade dates losing at least the daily loss limit.

    A day counts when its net P&L is at or below ``-daily_loss_limit x`` its starting equity.
    Fires on at least :data:`MIN_EVENTS` such days and at least :data:`LOSS_LIMIT_DAY_SHARE`
    of the trade dates.

    Parameters
    ----------
    result : BacktestResult
        The backtest.

    Returns
    -------
    str or None
        The recommendation, or None.
    """
    limit = _risk(result).get("daily_loss_limit")
    pnl = np.asarray(result.daily_pnl, dtype=np.float64)
    if not limit or len(pnl) == 0:
        return None
    start = result.initial_capital + np.concatenate(([0.0], np.cumsum(pnl)[:-1]))
    hit = (start > 0) & (pnl <= -limit * start)
    days, n = int(hit.sum()), len(pnl)
    if days < MIN_EVENTS or days / n < LOSS_LIMIT_DAY_SHARE:
        return None
    ev = result.risk_events
    refused = int((ev["reason"] == "daily loss limit reached").sum()) if len(ev) else 0
    worst = float(pnl[hit].min())
    return (
        f"{days} of {n} trade dates ({days / n:.0%}) lost at least the daily loss limit "
        f"({limit:.0%} of the day's starting equity; worst day {_usd(worst)}, {refused:,} entry "
        "attempts refused by the limit): reduce size or find what those days have in common"
    )


#: The rules, in the order their recommendations are listed.
RULES: tuple[Callable[[BacktestResult], str | None], ...] = (
    too_few_trades,
    costs_eat_edge,
    win_rate_vs_payoff,
    stops_vs_risk_budget,
    risk_budget_too_small,
    time_of_day_filter,
    day_of_week_filter,
    circuit_breakers_often,
    daily_loss_limit_often,
)


def make_recommendations(result: BacktestResult) -> list[str]:
    """Every recommendation the data support (possibly none).

    Parameters
    ----------
    result : BacktestResult
        The backtest.

    Returns
    -------
    list of str
        One sentence per rule of :data:`RULES` that fired, in that order.
    """
    out: list[str] = []
    for rule in RULES:
        text = rule(result)
        if text:
            out.append(text)
    return out
