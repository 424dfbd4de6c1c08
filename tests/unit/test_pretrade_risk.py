"""The native pre-trade check: RiskManager's decisions, plus the order rate and the kill switch.

RiskManager and ``pretrade_risk`` are driven with the same random sequences of bars (minute
timestamps whose CME trade dates reset the daily limits), entry requests, closed trades and
equity marks; every decision, every logged event and the counters must be identical. The
rules RiskManager lacks are checked against a plain model of their definition.
"""

from __future__ import annotations

import numpy as np
import pytest

from workbench.errors import ConfigError
from workbench.market.calendar import trade_dates
from workbench.model import codes as D
from workbench.risk import RiskConfig, RiskManager
from workbench.risk.pretrade import as_decision, pretrade_risk, trade_day

MINUTE = 60_000_000_000
SECOND = 1_000_000_000
START = 1_704_150_000 * SECOND  # 2024-01-01 23:00 UTC (a Monday evening session)

CONFIGS = [
    RiskConfig(),
    RiskConfig(
        daily_loss_limit=0.01,
        max_position_contracts=3,
        max_exposure=2.0,
        max_consecutive_losses=2,
        intraday_drawdown_limit=0.02,
        max_drawdown_limit=0.05,
        cooloff_days=1,
    ),
    RiskConfig(max_position_contracts=1, max_exposure=0.5, cooloff_days=0),
]


def _bar_times(rng: np.random.Generator, n: int) -> np.ndarray:
    """Increasing minute timestamps with gaps of minutes to days (trade dates change)."""
    gaps = rng.choice([1, 1, 1, 5, 60, 600, 1440, 3000], size=n) * MINUTE
    return START + np.cumsum(gaps)


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("seed", range(6))
def test_same_decisions_as_risk_manager(config: RiskConfig, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 1500
    ts = _bar_times(rng, n)
    days = trade_dates(ts).astype(np.int64)
    ours = pretrade_risk(config, multiplier=100.0, tick_size=0.01)
    ref = RiskManager(config, multiplier=100.0, tick_size=0.01)
    equity = 10_000.0
    for i in range(n):
        day = int(days[i])
        ours.start_bar(i, day, equity)
        ref.start_bar(i, day, equity)
        for _ in range(int(rng.integers(0, 3))):
            requested = int(rng.integers(-1, 12))
            price = int(rng.integers(5_000, 9_000))
            in_hours = bool(rng.random() < 0.9)
            got = ours.check_entry(requested, price, equity, in_hours, int(ts[i]))
            want = ref.check_entry(requested, price, equity, in_hours)
            assert as_decision(got) == want, (i, requested, price, equity)
            assert got.ok == want.ok
        if rng.random() < 0.3:
            pnl = float(rng.normal(-20.0, 150.0))
            equity += pnl
            ours.on_trade_closed(pnl)
            ref.on_trade_closed(pnl)
        equity = max(equity + float(rng.normal(0.0, 60.0)), 1.0)
        ours.end_bar(equity)
        ref.end_bar(equity)
        assert ours.halted == ref.halted
        assert ours.day == ref.day
    events = ours.events()
    want_events = [(e.bar, e.action, e.reason, e.requested, e.approved) for e in ref.events]
    assert [tuple(int(v) for v in e) for e in events] == want_events
    assert ours.trades_rejected == ref.trades_rejected
    assert ours.circuit_breaker_triggered == ref.circuit_breaker_triggered
    # The sequences reach the rules: accepted, resized and several kinds of rejection.
    assert len({(int(e["action"]), int(e["reason"])) for e in events}) >= 6


def test_trade_day_is_the_cme_trade_date() -> None:
    sunday_evening = 1_704_668_400 * SECOND  # 2024-01-07 23:00 UTC = 18:00 New York
    assert trade_day(sunday_evening) == trade_day(sunday_evening + 20 * 3600 * SECOND)
    assert trade_day(sunday_evening - SECOND) != trade_day(sunday_evening)
    assert trade_day(sunday_evening) == int(np.datetime64("2024-01-08", "D").astype(np.int64))


def _plain_rate_model(sent: list[int], ts: int, limit: int) -> bool:
    """Whether an order at ``ts`` may go out: fewer than ``limit`` sent in (ts - 60 s, ts]."""
    return sum(1 for t in sent if ts - 60 * SECOND < t <= ts) < limit


@pytest.mark.parametrize("limit", [1, 3, 10])
def test_order_rate_is_a_sliding_minute_on_the_timestamps(limit: int) -> None:
    rng = np.random.default_rng(limit)
    check = pretrade_risk(RiskConfig(max_position_contracts=10), max_orders_per_minute=limit)
    assert check.max_orders_per_minute == limit
    check.start_bar(0, 0, 1e9)
    sent: list[int] = []
    ts = START
    outcomes = set()
    for _ in range(2000):
        ts += int(rng.choice([0, 1, 5, 20, 61])) * SECOND
        if rng.random() < 0.3:  # an exit or a cancel: counted, never blocked
            check.record_order(ts)
            sent.append(ts)
            continue
        may_go = _plain_rate_model(sent, ts, limit)
        d = check.check_entry(1, 7_000, 1e9, True, ts)
        if may_go:
            assert (d.action, d.reason, d.approved) == (D.ACCEPTED, D.OK, 1)
            sent.append(ts)
        else:
            assert (d.action, d.reason, d.approved) == (D.REJECTED, D.ORDER_RATE, 0)
        outcomes.add(may_go)
    assert outcomes == {True, False}


def test_order_rate_comes_last_and_counts_only_orders_that_go_out() -> None:
    check = pretrade_risk(max_orders_per_minute=1)
    check.start_bar(0, 0, 10_000.0)
    outside = check.check_entry(1, 7_000, 10_000.0, False, START)
    assert outside.reason == D.OUTSIDE_TRADING_HOURS  # not counted: it never went out
    first = check.check_entry(9, 7_000, 10_000.0, True, START)
    assert (first.action, first.reason, first.approved) == (D.RESIZED, D.MAX_POSITION, 5)
    second = check.check_entry(1, 7_000, 10_000.0, True, START + 59 * SECOND)
    assert second.reason == D.ORDER_RATE
    third = check.check_entry(1, 7_000, 10_000.0, True, START + 60 * SECOND)
    assert third.approved == 1  # the first order is exactly a minute old: out of the window
    with pytest.raises(ValueError, match="before the last one seen"):
        check.record_order(START)


def test_kill_switch_first_until_reset_across_trade_dates() -> None:
    check = pretrade_risk()
    check.start_bar(0, 0, 10_000.0)
    check.kill()
    check.kill()
    assert check.killed
    assert not check.halted
    assert check.circuit_breaker_triggered == 1
    check.start_bar(1, 1, 10_000.0)  # a new trade date
    d = check.check_entry(1, 7_000, 10_000.0, True, START)
    assert (d.action, d.reason, d.approved) == (D.REJECTED, D.KILL_SWITCH, 0)
    assert not d.ok
    check.reset_kill()
    assert check.check_entry(1, 7_000, 10_000.0, True, START).action == D.ACCEPTED
    events = check.take_events()
    assert [(int(e["action"]), int(e["reason"])) for e in events] == [
        (D.CIRCUIT_BREAKER, D.KILL_SWITCH),
        (D.REJECTED, D.KILL_SWITCH),
        (D.ACCEPTED, D.OK),
    ]
    assert len(check.events()) == 0
    assert D.REASONS[D.KILL_SWITCH] == "kill switch"


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_order_rate_limit_must_be_a_positive_integer(bad: object) -> None:
    with pytest.raises(ConfigError, match="max_orders_per_minute must be a positive integer"):
        pretrade_risk(max_orders_per_minute=bad)  # type: ignore[arg-type]
