"""Paper engine speed (not in pytest): bar in -> signal -> risk -> order, and bars per second.

Run: ``.venv/bin/python bench/bench_paper.py``. Figures: one bar's step inside the engine
(sim broker, in-memory journal), p50/p99 over every bar and over bars that sent an order;
a sim session replaying the whole sample bar by bar at full speed.
"""

from __future__ import annotations

import time

import numpy as np

from workbench.data import load_bars
from workbench.execution import ExecutionEngine, ReplayFeed, SimBroker
from workbench.strategies import MomentumStrategy


def main() -> None:
    bars = load_bars("MCL_FUT")
    strategy = MomentumStrategy(fast_period=20, slow_period=50)
    feed = ReplayFeed(bars)
    items = [feed.bar(i) for i in range(len(feed))]
    engine = ExecutionEngine(SimBroker(), strategy)
    step = engine.step
    t0 = time.perf_counter()
    for b in items:
        step(b)
    engine.finish()
    secs = time.perf_counter() - t0
    print(f"full replay: {len(items):,} bars in {secs:.2f} s = {len(items) / secs:,.0f} bars/s")

    engine = ExecutionEngine(SimBroker(), strategy)
    lat = np.empty(len(items))
    sent = np.zeros(len(items), dtype=bool)
    clock = time.perf_counter_ns
    for k, b in enumerate(items):
        before = engine.om.sent
        t = clock()
        engine.step(b)
        lat[k] = clock() - t
        sent[k] = engine.om.sent != before
    for name, sel in (("every bar", lat), ("bars sending orders", lat[sent])):
        p50, p99 = np.percentile(sel, [50, 99]) / 1000
        print(f"step ({name}, n={len(sel):,}): p50 {p50:.1f} us, p99 {p99:.1f} us")


if __name__ == "__main__":
    main()
