"""A ``sim-l3`` paper session killed mid-run (a real SIGKILL of the child process) and
restarted with the same command ends as the uninterrupted run: the same trades, fills and
equity, and the rebuilt exchange received each order once (its inbound log is the
uninterrupted run's, line for line). Run on a small MBO file written here (a random walk of
a book with trades) and on the real CLX5 file (skipped when ../shared is absent). A resume
with another --book is refused before anything is sent.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import databento_dbn as dbn
import numpy as np
import pandas as pd
import pytest

from tests.conftest import real_data_path
from tests.integration.subprocesses import EXE, child_env, warm_bytecode
from tests.unit.test_sim_exchange import LAST, SEC, mbo, write_dbn

T0 = int(pd.Timestamp("2025-11-03 15:00", tz="UTC").value)


def _walk_records(minutes: int, seed: int) -> list[dbn.MBOMsg]:
    """A book three levels deep each side of a random-walk mid (ticks from $64.00), redrawn
    every 10 s, and 5 s later a trade of 1 to 3 lots at the best bid or ask."""
    rng = np.random.default_rng(seed)
    records: list[dbn.MBOMsg] = []
    oid, mid = 1, 0
    live: list[tuple[int, str, int, int]] = []  # resting (order id, side, ticks, size)
    for k in range(minutes * 6):
        ts = T0 + k * 10 * SEC
        batch = [(o, "C", side, ticks, size) for o, side, ticks, size in live]
        mid += int(rng.integers(-2, 3))
        live = []
        for level in (1, 2, 3):
            for side, ticks in (("B", mid - level), ("A", mid + level)):
                live.append((oid, side, ticks, 20))
                batch.append((oid, "A", side, ticks, 20))
                oid += 1
        for j, (o, action, side, ticks, size) in enumerate(batch):
            records.append(
                mbo(ts, o, action, side, ticks, size, LAST if j == len(batch) - 1 else 0)
            )
        tt, qty = ts + 5 * SEC, int(rng.integers(1, 4))
        o, side, ticks, size = hit = live[int(rng.integers(0, 2))]  # the best bid or ask
        records.append(mbo(tt, 0, "T", "A" if side == "B" else "B", ticks, qty, 0))
        records.append(mbo(tt, o, "F", side, ticks, qty, 0))
        records.append(mbo(tt, o, "M", side, ticks, size - qty, LAST))
        live[live.index(hit)] = (o, side, ticks, size - qty)
    return records


@pytest.fixture(scope="module")
def small_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("book")
    return write_dbn(folder / "walk.mbo.dbn", _walk_records(150, seed=7))


def _cmd(book: Path, folder: Path, *extra: str) -> list[str]:
    return [
        EXE,
        "paper",
        "--broker",
        "sim-l3",
        "--book",
        str(book),
        "--param",
        "fast_period=3",
        "--param",
        "slow_period=8",
        "--state",
        str(folder / "state"),
        "--results-dir",
        str(folder / "results"),
        *extra,
    ]


def _sent(log: Path) -> int:
    if not log.exists():
        return 0
    return sum(1 for line in log.read_bytes().splitlines() if b'"k":"S"' in line)


def _journal(state: Path) -> tuple[list[tuple], list[tuple]]:
    with sqlite3.connect(state / "journal.sqlite") as db:
        fills = db.execute(
            "SELECT order_ref, bar, time, side, quantity, price, commission FROM fills ORDER BY seq"
        ).fetchall()
        equity = db.execute("SELECT bar, ts, equity, position FROM equity ORDER BY bar").fetchall()
    return fills, equity


def _trades(folder: Path) -> pd.DataFrame:
    run = next(p for p in (folder / "results").iterdir() if (p / "summary.json").exists())
    return pd.read_csv(run / "trades.csv")


def _killed_then_resumed(
    book: Path, tmp: Path, speed: str
) -> tuple[subprocess.CompletedProcess, int]:
    """Run until the exchange has 3 orders, SIGKILL it, run the same command to the end;
    the finished run and the orders the killed one had sent."""
    warm_bytecode("workbench.execution")
    log = tmp / "state" / "exchange.log"
    child = subprocess.Popen(
        _cmd(book, tmp, "--speed", speed), env=child_env(), stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while _sent(log) < 3 and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.02)
    assert child.poll() is None, child.stderr.read() if child.stderr else ""
    child.send_signal(signal.SIGKILL)
    child.wait(30)
    assert child.returncode == -signal.SIGKILL
    killed = _sent(log)
    assert killed >= 3
    done = subprocess.run(
        _cmd(book, tmp), env=child_env(), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done, killed


def _assert_same_as_uninterrupted(book: Path, tmp_path: Path, speed: str) -> None:
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    ref = subprocess.run(
        _cmd(book, whole), env=child_env(), capture_output=True, text=True, timeout=300
    )
    assert ref.returncode == 0, ref.stderr
    done, killed = _killed_then_resumed(book, cut, speed)
    assert "resuming:" in done.stderr
    assert "halted" not in done.stdout  # positions reconciled
    # the summary line: same bars, trades, orders and equity
    line = next(s for s in done.stdout.splitlines() if s.startswith("paper sim-l3"))
    ref_line = next(s for s in ref.stdout.splitlines() if s.startswith("paper sim-l3"))
    assert line.split(" (")[0] == ref_line.split(", equity")[0]
    assert line.split(", equity")[1] == ref_line.split(", equity")[1]
    # the same fills and equity bar by bar, in the journal
    fills, equity = _journal(cut / "state")
    ref_fills, ref_equity = _journal(whole / "state")
    assert len(fills) > 0
    assert fills == ref_fills
    assert equity == ref_equity
    # the same trades in the saved record
    pd.testing.assert_frame_equal(_trades(cut), _trades(whole))
    # the exchange received the same calls, each order once
    log = (cut / "state" / "exchange.log").read_bytes()
    assert log == (whole / "state" / "exchange.log").read_bytes()
    refs = [json.loads(x)["ref"] for x in log.splitlines() if b'"k":"S"' in x]
    assert len(refs) == len(set(refs))
    assert killed < len(refs)  # the kill came mid-run
    with sqlite3.connect(cut / "state" / "journal.sqlite") as db:
        journaled = sorted(r[0] for r in db.execute("SELECT order_ref FROM orders"))
    assert sorted(refs) == journaled


def test_sigkill_resumes_like_an_uninterrupted_run_small_book(small_book: Path, tmp_path: Path):
    _assert_same_as_uninterrupted(small_book, tmp_path, "600")


def test_sigkill_resumes_like_an_uninterrupted_run_clx5(tmp_path: Path):
    book = real_data_path("clx5-mbo", "CLX5_mbo.dbn")
    _assert_same_as_uninterrupted(book, tmp_path, "600")


def test_resume_with_another_book_or_bar_size_is_refused(small_book: Path, tmp_path: Path):
    first = subprocess.run(
        _cmd(small_book, tmp_path, "--bars", "30", "--no-save-results"),
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert first.returncode == 0, first.stderr
    other = write_dbn(tmp_path / "other.mbo.dbn", _walk_records(150, seed=8))
    log = tmp_path / "state" / "exchange.log"
    before = log.read_bytes()
    done = subprocess.run(
        _cmd(other, tmp_path, "--no-save-results"),
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0
    assert "holds another session" in done.stderr
    assert "book.path" in done.stderr
    assert "Traceback" not in done.stderr
    assert log.read_bytes() == before  # nothing sent
    # the same book in other bars: refused too
    done = subprocess.run(
        _cmd(small_book, tmp_path, "--bar-size", "2min", "--no-save-results"),
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0
    assert "bar_size 1min (now 2min)" in done.stderr
    assert log.read_bytes() == before
