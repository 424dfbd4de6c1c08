"""Parity: the paper engine on the sim broker gives run_backtest's trades, prices and P&L."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.backtest import run_backtest
from workbench.backtest.engine import build_config
from workbench.data import load_bars
from workbench.execution import PaperSession
from workbench.strategies import BreakoutStrategy, MeanReversionStrategy, MomentumStrategy

STRATEGIES = [
    MomentumStrategy(fast_period=20, slow_period=50),
    MeanReversionStrategy(period=30, num_std=2.0),
    BreakoutStrategy(entry_period=40, exit_period=20),
]
CONFIGS = [
    {},
    {"stop": {"mode": "trailing_atr", "target_r": 2.0}, "commission_per_contract": 2.0},
    {"use_risk_manager": False, "slippage_ticks": 2},
]


@pytest.fixture(scope="module")
def bars(small_sample: Path) -> pd.DataFrame:
    # ten weeks of the synthetic sample, including a contract roll (tests/conftest.py)
    return load_bars("MCL_FUT", data_dir=small_sample)


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: s.name)
@pytest.mark.parametrize("options", CONFIGS, ids=["default", "trailing_target", "no_risk"])
def test_sim_session_matches_backtest(bars, strategy, options):
    cfg = build_config(**dict(options))
    bt = run_backtest(bars, strategy, config=cfg)
    session = PaperSession(bars, strategy, cfg)
    paper = session.run()
    assert len(bt.trades) > 5
    pd.testing.assert_frame_equal(paper.trades, bt.trades)
    np.testing.assert_array_equal(paper.equity.to_numpy(), bt.equity.to_numpy())
    np.testing.assert_array_equal(paper.position.to_numpy(), bt.position.to_numpy())
    pd.testing.assert_frame_equal(paper.risk_events, bt.risk_events)
    assert paper.metrics == bt.metrics
    # every round trip went through the broker as orders (entry and exit at least)
    assert session.engine.om.sent >= 2 * len(bt.trades)
    assert bt.trades["symbol"].nunique() >= 2  # a roll was crossed
