"""workbench.book on handmade records: every action, priority rules, queries, refusals, and
replay() of a small DBN file written here (frame layout, every="record", errors)."""

from __future__ import annotations

from pathlib import Path

import databento_dbn as dbn
import numpy as np
import pandas as pd
import pytest

from workbench.book import (
    BookFileError,
    BookLevel,
    OrderBook,
    QueuePosition,
    RecordRefusedError,
    RestingOrder,
    TruncatedBookFileError,
    level_columns,
    replay,
)
from workbench.errors import ConfigError, WorkbenchError

LAST = 128
TICK = 10_000_000  # $0.01 in 1e-9 fixed point
P = 64 * 1_000_000_000  # $64.00


def px(ticks: int) -> int:
    return P + ticks * TICK


def add(book: OrderBook, oid: int, side: str, ticks: int, size: int, ts: int = 1) -> str:
    return book.apply_fields(
        ts_event=ts, order_id=oid, price=px(ticks), size=size, side=side, action="A", flags=LAST
    )


def act(book: OrderBook, action: str, oid: int, side: str, ticks: int, size: int) -> str:
    return book.apply_fields(
        ts_event=2, order_id=oid, price=px(ticks), size=size, side=side, action=action, flags=LAST
    )


@pytest.fixture
def book() -> OrderBook:
    b = OrderBook(instrument_id=7)
    add(b, 1, "B", 0, 5)
    add(b, 2, "B", 0, 3)
    add(b, 3, "B", -1, 4)
    add(b, 4, "A", 2, 6)
    add(b, 5, "A", 3, 1)
    return b


def test_queries(book: OrderBook) -> None:
    assert book.best_bid() == BookLevel(px(0), 8, 2)
    assert book.best_ask() == BookLevel(px(2), 6, 1)
    assert book.best_bid().px == pytest.approx(64.00)  # type: ignore[union-attr]
    assert book.spread() == 2 * TICK
    assert book.mid() == px(1)
    assert book.imbalance() == pytest.approx((8 - 6) / 14)
    assert book.imbalance(levels=2) == pytest.approx((12 - 7) / 19)
    bids, asks = book.depth(5)
    assert bids == [BookLevel(px(0), 8, 2), BookLevel(px(-1), 4, 1)]
    assert asks == [BookLevel(px(2), 6, 1), BookLevel(px(3), 1, 1)]
    assert book.orders_at(px(0)) == [RestingOrder(1, 5), RestingOrder(2, 3)]
    assert book.orders_at(px(3)) == [RestingOrder(5, 1)]
    assert book.orders_at(px(9)) == []
    assert book.queue_position(2) == QueuePosition(5, 1, 0, 0)
    assert book.queue_position(99) is None
    assert book.order(4) == ("A", px(2), 6)
    assert len(book) == 5
    assert book.level_count("B") == 2
    assert book.cross_state == "normal"
    book.validate()


def test_cancel_partial_then_full(book: OrderBook) -> None:
    assert act(book, "C", 1, "B", 0, 2) == "reduced"
    assert book.orders_at(px(0)) == [RestingOrder(1, 3), RestingOrder(2, 3)]  # keeps its place
    assert act(book, "C", 1, "B", 0, 3) == "cancelled"
    assert book.orders_at(px(0)) == [RestingOrder(2, 3)]
    assert act(book, "C", 2, "B", 0, 3) == "cancelled"
    assert book.best_bid() == BookLevel(px(-1), 4, 1)  # the empty level is gone


def test_modify_priority_rules(book: OrderBook) -> None:
    # size down at the same price: keeps its queue position
    assert act(book, "M", 1, "B", 0, 4) == "modified"
    assert book.orders_at(px(0)) == [RestingOrder(1, 4), RestingOrder(2, 3)]
    # size up: to the back of the level
    assert act(book, "M", 1, "B", 0, 9) == "modified_lost_priority"
    assert book.orders_at(px(0)) == [RestingOrder(2, 3), RestingOrder(1, 9)]
    assert book.queue_position(1) == QueuePosition(3, 1, 0, 0)
    # price change: to the back of the new level
    assert act(book, "M", 2, "B", -1, 3) == "modified_lost_priority"
    assert book.orders_at(px(-1)) == [RestingOrder(3, 4), RestingOrder(2, 3)]
    assert book.best_bid() == BookLevel(px(0), 9, 1)
    # modify to zero removes the order
    assert act(book, "M", 5, "A", 3, 0) == "cancelled"
    assert book.best_ask() is not None
    assert book.depth(10)[1] == [BookLevel(px(2), 6, 1)]
    book.validate()


def test_fill_trade_none_leave_book_and_clear_empties(book: OrderBook) -> None:
    before = book.depth(10)
    assert act(book, "F", 4, "A", 2, 6) == "unchanged"
    assert act(book, "T", 0, "N", 2, 6) == "unchanged"
    assert act(book, "N", 0, "N", 0, 0) == "unchanged"
    assert book.depth(10) == before
    assert act(book, "R", 0, "N", 0, 0) == "cleared"
    assert len(book) == 0
    assert book.best_bid() is None
    assert book.spread() is None
    assert book.mid() is None
    assert book.imbalance() is None


def test_crossed_book_is_kept_and_reported(book: OrderBook) -> None:
    add(book, 6, "B", 4, 1)
    assert book.cross_state == "crossed"
    assert book.spread() == -2 * TICK
    add(book, 7, "A", 4, 1)  # best ask now equals best bid? no: best ask is px(2)
    assert book.cross_state == "crossed"


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"order_id": 1, "side": "B", "action": "A", "size": 1}, "duplicate_order"),
        ({"order_id": 42, "side": "B", "action": "C", "size": 1}, "unknown_order"),
        ({"order_id": 43, "side": "N", "action": "A", "size": 1}, "invalid_side"),
        ({"order_id": 44, "side": "B", "action": "X", "size": 1}, "unknown_action"),
        ({"order_id": 45, "side": "B", "action": "A", "size": 0}, "zero_size"),
        ({"order_id": 4, "side": "B", "action": "M", "size": 6}, "side_changed"),
    ],
)
def test_refusals_leave_orders_unchanged(
    book: OrderBook, record: dict[str, object], reason: str
) -> None:
    before = (book.depth(10), len(book))
    with pytest.raises(RecordRefusedError) as err:
        book.apply_fields(ts_event=3, price=px(2), flags=LAST, **record)  # type: ignore[arg-type]
    assert err.value.reason == reason
    assert isinstance(err.value, WorkbenchError)
    assert (book.depth(10), len(book)) == before
    assert book.integrity["refused"] >= 1


def test_undefined_price_refused(book: OrderBook) -> None:
    with pytest.raises(RecordRefusedError, match="undefined price") as err:
        book.apply_fields(
            ts_event=3, order_id=50, price=2**63 - 1, size=1, side="B", action="A", flags=LAST
        )
    assert err.value.reason == "undefined_price"


def test_mid_session_policy(book: OrderBook) -> None:
    # a modify of an order the book never saw is an add; a cancel of one is refused, counted
    assert act(book, "M", 77, "A", 5, 2) == "modified_as_add"
    assert book.order(77) == ("A", px(5), 2)
    with pytest.raises(RecordRefusedError):
        act(book, "C", 78, "A", 5, 2)
    assert book.integrity["modify_as_add"] == 1
    assert book.integrity["unknown_cancels"] == 1


def test_bad_field_values_are_value_errors(book: OrderBook) -> None:
    with pytest.raises(ValueError, match="one character"):
        book.apply_fields(ts_event=1, order_id=9, price=P, size=1, side="BID", action="A")
    with pytest.raises(ValueError, match="out of range"):
        book.apply_fields(ts_event=1, order_id=9, price=P, size=-1, side="B", action="A")


def mbo(
    ts: int, oid: int, action: str, side: str, ticks: int, size: int, flags: int = LAST
) -> dbn.MBOMsg:
    return dbn.MBOMsg(
        publisher_id=1,
        instrument_id=7,
        ts_event=ts,
        order_id=oid,
        price=px(ticks) if action != "R" else 2**63 - 1,
        size=size,
        action=dbn.Action(action),
        side=dbn.Side(side),
        ts_recv=ts + 10,
        flags=flags,
        sequence=ts,
    )


def test_apply_databento_records_and_bytes() -> None:
    book = OrderBook(7)
    assert book.apply(mbo(1, 1, "A", "B", 0, 2)) == "added"
    assert book.apply(bytes(mbo(2, 2, "A", "A", 1, 3))) == "added"
    assert book.ts_event == 2
    assert (book.best_bid(), book.best_ask()) == (BookLevel(px(0), 2, 1), BookLevel(px(1), 3, 1))
    with pytest.raises(ValueError, match="56 bytes"):
        book.apply(b"\x00" * 10)
    trade = dbn.TradeMsg(
        publisher_id=1, instrument_id=7, ts_event=3, price=P, size=1,
        action=dbn.Action.TRADE,  # type: ignore[arg-type]  # the stubs type the enums as str
        side=dbn.Side.ASK,  # type: ignore[arg-type]
        depth=0, ts_recv=3, sequence=3,
    )  # fmt: skip
    with pytest.raises(ValueError, match=r"not MBO|bytes"):
        book.apply(trade)


def write_dbn(path: Path, records: list[dbn.MBOMsg]) -> Path:
    meta = dbn.Metadata(
        dataset="GLBX.MDP3",
        schema=dbn.Schema.MBO,  # type: ignore[arg-type]  # the stubs type the enums as str
        start=0,
        stype_in=dbn.SType.RAW_SYMBOL,  # type: ignore[arg-type]
        stype_out=dbn.SType.INSTRUMENT_ID,  # type: ignore[arg-type]
        symbols=[],
        partial=[],
        not_found=[],
        mappings=[],
    )
    path.write_bytes(meta.encode() + b"".join(bytes(r) for r in records))
    return path


RECORDS = [
    mbo(10, 1, "A", "B", 0, 2, flags=0),  # one event of two records
    mbo(10, 2, "A", "A", 2, 5),
    mbo(20, 3, "A", "B", 0, 1),
    mbo(30, 1, "C", "B", 0, 2),
    mbo(40, 2, "F", "A", 2, 1, flags=0),
    mbo(40, 2, "M", "A", 2, 4),
]


def test_replay_frame_layout(tmp_path: Path) -> None:
    frame = replay(write_dbn(tmp_path / "x.dbn", RECORDS), depth=2)
    assert list(frame.columns) == ["instrument_id", "sequence", "flags", *level_columns(2)]
    assert level_columns(1) == ["bid_px_00", "ask_px_00", "bid_sz_00", "ask_sz_00", "bid_ct_00",
                                "ask_ct_00"]  # fmt: skip
    assert str(frame.index.tz) == "UTC"
    assert frame.index.name == "ts_event"
    assert list(frame.index.asi8) == [10, 20, 30, 40]  # event boundaries only
    assert frame["bid_px_00"].tolist() == [64.0, 64.0, 64.0, 64.0]
    assert frame["bid_sz_00"].tolist() == [2, 3, 1, 1]
    assert frame["bid_ct_00"].tolist() == [1, 2, 1, 1]
    assert frame["ask_px_00"].tolist() == [64.02] * 4
    assert frame["ask_sz_00"].tolist() == [5, 5, 5, 4]
    assert frame["bid_px_01"].isna().all()
    assert (frame["bid_sz_01"] == 0).all()
    assert frame["bid_px_00"].dtype == np.float64
    assert frame["bid_sz_00"].dtype == np.uint32
    assert (frame["instrument_id"] == 7).all()
    stats = frame.attrs["replay"]
    assert stats["records"] == 6
    assert stats["event_boundaries"] == 4
    assert stats["actions"]["F"] == 1


def test_replay_every_record_and_instrument_filter(tmp_path: Path) -> None:
    path = write_dbn(tmp_path / "x.dbn", RECORDS)
    every = replay(path, every="record")
    assert len(every) == len(RECORDS)
    assert every["bid_sz_00"].iloc[0] == 2
    assert pd.isna(every["ask_px_00"].iloc[0])  # first record alone: no ask yet
    assert replay(path, instrument_id=8).empty


def test_replay_errors(tmp_path: Path) -> None:
    with pytest.raises(BookFileError, match="no DBN file") as err:
        replay(tmp_path / "missing.dbn")
    assert err.value.path.endswith("missing.dbn")
    text = tmp_path / "notes.txt"
    text.write_text("not a DBN file at all\n" * 10)
    with pytest.raises(BookFileError, match="not a readable DBN file") as err:
        replay(text)
    assert "notes.txt" in str(err.value)
    whole = write_dbn(tmp_path / "cut.dbn", RECORDS).read_bytes()
    cut = tmp_path / "cut.dbn"
    cut.write_bytes(whole[:-20])
    with pytest.raises(TruncatedBookFileError, match=r"cut\.dbn"):
        replay(cut)
    with pytest.raises(ConfigError, match="every"):
        replay(cut, every="tick")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="depth"):
        replay(cut, depth=11)
