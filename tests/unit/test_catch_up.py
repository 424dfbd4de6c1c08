"""OrderManager.catch_up: a fill the broker took while the journal missed it (the session
died between the two, or the link was down) is applied before positions are compared."""

from __future__ import annotations

from workbench.execution import Journal, OrderManager, SimBroker
from workbench.execution.feeds import Bar
from workbench.model import OrderStatus

BAR = Bar(0, 0, 60, 70.0, 70.5, 69.5, 70.2, 10, "MCLZ4")
DROP = Bar(1, 60, 120, 70.2, 70.2, 68.0, 68.5, 10, "MCLZ4")  # through the stop


def test_missed_stop_fill_is_caught_up_and_journaled(tmp_path):
    broker = SimBroker(path=tmp_path / "account.sqlite")
    broker.connect()
    journal = Journal(tmp_path / "journal.sqlite")
    seen = []
    om = OrderManager(broker, journal, "t", lambda mo, f: seen.append(f))
    broker.on_bar_open(BAR)
    stop = om.submit(om.create_stop_order(2, 69.0, "MCLZ4"), "stop")
    assert stop.status is OrderStatus.WORKING
    broker.set_listeners(lambda *a: None, lambda *a: None)  # the session is gone...
    broker.on_bar(DROP)  # ...while the broker fills the stop
    assert broker.positions() == {"MCLZ4": -2}
    assert stop.status is OrderStatus.WORKING
    assert not seen
    caught = om.catch_up()
    assert caught == [stop]
    assert stop.status is OrderStatus.FILLED
    assert [f.quantity for f in seen] == [2]
    assert [f.order_ref for _, _, f in journal.fills()] == [stop.ref]
    assert om.catch_up() == []  # once
    assert om.reconcile_positions({"MCLZ4": -2}).ok
