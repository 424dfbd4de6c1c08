"""replay() on real CME MBO files, held at every event boundary to two other books.

- An independent reconstruction written here: a plain-Python dict book over the records
  decoded by Databento's own Python package (``databento_dbn``), following the documented
  policy of ``native/src/book`` (modify of an unknown id = add, cancel of one skipped,
  snapshot runs restate the book).
- nautilus_trader's L3 book (``bench/book_peers.py``). nautilus_trader cannot share this
  project's lock (its last Python 3.11 release, 1.221, pins pandas<3; the lock has
  pandas>=3), so it runs in a separate interpreter named by ``WORKBENCH_PEERS_PYTHON`` (a venv
  with ``nautilus_trader==1.221.0``), or in process when it is importable here; the test is
  skipped, saying so, otherwise.

Files: ESH4 (8,725-order snapshot then ~1 h, 68,792 records), ESM4 (clear + snapshot, then
2 s) and CLX5 (crude, mid-session without a snapshot). Skipped when ../shared is absent.
"""

from __future__ import annotations

import heapq
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import databento_dbn as dbn
import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
import zstandard

from tests.conftest import REPO, real_data_path
from workbench.book import level_columns, replay

UNDEF = 2**63 - 1
F_LAST, F_TOB, F_SNAPSHOT = 128, 64, 32

FILES = {
    "esh4": ("nautilus", "esh4-glbx-mdp3-20231225.mbo.dbn.zst"),
    "esm4": ("nautilus", "esm4-glbx-mdp3-20240508.mbo.dbn.zst"),
    "clx5": ("clx5-mbo", "CLX5_mbo.dbn"),
}


def mbo_records(path: Path) -> list[dbn.MBOMsg]:
    raw = path.read_bytes()
    if raw[:4] == b"\x28\xb5\x2f\xfd":
        raw = zstandard.ZstdDecompressor().stream_reader(raw).read()
    dec = dbn.DBNDecoder()
    dec.write(raw)
    return [r for r in dec.decode() if isinstance(r, dbn.MBOMsg)]


class DictBook:
    """Orders in a dict, levels as ``{price: [size, count]}`` per side."""

    def __init__(self) -> None:
        self.orders: dict[int, list[int | str]] = {}  # id -> [side, price, size]
        self.levels: dict[str, dict[int, list[int]]] = {"B": {}, "A": {}}
        self.in_snapshot = False

    def _level(self, side: str, price: int, dsize: int, dcount: int) -> None:
        lv = self.levels[side].setdefault(price, [0, 0])
        lv[0] += dsize
        lv[1] += dcount
        if lv[1] == 0:
            del self.levels[side][price]

    def _add(self, oid: int, side: str, price: int, size: int) -> None:
        if size > 0 and price != UNDEF and oid not in self.orders:
            self.orders[oid] = [side, price, size]
            self._level(side, price, size, 1)

    def _remove(self, oid: int) -> None:
        side, price, size = self.orders.pop(oid)
        self._level(str(side), int(price), -int(size), -1)

    def apply(self, m: dbn.MBOMsg) -> None:
        action, side, flags = str(m.action), str(m.side), int(m.flags)
        assert not flags & F_TOB, "top-of-book records are not expected from CME"
        if flags & F_SNAPSHOT:
            if not self.in_snapshot:
                self.in_snapshot = True
                if action != "R" and self.orders:
                    self.__init__()  # type: ignore[misc]
                    self.in_snapshot = True
        else:
            self.in_snapshot = False
        oid, price, size = m.order_id, m.price, m.size
        if side not in "BA" or side == "":
            if action == "R":
                self.orders.clear()
                self.levels = {"B": {}, "A": {}}
            return
        if action == "A":
            self._add(oid, side, price, size)
        elif action == "C" and oid in self.orders:
            resting = self.orders[oid]
            if size >= int(resting[2]):
                self._remove(oid)
            else:
                resting[2] = int(resting[2]) - size
                self._level(side, int(resting[1]), -size, 0)
        elif action == "M":
            order = self.orders.get(oid)
            if order is None:
                self._add(oid, side, price, size)
            elif order[0] == side and size == 0:
                self._remove(oid)
            elif order[0] == side and price != UNDEF:
                self._remove(oid)
                self._add(oid, side, price, size)
        elif action == "R":
            self.orders.clear()
            self.levels = {"B": {}, "A": {}}

    def top_row(self, depth: int = 10) -> list[int]:
        """``bid_px, ask_px, bid_sz, ask_sz, bid_ct, ask_ct`` per level, as in the frame."""
        bids = heapq.nlargest(depth, self.levels["B"])
        asks = heapq.nsmallest(depth, self.levels["A"])
        row: list[int] = []
        for i in range(depth):
            b = (bids[i], *self.levels["B"][bids[i]]) if i < len(bids) else (UNDEF, 0, 0)
            a = (asks[i], *self.levels["A"][asks[i]]) if i < len(asks) else (UNDEF, 0, 0)
            row += [b[0], a[0], b[1], a[1], b[2], a[2]]
        return row


def dict_book_boundaries(path: Path) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(instrument_id, ts_event) and the level row at every F_LAST record, by the dict book."""
    books: dict[int, DictBook] = {}
    keys, rows = [], []
    for m in mbo_records(path):
        book = books.setdefault(m.instrument_id, DictBook())
        book.apply(m)
        if int(m.flags) & F_LAST:
            keys.append((m.instrument_id, m.ts_event))
            rows.append(book.top_row())
    return np.array(keys, dtype=np.int64), np.array(rows, dtype=np.int64)


def frame_as_fixed(frame: pd.DataFrame) -> npt.NDArray[np.int64]:
    """The frame's level columns back in DBN units (prices x 1e9, NaN -> UNDEF)."""
    out = np.empty((len(frame), 60), dtype=np.int64)
    for j, col in enumerate(level_columns(10)):
        v = frame[col].to_numpy()
        if "_px_" in col:
            out[:, j] = np.rint(np.nan_to_num(v) * 1e9).astype(np.int64)
            out[np.isnan(v), j] = UNDEF
        else:
            out[:, j] = v
    return out


def first_difference(got: npt.NDArray[np.int64], want: npt.NDArray[np.int64]) -> str:
    bad = np.argwhere(got != want)
    if len(bad) == 0:
        return ""
    r, c = bad[0]
    return (
        f"{len(np.unique(bad[:, 0]))} boundaries differ; first at row {r}, column "
        f"{level_columns(10)[c]}: got {got[r, c]}, want {want[r, c]}"
    )


@pytest.mark.parametrize("name", list(FILES))
def test_replay_equals_dict_book_at_every_boundary(name: str) -> None:
    path = real_data_path(*FILES[name])
    frame = replay(path)
    keys, want = dict_book_boundaries(path)
    assert len(frame) == len(keys) == frame.attrs["replay"]["event_boundaries"]
    assert (frame["instrument_id"].to_numpy() == keys[:, 0]).all()
    assert (frame.index.asi8 == keys[:, 1]).all()
    got = frame_as_fixed(frame)
    assert not first_difference(got, want), first_difference(got, want)
    # prices are the fixed-point values / 1e9, exactly as float division gives them
    px = frame["bid_px_00"].to_numpy()
    fixed = want[:, 0]
    ok = fixed != UNDEF
    assert (px[ok] == fixed[ok] / 1e9).all()


def test_esh4_counts_and_every_record() -> None:
    path = real_data_path(*FILES["esh4"])
    frame = replay(path, every="record")
    stats = frame.attrs["replay"]
    assert stats["records"] == len(frame) == 68_792
    assert stats["actions"] == {
        "A": 29_216, "C": 17_999, "M": 12_233, "R": 0, "F": 6_371, "T": 2_973, "N": 0,
        "other": 0,
    }  # fmt: skip
    events = replay(path)
    # the rows at F_LAST records of the per-record frame are the per-event frame
    last = (frame["flags"].to_numpy() & F_LAST) != 0
    pd.testing.assert_frame_equal(frame[last], events, check_freq=False)


def test_clx5_mid_session_policy_is_counted() -> None:
    frame = replay(real_data_path(*FILES["clx5"]))
    integrity = frame.attrs["replay"]["integrity"]
    assert integrity["modify_as_add"] > 0  # orders resting before the feed began
    assert integrity["unknown_cancels"] > 0
    assert frame.attrs["replay"]["refused"] == integrity["refused"]


# -- nautilus_trader --------------------------------------------------------------------------

PEERS = REPO / "bench" / "book_peers.py"
NAUTILUS_SKIP = (
    "nautilus_trader is not installed: its last Python 3.11 release (1.221) pins pandas<3, "
    "which this project's lock (pandas>=3) excludes; set WORKBENCH_PEERS_PYTHON to a Python "
    "with nautilus_trader==1.221.0 (e.g. `uv venv --python 3.11 /tmp/peers && uv pip install "
    "--python /tmp/peers/bin/python nautilus_trader==1.221.0 databento-dbn`) to run it"
)


def nautilus_top(path: Path, out: Path) -> npt.NDArray[np.int64]:
    """nautilus_trader's top 10 levels at every F_LAST delta (see bench/book_peers.py)."""
    peers = os.environ.get("WORKBENCH_PEERS_PYTHON")
    if peers:
        python = peers
    elif importlib.util.find_spec("nautilus_trader") is not None:
        python = sys.executable
    else:
        pytest.skip(NAUTILUS_SKIP)
    subprocess.run([python, str(PEERS), "nautilus-top", str(path), str(out)], check=True)
    return np.load(out)


@pytest.mark.parametrize("name", ["esh4", "esm4"])
def test_replay_equals_nautilus_book_at_every_boundary(name: str, tmp_path: Path) -> None:
    path = real_data_path(*FILES[name])
    ours = replay(path)
    theirs = nautilus_top(path, tmp_path / "nautilus.npy")
    # nautilus drops trades (T) before the book; its F_LAST deltas are the same boundaries.
    # Its deltas carry the record's ts_recv as ts_event, so rows are matched by position
    # (a shifted row would differ in its levels).
    assert theirs.shape == (len(ours), 61)
    assert (np.diff(theirs[:, 0]) >= 0).all()
    got = frame_as_fixed(ours)
    assert not first_difference(got, theirs[:, 1:]), first_difference(got, theirs[:, 1:])
