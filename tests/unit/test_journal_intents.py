"""The journal's intent log: an intent written before acting survives a process that dies
before the intent's row is committed; the log empties once the table has every intent."""

from __future__ import annotations

import os

from workbench.execution import Journal
from workbench.model import OrderStatus

BODY = {
    "symbol": "MCLZ4",
    "side": -1,
    "quantity": 2,
    "type": "stop",
    "stop": 69.5,
    "limit": None,
    "oca": "oca-t-7-5",
    "expected_price": 69.5,
}


def _die(journal: Journal) -> None:
    """What SIGKILL leaves: no commit, descriptors gone."""
    assert journal._log_fd is not None
    os.close(journal._log_fd)
    journal.db.close()


def test_intent_logged_before_acting_is_recovered(tmp_path):
    path = tmp_path / "journal.sqlite"
    j = Journal(path)
    j.log_intent("s-0000001", 7, "entry", BODY)
    j.record_order("s-0000001", 7, "entry", BODY, OrderStatus.PENDING)  # not committed
    j.log_intent("s-0000002", 7, "stop", BODY)  # the broker may or may not have it
    with open(f"{path}.intents", "a", encoding="utf-8") as fh:
        fh.write("s-0000009\t7\tstop\tMCL")  # a torn last line: ignored
    _die(j)
    again = Journal(path)
    orders = again.orders()
    assert set(orders) == {"s-0000001", "s-0000002"}
    assert orders["s-0000002"].status is OrderStatus.PENDING
    assert orders["s-0000002"].bar == 7
    assert orders["s-0000002"].body == BODY
    again.close()


def test_log_emptied_when_the_table_has_every_intent(tmp_path):
    path = tmp_path / "journal.sqlite"
    j = Journal(path)
    j.log_intent("s-0000001", 1, "entry", BODY)
    j.update_order("s-0000001", OrderStatus.FILLED, 42, 2)  # the broker answered first
    j.record_order("s-0000001", 1, "entry", BODY, OrderStatus.PENDING)
    j._logged = 1 << 21  # as if past the size at which the log is emptied
    j.commit()
    assert os.path.getsize(f"{path}.intents") == 0
    row = j.orders()["s-0000001"]
    assert (row.status, row.perm_id, row.filled, row.purpose) == (
        OrderStatus.FILLED,
        42,
        2,
        "entry",
    )
    j.close()
