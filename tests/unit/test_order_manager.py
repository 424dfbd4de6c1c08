"""OrderManager: the life cycle, journal-first sending, adoption by orderRef, reconciliation."""

from __future__ import annotations

import pytest

from workbench.execution import Journal, OrderManager, SimBroker
from workbench.execution.feeds import Bar
from workbench.execution.orders import OrderStateError
from workbench.model import OrderStatus, Side

BAR = Bar(0, 0, 60, 70.0, 70.5, 69.5, 70.2, 10, "MCLZ4")


def _manager(tmp_path, broker=None):
    broker = broker or SimBroker(path=tmp_path / "account.sqlite")
    broker.connect()
    journal = Journal(tmp_path / "journal.sqlite")
    fills = []
    om = OrderManager(broker, journal, "t", lambda mo, f: fills.append(f))
    return om, broker, journal, fills


def test_market_order_life_cycle_and_journal_first(tmp_path):
    om, broker, journal, fills = _manager(tmp_path)
    broker.on_bar_open(BAR)
    mo = om.submit(om.create_entry_order(Side.BUY, 2, "MCLZ4"), "entry")
    assert mo.status is OrderStatus.FILLED
    assert mo.perm_id > 0
    assert fills[0].price == pytest.approx(70.01)  # open + 1 tick
    assert journal.orders()[mo.ref].status is OrderStatus.FILLED
    assert broker.positions() == {"MCLZ4": 2}


def test_illegal_transition_refused(tmp_path):
    om, broker, _, _ = _manager(tmp_path)
    broker.on_bar_open(BAR)
    mo = om.submit(om.create_stop_order(2, 69.0, "MCLZ4"), "stop")
    assert mo.status is OrderStatus.WORKING
    om.cancel(mo.ref)
    assert mo.status is OrderStatus.CANCELLED
    mo.status = OrderStatus.PENDING
    om._set_status(mo, OrderStatus.WORKING)
    mo.status = OrderStatus.PARTIALLY_FILLED
    with pytest.raises(OrderStateError):
        om._set_status(mo, OrderStatus.WORKING)


def test_unacknowledged_intent_is_adopted_not_resent(tmp_path):
    om, broker, journal, _ = _manager(tmp_path)
    broker.on_bar_open(BAR)
    om.submit(om.create_entry_order(Side.SELL, 1, "MCLZ4"), "entry")
    # a restart: same journal and account, the intent already at the broker
    journal.close()
    broker.close()
    om2, broker2, _, _ = _manager(tmp_path)
    om2.replay_until = 0
    broker2.on_bar_open(BAR)
    mo = om2.submit(om2.create_entry_order(Side.SELL, 1, "MCLZ4"), "entry")
    assert om2.sent == 0
    assert om2.adopted == 1
    assert mo.status is OrderStatus.FILLED
    assert broker2.positions() == {"MCLZ4": -1}  # not -2


def test_reconcile_reports_a_difference_and_the_decision(tmp_path):
    om, broker, journal, _ = _manager(tmp_path)
    broker.on_bar_open(BAR)
    om.submit(om.create_entry_order(Side.BUY, 3, "MCLZ4"), "entry")
    assert om.reconcile_positions({"MCLZ4": 3}).ok
    decision = om.reconcile_positions({"MCLZ4": 1})
    assert decision.differences == {"MCLZ4": (1, 3)}
    assert decision.action == "halt"
    assert journal.alerts()[-1][1] == "position_mismatch"
