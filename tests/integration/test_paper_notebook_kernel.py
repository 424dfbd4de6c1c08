"""Paper sessions started from a notebook, in real Jupyter kernels, as a quant runs them.

The cell is notebook 06's: a :class:`PaperSession` with a state folder, started in its own
thread, the notebook waiting on ``session.join()``. What the user does to it here: interrupts
the cell (the session must stop, not run on behind the notebook, and the same cell run again
resumes it), kills the kernel (a new kernel resumes), starts the same session in a second
kernel while the first runs (refused: one session per state folder), and gives bad inputs
(one-line errors, not a traceback). Each time the broker's fills and the journal's are those
of an uninterrupted run: no order reached the broker twice.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest

from tests.integration.kernels import Kernel
from tests.integration.test_paper_ib import SUB, feed_of, subscribed
from workbench.adapters.ib import GatewayConfig, SimulatedGateway
from workbench.data import load_bars
from workbench.execution import PaperSession
from workbench.strategies import strategy_class

pytestmark = pytest.mark.slow

STRATEGY, PARAMS = "ema_crossover", {"fast_period": 5, "slow_period": 20}
START, END, BARS = "2024-01-08", "2024-02-23", 1500
#: Replay speed of the session that is interrupted: a 1-minute bar each 50 ms.
SLOW = 1200

SETUP = """
from workbench.data import load_bars
from workbench.execution import PaperSession
from workbench.strategies import strategy_class
from workbench.visualization.paper_monitor import PaperMonitor

frame = load_bars("MCL_FUT", start={start!r}, end={end!r}, data_dir={data!r})
"""

#: Notebook 06's session cell, with a state folder and the batch wait.
SESSION = """
session = PaperSession(
    frame,
    strategy_class({strategy!r}).from_parameters({params!r}),
    speed={speed},
    max_bars={bars},
    state_dir={state!r},
)
if session.resumed_from:
    print(f"resuming: {{session.resumed_from:,}} bars replayed from the journal")
monitor = PaperMonitor(session, refresh=0.0)
session.start()
display(monitor.widget)
{wait}
"""


def session_cell(state: Path, speed: float, *, wait: bool = True) -> str:
    return SESSION.format(
        strategy=STRATEGY,
        params=PARAMS,
        speed=speed,
        bars=BARS,
        state=str(state),
        wait="session.join()\nprint('done', session.status())" if wait else "",
    )


def wait_for(cond: Callable[[], bool], what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def bars_done(state: Path) -> int:
    """The journal's committed bars, read as another process would (read-only)."""
    path = state / "journal.sqlite"
    if not path.exists():
        return 0
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        try:
            row = db.execute("SELECT value FROM meta WHERE key = 'bars_done'").fetchone()
        except sqlite3.OperationalError:  # the schema is not written yet
            return 0
    return 0 if row is None else int(row[0])


def fills(state: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """The fills the broker (the sim account) and the journal hold, in order."""
    with sqlite3.connect(state / "sim_account.sqlite") as db:
        broker = db.execute(
            "SELECT order_ref, time, side, quantity, price FROM fills ORDER BY seq"
        ).fetchall()
    with sqlite3.connect(state / "journal.sqlite") as db:
        journal = db.execute(
            "SELECT order_ref, bar, time, side, quantity, price FROM fills ORDER BY seq"
        ).fetchall()
    return broker, journal


def one_line(out: object) -> str:
    """The error a cell showed, asserting it is the message alone (no traceback wall)."""
    traceback = getattr(out, "traceback", [])
    assert len(traceback) == 1, "\n".join(traceback)
    return str(traceback[0])


@pytest.fixture(scope="module")
def frame(small_sample: Path) -> pd.DataFrame:
    return load_bars("MCL_FUT", start=START, end=END, data_dir=str(small_sample))


@pytest.fixture(scope="module")
def uninterrupted(frame: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The state folder of the same session run to its end in one go."""
    state = tmp_path_factory.mktemp("uninterrupted")
    strategy = strategy_class(STRATEGY).from_parameters(PARAMS)
    session = PaperSession(frame, strategy, max_bars=BARS, state_dir=state)
    session.run()
    session.close()
    return state


@pytest.fixture
def kernels(small_sample: Path) -> Iterator[Callable[[], Kernel]]:
    """Start kernels (the frame loaded in each); all shut down at the end."""
    started: list[Kernel] = []

    def start() -> Kernel:
        k = Kernel()
        started.append(k)
        setup = k.run(SETUP.format(start=START, end=END, data=str(small_sample)))
        assert setup.ename is None, setup.traceback
        return k

    yield start
    for k in started:
        k.close()


def test_interrupting_the_cell_stops_the_session_and_running_it_again_resumes(
    kernels: Callable[[], Kernel], uninterrupted: Path, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    k = kernels()
    cell = k.send(session_cell(state, SLOW))
    wait_for(lambda: bars_done(state) >= 100, "the session to commit 100 bars")
    k.interrupt()
    out = k.collect(cell)
    assert out.ename == "SessionInterrupted"
    message = one_line(out)
    assert "interrupted: the session stopped after bar" in message
    assert str(state) in message
    assert "resume" in message
    # stopped, not running on behind the notebook's back
    after = k.run("print(session.finished.is_set(), session.status()['bars'])")
    finished, stopped_at = after.stdout.split()
    assert finished == "True"
    assert 100 <= int(stopped_at) < BARS
    assert bars_done(state) == int(stopped_at)

    again = k.run(session_cell(state, 0))  # the same cell, at full speed this time
    assert again.ename is None, again.traceback
    assert f"resuming: {int(stopped_at):,} bars replayed from the journal" in again.stdout
    assert f"'bars': {BARS}" in again.stdout
    assert ["application/vnd.jupyter.widget-view+json", "text/plain"] in again.displayed
    assert fills(state) == fills(uninterrupted)


def test_a_killed_kernel_resumes_in_a_new_one(
    kernels: Callable[[], Kernel], uninterrupted: Path, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    first = kernels()
    first.send(session_cell(state, SLOW))
    wait_for(lambda: bars_done(state) >= 100, "the session to commit 100 bars")
    first.kill()
    second = kernels()
    out = second.run(session_cell(state, 0))
    assert out.ename is None, out.traceback
    assert "resuming: " in out.stdout
    assert f"'bars': {BARS}" in out.stdout
    assert fills(state) == fills(uninterrupted)


def test_a_second_session_on_the_same_state_folder_is_refused(
    kernels: Callable[[], Kernel], uninterrupted: Path, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    first = kernels()
    started = first.run(session_cell(state, SLOW, wait=False))  # watched live, not waited on
    assert started.ename is None, started.traceback
    wait_for(lambda: bars_done(state) >= 50, "the session to commit 50 bars")

    second = kernels()
    out = second.run(session_cell(state, 0))
    assert out.ename == "StateFolderInUse"
    message = one_line(out)
    assert str(state) in message
    assert f"process {first.pid}" in message
    # the same cell run again in the first kernel, its session still running: refused too
    again = first.run(session_cell(state, 0))
    assert again.ename == "StateFolderInUse"
    assert "this process (this kernel)" in one_line(again)

    done = first.run("session.join()\nprint('done', session.status())")
    assert done.ename is None, done.traceback
    assert f"'bars': {BARS}" in done.stdout
    assert fills(state) == fills(uninterrupted)  # nothing written by the refused sessions
    # ended: the folder is free, and the second kernel resumes (nothing left to do)
    last = second.run(session_cell(state, 0))
    assert last.ename is None, last.traceback
    assert f"resuming: {BARS:,} bars" in last.stdout
    assert fills(state) == fills(uninterrupted)


BAD_INPUTS = {
    "unknown strategy": (
        'strategy_class("ema_cross")',
        "ConfigError: unknown strategy 'ema_cross'",
    ),
    "unknown parameter": (
        'strategy_class("ema_crossover").from_parameters({"fast": 3})',
        "unknown parameter(s) fast",
    ),
    "missing book file": (
        "from workbench.execution.brokers.sim_l3 import l3_session\n"
        'l3_session("nowhere/CLX5_mbo.dbn", strategy_class("ema_crossover")())',
        "no DBN file at nowhere/CLX5_mbo.dbn",
    ),
    "live port": (
        "from workbench.adapters.ib import IBClient\n"
        "from workbench.adapters.ib.broker import IBBroker\n"
        "ib = IBBroker(IBClient(port=4001, timeout=2))\n"
        'live = PaperSession(None, strategy_class("ema_crossover")(), broker=ib, feed=ib)\n'
        "live.start()\n"
        "live.join()",
        "LiveTradingRefused: port 4001 is a live trading port",
    ),
    "gateway not running": (
        "import socket\n"
        "from workbench.adapters.ib import IBClient\n"
        "from workbench.adapters.ib.broker import IBBroker\n"
        "with socket.socket() as free:\n"
        "    free.bind(('127.0.0.1', 0))\n"
        "    port = free.getsockname()[1]\n"
        "ib = IBBroker(IBClient(port=port, timeout=2))\n"
        'live = PaperSession(None, strategy_class("ema_crossover")(), broker=ib, feed=ib)\n'
        "live.start()\n"
        "live.join()",
        "GatewayUnreachable: no IB API at 127.0.0.1:",
    ),
    "missing catalog": (
        'load_bars("MCL_FUT", data_dir="nowhere")',
        "DataError: no ohlcv-1m data for MCL_FUT in ",
    ),
}


@pytest.fixture(scope="module")
def kernel(small_sample: Path) -> Iterator[Kernel]:
    k = Kernel()
    setup = k.run(SETUP.format(start=START, end=END, data=str(small_sample)))
    assert setup.ename is None, setup.traceback
    yield k
    k.close()


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_inputs_read_as_one_message(kernel: Kernel, case: str) -> None:
    code, expected = BAD_INPUTS[case]
    out = kernel.run(code)
    assert out.ename is not None
    message = one_line(out)
    assert expected in message
    assert "hint: " in message


IB_SESSION = """
from workbench.adapters.ib import IBClient
from workbench.adapters.ib.broker import IBBroker

ib = IBBroker(IBClient(port={port}, client_id=21, timeout=5), warm_up_bars=0)
session = PaperSession(
    None,
    strategy_class({strategy!r}).from_parameters({params!r}),
    broker=ib,
    feed=ib,
    state_dir={state!r},
)
if session.resumed_from:
    print(f"resuming: {{session.resumed_from:,}} bars replayed from the journal")
monitor = PaperMonitor(session, refresh=0.0)
session.start()
display(monitor.widget)
"""


def test_an_ib_session_from_a_notebook_stops_at_once_and_resumes(
    kernel: Kernel, frame: pd.DataFrame, tmp_path: Path
) -> None:
    """Against the simulated IB Gateway (its market moves only when stepped here): Stop ends
    the live session without waiting for the next bar; the same cell resumes it; an
    interrupted wait stops it too; every order reached the gateway once."""
    state, minutes = tmp_path / "ib", 40
    cell = IB_SESSION.format(port=0, strategy=STRATEGY, params=PARAMS, state=str(state))
    with SimulatedGateway(feed_of(frame.iloc[:200]), GatewayConfig(port=0)) as gw:
        cell = cell.replace("port=0", f"port={gw.port}")
        out = kernel.run(cell)
        assert out.ename is None, out.traceback
        assert ["application/vnd.jupyter.widget-view+json", "text/plain"] in out.displayed
        wait_for(lambda: subscribed(gw), "the session to subscribe")
        for minute in range(minutes):
            gw.step(SUB)
            wait_for(lambda m=minute: bars_done(state) > m, f"bar {minute}")
        stopped = kernel.run("session.stop()\nsession.join(30)\nprint(session.finished.is_set())")
        assert stopped.stdout.split() == ["True"], stopped.traceback

        again = kernel.run(cell)  # the same cell: the session resumes on the same account
        assert again.ename is None, again.traceback
        assert f"resuming: {minutes:,} bars replayed from the journal" in again.stdout
        wait_for(lambda: subscribed(gw), "the resumed session to subscribe")
        for minute in range(minutes, minutes + 20):
            gw.step(SUB)
            wait_for(lambda m=minute: bars_done(state) > m, f"bar {minute}")
        waiting = kernel.send("print('waiting', flush=True)\nsession.join()")
        kernel.collect(waiting, until="waiting")  # the cell is in join(): interrupt it there
        kernel.interrupt()
        interrupted = kernel.collect(waiting, timeout=60)
        assert interrupted.ename == "SessionInterrupted"
        assert "interrupted: the session stopped after bar" in one_line(interrupted)
        refs = [o.order_ref for o in gw.orders()]
    assert refs  # the strategy traded
    assert len(refs) == len(set(refs))
    with sqlite3.connect(state / "journal.sqlite") as db:
        journaled = {r for (r,) in db.execute("SELECT order_ref FROM orders")}
    assert journaled == set(refs)


def test_the_kill_switch_of_an_ib_session_flattens_at_once(
    kernel: Kernel, frame: pd.DataFrame, tmp_path: Path
) -> None:
    """The Kill button on a live session whose market is quiet: the flatten goes out now,
    not at the feed's next bar, and the session ends."""
    state = tmp_path / "ib-kill"
    cell = IB_SESSION.format(port=0, strategy=STRATEGY, params=PARAMS, state=str(state))
    with SimulatedGateway(feed_of(frame.iloc[:200]), GatewayConfig(port=0)) as gw:
        out = kernel.run(cell.replace("port=0", f"port={gw.port}"))
        assert out.ename is None, out.traceback
        wait_for(lambda: subscribed(gw), "the session to subscribe")
        minute = 0
        while not gw.positions():  # until the strategy holds a position
            assert minute < 150, "the strategy never entered"
            gw.step(SUB)
            wait_for(lambda m=minute: bars_done(state) > m, f"bar {minute}")
            minute += 1
        sent = len(gw.orders())
        killed = kernel.run(
            "monitor.kill_button.click()\nsession.join(30)\nprint(session.finished.is_set())"
        )
        assert killed.stdout.split() == ["True"], killed.traceback
        flatten = gw.orders()[sent:]
        assert len(flatten) == 1  # the market order that closes the position, sent at once
        assert flatten[0].order_type == "MKT"
        gw.step(SUB)  # the market moves: the flatten fills
        wait_for(lambda: not gw.positions(), "the position to be closed")


def test_stop_between_bars_keeps_the_position_and_resumes_like_an_uninterrupted_run(
    frame: pd.DataFrame, uninterrupted: Path, tmp_path: Path
) -> None:
    """stop() ends the feed: the loop must not take that for the end of the bars and flatten
    (it did when the feed ran out before the loop saw the stop: a notebook interrupt's race,
    after which the resumed session halted on a position mismatch)."""
    state = tmp_path / "state"
    strategy = strategy_class(STRATEGY).from_parameters(PARAMS)
    session = PaperSession(frame, strategy, max_bars=BARS, state_dir=state)

    def stop_in_a_position(eng: object) -> None:
        if session.status()["position"] != 0 and session.status()["bars"] >= 100:
            session.stop()

    session.callbacks.append(stop_in_a_position)
    session.run()
    stopped = session.status()
    session.close()
    assert 100 <= stopped["bars"] < BARS
    assert stopped["position"] != 0  # kept, not flattened as at the end of the bars
    again = PaperSession(frame, strategy, max_bars=BARS, state_dir=state)
    again.run()
    assert again.status()["bars"] == BARS
    assert not again.status()["halted_reason"]
    again.close()
    assert fills(state) == fills(uninterrupted)
