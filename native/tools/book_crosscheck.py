"""Cross-check the Rust L3 book against a plain-Python dict book.

Decodes a DBN MBO file with Databento's Python package (``databento_dbn``),
rebuilds the book with dicts (same documented policy as ``native/src/book``),
and compares the top 10 levels at every event boundary (F_LAST) with the CSV
written by ``BOOK_DUMP=out.csv cargo run --release --example book_replay FILE``.

Usage: python tools/book_crosscheck.py FILE.dbn[.zst] out.csv
"""

from __future__ import annotations

import csv
import heapq
import sys
from collections import defaultdict

import databento_dbn as dbn

UNDEF = 2**63 - 1
F_LAST, F_TOB, F_SNAPSHOT = 128, 64, 32


def records(path: str):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:4] == b"\x28\xb5\x2f\xfd":
        import zstandard

        raw = zstandard.ZstdDecompressor().stream_reader(raw).read()
    dec = dbn.DBNDecoder()
    dec.write(raw)
    return [r for r in dec.decode() if isinstance(r, dbn.MBOMsg)]


class DictBook:
    def __init__(self) -> None:
        self.orders: dict[int, list] = {}  # id -> [side, price, size, prio]
        self.levels = {"B": {}, "A": {}}  # side -> price -> [size, count]
        self.prio = 0
        self.in_snapshot = False

    def _lv(self, side, px, dsz, dct) -> None:
        lv = self.levels[side].setdefault(px, [0, 0])
        lv[0] += dsz
        lv[1] += dct
        if lv[1] == 0:
            del self.levels[side][px]

    def _add(self, oid, side, px, sz) -> bool:
        if sz == 0 or px == UNDEF or oid in self.orders:
            return False
        self.prio += 1
        self.orders[oid] = [side, px, sz, self.prio]
        self._lv(side, px, sz, 1)
        return True

    def _del(self, oid) -> None:
        side, px, sz, _ = self.orders.pop(oid)
        self._lv(side, px, -sz, -1)

    def _clear(self) -> None:
        self.orders.clear()
        self.levels = {"B": {}, "A": {}}

    def apply(self, m) -> None:
        action, side, fl = str(m.action), str(m.side), int(m.flags)  # 'A', 'B', ...
        if fl & F_SNAPSHOT:
            if not self.in_snapshot:
                self.in_snapshot = True
                if action != "R" and self.orders:
                    self._clear()
        else:
            self.in_snapshot = False
        oid, px, sz = m.order_id, m.price, m.size
        if action == "A" and side in "BA":
            self._add(oid, side, px, sz)
        elif action == "C" and side in "BA" and oid in self.orders:
            o = self.orders[oid]
            if sz >= o[2]:
                self._del(oid)
            else:
                o[2] -= sz
                self._lv(o[0], o[1], -sz, 0)
        elif action == "M" and side in "BA":
            o = self.orders.get(oid)
            if o is None:
                self._add(oid, side, px, sz)
            elif o[0] == side:
                if sz == 0:
                    self._del(oid)
                elif px != UNDEF:
                    if px != o[1] or sz > o[2]:
                        self.prio += 1
                        o[3] = self.prio
                    self._lv(o[0], o[1], -o[2], -1)
                    o[1], o[2] = px, sz
                    self._lv(o[0], px, sz, 1)
        elif action == "R":
            self._clear()

    def top(self, n: int = 10):
        bids = [(p, *self.levels["B"][p]) for p in heapq.nlargest(n, self.levels["B"])]
        asks = [(p, *self.levels["A"][p]) for p in heapq.nsmallest(n, self.levels["A"])]
        return bids, asks


def main(path: str, dump: str) -> int:
    with open(dump, newline="") as f:
        rows = list(csv.reader(f))
    books: dict[int, DictBook] = defaultdict(DictBook)
    k = 0
    for m in records(path):
        b = books[m.instrument_id]
        b.apply(m)
        if int(m.flags) & F_LAST:
            bids, asks = b.top()
            row = [int(x) for x in rows[k]]
            assert row[0] == m.instrument_id, (k, row[:2])
            assert row[1] == m.ts_event, (k, row[:2])
            for i in range(10):
                bp, bs, bc, ap, as_, ac = row[2 + 6 * i : 8 + 6 * i]
                want_b = bids[i] if i < len(bids) else (UNDEF, 0, 0)
                want_a = asks[i] if i < len(asks) else (UNDEF, 0, 0)
                assert (bp, bs, bc) == tuple(want_b), (k, i, "bid", (bp, bs, bc), want_b)
                assert (ap, as_, ac) == tuple(want_a), (k, i, "ask", (ap, as_, ac), want_a)
            k += 1
    assert k == len(rows), (k, len(rows))
    print(f"{k} passed, 0 failed: event boundaries equal to the Python dict book")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
