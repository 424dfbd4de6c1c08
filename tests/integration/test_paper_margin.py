"""Parity under the futures margin model: paper (sim broker) equals run_backtest through an
initial-margin cut and a margin call that closes the account."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.backtest import run_backtest
from workbench.backtest.engine import build_config
from workbench.data import load_bars
from workbench.execution import PaperSession
from workbench.model import codes as D
from workbench.strategies import BreakoutStrategy, MomentumStrategy

STRATEGIES = [
    MomentumStrategy(fast_period=20, slow_period=50),
    BreakoutStrategy(entry_period=40, exit_period=20),
]
# Margins high for the capital: entries are cut to what the equity can post, and a loss
# takes the equity below the maintenance margin inside the sample.
CONFIGS = [
    {"initial_capital": 10_000.0, "initial_margin": 3_000.0, "maintenance_margin": 3_150.0},
    {
        "use_risk_manager": False,
        "initial_capital": 10_000.0,
        "sizing": {"contracts": 5},
        "initial_margin": 2_400.0,
        "maintenance_margin": 2_450.0,
    },
]


@pytest.fixture(scope="module")
def bars(small_sample: Path) -> pd.DataFrame:
    return load_bars("MCL_FUT", data_dir=small_sample)


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: s.name)
@pytest.mark.parametrize("options", CONFIGS, ids=["risk", "no_risk"])
def test_margin_call_parity(bars, strategy, options):
    cfg = build_config(**options)
    bt = run_backtest(bars, strategy, config=cfg)
    reasons = bt.trades["exit_reason"].astype(str).tolist()
    assert reasons[-1] == "margin_call"
    assert reasons.count("margin_call") == 1
    event_reasons = set(bt.risk_events["reason"].astype(str))
    assert "insufficient initial margin" in event_reasons  # an entry was cut or refused
    session = PaperSession(bars, strategy, cfg)
    paper = session.run()
    pd.testing.assert_frame_equal(paper.trades, bt.trades)
    np.testing.assert_array_equal(paper.equity.to_numpy(), bt.equity.to_numpy())
    np.testing.assert_array_equal(paper.position.to_numpy(), bt.position.to_numpy())
    pd.testing.assert_frame_equal(paper.risk_events, bt.risk_events)
    assert paper.metrics == bt.metrics
    # the account is closed: flat and constant equity after the call
    last = int(np.flatnonzero(paper.position.to_numpy() != 0)[-1])
    assert (paper.equity.to_numpy()[last + 1 :] == paper.equity.iloc[-1]).all()
    assert session.engine.margin_called
    assert not session.engine.stopped  # the replay went on to the end, flat
    assert session.engine.trades[-1][10] == D.EXIT_MARGIN_CALL
