"""The ``sim-l3`` paper broker: a paper session whose fills come from the simulated exchange
over the real CLX5 MBO file (crude, ~2.5 h, starts mid-session), skipped when ../shared is
absent.

The fills are checked against the book rebuilt independently by :func:`workbench.book.replay`
(one row per event boundary): an order sent at a bar's start is matched against the book of
the last event before it, and a stop triggers at an event boundary and is matched against
the book after it; so a taker buy fills at or above the lowest best ask of those books, a
taker sell at or below the highest best bid, and a market order never takes more at a price
than the level held. The engine's position and cash agree with the broker's fills.
"""

from __future__ import annotations

import subprocess
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest

from tests.conftest import real_data_path
from tests.integration.subprocesses import EXE, child_env
from workbench.backtest.config import BacktestConfig
from workbench.book import replay
from workbench.execution.brokers.sim_l3 import L3SimBroker, l3_session
from workbench.strategies.momentum import MomentumStrategy

CLX5 = ("clx5-mbo", "CLX5_mbo.dbn")


@pytest.fixture(scope="module")
def session_run() -> tuple[object, L3SimBroker, pd.DataFrame]:
    path = real_data_path(*CLX5)
    session = l3_session(path, MomentumStrategy(fast_period=3, slow_period=8), BacktestConfig())
    result = session.run()
    broker = session.broker
    assert isinstance(broker, L3SimBroker)
    return session, broker, result.trades


def test_session_trades_through_the_exchange(
    session_run: tuple[object, L3SimBroker, pd.DataFrame],
) -> None:
    session, broker, trades = session_run
    eng = session.engine  # type: ignore[attr-defined]
    reports = broker.report_frame()
    fills = reports[reports["exec_type"].isin(["fill", "partial_fill"])]
    assert len(trades) >= 3
    assert len(fills) >= 2 * len(trades)
    # the engine's blotter is the broker's fills, one for one
    blotter = pd.DataFrame(eng.blotter)
    assert len(blotter) == len(fills)
    np.testing.assert_allclose(blotter["price"], fills["last_px"])
    assert (blotter["quantity"].to_numpy() == fills["last_qty"].to_numpy()).all()
    np.testing.assert_allclose(blotter["commission"], fills["fee"])
    assert eng.position_qty == sum(broker.positions().values()) == 0  # flat at the end
    # net P&L: gross of the trades minus every fee paid
    gross = float(trades["gross_pnl"].sum())
    assert eng.cash == pytest.approx(BacktestConfig().initial_capital + gross - fills["fee"].sum())


def test_fills_obey_the_book(session_run: tuple[object, L3SimBroker, pd.DataFrame]) -> None:
    _, broker, _ = session_run
    book = replay(real_data_path(*CLX5), depth=10)
    ts = book.index.asi8
    reports = broker.report_frame()
    fills = reports[reports["exec_type"].isin(["fill", "partial_fill"])]
    takers = fills[fills["liquidity"] == "taker"]
    assert len(takers) > 5
    taken: dict[tuple[int, float], int] = defaultdict(int)
    depth_checked = 0
    for r in takers.itertuples():
        t = r.ts_exchange.value
        before = int(np.searchsorted(ts, t, side="left")) - 1
        at = int(np.searchsorted(ts, t, side="right"))
        rows = book.iloc[max(before, 0) : at]
        if r.side > 0:
            assert r.last_px >= rows["ask_px_00"].min() - 1e-9, r
        else:
            assert r.last_px <= rows["bid_px_00"].max() + 1e-9, r
        if before >= 0 and ts[before] < t and at == before + 1:
            # matched at arrival against the book of the last event before it
            snap = book.iloc[before]
            side = "ask" if r.side > 0 else "bid"
            held = {
                round(snap[f"{side}_px_{i:02d}"], 9): snap[f"{side}_sz_{i:02d}"] for i in range(10)
            }
            taken[(r.client_id, r.last_px)] += r.last_qty
            assert taken[(r.client_id, r.last_px)] <= held.get(round(r.last_px, 9), 0), r
            depth_checked += 1
    assert depth_checked > 5
    makers = fills[fills["liquidity"] == "maker"]
    assert np.allclose(makers["last_px"], makers["order_price"])


def test_cli_runs_a_sim_l3_session() -> None:
    path = real_data_path(*CLX5)
    args = ["--param", "fast_period=3", "--param", "slow_period=8", "--no-save-results"]
    done = subprocess.run(
        [EXE, "paper", "--broker", "sim-l3", "--book", str(path), *args],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "paper sim-l3 ema_crossover: 88 bars" in done.stdout
    bad = subprocess.run(
        [EXE, "paper", "--broker", "sim-l3", "--no-save-results"],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert bad.returncode != 0
    assert "needs --book" in bad.stderr
    assert "Traceback" not in bad.stderr
