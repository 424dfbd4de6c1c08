"""Paper engine speed (not in pytest): bars per second, bar -> order, signal -> IB ack.

Run: ``.venv/bin/python bench/bench_paper.py [--orders N]``. Figures:

1. a sim session replaying the whole sample bar by bar at full speed (bars/s, best of 3);
2. inside the engine (sim broker), per bar that sends an order: bar in -> signal -> risk ->
   first order handed to the broker (its intent committed to the journal first), p50/p99,
   with the journal in memory and in a file (WAL, synchronous=NORMAL); and the whole step
   of those bars (the entry's fill, stop and target, the bar's journal commit);
3. signal -> order acknowledged through the OrderManager (journal file), ib-async and the
   simulated IB Gateway on loopback: a resting limit order is sent and the time to its
   ``Submitted`` status taken, then it is cancelled; with ib-async's message pacing off
   (``MaxRequests=0``) and at its default (45 messages/s).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from workbench.adapters.ib import BarFeed, GatewayConfig, IBClient, SimulatedGateway
from workbench.adapters.ib.broker import IBBroker
from workbench.data import load_bars
from workbench.execution import ExecutionEngine, Journal, OrderManager, ReplayFeed, SimBroker
from workbench.execution.feeds import Bar
from workbench.model import Order, OrderStatus, OrderType, Side
from workbench.strategies import MomentumStrategy

STRATEGY = MomentumStrategy(fast_period=20, slow_period=50)


def pct(values: Sequence[float] | np.ndarray, scale: float = 1000.0) -> str:
    p50, p99 = np.percentile(np.asarray(values, dtype=float), [50, 99]) / scale
    return f"p50 {p50:,.1f}, p99 {p99:,.1f}"


def replay_speed(items: list[Bar]) -> None:
    rates = []
    for _ in range(3):
        engine = ExecutionEngine(SimBroker(), STRATEGY)
        step = engine.step
        t0 = time.perf_counter()
        for b in items:
            step(b)
        engine.finish()
        rates.append(len(items) / (time.perf_counter() - t0))
    print(f"1. full replay: {len(items):,} bars, {max(rates):,.0f} bars/s (best of 3)")


def bar_to_order(items: list[Bar], journal: Journal, label: str) -> None:
    broker = SimBroker()
    engine = ExecutionEngine(broker, STRATEGY, journal=journal)
    first: list[int] = []
    submit = broker.submit

    def timed(order: Order, oca_group: str = "") -> int:
        if not first:
            first.append(time.perf_counter_ns())
        return submit(order, oca_group)

    broker.submit = timed  # type: ignore[method-assign]
    to_order, whole = [], []
    clock = time.perf_counter_ns
    for b in items:
        first.clear()
        t = clock()
        engine.step(b)
        end = clock()
        if first:
            to_order.append(first[0] - t)
            whole.append(end - t)
    print(
        f"2. {label}: bar -> first order submitted (n={len(to_order)}) {pct(to_order)} us; "
        f"whole step of those bars {pct(whole)} us"
    )


async def ib_round_trips(port: int, n: int, max_rate: int, folder: Path) -> list[int]:
    client = IBClient(port=port, client_id=3 + max_rate, timeout=10)
    broker = IBBroker(client, max_messages_per_second=max_rate)
    await broker.open()
    assert broker.contract is not None
    symbol = broker.contract.localSymbol
    om = OrderManager(broker, Journal(folder / f"ack-{max_rate}.sqlite"), f"b{max_rate}", _ignore)
    acked = asyncio.Event()
    current: list[str] = [""]
    on_status: Callable[..., None] = broker._on_status  # type: ignore[assignment]

    def watch(ref: str, status: OrderStatus, perm: int, msg: str) -> None:
        on_status(ref, status, perm, msg)
        if ref == current[0] and status is not OrderStatus.PENDING:
            acked.set()

    broker._on_status = watch
    out = []
    for k in range(n):
        side = Side.BUY if k % 2 == 0 else Side.SELL
        price = 10.0 if side is Side.BUY else 500.0  # far from the market: it rests
        acked.clear()
        t0 = time.perf_counter_ns()
        order = Order(om._ref(), symbol, side, 1, OrderType.LIMIT, limit_price=price)
        current[0] = order.order_ref
        om.submit(order, "bench")
        await acked.wait()
        out.append(time.perf_counter_ns() - t0)
        om.cancel(order.order_ref)
    broker.close()
    return out


def _ignore(*_: Any) -> None:
    pass


def ib_ack(n: int) -> None:
    feed = BarFeed.from_prices([70.0 + (i % 7) / 100 for i in range(2000)])
    with tempfile.TemporaryDirectory() as tmp, SimulatedGateway(feed, GatewayConfig(port=0)) as gw:
        gw.step(1)
        for rate, count in ((0, n), (45, max(60, n // 5))):
            lat = asyncio.run(ib_round_trips(gw.port, count, rate, Path(tmp)))
            what = "off" if rate == 0 else f"{rate} msgs/s (ib-async's default)"
            print(
                f"3. signal -> IB ack, pacing {what} (n={count}): {pct(lat[5:], 1e6)} ms"
                f"{'' if rate == 0 else ' (an order + a cancel per round: the pacing shows)'}"
            )


class _QuietCancels(logging.Filter):
    """Drop ib-async's "Error 202 ... Order Canceled" lines: the bench cancels every order it
    places, so hundreds of them would bury the figures; other errors still show."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Error 202," not in record.getMessage()


def main() -> None:
    logging.getLogger("ib_async.wrapper").addFilter(_QuietCancels())
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=500, help="IB round trips")
    args = parser.parse_args()
    bars = load_bars("MCL_FUT")
    feed = ReplayFeed(bars)
    items = [feed.bar(i) for i in range(len(feed))]
    replay_speed(items)
    bar_to_order(items, Journal(":memory:"), "journal in memory")
    with tempfile.TemporaryDirectory() as tmp:
        journal = Journal(Path(tmp) / "journal.sqlite")
        bar_to_order(items, journal, "journal file (WAL, NORMAL)")
        journal.close()
    ib_ack(args.orders)


if __name__ == "__main__":
    main()
