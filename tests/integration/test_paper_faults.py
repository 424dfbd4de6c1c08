"""Faults of a paper session: SIGKILL mid-run, then a restart; the live-port refusal."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.integration.subprocesses import EXE, child_env, warm_bytecode
from tests.integration.test_paper_ib import (
    SUB,
    acked,
    feed_of,
    play,
    start_session,
    subscribed,
    wait_for,
)
from workbench.adapters.ib import GatewayConfig, SimulatedGateway
from workbench.backtest import run_backtest
from workbench.backtest.engine import build_config
from workbench.data import load_bars
from workbench.model import OrderStatus
from workbench.strategies import MomentumStrategy

BARS = 6000


def _orders_sent(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path) as db:
            return db.execute("SELECT count(*) FROM orders").fetchone()[0]
    except sqlite3.OperationalError:  # tables not created yet
        return 0


def _paper(sample: Path, state: Path, results: Path, *extra: str) -> list[str]:
    return [
        EXE,
        "paper",
        "--data-dir",
        str(sample),
        "--param",
        "fast_period=10",
        "--param",
        "slow_period=30",
        "--bars",
        str(BARS),
        "--state",
        str(state),
        "--results-dir",
        str(results),
        *extra,
    ]


def test_sigkill_mid_session_resumes_without_duplicates(small_sample: Path, tmp_path: Path):
    warm_bytecode("workbench.execution")
    state, results = tmp_path / "state", tmp_path / "results"
    account = state / "sim_account.sqlite"
    # about 400 bars a second: the kill lands mid-run
    cmd = _paper(small_sample, state, results, "--speed", "24000", "--no-save-results")
    child = subprocess.Popen(cmd, env=child_env(), stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while _orders_sent(account) < 6 and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.05)
    assert child.poll() is None, child.stderr.read() if child.stderr else ""
    child.send_signal(signal.SIGKILL)
    child.wait(30)
    assert child.returncode == -signal.SIGKILL
    before = _orders_sent(account)
    assert before >= 6

    done = subprocess.run(
        _paper(small_sample, state, results),
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "resuming:" in done.stderr
    assert "halted" not in done.stdout  # positions reconciled

    # no duplicate order: the broker received each intent once, and the journal has them all
    with sqlite3.connect(account) as db:
        broker_refs = [r[0] for r in db.execute("SELECT order_ref FROM orders")]
    with sqlite3.connect(state / "journal.sqlite") as db:
        journal_refs = [r[0] for r in db.execute("SELECT order_ref FROM orders")]
    assert len(broker_refs) == len(set(broker_refs))
    assert sorted(broker_refs) == sorted(journal_refs)
    assert len(broker_refs) > before

    # nothing lost: the saved record is the uninterrupted backtest's
    run_dir = next(p for p in results.iterdir() if (p / "summary.json").exists())
    paper_trades = pd.read_csv(run_dir / "trades.csv")
    bars = load_bars("MCL_FUT", data_dir=small_sample).iloc[:BARS]
    bt = run_backtest(bars, MomentumStrategy(fast_period=10, slow_period=30)).trades
    assert len(paper_trades) == len(bt) > 0
    np.testing.assert_allclose(paper_trades["net_pnl"], bt["net_pnl"])
    np.testing.assert_allclose(paper_trades["entry_price"], bt["entry_price"])


def test_live_port_refused_before_any_order(tmp_path: Path):
    done = subprocess.run(
        [EXE, "paper", "--broker", "ib", "--port", "4001", "--no-save-results"],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "live trading port" in done.stderr
    assert "Traceback" not in done.stderr
    done = subprocess.run(
        [EXE, "paper", "--broker", "ib", "--port", "4001", "--live", "--confirm", "yes"],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "confirmation" in done.stderr


# -- the ib broker against the simulated IB Gateway: drop, restart, reject, 1101 ----------
IB_CFG: dict[str, Any] = {"slippage_ticks": 0}  # stops and targets on: orders rest


@pytest.fixture(scope="module")
def ib_window(small_sample: Path) -> pd.DataFrame:
    return load_bars("MCL_FUT", data_dir=small_sample, start="2024-03-04", end="2024-03-06").iloc[
        :400
    ]


def _working_stop(session) -> bool:
    om = session.engine.om
    ref = session.engine.stop_ref
    return bool(ref) and om.orders[ref].status is OrderStatus.WORKING


def _no_duplicates(gw, session) -> None:
    refs = [o.order_ref for o in gw.orders()]  # the gateway's own log (rejects not kept)
    om = session.engine.om
    rejected = sum(mo.status is OrderStatus.REJECTED for mo in om.orders.values())
    assert len(refs) == len(set(refs)) == om.sent - rejected
    assert sum(gw.positions().values()) == session.engine.position_qty


def _play_until(gw, session, cond, limit: int) -> int:
    for k in range(limit):
        if cond():
            return k
        play(gw, session, 1)
    raise AssertionError("the condition never came")


def _reconnected(session, broker, n: int) -> bool:
    return broker.reconnects >= n and len(session.reconciled) >= n + 1


def test_ib_drop_with_a_working_order_reconnects_without_duplicates(ib_window: pd.DataFrame):
    bars = ib_window
    with SimulatedGateway(feed_of(bars), GatewayConfig(port=0)) as gw:
        session, broker = start_session(gw, build_config(**IB_CFG), 300)
        _play_until(gw, session, lambda: _working_stop(session), 200)
        assert gw.drop_connections() == 1
        taken = len(gw.account.executions)
        gw.step(SUB * 20)  # the market moves on while the link is down (the stop fills)
        wait_for(lambda: _reconnected(session, broker, 1), "reconnect and reconcile")
        wait_for(lambda: subscribed(gw), "the bar subscription restored")
        wait_for(lambda: session.bars_done >= 0 and acked(session), "the gap bars")
        assert all(d.ok for d in session.reconciled), session.reconciled
        play(gw, session, 40)
        _no_duplicates(gw, session)
        # every execution at the gateway reached the engine, those of the drop included
        assert len(gw.account.executions) > taken
        assert len(session.engine.blotter) == len(gw.account.executions)
        assert not session.engine.stopped
        session.stop()
        gw.step(SUB)
        session.join(30)
    session.close()


def test_ib_gateway_restart_resumes_the_session(ib_window: pd.DataFrame):
    bars = ib_window
    with SimulatedGateway(feed_of(bars), GatewayConfig(port=0)) as gw:
        session, broker = start_session(gw, build_config(**IB_CFG), 300)
        _play_until(gw, session, lambda: _working_stop(session), 200)
        gw.restart(down_for=0.5)
        wait_for(lambda: _reconnected(session, broker, 1), "reconnect after the restart")
        wait_for(lambda: subscribed(gw), "the bar subscription restored")
        done = session.bars_done
        play(gw, session, 30)
        assert session.bars_done >= done + 30
        assert all(d.ok for d in session.reconciled)
        _no_duplicates(gw, session)
        session.stop()
        gw.step(SUB)
        session.join(30)
    session.close()


def test_ib_order_rejected_is_recorded_and_the_session_goes_on(ib_window: pd.DataFrame):
    bars = ib_window
    events: list = []
    with SimulatedGateway(feed_of(bars), GatewayConfig(port=0)) as gw:
        session, _ = start_session(gw, build_config(**IB_CFG), 300, listeners=[events.append])
        gw.reject_next_order("no margin (test)")
        om = session.engine.om
        _play_until(
            gw,
            session,
            lambda: any(mo.status is OrderStatus.REJECTED for mo in om.orders.values()),
            200,
        )
        sent = om.sent
        play(gw, session, 120)
        assert om.sent > sent  # later orders went out
        assert any(e.kind == "reject" and "no margin" in e.message for e in events)
        assert any(e.kind == "fill" for e in events)
        kinds = [k for _, k, _ in session.journal.alerts()]
        assert "order_rejected" in kinds
        _no_duplicates(gw, session)
        session.stop()
        gw.step(SUB)
        session.join(30)
    session.close()


def test_ib_bar_feed_restored_after_1101(ib_window: pd.DataFrame):
    bars = ib_window
    with SimulatedGateway(feed_of(bars), GatewayConfig(port=0)) as gw:
        session, _ = start_session(gw, build_config(**IB_CFG), 300)
        play(gw, session, 10)
        gw.connectivity_lost()  # 1100: real-time bars stop
        gw.step(SUB * 2)
        gw.connectivity_restored(data_lost=True)  # 1101: subscriptions lost
        wait_for(lambda: subscribed(gw), "resubscription after 1101")
        wait_for(lambda: session.bars_done >= 12, "the two lost minutes from history")
        play(gw, session, 10)
        assert session.bars_done == 22
        starts = [b.ts for b in session.live_bars]
        assert np.all(np.diff(starts) == 60 * 1_000_000_000)  # no minute lost or repeated
        session.stop()
        gw.step(SUB)
        session.join(30)
    session.close()


def test_ib_session_sigkilled_resumes_from_its_state(small_sample: Path, tmp_path: Path):
    """``paper --broker ib --state``: a real SIGKILL of the child, the same command again:
    the journal is replayed, the orders found at the gateway by orderRef, none sent twice."""
    warm_bytecode("workbench.execution", "workbench.adapters.ib.broker")
    bars = load_bars("MCL_FUT", data_dir=small_sample, start="2024-03-04", end="2024-03-06")
    state = tmp_path / "state"
    journal = state / "journal.sqlite"
    with SimulatedGateway(feed_of(bars.iloc[:900]), GatewayConfig(port=0, speed=200)) as gw:
        gw.step(SUB * 120)  # history for the warm-up and the gap
        cmd = [EXE, "paper", "--broker", "ib", "--port", str(gw.port), "--client-id", "9"]
        cmd += ["--state", str(state), "--warm-up", "100", "--bars", "120", "--no-save-results"]
        cmd += ["--param", "fast_period=3", "--param", "slow_period=8"]
        child = subprocess.Popen(cmd, env=child_env(), stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while len(gw.orders()) < 3 and time.monotonic() < deadline:
            assert child.poll() is None, child.stderr.read() if child.stderr else ""
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
        child.wait(30)
        assert child.returncode == -signal.SIGKILL
        before = [o.order_ref for o in gw.orders()]
        assert len(before) >= 3
        done = subprocess.run(cmd, env=child_env(), capture_output=True, text=True, timeout=300)
        refs = [o.order_ref for o in gw.orders()]
        positions = gw.positions()
    assert done.returncode == 0, done.stderr
    assert "resuming:" in done.stderr
    assert "paper ib ema_crossover: 120 bars" in done.stdout
    assert "halted" not in done.stdout  # positions reconciled
    assert len(refs) == len(set(refs)) > len(before)  # nothing sent twice, and it went on
    with sqlite3.connect(journal) as db:
        journal_refs = {r[0] for r in db.execute("SELECT order_ref FROM orders")}
        statuses = {r[0] for r in db.execute("SELECT status FROM orders")}
    assert set(refs) == journal_refs
    assert "pending" not in statuses  # every intent answered
    assert sum(positions.values()) == 0  # flattened at the end, as the journal says
