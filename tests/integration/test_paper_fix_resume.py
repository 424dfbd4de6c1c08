"""A ``fix`` paper session killed mid-position (a real SIGKILL of the child process, twice)
and restarted with the same command ends as an uninterrupted run: the same fills, equity and
trades, while the exchange (another process's worth of state: here a :class:`FixExchange` in
the test process) lived on with its book, orders and feed clock where the dead process left
them. The exchange's message log shows each ClOrdID in one NewOrderSingle only (a PossDup
resend of the same message aside) and the exchange rejected nothing.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.integration.subprocesses import EXE, child_env, warm_bytecode
from tests.integration.test_paper_fix import FEE
from tests.integration.test_paper_fix import feed as feed  # the module's MBO file fixture
from workbench.adapters.fix import FixExchange, read_message_log
from workbench.execution.brokers.fix import FixBroker, fix_session
from workbench.execution.brokers.fix_resume import LoggingInitiator, TailInitiator
from workbench.execution.events import Event
from workbench.execution.session import PaperSession
from workbench.strategies.momentum import MomentumStrategy


def _exchange(path: Path, log_dir: Path) -> FixExchange:
    return FixExchange(
        str(path),
        port=0,
        speed="driven",
        maker_fee=FEE,
        taker_fee=FEE,
        timestamp_precision="ns",
        log_dir=str(log_dir),
    )


def _cmd(book: Path, folder: Path, port: int, *extra: str) -> list[str]:
    return [
        EXE,
        "paper",
        "--broker",
        "fix",
        "--book",
        str(book),
        "--fix-port",
        str(port),
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


def _query(state: Path, sql: str) -> list[tuple]:
    path = state / "journal.sqlite"
    if not path.exists():
        return []
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            return db.execute(sql).fetchall()
    except sqlite3.OperationalError:  # not created yet
        return []


def _bars_done(state: Path) -> int:
    rows = _query(state, "SELECT value FROM meta WHERE key = 'bars_done'")
    return int(rows[0][0]) if rows else 0


def _in_position(state: Path) -> bool:
    return any(q for (q,) in _query(state, "SELECT quantity FROM positions"))


def _journal(state: Path) -> tuple[list[tuple], list[tuple]]:
    fills = _query(
        state,
        "SELECT order_ref, bar, time, side, quantity, price, commission FROM fills ORDER BY seq",
    )
    equity = _query(state, "SELECT bar, ts, equity, position FROM equity ORDER BY bar")
    return fills, equity


def _trades(folder: Path) -> pd.DataFrame:
    run = next(p for p in (folder / "results").iterdir() if (p / "summary.json").exists())
    return pd.read_csv(run / "trades.csv")


def _new_orders(log_dir: Path) -> list[tuple[str, bool]]:
    """(ClOrdID, PossDup) of every NewOrderSingle the exchange received."""
    log = read_message_log(log_dir / "FIX.4.4-EXCH-CLIENT.messages.current.log")
    return [
        (m.get(11) or "", m.get(43) == "Y")
        for m in log
        if m.direction == "IN" and m.msg_type == "D"
    ]


def _last_open(state: Path) -> int:
    """The last bar the broker's session log has opened (-1: none)."""
    path = state / "fix.log"
    if not path.exists():
        return -1
    opens = [line for line in path.read_bytes().splitlines() if line.startswith(b'{"k":"O"')]
    return int(json.loads(opens[-1])["i"]) if opens else -1


def _kill_mid_position(cmd: list[str], state: Path, after_bar: int) -> tuple[int, str]:
    """Start ``cmd``; past bar ``after_bar``, SIGKILL it once it holds a position and has
    gone two bars past its journal's last commit (bars with no order or fill commit with the
    next that has one, so these are redone on resume). The journal's bars_done then, and the
    child's stderr."""
    child = subprocess.Popen(cmd, env=child_env(), stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and child.poll() is None:
        done = _bars_done(state)
        if done > after_bar and _in_position(state) and _last_open(state) >= done + 2:
            break
        time.sleep(0.005)
    assert child.poll() is None, child.stderr.read() if child.stderr else ""
    child.send_signal(signal.SIGKILL)
    child.wait(30)
    assert child.returncode == -signal.SIGKILL
    return _bars_done(state), child.stderr.read() if child.stderr else ""


def test_sigkill_twice_mid_position_resumes_like_an_uninterrupted_run(
    feed: Path, tmp_path: Path
) -> None:
    warm_bytecode("workbench.execution", "workbench.execution.brokers.fix")
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    with _exchange(feed, tmp_path / "whole-log") as x:
        ref = subprocess.run(
            _cmd(feed, whole, x.port), env=child_env(), capture_output=True, text=True, timeout=300
        )
        ref_stats = dict(x.stats)
    assert ref.returncode == 0, ref.stderr
    with _exchange(feed, tmp_path / "cut-log") as x:
        first, _ = _kill_mid_position(_cmd(feed, cut, x.port, "--speed", "600"), cut / "state", 0)
        second, err = _kill_mid_position(
            _cmd(feed, cut, x.port, "--speed", "600"), cut / "state", first + 5
        )
        done = subprocess.run(
            _cmd(feed, cut, x.port), env=child_env(), capture_output=True, text=True, timeout=300
        )
        stats = dict(x.stats)
    assert done.returncode == 0, done.stderr
    assert 0 < first < second
    assert "resuming:" in done.stderr
    assert "resuming:" in err  # the second run had resumed too
    # the uncommitted bars were redone against the logged traffic, in both resumes
    tails = [
        int(e.split("the same FIX session goes on; ")[1].split()[0]) for e in (err, done.stderr)
    ]
    assert min(tails) > 0
    assert f"fix: {tails[1]} logged requests and reports replayed" in done.stderr
    assert "halted" not in done.stdout  # positions reconciled
    line = next(s for s in done.stdout.splitlines() if s.startswith("paper fix"))
    ref_line = next(s for s in ref.stdout.splitlines() if s.startswith("paper fix"))
    assert line.split(" (")[0] == ref_line.split(", equity")[0]
    assert line.split(", equity")[1] == ref_line.split(", equity")[1]
    fills, equity = _journal(cut / "state")
    ref_fills, ref_equity = _journal(whole / "state")
    assert len(fills) >= 4
    assert fills == ref_fills
    assert equity == ref_equity
    pd.testing.assert_frame_equal(_trades(cut), _trades(whole))
    # each order reached the exchange once
    sent = _new_orders(tmp_path / "cut-log")
    fresh = [cl for cl, dup in sent if not dup]
    assert fresh
    assert len(fresh) == len(set(fresh))
    assert sorted(fresh) == sorted(cl for cl, _ in _new_orders(tmp_path / "whole-log"))
    assert stats["orders"] == ref_stats["orders"] == len(set(fresh))
    assert stats["rejects"] == 0
    assert stats["logons"] == 3  # one per process: the same FIX session went on


def test_state_needs_the_driven_clock(feed: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        _cmd(feed, tmp_path, 9, "--fix-clock", "free"),
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0
    assert "needs the driven clock" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("other", ["--sender-comp-id=OTHER", "--bar-size=2min"])
def test_resume_as_another_fix_session_is_refused(feed: Path, tmp_path: Path, other: str) -> None:
    with _exchange(feed, tmp_path / "log") as x:
        first = subprocess.run(
            _cmd(feed, tmp_path, x.port, "--bars", "20", "--no-save-results"),
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert first.returncode == 0, first.stderr
        orders = x.stats["orders"]
        done = subprocess.run(
            _cmd(feed, tmp_path, x.port, other, "--no-save-results"),
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert x.stats["orders"] == orders  # nothing sent
    assert done.returncode != 0
    assert "holds another session" in done.stderr
    assert "Traceback" not in done.stderr


class Crash(BaseException):
    """The process dies here (listeners' ``Exception`` s are caught, this is not)."""


def _die(session: PaperSession) -> None:
    """What a SIGKILL leaves: the journal's open transaction lost, appended files kept, the
    FIX connection gone with the reports it had read and nobody took."""
    session.journal.db.close()  # uncommitted
    if session.journal._log_fd is not None:
        os.close(session.journal._log_fd)
    broker = session.broker
    assert isinstance(broker, FixBroker)
    ini = broker._ini
    live = ini.live if isinstance(ini, TailInitiator) else ini
    assert isinstance(live, LoggingInitiator)
    live.ini.logout(timeout=1.0)  # what it had read and nobody took is lost with it
    broker._ini = None
    if broker.log is not None:
        broker.log.close()


def _fix_session(book: Path, port: int, state: Path) -> PaperSession:
    return fix_session(
        book, MomentumStrategy(fast_period=3, slow_period=8), port=port, state_dir=state
    )


def test_crashes_inside_a_fill_resume_like_an_uninterrupted_run(feed: Path, tmp_path: Path) -> None:
    """In process, a crash at a fill, in the middle of a bar's FIX traffic (the engine has
    placed the stop and target, the bar's replay goes on): twice, then to the end."""
    with _exchange(feed, tmp_path / "whole-log") as x:
        whole = _fix_session(feed, x.port, tmp_path / "whole")
        whole.run()
        whole.close()
    with _exchange(feed, tmp_path / "cut-log") as x:
        resumed = []
        for nth in (3, 4):  # the 3rd fill of the first run, the 4th of the second
            session = _fix_session(feed, x.port, tmp_path / "cut")
            seen: list[int] = []

            def crash(event: Event, seen: list[int] = seen, nth: int = nth) -> None:
                if event.kind == "fill":
                    seen.append(event.bar)
                    if len(seen) == nth:
                        raise Crash(event.message)

            session.listeners.append(crash)
            with pytest.raises(Crash):
                session.run()
            resumed.append(session.resumed_from)
            _die(session)
        last = _fix_session(feed, x.port, tmp_path / "cut")
        last.run()
        broker = last.broker
        assert isinstance(broker, FixBroker)
        assert broker.resumed is not None
        assert broker.resumed.replayed > 0
        last.close()
        stats = dict(x.stats)
    assert resumed[0] == 0
    assert resumed[1] > 0
    fills, equity = _journal(tmp_path / "cut")
    ref_fills, ref_equity = _journal(tmp_path / "whole")
    assert len(fills) > 6
    assert fills == ref_fills
    assert equity == ref_equity
    fresh = [cl for cl, dup in _new_orders(tmp_path / "cut-log") if not dup]
    assert len(fresh) == len(set(fresh)) == stats["orders"]
    assert sorted(fresh) == sorted(cl for cl, _ in _new_orders(tmp_path / "whole-log"))
    assert stats["rejects"] == 0
