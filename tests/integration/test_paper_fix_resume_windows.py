"""Crash windows of a resumed ``fix`` session (in process, as
``test_crashes_inside_a_fill_resume_like_an_uninterrupted_run``): the process dies right
after logging a request and before sending it, then again while the resumed session resyncs
(after the request has been sent again, before any answer is logged). The third run must not
send the request a third time: the exchange resends the second run's resync barrier answer
too, which must not end the third run's barrier early.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_paper_fix import Relay
from tests.integration.test_paper_fix import feed as feed  # the module's MBO file fixture
from tests.integration.test_paper_fix_resume import (
    Crash,
    _die,
    _exchange,
    _fix_session,
    _journal,
    _new_orders,
)
from workbench.execution.brokers.exchange_log import ExchangeLog
from workbench.execution.brokers.fix import FixBroker

Entry = dict[str, Any]


def _crash_after_logging(
    monkeypatch: pytest.MonkeyPatch, when: Callable[[Entry], bool]
) -> list[Entry]:
    """The process dies right after the log line ``when`` picks is written (a fault, not a
    stand-in for the log). Returns the lines written, in order."""
    written: list[Entry] = []
    append = ExchangeLog.append

    def dying(self: ExchangeLog, entry: Entry) -> None:
        append(self, entry)
        written.append(entry)
        if when(entry):
            raise Crash(str(entry))

    monkeypatch.setattr(ExchangeLog, "append", dying)
    return written


def _assert_as_uninterrupted(tmp_path: Path, stats: dict[str, int]) -> None:
    """The cut run ("cut", its exchange log "cut-log") sent each order once, the same orders
    as the whole run ("whole", "whole-log"), none refused, and journaled the same fills."""
    fresh = [cl for cl, dup in _new_orders(tmp_path / "cut-log") if not dup]
    assert len(fresh) == len(set(fresh)), sorted(fresh)
    assert sorted(fresh) == sorted(cl for cl, _ in _new_orders(tmp_path / "whole-log"))
    assert stats["rejects"] == 0
    fills, _ = _journal(tmp_path / "cut")
    ref_fills, _ = _journal(tmp_path / "whole")
    assert fills == ref_fills


def test_a_request_resent_by_a_resync_that_dies_is_not_sent_a_third_time(
    feed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _exchange(feed, tmp_path / "whole-log") as x:
        whole = _fix_session(feed, x.port, tmp_path / "whole")
        whole.run()
        whole.close()
    with _exchange(feed, tmp_path / "cut-log") as x:
        orders = 0

        def third_order(e: Entry) -> bool:  # logged, never sent
            nonlocal orders
            orders += e["k"] == "Q" and e["m"] == "new_order"
            return orders == 3 and e["k"] == "Q" and e["m"] == "new_order"

        def in_resync(e: Entry) -> bool:  # the order sent again, an open order asked for
            return e["k"] == "Q" and bool(e.get("x")) and e["m"] == "order_status"

        for when in (third_order, in_resync):
            with monkeypatch.context() as patch:
                written = _crash_after_logging(patch, when)
                session = _fix_session(feed, x.port, tmp_path / "cut")
                with pytest.raises(Crash):
                    session.run()
                _die(session)
            assert written[-1]["k"] == "Q"
            if when is in_resync:  # the request was sent again before the crash
                assert any(e.get("x") and e["m"] == "new_order" for e in written)
                assert session.broker.orders_sent == 1  # counted, though sent by the resync
            else:
                assert written[-1]["m"] == "new_order"
        last = _fix_session(feed, x.port, tmp_path / "cut")
        last.run()
        last.close()
        stats = dict(x.stats)
    _assert_as_uninterrupted(tmp_path, stats)


def test_a_dropped_connection_then_a_kill_in_the_same_bar_resumes(
    feed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The link drops mid-position (the broker logs on again and reconciles its open orders
    by OrderStatusRequest), then the process dies before that bar is committed: the resume
    redoes the bar against a log that holds the reconnect's requests too."""
    with _exchange(feed, tmp_path / "whole-log") as x:
        whole = _fix_session(feed, x.port, tmp_path / "whole")
        whole.run()
        whole.close()
    with _exchange(feed, tmp_path / "cut-log") as x:
        relay = Relay(x.port)
        reconciled = False

        def after_reconcile(e: Entry) -> bool:  # the first report after the reconcile
            nonlocal reconciled
            reconciled = reconciled or (e["k"] == "Q" and e["m"] == "order_status")
            return reconciled and e["k"] == "R"

        with monkeypatch.context() as patch:
            _crash_after_logging(patch, after_reconcile)
            session = _fix_session(feed, relay.port, tmp_path / "cut")

            def drop(eng: object) -> None:
                if session.engine.position_qty and relay.cuts < 1:
                    relay.cut()

            session.on_bar(drop)
            with pytest.raises(Crash):
                session.run()
            assert isinstance(session.broker, FixBroker)
            assert session.broker.connections == 2
            _die(session)
        last = _fix_session(feed, relay.port, tmp_path / "cut")
        last.run()
        last.close()
        relay.close()
        stats = dict(x.stats)
    _assert_as_uninterrupted(tmp_path, stats)


def test_a_torn_last_line_of_the_session_log_is_left_out(
    feed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kill in the middle of a log line's write: the resume takes the complete lines."""
    with _exchange(feed, tmp_path / "whole-log") as x:
        whole = _fix_session(feed, x.port, tmp_path / "whole")
        whole.run()
        whole.close()
    with _exchange(feed, tmp_path / "cut-log") as x:
        orders = 0

        def second_order(e: Entry) -> bool:
            nonlocal orders
            orders += e["k"] == "Q" and e["m"] == "new_order"
            return orders == 2 and e["k"] == "Q" and e["m"] == "new_order"

        with monkeypatch.context() as patch:
            _crash_after_logging(patch, second_order)
            session = _fix_session(feed, x.port, tmp_path / "cut")
            with pytest.raises(Crash):
                session.run()
            _die(session)
        with open(tmp_path / "cut" / "fix.log", "ab") as fh:
            fh.write(b'{"k":"R","kind":"fill","seq_num":9')  # the write the kill cut short
        last = _fix_session(feed, x.port, tmp_path / "cut")
        last.run()
        last.close()
    assert b'"seq_num":9{' not in (tmp_path / "cut" / "fix.log").read_bytes()
    fills, _ = _journal(tmp_path / "cut")
    ref_fills, _ = _journal(tmp_path / "whole")
    assert fills == ref_fills
