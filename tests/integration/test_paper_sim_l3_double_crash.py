"""A ``sim-l3`` session that crashes twice on the bar of a rejected order resumes without
journaling a fill twice (before the fix the bar's rejection committed its fills and a
body-less order row mid-bar: the resume failed reading it, or journaled the fills again).

The exchange here has a 5-cent tick, so most protective stops the engine prices in cents are
off-tick and rejected, on the bar whose entry filled. A crash is the process dying: the
journal's open transaction is lost (its connection closed uncommitted), every ``write(2)``
(the intent log, the exchange log) is kept. It is injected by an event listener raising a
``BaseException`` (listeners' ``Exception`` s are caught) right after a rejection.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from tests.integration.test_paper_sim_l3_resume import _walk_records
from tests.unit.test_sim_exchange import write_dbn
from workbench.backtest.config import BacktestConfig
from workbench.book import ExchangeConfig, fixed
from workbench.execution.brokers.sim_l3 import L3SimBroker, l3_session
from workbench.execution.events import Event
from workbench.execution.session import PaperSession
from workbench.strategies.momentum import MomentumStrategy


class Crash(BaseException):
    """The process dies here."""


def _session(book: Path, state: Path) -> PaperSession:
    fee = fixed(BacktestConfig().commission_per_contract)
    return l3_session(
        book,
        MomentumStrategy(fast_period=3, slow_period=8),
        BacktestConfig(),
        exchange_config=ExchangeConfig(tick=fixed(0.05), maker_fee=fee, taker_fee=fee),
        state_dir=state,
    )


def _die(session: PaperSession) -> None:
    """What a SIGKILL leaves: uncommitted rows lost, appended files kept."""
    session.journal.db.close()  # closes the open transaction uncommitted
    if session.journal._log_fd is not None:
        os.close(session.journal._log_fd)
    assert isinstance(session.broker, L3SimBroker)
    session.broker.close()


def _journal(state: Path) -> tuple[list[tuple], list[tuple]]:
    with sqlite3.connect(state / "journal.sqlite") as db:
        fills = db.execute(
            "SELECT order_ref, bar, time, side, quantity, price, commission FROM fills ORDER BY seq"
        ).fetchall()
        equity = db.execute("SELECT bar, equity, position FROM equity ORDER BY bar").fetchall()
    return fills, equity


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dbn(tmp_path_factory.mktemp("book") / "walk.mbo.dbn", _walk_records(150, 7))


def test_two_crashes_on_a_rejected_orders_bar_journal_each_fill_once(
    book: Path, tmp_path: Path
) -> None:
    whole = _session(book, tmp_path / "whole")
    whole.run()
    rejects = [a for a in whole.journal.alerts() if a[1] == "order_rejected"]
    whole.close()
    assert len(rejects) >= 2, "the test needs rejected orders"
    crash_bar = rejects[1][0]  # a bar after some were committed: the crashes resume

    state = tmp_path / "cut"
    crashes = []
    for _ in range(2):
        session = _session(book, state)

        def crash(event: Event) -> None:
            if event.kind == "reject" and event.bar == crash_bar:
                raise Crash(event.message)

        session.listeners.append(crash)
        with pytest.raises(Crash):
            session.run()
        crashes.append(session.resumed_from)
        _die(session)
    assert crashes[0] == 0
    assert 0 < crashes[1] <= crash_bar  # resumed, then crashed on that bar again
    last = _session(book, state)
    last.run()
    last.close()
    fills, equity = _journal(state)
    ref_fills, ref_equity = _journal(tmp_path / "whole")
    assert len(fills) == len({f[:2] + f[2:3] for f in fills})  # no fill twice
    assert fills == ref_fills
    assert equity == ref_equity
