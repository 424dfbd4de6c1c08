"""Faults of a paper session: SIGKILL mid-run, then a restart; the live-port refusal."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd

from tests.integration.subprocesses import EXE, child_env, warm_bytecode
from workbench.backtest import run_backtest
from workbench.data import load_bars
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
