"""SimExchange on real CME MBO files: orders of every type placed through the replay, fills
checked against the book the exchange saw when it matched them.

Files: ESH4 (``nautilus/esh4-glbx-mdp3-20231225.mbo.dbn.zst``, 68,792 records, tick $0.25) and
CLX5 (``clx5-mbo/CLX5_mbo.dbn``, crude, mid-session without a snapshot, tick $0.01). Skipped
when ../shared is absent.

The replay is stepped one event at a time. Requests sent at the exchange clock arrive at the
next event boundary, before that event's records: a market or marketable limit order is
matched against the book as it stood after the previous step. So for every taker fill of an
order that is not a stop, a buy's price is at or above the best ask of that book (a sell's at
or below the best bid), within its limit, and the contracts taken at a price are no more than
that level held. Maker fills are at the order's limit price. Every order conserves its
quantity, and a probabilistic run is the same twice for a seed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import real_data_path
from workbench.book import ExchangeConfig, QueueModel, SimExchange, fixed, reports_frame
from workbench.model import OrderType, Side, TimeInForce

FILES = {
    "esh4": (("nautilus", "esh4-glbx-mdp3-20231225.mbo.dbn.zst"), 0.25, 40),
    "clx5": (("clx5-mbo", "CLX5_mbo.dbn"), 0.01, 25),
}


@dataclass
class Run:
    frame: pd.DataFrame
    kinds: dict[int, OrderType] = field(default_factory=dict)
    sides: dict[int, Side] = field(default_factory=dict)
    limits: dict[int, float | None] = field(default_factory=dict)
    # per client id: the (best bid, best ask, {(side, price): size}) the order met on arrival
    seen: dict[int, tuple[int | None, int | None, dict[tuple[str, int], int]]] = field(
        default_factory=dict
    )


def replay_with_orders(path: Path, tick: float, every: int, cfg: object) -> Run:
    x = SimExchange(path, cfg)
    run = Run(frame=pd.DataFrame())
    frames = []
    waiting: list[int] = []  # sent since the last step: they arrive at the next boundary
    events = 0
    while x.remaining:
        if waiting:
            bids, asks = x.depth(10)
            levels = {("B", lv.price): lv.size for lv in bids} | {
                ("A", lv.price): lv.size for lv in asks
            }
            bb = bids[0].price if bids else None
            ba = asks[0].price if asks else None
            for cid in waiting:
                run.seen[cid] = (bb, ba, levels)
            waiting = []
        x.step()
        events += 1
        if events % every or not x.best_bid() or not x.best_ask():
            continue
        bid, ask = x.best_bid().px, x.best_ask().px  # type: ignore[union-attr]
        last = x.last_trade or (bid + ask) / 2
        k = events // every
        side = Side.BUY if k % 2 else Side.SELL
        plan: list[tuple[OrderType, dict[str, object]]] = [
            (OrderType.MARKET, {"time_in_force": TimeInForce.IOC}),
            (
                OrderType.LIMIT,
                {
                    "limit_price": ask if side is Side.BUY else bid,
                    "time_in_force": TimeInForce.IOC,
                },
            ),
            (
                OrderType.LIMIT,
                {
                    "limit_price": bid if side is Side.BUY else ask,
                    "time_in_force": TimeInForce.GTC,
                },
            ),
            (
                OrderType.STOP,
                {"stop_price": round((last + side * 2 * tick) / tick) * tick},
            ),
            (
                OrderType.STOP_LIMIT,
                {
                    "stop_price": round((last + side * tick) / tick) * tick,
                    "limit_price": round((last + side * 3 * tick) / tick) * tick,
                },
            ),
        ]
        kind, kw = plan[k % len(plan)]
        cid = x.submit(side, 1 + k % 3, kind, **kw)  # type: ignore[arg-type]
        run.kinds[cid], run.sides[cid] = kind, side
        run.limits[cid] = kw.get("limit_price")  # type: ignore[assignment]
        waiting.append(cid)
        if k % 7 == 3 and run.kinds.get(cid - 2) is OrderType.LIMIT:
            x.cancel(cid - 2)
        frames.append(reports_frame(x.report_records()))
    frames.append(reports_frame(x.report_records()))
    run.frame = pd.concat(frames, ignore_index=True)
    return run


def config(tick: float, **kw: object) -> object:
    return ExchangeConfig(tick=fixed(tick), maker_fee=fixed(0.1), taker_fee=fixed(0.35), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(FILES))
def test_fills_obey_the_book_and_quantities_are_conserved(name: str) -> None:
    parts, tick, every = FILES[name]
    path = real_data_path(*parts)
    run = replay_with_orders(path, tick, every, config(tick, queue=QueueModel.L3_KNOWN))
    f = run.frame
    assert len(run.kinds) > 50
    fills = f[f["exec_type"].isin(["fill", "partial_fill"])]
    assert len(fills) > 20
    assert np.allclose(fills["fee"], fills["fee_per_contract"] * fills["last_qty"])
    takers = fills[fills["liquidity"] == "taker"]
    makers = fills[fills["liquidity"] == "maker"]
    assert len(takers) > 10
    assert np.allclose(takers["fee_per_contract"], 0.35)
    assert np.allclose(makers["fee_per_contract"], 0.1)
    checked = 0
    taken: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for row in takers.itertuples():
        cid = int(row.client_id)
        if run.kinds[cid] in (OrderType.STOP, OrderType.STOP_LIMIT):
            continue
        bb, ba, levels = run.seen[cid]
        price = fixed(row.last_px)
        limit = run.limits[cid]
        if run.sides[cid] is Side.BUY:
            assert ba is not None
            assert price >= ba, (name, row)
            assert limit is None or price <= fixed(limit)
            book_side = "A"
        else:
            assert bb is not None
            assert price <= bb, (name, row)
            assert limit is None or price >= fixed(limit)
            book_side = "B"
        taken[cid][price] += int(row.last_qty)
        assert taken[cid][price] <= levels.get((book_side, price), 0), (name, row)
        checked += 1
    assert checked > 10
    for row in makers.itertuples():
        assert row.last_px == pytest.approx(row.order_price)
    # Quantity conservation on every report, and fills adding up to cum_qty.
    for cid, rows in f.groupby("client_id"):
        cancelled = np.cumsum(
            np.where(rows["exec_type"].isin(["cancelled", "expired"]), rows["last_qty"], 0)
        )
        assert (rows["order_qty"] == rows["cum_qty"] + rows["leaves_qty"] + cancelled).all(), cid
        got = rows[rows["exec_type"].isin(["fill", "partial_fill"])]["last_qty"].sum()
        assert got == rows["cum_qty"].iloc[-1]
    assert set(f["exec_type"]) >= {"new", "fill", "cancelled", "triggered"}


def test_a_seed_gives_the_same_run_on_clx5() -> None:
    parts, tick, every = FILES["clx5"]
    path = real_data_path(*parts)
    cfg = config(
        tick,
        queue=QueueModel.PROBABILISTIC,
        entry_latency_samples=[20_000, 150_000, 2_000_000],
        response_latency_samples=[30_000, 90_000],
        seed=11,
    )
    a = replay_with_orders(path, tick, every, cfg).frame
    b = replay_with_orders(path, tick, every, cfg).frame
    pd.testing.assert_frame_equal(a, b)
    assert (a["ts_local"] > a["ts_exchange"]).all()
