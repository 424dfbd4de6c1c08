"""A contract roll inside an ``ib`` paper session, on the simulated IB Gateway serving each
MCL contract on its own bars (the real ib-async client).

The sample's calendar roll (``roll_days=5``) from MCLG4 to MCLH4 takes effect with trade date
2024-01-11 (the session opening 2024-01-10 23:00 UTC). The backtest closes the position at
MCLG4's last close before the halt and re-opens at MCLH4's first open; the session decides
the roll at the end of that last bar, when the close is already past: its exit fills at
MCLG4's first price after the halt (the next trade on that contract), its re-entry on MCLH4
once that exit has filled. Every other trade is the backtest's, to the cent.
"""

from __future__ import annotations

import datetime as dt
import json
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.integration.subprocesses import EXE, child_env, warm_bytecode
from tests.integration.test_paper_ib import SUB, acked, start_session, wait_for
from workbench.adapters.ib import ContractFeeds, GatewayConfig, SimulatedGateway
from workbench.adapters.ib.contracts import next_bar_trade_date
from workbench.backtest import run_backtest
from workbench.backtest.engine import build_config
from workbench.data import load_bars
from workbench.execution import ExecutionConfig, PaperSession
from workbench.strategies import MomentumStrategy

STRATEGY = MomentumStrategy(fast_period=5, slow_period=20)
OLD, NEW = "MCLG4", "MCLH4"
ROLL_TS = pd.Timestamp("2024-01-10 23:00", tz="UTC")  # first bar of trade date 2024-01-11
START, END = "2024-01-10 20:20", "2024-01-10 23:59"


@pytest.fixture(scope="module")
def series(small_sample: Path) -> pd.DataFrame:
    """The calendar-rolled continuous series over the roll (the backtest's bars)."""
    bars = load_bars("MCL_FUT", data_dir=small_sample, roll="calendar", start=START, end=END)
    assert [(r["from_symbol"], r["to_symbol"]) for r in bars.attrs["rolls"]] == [(OLD, NEW)]
    assert pd.Timestamp(bars.attrs["rolls"][0]["ts"]) == ROLL_TS
    return bars


@pytest.fixture(scope="module")
def contracts(small_sample: Path) -> pd.DataFrame:
    """Both contracts' own bars over the same minutes (what the gateway serves)."""
    bars = load_bars("MCL_FUT", data_dir=small_sample, continuous=False, start=START, end=END)
    return bars[bars["symbol"].isin([OLD, NEW])]


def market(contracts: pd.DataFrame) -> ContractFeeds:
    return ContractFeeds.from_frame(contracts)


def test_the_gateway_serves_each_contract_its_own_bars(contracts: pd.DataFrame) -> None:
    feeds = market(contracts)
    assert feeds.symbols == [OLD, NEW]
    feeds.seek(int(ROLL_TS.value))
    published = dict(feeds.step())
    assert set(published) == {OLD, NEW}
    for symbol in (OLD, NEW):
        minute = contracts[contracts["symbol"] == symbol].loc[ROLL_TS]
        assert published[symbol].open == minute["open"]


def test_next_bar_trade_date_crosses_the_halt_and_the_weekend() -> None:
    ns = 1_000_000_000
    halt = int(pd.Timestamp("2024-01-10 22:00", tz="UTC").value)  # 17:00 New York
    assert next_bar_trade_date(halt - 60 * ns) == dt.date(2024, 1, 10)
    assert next_bar_trade_date(halt) == dt.date(2024, 1, 11)
    friday = int(pd.Timestamp("2024-01-12 22:00", tz="UTC").value)
    assert next_bar_trade_date(friday) == dt.date(2024, 1, 15)  # Sunday evening trades Monday


def play_over_roll(gw: SimulatedGateway, session: PaperSession, minutes: int) -> None:
    """A minute at a time; at the roll's first minute one 5-second bar first (the old
    contract's exit fills), then the rest once the new contract's orders are answered."""
    for _ in range(minutes):
        done = session.bars_done
        if int(gw.market.ts[gw.market.cursor // SUB]) == ROLL_TS.value:
            gw.step(1)
            wait_for(
                lambda: not session.engine.roll_pending and acked(session), "the roll's re-entry"
            )
            gw.step(SUB - 1)
        else:
            gw.step(SUB)

        def took(d: int = done) -> bool:
            return session.bars_done > d or session.finished.is_set()

        wait_for(took, f"bar {done}")
        wait_for(lambda: acked(session), f"acknowledgements after bar {done}")


def test_session_rolls_like_the_backtest(series: pd.DataFrame, contracts: pd.DataFrame) -> None:
    cfg = build_config(use_risk_manager=False, slippage_ticks=0)
    bt = run_backtest(series, STRATEGY, config=cfg)
    n = len(series)
    with SimulatedGateway(market(contracts), GatewayConfig(port=0)) as gw:
        session, broker = start_session(gw, cfg, n, execution=ExecutionConfig(flatten_at_end=False))
        play_over_roll(gw, session, n)
        session.join(30)
        paper = session.result()
        positions = gw.positions()
        orders = gw.orders()
        executions = gw._call(gw._run(lambda: list(gw.account.executions)))
        clock = gw.market.ts
    # the session's bars are the continuous series': the old contract's, then the new one's
    assert [b.symbol for b in session.live_bars] == series["symbol"].astype(str).tolist()
    assert broker.symbol == NEW
    # the roll: journaled, in the record's provenance (the report's rolls table), one each
    (bar, roll), *more = session.journal.rolls()
    assert not more
    assert (roll["from_symbol"], roll["to_symbol"], roll["trade_date"]) == (OLD, NEW, "2024-01-11")
    assert session.live_bars[bar + 1].ts == ROLL_TS.value
    assert [r["to_symbol"] for r in paper.provenance["rolls"]] == [NEW]
    assert session.journal.meta("contract") == NEW
    # trades: the backtest's, but for the roll's exit price (the old contract's next trade)
    expected = bt.trades[bt.trades["exit_reason"] != "end_of_data"].reset_index(drop=True)
    trades = paper.trades.reset_index(drop=True)
    assert len(expected) >= 4
    roll_rows = expected.index[expected["exit_reason"] == "roll"].tolist()
    assert len(roll_rows) == 1
    k = roll_rows[0]
    old_bars = contracts[contracts["symbol"] == OLD]
    assert expected.loc[k, "exit_price"] == old_bars.loc[:"2024-01-10 21:59", "close"].iloc[-1]
    first_after = old_bars.loc[ROLL_TS:, "open"].iloc[0]  # the next trade on the old contract
    assert trades.loc[k, "exit_price"] == pytest.approx(first_after)
    # the re-entry: at the new contract's next 5-second bar after the old one's exit
    new_feed = ContractFeeds.from_frame(contracts[contracts["symbol"] == NEW]).feeds[NEW]
    new_feed.seek(int(ROLL_TS.value))
    new_feed.step()
    assert trades.loc[k + 1, "entry_price"] == pytest.approx(new_feed.step().open)
    same = ["side", "contracts", "entry_time", "exit_time", "exit_reason"]
    pd.testing.assert_frame_equal(trades[same], expected[same])
    others = [i for i in range(len(expected)) if i not in (k, k + 1)]
    cols = ["entry_price", "exit_price", "gross_pnl", "commission", "net_pnl"]
    pd.testing.assert_frame_equal(trades.loc[others, cols], expected.loc[others, cols])
    assert trades.loc[k + 1, "exit_price"] == expected.loc[k + 1, "exit_price"]
    gross = (
        trades["side"].astype(str).map({"long": 1, "short": -1})
        * (trades["exit_price"] - trades["entry_price"])
        * trades["contracts"]
        * 100
    )
    np.testing.assert_allclose(trades["gross_pnl"], gross, atol=1e-6)
    # the gateway's view: flat on the old contract before the first order on the new one,
    # no order on an expired contract, each orderRef once, the position the engine's
    old_exec = max(e.time_ns for e in executions if e.contract.local_symbol == OLD)
    first_new = min(o.placed_at_bar for o in orders if o.contract.local_symbol == NEW)
    placed_ns = int(clock[first_new // SUB]) + (first_new % SUB) * 5_000_000_000
    assert placed_ns > old_exec
    net_old = sum(
        (1 if e.side == "BOT" else -1) * e.shares
        for e in executions
        if e.contract.local_symbol == OLD
    )
    assert net_old == 0
    for o in orders:
        placed = pd.Timestamp(int(clock[min(o.placed_at_bar // SUB, len(clock) - 1)]), tz="UTC")
        assert placed.date() <= o.contract.last_trade_date
    refs = [o.order_ref for o in orders]
    assert len(refs) == len(set(refs)) == session.engine.om.sent
    assert positions.get(OLD, 0) == 0
    assert positions.get(NEW, 0) == session.engine.position_qty != 0
    session.close()


def _rolls_journaled(journal: Path) -> int:
    if not journal.exists():
        return 0
    try:
        with sqlite3.connect(journal) as db:
            return db.execute("SELECT count(*) FROM rolls").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def test_sigkill_right_after_the_roll_resumes_on_the_new_contract(
    contracts: pd.DataFrame, tmp_path: Path
) -> None:
    """``paper --broker ib --state``: killed once the roll is journaled and the new contract
    has an order, then the same command: it opens on the new contract, sends nothing twice."""
    warm_bytecode("workbench.execution", "workbench.adapters.ib.broker")
    state, results = tmp_path / "state", tmp_path / "results"
    journal = state / "journal.sqlite"
    with SimulatedGateway(market(contracts), GatewayConfig(port=0, speed=100)) as gw:
        gw.step(SUB * 40)  # history for the warm-up
        cmd = [EXE, "paper", "--broker", "ib", "--port", str(gw.port), "--client-id", "9"]
        cmd += ["--state", str(state), "--warm-up", "30", "--bars", "90"]
        cmd += ["--results-dir", str(results), "--param", "fast_period=3"]
        cmd += ["--param", "slow_period=8"]
        child = subprocess.Popen(cmd, env=child_env(), stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 180

        def new_orders() -> list[str]:
            return [o.order_ref for o in gw.orders() if o.contract.local_symbol == NEW]

        while not (_rolls_journaled(journal) and new_orders()) and time.monotonic() < deadline:
            assert child.poll() is None, child.stderr.read() if child.stderr else ""
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
        child.wait(30)
        assert child.returncode == -signal.SIGKILL
        before = [o.order_ref for o in gw.orders()]
        assert new_orders()
        done = subprocess.run(cmd, env=child_env(), capture_output=True, text=True, timeout=300)
        orders = gw.orders()
        positions = gw.positions()
    assert done.returncode == 0, done.stderr
    assert "resuming:" in done.stderr
    assert "paper ib ema_crossover: 90 bars" in done.stdout
    assert "halted" not in done.stdout  # positions reconciled
    refs = [o.order_ref for o in orders]
    assert len(refs) == len(set(refs)) > len(before)  # nothing sent twice, and it went on
    resumed = [o for o in orders if o.order_ref not in before]
    assert {o.contract.local_symbol for o in resumed} == {NEW}  # on the new contract
    with sqlite3.connect(journal) as db:
        (n_rolls,) = db.execute("SELECT count(*) FROM rolls").fetchone()
        (contract,) = db.execute("SELECT value FROM meta WHERE key = 'contract'").fetchone()
        journal_refs = {r[0] for r in db.execute("SELECT order_ref FROM orders")}
    assert n_rolls == 1
    assert json.loads(contract) == NEW
    assert set(refs) == journal_refs
    assert positions.get(OLD, 0) == 0
    assert sum(positions.values()) == 0  # flattened at the end
    run_dir = next(p for p in results.iterdir() if (p / "summary.json").exists())
    summary = json.loads((run_dir / "summary.json").read_text())
    rolls = summary["provenance"]["rolls"]
    assert [(r["from_symbol"], r["to_symbol"]) for r in rolls] == [(OLD, NEW)]
