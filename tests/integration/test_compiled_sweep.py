"""The compiled sweep: every row equals a separate ``run_backtest`` of its combination (risk
on: sizing, stops, breakers, margin), the per-combination path gives the same table, and
the sweep says which path ran and why."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from workbench.analysis import daily_returns
from workbench.backtest import BacktestConfig, run_backtest
from workbench.data import load_bars
from workbench.optimize import METRIC_COLUMNS, ParameterGrid, sweep
from workbench.optimize.compiled import COMPILED, PER_COMBINATION, compiled_reason, run_compiled
from workbench.risk.config import RiskConfig, SizingConfig, StopConfig
from workbench.strategies import BreakoutStrategy, MeanReversionStrategy, MomentumStrategy
from workbench.strategies.base import register

#: A handful of EMA combinations: short/long spans, long-only, two ATR settings.
EMA_COMBOS: list[dict[str, Any]] = [
    {"fast_period": 5, "slow_period": 20, "atr_period": 14, "atr_stop_mult": 2.0},
    {"fast_period": 10, "slow_period": 20, "atr_period": 14, "atr_stop_mult": 2.0},
    {"fast_period": 10, "slow_period": 60, "atr_period": 7, "atr_stop_mult": 1.5},
    {"fast_period": 3, "slow_period": 8, "atr_period": 7, "atr_stop_mult": 1.5},
    {"fast_period": 20, "slow_period": 50, "allow_short": False},
    {"fast_period": 5, "slow_period": 20, "time_filter": {"start": "09:00", "end": "14:30"}},
]

#: Risk settings that exercise every rule of the kernel on the small sample.
CONFIGS: dict[str, dict[str, Any]] = {
    "default risk": {},
    "trailing stops, target, kelly, tight breakers": {
        "config": BacktestConfig(
            stop=StopConfig(mode="trailing_atr", target_r=2.0),
            sizing=SizingConfig(method="kelly", kelly_min_trades=5),
            risk=RiskConfig(
                risk_per_trade=0.05,
                max_consecutive_losses=3,
                intraday_drawdown_limit=0.01,
                max_drawdown_limit=0.05,
                cooloff_days=2,
            ),
        )
    },
    "margin calls": {
        "config": BacktestConfig(
            initial_capital=1_500.0,
            initial_margin=1_000.0,
            maintenance_margin=1_450.0,
            stop=StopConfig(mode="none"),
            sizing=SizingConfig(method="fixed", contracts=1),
        )
    },
    "risk off, fixed pct stops ignored, entry window": {
        "use_risk_manager": False,
        "entry_window": "09:00-14:30",
        "flat_before_halt_minutes": 15,
    },
}


@pytest.fixture(scope="module")
def bars(small_sample: Path) -> pd.DataFrame:
    return load_bars("MCL_FUT", data_dir=small_sample)


def _row_of_backtest(bars: pd.DataFrame, strategy: Any, options: dict[str, Any]) -> dict:
    result = run_backtest(bars, strategy, **options)
    perf = result.metrics["performance"]
    row = {k: perf.get(k) for k in METRIC_COLUMNS}
    row["trades_rejected"] = result.trades_rejected
    row["circuit_breaker_triggered"] = result.circuit_breaker_triggered
    row["_returns"] = daily_returns(result.daily_pnl, result.initial_capital)
    row["_exit_reasons"] = set(result.trades["exit_reason"].astype(str))
    return row


@pytest.mark.parametrize("name", list(CONFIGS))
def test_each_compiled_row_is_its_run_backtest(bars: pd.DataFrame, name: str) -> None:
    options = CONFIGS[name]
    outcomes = run_compiled(bars, MomentumStrategy, EMA_COMBOS, options, threads=2)
    reasons: set[str] = set()
    breakers = rejected = 0
    for params, o in zip(EMA_COMBOS, outcomes, strict=True):
        assert o.error is None
        assert o.row is not None
        assert o.returns is not None
        want = _row_of_backtest(bars, MomentumStrategy.from_parameters(params), options)
        got = {k: o.row[k] for k in (*METRIC_COLUMNS,)}
        assert got == {k: want[k] for k in METRIC_COLUMNS}, params
        pd.testing.assert_series_equal(o.returns, want["_returns"])
        reasons |= want["_exit_reasons"]
        breakers += want["circuit_breaker_triggered"]
        rejected += want["trades_rejected"]
    # The settings did exercise what they are named after.
    if name == "margin calls":
        assert "margin_call" in reasons
    if name.startswith("trailing"):
        assert {"stop", "target"} <= reasons
        assert breakers > 0
        assert rejected > 0
    if name == "default risk":
        assert "stop" in reasons


def test_other_strategies_run_compiled_with_their_own_signals(bars: pd.DataFrame) -> None:
    for cls in (MeanReversionStrategy, BreakoutStrategy):
        combos = ParameterGrid(cls).valid()[:3]
        outcomes = run_compiled(bars, cls, combos, {}, threads=2)
        for params, o in zip(combos, outcomes, strict=True):
            want = _row_of_backtest(bars, cls.from_parameters(params), {})
            assert o.row is not None
            assert {k: o.row[k] for k in METRIC_COLUMNS} == {k: want[k] for k in METRIC_COLUMNS}


def test_both_paths_give_the_same_sweep(bars: pd.DataFrame) -> None:
    grid = ParameterGrid(
        MomentumStrategy,
        {"fast_period": [5, 10, 20], "slow_period": [10, 20, 60], "allow_short": [True, False]},
    )
    fast = sweep(bars, grid)
    slow = sweep(bars, grid, compiled=False)
    assert (fast.engine, fast.engine_note) == (COMPILED, None)
    assert (slow.engine, slow.engine_note) == (PER_COMBINATION, "compiled=False")
    pd.testing.assert_frame_equal(fast.table, slow.table)
    assert fast.returns is not None
    assert slow.returns is not None
    pd.testing.assert_frame_equal(fast.returns, slow.returns)
    assert fast.diagnostics() == slow.diagnostics()


def test_the_sweep_says_why_it_did_not_run_compiled(bars: pd.DataFrame, tmp_path: Path) -> None:
    grid = ParameterGrid(MomentumStrategy, {"fast_period": [5, 10], "slow_period": [20]})
    ref = sweep(bars, grid, engine="python")
    assert ref.engine == PER_COMBINATION
    assert ref.engine_note is not None
    assert "engine='python'" in ref.engine_note
    assert "Dask client" in (compiled_reason(MomentumStrategy, {}, client=object()) or "")
    assert compiled_reason(MomentumStrategy, {"use_risk_manager": False}) is None
    done = sweep(bars, grid, folder=tmp_path / "s")
    assert done.engine == COMPILED
    doc = (tmp_path / "s" / "best_params.json").read_text()
    assert '"engine": "compiled"' in doc
    pd.testing.assert_frame_equal(done.table, ref.table)


@register
@dataclasses.dataclass(frozen=True)
class _Fragile(MomentumStrategy):
    """Momentum whose signals fail for one period (an overridden compute_signals: the
    compiled path computes its signals in Python, per combination)."""

    name: ClassVar[str] = "test_fragile_momentum"

    def compute_signals(self, bars: pd.DataFrame) -> np.ndarray:
        if self.fast_period == 7:
            raise RuntimeError("period 7 is cursed")
        return super().compute_signals(bars)


def test_a_failing_combination_is_set_aside_on_both_paths(bars: pd.DataFrame) -> None:
    grid = ParameterGrid(_Fragile, {"fast_period": [5, 7], "slow_period": [20]})
    fast, slow = sweep(bars, grid), sweep(bars, grid, compiled=False)
    assert fast.engine == COMPILED
    assert fast.skipped == slow.skipped
    assert len(fast.skipped) == 1
    assert "period 7 is cursed" in fast.skipped[0][1]
    pd.testing.assert_frame_equal(fast.table, slow.table)
