"""workbench.visualization.book_charts: the book at a time, the imbalance (the same as
``OrderBook.imbalance`` at every event boundary), the ladder's bars and the fill-time table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.unit.test_book import RECORDS, mbo, write_dbn
from workbench.book import OrderBook, level_columns, replay
from workbench.errors import ConfigError
from workbench.visualization.book_charts import (
    book_at,
    book_imbalance,
    depth_ladder_figure,
    fill_times,
    imbalance_figure,
    spread_mid_figure,
)

# a deeper book than RECORDS: three bid levels, two ask levels, then changes
DEEP = [
    mbo(10, 1, "A", "B", 0, 4),
    mbo(11, 2, "A", "B", -1, 6),
    mbo(12, 3, "A", "B", -2, 1),
    mbo(13, 4, "A", "A", 1, 3),
    mbo(14, 5, "A", "A", 2, 9),
    mbo(15, 6, "A", "B", 0, 2),
    mbo(16, 4, "C", "A", 1, 3),
    mbo(17, 1, "C", "B", 0, 4),
    mbo(18, 6, "C", "B", 0, 2),
    mbo(19, 2, "C", "B", -1, 6),
    mbo(20, 3, "C", "B", -2, 1),
    mbo(21, 5, "C", "A", 2, 9),
]


@pytest.mark.parametrize("records", [RECORDS, DEEP], ids=["small", "deep"])
@pytest.mark.parametrize("levels", [1, 2, 3])
def test_imbalance_is_the_order_books(tmp_path: Path, records: list, levels: int) -> None:
    frame = replay(write_dbn(tmp_path / "x.dbn", records), depth=3)
    book = OrderBook(instrument_id=7)
    expected = []
    for r in records:
        book.apply(r)
        if r.flags & 128:  # F_LAST: an event boundary, a frame row
            got = book.imbalance(levels)
            expected.append(np.nan if got is None else got)
    imb = book_imbalance(frame, levels)
    assert imb.index.equals(frame.index)
    np.testing.assert_allclose(imb.to_numpy(), expected, equal_nan=True)
    if records is DEEP:
        assert imb.iloc[-2] == -1  # no bid left, one ask...
        assert np.isnan(imb.iloc[-1])  # ...then both sides empty


def test_imbalance_by_hand(tmp_path: Path) -> None:
    frame = replay(write_dbn(tmp_path / "x.dbn", DEEP), depth=3)
    row = book_at(frame, pd.Timestamp(15, tz="UTC"))  # bids 6, 6, 1; asks 3, 9
    assert book_imbalance(frame.loc[[row.name]], 2).iloc[0] == pytest.approx((12 - 12) / 24)
    assert book_imbalance(frame.loc[[row.name]], 3).iloc[0] == pytest.approx((13 - 12) / 25)
    assert book_imbalance(frame.loc[[row.name]], 10).iloc[0] == pytest.approx((13 - 12) / 25)


def test_book_at_takes_the_last_row_at_or_before(tmp_path: Path) -> None:
    frame = replay(write_dbn(tmp_path / "x.dbn", RECORDS), depth=2)  # rows at 10, 20, 30, 40
    assert book_at(frame, pd.Timestamp(20, tz="UTC")).name.value == 20
    assert book_at(frame, pd.Timestamp(29, tz="UTC")).name.value == 20
    assert book_at(frame, "2100-01-01").name.value == 40  # naive: UTC
    with pytest.raises(ConfigError, match="no book at"):
        book_at(frame, pd.Timestamp(9, tz="UTC"))


def test_depth_ladder_bars(tmp_path: Path) -> None:
    frame = replay(write_dbn(tmp_path / "x.dbn", DEEP), depth=5)
    fig = depth_ladder_figure(frame, pd.Timestamp(15, tz="UTC"))
    bids, asks = fig.data
    assert list(bids.y) == ["64.00", "63.99", "63.98"]
    assert list(bids.x) == [-6, -6, -1]
    assert [list(c) for c in bids.customdata] == [[6, 2], [6, 1], [1, 1]]  # size, orders
    assert list(asks.y) == ["64.01", "64.02"]
    assert list(asks.x) == [3, 9]
    one = depth_ladder_figure(frame, pd.Timestamp(15, tz="UTC"), levels=1)
    assert [len(t.x) for t in one.data] == [1, 1]


def test_series_figures_and_bad_frames(tmp_path: Path) -> None:
    frame = replay(write_dbn(tmp_path / "x.dbn", RECORDS), depth=2)
    mid, spread = spread_mid_figure(frame).data
    np.testing.assert_allclose(np.asarray(mid.y, dtype=float), [64.01] * 4)
    np.testing.assert_allclose(np.asarray(spread.y, dtype=float), [0.02] * 4)
    assert len(imbalance_figure(frame).data[0].y) == 4
    with pytest.raises(ConfigError, match="no level columns"):
        book_imbalance(frame.drop(columns=level_columns(2)))
    with pytest.raises(ConfigError, match="at least 1"):
        book_imbalance(frame, 0)


def _reports(rows: list[tuple[int, str, str, int, str | None]]) -> pd.DataFrame:
    ts, ref, kind, qty, liq = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "ts_exchange": pd.to_datetime(list(ts), unit="s", utc=True),
            "order_ref": ref,
            "exec_type": kind,
            "last_qty": qty,
            "liquidity": liq,
        }
    )


def test_fill_times_side_by_side() -> None:
    a = _reports([
        (0, "bid", "new", 0, None),
        (0, "sell", "new", 0, None),
        (0, "sell", "fill", 1, "taker"),
        (30, "bid", "partial_fill", 1, "maker"),
        (50, "bid", "fill", 1, "maker"),
    ])  # fmt: skip
    b = _reports([(0, "bid", "new", 0, None), (0, "sell", "new", 0, None)])
    table = fill_times({"conservative": a, "l3_known": b})
    assert list(table.index) == ["bid", "sell"]
    assert table[("conservative", "wait")].tolist() == [pd.Timedelta(30, "s"), pd.Timedelta(0)]
    assert table[("conservative", "filled")].tolist() == [2, 1]
    assert table[("conservative", "liquidity")].tolist() == ["maker", "taker"]
    assert table[("l3_known", "first_fill")].isna().all()
    assert table[("l3_known", "filled")].tolist() == [0, 0]
    with pytest.raises(ConfigError, match="lack"):
        fill_times({"x": a.drop(columns="liquidity")})
