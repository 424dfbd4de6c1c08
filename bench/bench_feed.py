"""Market-data streams into the book: records per second over TCP and UDP multicast (lo).

The real ESH4 MBO file (68,792 records) sent K times back to back (default 10: 687,920
records) by ``workbench.book.publish`` as fast as possible, read by
``workbench.book.subscribe`` into the native L3 books (no snapshots), both on native
threads of this one process. Two figures per transport, medians of the rounds:

- stream: records / the subscriber's time from its first byte to the end;
- whole: records / wall time from ``publish()`` to both ``join()`` (set-up included).

The target (issue 10) is 5 M records/s. Multicast runs uncapped and with a 6 M/s publisher
cap; an uncapped run on a loaded 2-core machine can overrun the receive buffer, and its
gaps are printed (never hidden). The Rust-only figures: ``cargo bench --bench feed``.

Usage: python bench/bench_feed.py [ROUNDS] [K]
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

from workbench.book import publish, subscribe

ROOT = Path(__file__).resolve().parents[1]
ESH4 = ROOT.parent / "shared" / "data" / "real" / "nautilus" / "esh4-glbx-mdp3-20231225.mbo.dbn.zst"
TARGET = 5e6


Round = tuple[int, float, float, int]
"""records, stream seconds, wall seconds, and stalls (TCP) or missing datagrams (UDP)."""


def tcp_round(k: int) -> Round:
    t0 = time.perf_counter()
    pub = publish(ESH4, port=0, repeat=k, chunk=256 * 1024)
    host, port = pub.address
    result = subscribe(host, port, timeout=30).join()
    stats = pub.join()
    wall = time.perf_counter() - t0
    assert result is not None
    assert stats is not None
    return result.stats.records, result.stats.elapsed_ns / 1e9, wall, stats.stalls


def udp_round(k: int, max_rate: float) -> Round:
    group = f"239.255.{random.randint(1, 254)}.{random.randint(1, 254)}"
    port = random.randint(46_000, 49_000)
    t0 = time.perf_counter()
    sub = subscribe(port=port, transport="udp", group=group, timeout=3, recv_buffer=256 << 20)
    pub = publish(ESH4, port=port, transport="udp", group=group, repeat=k, max_rate=max_rate)
    result = sub.join()
    stats = pub.join()
    wall = time.perf_counter() - t0
    assert result is not None
    assert stats is not None
    st = result.stats
    return st.records, st.elapsed_ns / 1e9, wall, st.missing_datagrams


def report(label: str, rounds: list[Round], counted: str) -> None:
    stream = statistics.median(n / s for n, s, _, _ in rounds if s > 0)
    whole = statistics.median(n / w for n, _, w, _ in rounds)
    notes = f"{counted} per round: " + ", ".join(str(r[3]) for r in rounds)
    print(
        f"{label:<32} stream {stream / 1e6:6.2f} M rec/s ({stream / TARGET:4.2f}x target)  "
        f"whole {whole / 1e6:6.2f} M rec/s  [{notes}]"
    )


def main() -> int:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    k = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    if not ESH4.exists():
        print(f"SKIPPED: {ESH4} is absent (a fresh clone has no ../shared)")
        return 0
    print(f"ESH4 x {k} = {68_792 * k:,} records per round, {rounds} rounds, target 5 M rec/s")
    tcp_round(1)  # warm-up
    report("TCP -> book", [tcp_round(k) for _ in range(rounds)], "publisher stalls")
    try:
        for label, cap in (("(no cap)", 0.0), ("(cap 6 M/s)", 6e6)):
            runs = [udp_round(k, cap) for _ in range(rounds)]
            report(f"multicast -> book {label}", runs, "missing datagrams")
    except Exception as exc:  # the report says why multicast could not run here
        print(f"multicast unavailable: {exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
