"""The Rust kernel against the Python reference on random inputs: one set of rules.

The engine tests run real strategies on sample bars; these throw random bars, signals, stop
distances, trade-date and roll boundaries, trading-hour and forced-exit masks and risk settings
at both simulations (seeded, so a failure reproduces) and require the same trades, risk events,
equity and counters, and the per-bar position of the reference to equal the one derived from
the trades.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from workbench.backtest.simulate import (
    EVENT_FIELDS,
    TRADE_FIELDS,
    SimInputs,
    SimOutputs,
    SimParams,
    positions_from_trades,
    simulate_native,
    simulate_python,
)
from workbench.model import codes as D
from workbench.native import RISK_EVENT_DTYPE, TRADE_DTYPE
from workbench.risk.config import RiskConfig, SizingConfig, StopConfig


def _inputs(rng: np.random.Generator, n: int, tick: float) -> SimInputs:
    jumps = np.where(rng.random(n) < 0.01, rng.integers(-40, 41, n), 0)  # rare big moves
    c = 7000 + np.cumsum(rng.integers(-3, 4, n) + jumps)
    o = np.r_[c[0], c[:-1]] + rng.integers(-2, 3, n)
    h = np.maximum(o, c) + rng.integers(0, 4, n)
    lo = np.minimum(o, c) - rng.integers(0, 4, n)
    sig = rng.choice(np.array([-1, 0, 1], dtype=np.int8), n, p=[0.3, 0.2, 0.5])
    hold = rng.random(n) < 0.97  # sticky: runs of the same signal, as real strategies give
    for i in range(1, n):
        if hold[i]:
            sig[i] = sig[i - 1]
    bars = np.arange(1, n)
    day_starts = np.sort(rng.choice(bars, rng.integers(0, n // 150 + 1), replace=False))
    rolls = np.sort(rng.choice(bars, rng.integers(0, 6), replace=False))
    return SimInputs(
        open=o * tick,
        high=h * tick,
        low=lo * tick,
        close=c * tick,
        signal=sig,
        stop_distance=rng.choice([np.nan, 5 * tick, 10 * tick, 20 * tick], n),
        day_starts=day_starts.astype(np.int64),
        rolls=rolls.astype(np.int64),
        entry_ok=None if rng.random() < 0.5 else rng.random(n) < 0.8,
        force_flat=None if rng.random() < 0.5 else rng.random(n) < 0.01,
    )


def _params(rng: np.random.Generator, tick: float) -> SimParams:
    risk = RiskConfig(
        risk_per_trade=float(rng.choice([0.01, 0.05])),
        daily_loss_limit=float(rng.choice([0.001, 0.01, 0.05])),
        max_consecutive_losses=int(rng.choice([1, 2, 5])),
        intraday_drawdown_limit=float(rng.choice([0.001, 0.005, 0.04])),
        max_drawdown_limit=float(rng.choice([0.002, 0.01, 0.2])),
        cooloff_days=int(rng.choice([0, 1, 3])),
    )
    stop = StopConfig(
        mode=str(
            rng.choice(["none", "fixed_pct", "fixed_usd", "atr", "trailing_atr", "trailing_pct"])
        ),
        pct=0.002,
        usd=10.0,
        target_r=None if rng.random() < 0.5 else float(rng.choice([0.5, 1.0, 2.0])),
    )
    sizing = SizingConfig(
        method=str(rng.choice(["fixed", "fixed_fractional", "volatility", "kelly"])),
        kelly_min_trades=3,
    )
    # Margins: off; loose; or tight (one contract's maintenance $8 below the capital: a
    # losing move of a few ticks is a margin call).
    capital = float(rng.choice([1_000.0, 5_000.0]))
    mode = rng.choice(["off", "loose", "tight"], p=[0.35, 0.35, 0.3])
    maintenance = initial = 0.0
    if mode == "loose":
        maintenance = capital * float(rng.choice([0.05, 0.198, 0.33]))
        initial = maintenance * float(rng.choice([0.0, 1.0, 2.0]))
    elif mode == "tight":
        maintenance = capital - 8.0
        initial = maintenance * float(rng.choice([1.0, 1.005]))
    return SimParams(
        initial_capital=capital,
        initial_margin=initial,
        maintenance_margin=maintenance,
        commission=1.25,
        slippage_ticks=int(rng.choice([0, 1, 2])),
        tick_value=1.0,
        tick_size=tick,
        multiplier=100.0,
        use_risk=bool(rng.random() < 0.7),
        roll=bool(rng.random() < 0.5),
        fixed_contracts=int(rng.choice([1, 3])),
        risk=risk,
        sizing=sizing,
        stop=stop,
    )


def _assert_same(ref: SimOutputs, got: SimOutputs, n: int) -> None:
    assert ref.trades.dtype == got.trades.dtype == TRADE_DTYPE
    assert ref.events.dtype == got.events.dtype == RISK_EVENT_DTYPE
    for k in TRADE_FIELDS:
        np.testing.assert_array_equal(got.trades[k], ref.trades[k], err_msg=f"trades.{k}")
    for k in EVENT_FIELDS:
        np.testing.assert_array_equal(got.events[k], ref.events[k], err_msg=f"events.{k}")
    np.testing.assert_array_equal(got.equity, ref.equity, err_msg="equity")
    assert got.trades_rejected == ref.trades_rejected
    assert got.circuit_breaker_triggered == ref.circuit_breaker_triggered
    assert ref.position is not None
    np.testing.assert_array_equal(positions_from_trades(n, got.trades), ref.position)


@pytest.mark.parametrize("tick", [0.01, 0.25, 1 / 32])
@pytest.mark.parametrize("block", range(4))
def test_random_inputs_give_the_same_run(tick: float, block: int) -> None:
    traded = 0
    for seed in range(block * 25, block * 25 + 25):
        rng = np.random.default_rng([seed, int(tick * 1000)])
        n = int(rng.integers(300, 1_500))
        x, p = _inputs(rng, n, tick), _params(rng, tick)
        ref = simulate_python(x, p)
        _assert_same(ref, simulate_native(x, p), n)
        traded += len(ref.trades["entry_bar"]) > 0
    assert traded >= 5  # cases that trade: the comparison is not only between empty runs


def test_the_random_cases_include_margin_calls() -> None:
    """Of the 300 cases above, a fair share end in a margin call (38) or have entries cut or
    refused for initial margin (60): the comparison covers the margin rules."""
    calls = limited = 0
    for tick in (0.01, 0.25, 1 / 32):
        for seed in range(100):
            rng = np.random.default_rng([seed, int(tick * 1000)])
            n = int(rng.integers(300, 1_500))
            out = simulate_native(_inputs(rng, n, tick), _params(rng, tick))
            calls += D.EXIT_MARGIN_CALL in out.trades["exit_reason"].tolist()
            limited += D.INITIAL_MARGIN in out.events["reason"].tolist()
    assert calls >= 30
    assert limited >= 45


def _flat_bars(signal: list[int], day_starts: list[int], rolls: list[int]) -> SimInputs:
    """Bars at a constant $70.00 (one tick of range), no stop distances."""
    n = len(signal)
    px = np.full(n, 70.00)
    return SimInputs(
        px,
        px + 0.01,
        px - 0.01,
        px,
        np.array(signal, dtype=np.int8),
        np.full(n, np.nan),
        day_starts=np.array(day_starts, dtype=np.int64),
        rolls=np.array(rolls, dtype=np.int64),
    )


def _mcl(**changes: object) -> SimParams:
    """MCL economics, no slippage, one contract, risk on; ``changes`` on top."""
    base = SimParams(
        initial_capital=1_000.0,
        commission=1.25,
        slippage_ticks=0,
        tick_value=1.0,
        tick_size=0.01,
        multiplier=100.0,
        use_risk=True,
        roll=True,
        fixed_contracts=1,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def _both(x: SimInputs, p: SimParams) -> SimOutputs:
    ref = simulate_python(x, p)
    _assert_same(ref, simulate_native(x, p), len(x))
    return ref


def test_a_roll_exit_is_a_fill_for_the_breakers() -> None:
    """With roll_mode close, the roll's costs can trip the intraday breaker at that bar."""
    x = _flat_bars([1, 1, 1, 1, 1, 0, 1, 1], day_starts=[], rolls=[4])
    p = _mcl(
        roll=False,
        risk=RiskConfig(intraday_drawdown_limit=0.002),
        sizing=SizingConfig(method="fixed"),
        stop=StopConfig(mode="none"),
    )
    out = _both(x, p)
    assert out.trades["exit_reason"].tolist() == [D.EXIT_ROLL]
    breakers = out.events["bar"][out.events["action"] == D.CIRCUIT_BREAKER]
    assert breakers.tolist() == [4]  # cash after the roll's commission, at the roll bar
    assert D.REJECTED in out.events["action"].tolist()  # the later entry is refused


def test_a_negative_account_trips_the_breakers_on_each_new_date() -> None:
    x = _flat_bars([0] * 12, day_starts=[5, 9], rolls=[])
    p = _mcl(initial_capital=-100.0)
    out = _both(x, p)
    assert out.circuit_breaker_triggered > 0


def test_a_margin_call_flattens_at_the_close_and_ends_trading() -> None:
    """A hand-made collapse: long 1 at $70.00, the close falls to $62.00 on bar 3: equity
    1000 - 1.25 - 800 = $198.75 < $700 maintenance: flattened at that close, and the later
    entry signals are ignored (the account is closed), in every mode."""
    close = np.array([70.0, 70.0, 69.5, 62.0, 62.5, 63.0, 63.5, 64.0])
    x = SimInputs(
        np.r_[close[0], close[:-1]],
        np.maximum(np.r_[close[0], close[:-1]], close) + 0.01,
        np.minimum(np.r_[close[0], close[:-1]], close) - 0.01,
        close,
        np.array([1, 1, 1, 1, -1, 1, -1, 1], dtype=np.int8),
        np.full(len(close), np.nan),
        day_starts=np.array([4], dtype=np.int64),
        rolls=np.array([], dtype=np.int64),
    )
    for use_risk in (False, True):
        p = _mcl(
            use_risk=use_risk,
            initial_margin=770.0,
            maintenance_margin=700.0,
            sizing=SizingConfig(method="fixed"),
            stop=StopConfig(mode="none"),
            risk=RiskConfig(intraday_drawdown_limit=0.99, max_drawdown_limit=0.99),
        )
        out = _both(x, p)
        assert out.trades["exit_reason"].tolist() == [D.EXIT_MARGIN_CALL]
        assert out.trades["exit_bar"].tolist() == [3]
        assert out.trades["exit_px"].tolist() == [6200]  # the bar's close (no slippage here)
        wiped = 1_000.0 - 2.5 - 800.0
        np.testing.assert_allclose(out.equity[3:], wiped)
        calls = out.events[out.events["action"] == D.MARGIN_CALL]
        assert calls["bar"].tolist() == [3]
        assert calls["requested"].tolist() == [1]
        assert calls["reason"].tolist() == [D.MAINTENANCE_MARGIN]


def test_initial_margin_cuts_or_refuses_entries() -> None:
    x = _flat_bars([1] * 6, day_starts=[], rolls=[])
    out = _both(x, _mcl(use_risk=False, fixed_contracts=3, initial_margin=400.0))
    assert out.trades["contracts"].tolist() == [2]  # $1,000 posts two contracts at $400
    assert out.events["reason"].tolist() == [D.INITIAL_MARGIN]
    out = _both(x, _mcl(use_risk=False, initial_margin=1_500.0))
    assert len(out.trades) == 0
    assert out.trades_rejected == 1
