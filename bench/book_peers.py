"""Other projects' order books on a DBN MBO file: nautilus_trader and hftbacktest.

Run as a script, possibly under another interpreter (nautilus_trader 1.221, the last release
for Python 3.11, pins pandas<3 and so cannot live in this project's lock; see
``tests/integration/test_book_real.py``):

    python bench/book_peers.py nautilus-top FILE OUT.npy    # top 10 at every F_LAST delta
    python bench/book_peers.py nautilus-time FILE ROUNDS    # JSON: decode/apply ms per round
    python bench/book_peers.py hftbacktest-time FILE ROUNDS # JSON: convert/replay ms per round

Only this file imports the peers, each inside its function: the script runs wherever one of
them is installed, not necessarily both.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import time
from typing import Any

import numpy as np

UNDEF = 2**63 - 1
F_LAST = 128


def _nautilus(path: str) -> tuple[Any, Any, list[Any]]:
    """(module, instrument id, the file's deltas) via nautilus's Rust Databento loader."""
    from nautilus_trader.adapters.databento.loaders import PUBLISHERS_FILEPATH  # optional peer
    from nautilus_trader.core import nautilus_pyo3 as n  # optional peer

    loader = n.DatabentoDataLoader(str(PUBLISHERS_FILEPATH))
    iid = n.InstrumentId.from_str("BOOK.GLBX")
    return n, iid, loader.load_order_book_deltas(path, iid)


def nautilus_top(path: str, out: str) -> None:
    """Save ``ts_event`` and the top 10 levels (frame column order) at every F_LAST delta."""
    n, iid, deltas = _nautilus(path)
    book = n.OrderBook(iid, n.BookType.L3_MBO)
    rows = []
    for d in deltas:
        book.apply_delta(d)
        if d.flags & F_LAST:
            bids, asks = book.bids(10), book.asks(10)
            row = [d.ts_event]
            for i in range(10):
                b = bids[i] if i < len(bids) else None
                a = asks[i] if i < len(asks) else None
                row += [
                    round(b.price.as_double() * 1e9) if b else UNDEF,
                    round(a.price.as_double() * 1e9) if a else UNDEF,
                    int(b.size()) if b else 0,
                    int(a.size()) if a else 0,
                    b.len() if b else 0,
                    a.len() if a else 0,
                ]
            rows.append(row)
    np.save(out, np.array(rows, dtype=np.int64).reshape(-1, 61))


def nautilus_time(path: str, rounds: int) -> dict[str, list[float]]:
    """Decode (Rust loader, pyo3 deltas) and apply (one ``apply_delta`` call per delta),
    in ms per round."""
    decode, apply = [], []
    for _ in range(rounds + 1):
        t0 = time.perf_counter()
        n, iid, deltas = _nautilus(path)
        t1 = time.perf_counter()
        book = n.OrderBook(iid, n.BookType.L3_MBO)
        for d in deltas:
            book.apply_delta(d)
        t2 = time.perf_counter()
        decode.append((t1 - t0) * 1e3)
        apply.append((t2 - t1) * 1e3)
    # the first round warms caches up: dropped
    return {"decode_ms": decode[1:], "apply_ms": apply[1:], "events": [len(deltas)]}


def hftbacktest_time(path: str, rounds: int) -> dict[str, list[float]]:
    """Convert (``hftbacktest.data.utils.databento.convert``, its DBN MBO reader) and replay
    (the L3 event array through ``ROIVectorMarketDepth``-free ``HashMapMarketDepth`` in a
    backtest with no strategy: ``elapse`` to the end), in ms per round."""
    from hftbacktest import (  # optional peer
        BacktestAsset,
        HashMapMarketDepthBacktest,
    )
    from hftbacktest.data.utils import databento  # optional peer

    convert, replay = [], []
    for _ in range(rounds + 1):
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):  # it prints its progress
            data = databento.convert(path, symbol=None)
        t1 = time.perf_counter()
        asset = (
            BacktestAsset()
            .data([data])
            .linear_asset(1.0)
            .constant_order_latency(0, 0)
            .risk_adverse_queue_model()
            .no_partial_fill_exchange()
            .trading_value_fee_model(0.0, 0.0)
            .tick_size(0.25)
            .lot_size(1.0)
            .last_trades_capacity(0)
        )
        hbt = HashMapMarketDepthBacktest([asset])
        hbt.elapse(int(data["local_ts"][-1] - data["local_ts"][0]) + 1)
        hbt.close()
        t2 = time.perf_counter()
        convert.append((t1 - t0) * 1e3)
        replay.append((t2 - t1) * 1e3)
    # the first round compiles hftbacktest's numba kernels: dropped
    return {"convert_ms": convert[1:], "replay_ms": replay[1:], "events": [len(data)]}


def main(argv: list[str]) -> int:
    cmd, path, arg = argv[1], argv[2], argv[3]
    if cmd == "nautilus-top":
        nautilus_top(path, arg)
    elif cmd == "nautilus-time":
        print(json.dumps(nautilus_time(path, int(arg))))
    elif cmd == "hftbacktest-time":
        print(json.dumps(hftbacktest_time(path, int(arg))))
    else:
        print(f"unknown command {cmd!r}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
