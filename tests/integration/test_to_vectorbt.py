"""``BacktestResult.to_vectorbt()``: vectorbt's Portfolio over our fills, equal to ours.

Each strategy and risk setting runs on four weeks of the synthetic sample (a roll inside);
vectorbt's final value, trade count, per-trade P&L, fees and sides must be ours to the cent.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from workbench.backtest import BacktestResult, run_backtest
from workbench.data import load_bars
from workbench.risk import SizingConfig, StopConfig
from workbench.strategies import (
    BreakoutStrategy,
    MeanReversionStrategy,
    MomentumStrategy,
    Strategy,
)

STRATEGIES = {
    "ema_crossover": MomentumStrategy(fast_period=10, slow_period=40),
    "donchian_breakout": BreakoutStrategy(),
    "bollinger_reversion": MeanReversionStrategy(),
}
SETTINGS: dict[str, dict[str, Any]] = {
    "risk_on": {},
    "risk_off": {"use_risk_manager": False, "slippage_ticks": 2},
    "fixed_3_contracts": {
        "sizing": SizingConfig(method="fixed", contracts=3),
        "stop": StopConfig(mode="fixed_usd", usd=40),
        "commission_per_contract": 2.1,
        "initial_capital": 12_345.67,
    },
}


@pytest.fixture(scope="module")
def bars(small_sample: Path) -> pd.DataFrame:
    bars = load_bars("MCL_FUT", data_dir=small_sample, start="2024-01-22", end="2024-02-16")
    assert bars["symbol"].astype(str).nunique() == 2  # a roll inside the slice
    return bars


@pytest.fixture(scope="module")
def results(bars: pd.DataFrame) -> dict[tuple[str, str], BacktestResult]:
    return {
        (s, c): run_backtest(bars, STRATEGIES[s], **SETTINGS[c])
        for s in STRATEGIES
        for c in SETTINGS
    }


@pytest.mark.parametrize("setting", list(SETTINGS))
@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_vectorbt_portfolio_equals_the_backtest(
    results: dict[tuple[str, str], BacktestResult], strategy: str, setting: str
) -> None:
    ours = results[(strategy, setting)]
    trades = ours.trades
    assert len(trades) >= 10, "too few trades to compare"
    pf = ours.to_vectorbt()

    assert float(pf.init_cash) == ours.initial_capital
    assert round(float(pf.final_value()), 2) == round(ours.final_equity, 2)
    assert round(float(pf.total_profit()), 2) == round(float(trades["net_pnl"].sum()), 2)
    assert int(pf.trades.count()) == len(trades)
    assert int(pf.orders.count()) == 2 * len(trades)
    assert round(float(pf.orders.records["fees"].sum()), 2) == round(
        float(trades["commission"].sum()), 2
    )

    vt = pf.trades.records_readable
    np.testing.assert_allclose(vt["PnL"].to_numpy(), trades["net_pnl"].to_numpy(), atol=0.005)
    np.testing.assert_allclose(
        vt["Avg Entry Price"].to_numpy(), trades["entry_price"].to_numpy(), atol=1e-9
    )
    np.testing.assert_allclose(
        vt["Size"].to_numpy(), trades["contracts"].to_numpy() * 100.0, atol=1e-9
    )  # MCL: 100 barrels a contract
    sides = vt["Direction"].map({"Long": "long", "Short": "short"}).to_numpy()
    assert (sides == trades["side"].astype(str).to_numpy()).all()


def test_the_cases_cover_long_short_and_same_instant_fills(
    results: dict[tuple[str, str], BacktestResult],
) -> None:
    sides = pd.concat([r.trades["side"].astype(str) for r in results.values()])
    assert sides.value_counts().min() > 20
    # a reversal exits and enters at the same bar open: two fills at one instant
    reversals = sum(
        int(
            (
                r.trades["exit_time"].iloc[:-1].to_numpy()
                == r.trades["entry_time"].iloc[1:].to_numpy()
            ).sum()
        )
        for r in results.values()
    )
    assert reversals > 10


def test_vectorbt_accessors_work_on_the_portfolio(
    results: dict[tuple[str, str], BacktestResult],
) -> None:
    ours = results[("ema_crossover", "risk_on")]
    pf = ours.to_vectorbt(freq="1min", column="ema")
    stats = pf.stats()
    assert stats["Total Trades"] == len(ours.trades)
    assert round(float(stats["End Value"]), 2) == round(ours.final_equity, 2)
    assert pf.wrapper.columns.tolist() == ["ema"]
    # built on every bar: vectorbt's period and drawdown are the run's
    assert len(pf.value()) == len(ours.equity)
    assert stats["Period"] == len(ours.equity) * pd.Timedelta("1min")
    perf = ours.metrics["performance"]
    assert float(stats["Max Drawdown [%]"]) == pytest.approx(perf["max_drawdown_pct"], abs=0.01)
    assert float(stats["Total Return [%]"]) == pytest.approx(perf["total_return_pct"], abs=1e-6)


@pytest.mark.parametrize("setting", list(SETTINGS))
def test_vectorbt_value_is_our_equity_at_every_bar(
    results: dict[tuple[str, str], BacktestResult], setting: str
) -> None:
    ours = results[("donchian_breakout", setting)]
    value = ours.to_vectorbt().value()
    assert value.index.equals(ours.equity.index)
    off = (value - ours.equity).abs()
    # at a roll our equity takes the closing fill's costs one bar later (module notes)
    rolls = pd.DatetimeIndex(ours.trades.loc[ours.trades["exit_reason"] == "roll", "exit_time"])
    assert off.drop(rolls, errors="ignore").max() < 0.005
    assert off.max() < 10.0


def test_without_the_bars_the_fills_alone(results: dict[tuple[str, str], BacktestResult]) -> None:
    ours = pickle.loads(pickle.dumps(results[("ema_crossover", "risk_on")]))
    assert ours.bars is None
    pf = ours.to_vectorbt()
    assert len(pf.value()) == 2 * len(ours.trades)  # one row per fill
    assert round(float(pf.final_value()), 2) == round(ours.final_equity, 2)


@dataclass(frozen=True)
class NeverTrades(Strategy):
    """Flat on every bar."""

    name: ClassVar[str] = "never_trades_test"

    def compute_signals(self, bars: pd.DataFrame) -> np.ndarray:
        return np.zeros(len(bars), dtype=np.int8)


@dataclass(frozen=True)
class AlwaysLong(Strategy):
    """Long from the second bar to the end: a roll closes one contract, the next one opens."""

    name: ClassVar[str] = "always_long_test"

    def compute_signals(self, bars: pd.DataFrame) -> np.ndarray:
        sig = np.ones(len(bars), dtype=np.int8)
        sig[0] = 0
        return sig


def test_a_position_held_across_a_roll(bars: pd.DataFrame) -> None:
    ours = run_backtest(
        bars, AlwaysLong(), stop=StopConfig(mode="none"), sizing=SizingConfig(method="fixed")
    )
    trades = ours.trades
    assert list(trades["exit_reason"].astype(str)) == ["roll", "end_of_data"]
    assert trades["symbol"].iloc[0] != trades["symbol"].iloc[1]
    pf = ours.to_vectorbt()
    assert round(float(pf.final_value()), 2) == round(ours.final_equity, 2)
    assert int(pf.trades.count()) == 2
    np.testing.assert_allclose(
        pf.trades.records_readable["PnL"].to_numpy(), trades["net_pnl"].to_numpy(), atol=0.005
    )


def test_a_backtest_without_trades(bars: pd.DataFrame) -> None:
    ours = run_backtest(bars, NeverTrades())
    assert len(ours.trades) == 0
    pf = ours.to_vectorbt()
    assert float(pf.final_value()) == ours.initial_capital
    assert int(pf.trades.count()) == 0


def test_importing_the_engine_does_not_import_vectorbt() -> None:
    code = (
        "import sys, workbench.backtest, workbench.backtest.result; "
        "assert 'vectorbt' not in sys.modules, 'vectorbt imported at start-up'"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
