"""``snapshots_to_frame``: the blocks built from the snapshot rows hold what the fields say."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.book.replay import PRICE_SCALE, UNDEF_PRICE, level_columns, snapshots_to_frame
from workbench.native import BOOK_SNAPSHOT_DTYPE


def _rows(n: int) -> np.ndarray:
    rng = np.random.default_rng(7)
    rows = np.zeros(n, dtype=BOOK_SNAPSHOT_DTYPE)
    rows["ts_event"] = 1_703_462_400_000_000_000 + np.arange(n) * 1_000
    rows["instrument_id"] = 17077
    rows["sequence"] = np.arange(n) + 4_000_000_000  # beyond int32
    rows["flags"] = 128
    for name in level_columns(10):
        if "_px_" in name:
            rows[name] = rng.integers(4_700, 4_800, n) * 250_000_000
            rows[name][rng.random(n) < 0.2] = UNDEF_PRICE
        else:
            rows[name] = rng.integers(0, 2**32, n, dtype=np.uint64)
    return rows


def _reference(rows: np.ndarray, depth: int) -> pd.DataFrame:
    """Field by field, the plain way."""
    data: dict[str, np.ndarray] = {
        "instrument_id": rows["instrument_id"].copy(),
        "sequence": rows["sequence"].copy(),
        "flags": rows["flags"].copy(),
    }
    for name in level_columns(depth):
        col = rows[name]
        if "_px_" in name:
            data[name] = np.where(col == UNDEF_PRICE, np.nan, col / PRICE_SCALE)
        else:
            data[name] = col.copy()
    index = pd.DatetimeIndex(rows["ts_event"].astype("datetime64[ns]"), name="ts_event")
    return pd.DataFrame(data, index=index.tz_localize("UTC"))


@pytest.mark.parametrize("depth", [10, 3, 1])
@pytest.mark.parametrize("n", [0, 1, 5000])
def test_frame_equals_the_fields(depth: int, n: int) -> None:
    rows = _rows(n)
    frame = snapshots_to_frame(rows, depth)
    pd.testing.assert_frame_equal(frame, _reference(rows, depth), check_exact=True)
    assert str(frame.index.dtype) == "datetime64[ns, UTC]"
    assert frame["bid_sz_00"].dtype == np.uint32
    assert frame["sequence"].dtype == np.uint32


def test_frame_owns_its_data() -> None:
    rows = _rows(10)
    frame = snapshots_to_frame(rows, 10)
    frame.iloc[0, frame.columns.get_loc("bid_px_00")] = -1.0
    rows["ask_px_00"] = 0
    assert frame["bid_px_00"].iloc[0] == -1.0
    assert frame["ask_px_00"].iloc[0] != 0.0
