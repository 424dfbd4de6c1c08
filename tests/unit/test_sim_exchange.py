"""workbench.book.SimExchange and the native Exchange bindings on small books written here.

Two kinds of checks: scenarios mirrored from the Rust unit tests (``native/src/exchange/
tests.rs``, same records, same expected numbers, through the Python bindings), and the Python
face in dollars over a DBN file written with Databento's own encoder (``databento_dbn``):
every order type, partial fills, cancel/replace, IOC/DAY, rejections with their reasons,
determinism for a seed, quantity conservation, and file = bytes = record-by-record.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import databento_dbn as dbn
import numpy as np
import pandas as pd
import pytest

from workbench import native
from workbench.book import (
    REPORT_COLUMNS,
    BookFileError,
    ExchangeConfig,
    ExecReason,
    ExecType,
    OffHours,
    QueueFunction,
    QueueModel,
    SimExchange,
    cme_sessions,
    fixed,
    reports_frame,
)
from workbench.errors import ConfigError
from workbench.model import Liquidity, Order, OrderStatus, OrderType, Side, TimeInForce

LAST = 128
TICK = 10_000_000  # $0.01
P = 64 * 1_000_000_000  # $64.00
SEC = 1_000_000_000


# ---------------------------------------------------------------- mirrored Rust scenarios


def raw_setup(cfg: native.ExchangeConfig) -> native.Exchange:
    """The Rust tests' ``setup``: asks 101: ids 1 (5), 2 (5); 102: id 3 (10); bids 99: ids
    4 (5), 5 (3); 98: id 6 (10) (raw integer prices)."""
    x = native.Exchange(7, cfg)
    for oid, side, price, size in [
        (1, "A", 101, 5),
        (2, "A", 101, 5),
        (3, "A", 102, 10),
        (4, "B", 99, 5),
        (5, "B", 99, 3),
        (6, "B", 98, 10),
    ]:
        assert x.apply(10, oid, price, size, side, "A")
    return x


def kinds(rows: np.ndarray) -> list[ExecType]:
    return [ExecType(int(k)) for k in rows["exec_type"]]


def test_rust_scenario_market_order_walks_the_book_with_fees() -> None:
    x = raw_setup(native.ExchangeConfig(maker_fee=-100_000_000, taker_fee=350_000_000))
    x.submit(20, 1, native.OrderSide.BUY, native.OrderType.MARKET, 12, tif=native.TimeInForce.IOC)
    x.advance_to(20)
    r = x.drain_reports()
    assert r.dtype == native.EXEC_REPORT_DTYPE
    assert r.dtype.itemsize == 96
    assert kinds(r) == [ExecType.NEW, ExecType.PARTIAL_FILL, ExecType.FILL]
    assert (r[1]["last_px"], r[1]["last_qty"]) == (101, 10)
    assert (r[2]["last_px"], r[2]["last_qty"], r[2]["cum_qty"]) == (102, 2, 12)
    assert r[1]["liquidity"] == int(native.Liquidity.TAKER)
    assert (r[1]["fee_per_contract"], r[1]["fee"]) == (350_000_000, 3_500_000_000)
    assert r[2]["status"] == int(native.OrderStatus.FILLED)
    assert x.best_ask() == (101, 10, 2)  # the real book is unchanged
    x.submit(21, 2, native.OrderSide.BUY, native.OrderType.MARKET, 20, tif=native.TimeInForce.IOC)
    x.advance_to(21)
    r = x.drain_reports()
    assert kinds(r) == [ExecType.NEW, ExecType.PARTIAL_FILL, ExecType.CANCELLED]
    assert (r[1]["last_px"], r[1]["last_qty"]) == (102, 8)
    assert r[2]["reason"] == int(native.ExecReason.NO_LIQUIDITY)
    assert r[2]["last_qty"] == 12


def test_rust_scenario_fills_advance_the_queue() -> None:
    x = raw_setup(native.ExchangeConfig(maker_fee=-5, taker_fee=7))
    x.submit(20, 9, native.OrderSide.BUY, native.OrderType.LIMIT, 3, limit_price=99)
    x.advance_to(20)
    view = x.order(9)
    assert view is not None
    assert view.queue_ahead == 8
    assert view.resting
    x.apply(21, 7, 99, 10, "B", "A")
    x.drain_reports()
    x.apply(30, 4, 99, 5, "B", "F")
    x.apply(30, 4, 99, 5, "B", "C")
    assert x.order(9).queue_ahead == 3  # type: ignore[union-attr]
    for oid, size, action in [(5, 3, "F"), (7, 2, "F"), (5, 3, "C"), (7, 8, "M")]:
        x.apply(40, oid, 99, size, "B", action)
    r = x.drain_reports()
    assert kinds(r) == [ExecType.PARTIAL_FILL]
    assert (r[0]["last_qty"], r[0]["queue_ahead"]) == (2, 8)
    assert r[0]["liquidity"] == int(native.Liquidity.MAKER)
    assert (r[0]["fee_per_contract"], r[0]["fee"]) == (-5, -10)
    x.apply(50, 7, 99, 4, "B", "F")
    x.apply(50, 7, 99, 4, "B", "M")
    r = x.drain_reports()
    assert kinds(r) == [ExecType.FILL]
    assert r[0]["last_qty"] == 1
    v = x.order(9)
    assert v is not None
    assert v.qty == v.filled + v.cancelled + v.leaves == 3


def test_config_is_frozen_keyword_only_and_validated() -> None:
    cfg = native.ExchangeConfig(
        queue=native.QueueModel.PROBABILISTIC,
        queue_function=native.QueueFunction.LOG,
        entry_latency_samples=[1, 2, 3],
        seed=9,
        sessions=[(0, 10), (20, 30)],
        off_hours=native.OffHours.HOLD,
    )
    assert cfg.queue == native.QueueModel.PROBABILISTIC
    assert cfg.entry_latency_samples == [1, 2, 3]
    assert cfg.entry_latency_ns == 0
    assert cfg.sessions == [(0, 10), (20, 30)]
    assert cfg.off_hours == native.OffHours.HOLD
    assert "QueueModel.PROBABILISTIC" in repr(cfg)
    with pytest.raises(AttributeError):
        cfg.seed = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        native.ExchangeConfig(native.QueueModel.CONSERVATIVE)  # type: ignore[call-arg]
    bads: list[dict[str, object]] = [
        {"entry_latency_samples": []},
        {"queue_power": 0.0},
        {"tick": -1},
        {"sessions": [(10, 5)]},
        {"halts": [(0, 10), (5, 20)]},
        {"response_latency_ns": 5, "response_latency_samples": [1]},
    ]
    for bad in bads:
        with pytest.raises(ValueError, match="ExchangeConfig"):
            native.ExchangeConfig(**bad)  # type: ignore[arg-type]


# ---------------------------------------------------------------- the Python face, in dollars


def px(ticks: int) -> int:
    return P + ticks * TICK


def dollars(ticks: int) -> float:
    return px(ticks) / 1e9


def mbo(ts: int, oid: int, action: str, side: str, ticks: int, size: int, flags: int = LAST):
    return dbn.MBOMsg(
        publisher_id=1,
        instrument_id=7,
        ts_event=ts,
        order_id=oid,
        price=px(ticks),
        size=size,
        action=dbn.Action(action),
        side=dbn.Side(side),
        ts_recv=ts + 10,
        flags=flags,
        sequence=ts // SEC,
    )


#: A book (asks 64.01: 5 + 5, 64.02: 10; bids 63.99: 5 + 3, 63.98: 10) at t = 1 s, then
#: a trade day of events every second: trades at the bid, a new ask, trades up to 64.02.
RECORDS = [
    mbo(1 * SEC, 1, "A", "A", 1, 5, 0),
    mbo(1 * SEC, 2, "A", "A", 1, 5, 0),
    mbo(1 * SEC, 3, "A", "A", 2, 10, 0),
    mbo(1 * SEC, 4, "A", "B", -1, 5, 0),
    mbo(1 * SEC, 5, "A", "B", -1, 3, 0),
    mbo(1 * SEC, 6, "A", "B", -2, 10, LAST),
    # t=2: order 7 joins the bid at 63.99
    mbo(2 * SEC, 7, "A", "B", -1, 10, LAST),
    # t=3: a seller takes 5 (id 4) at 63.99
    mbo(3 * SEC, 0, "T", "A", -1, 5, 0),
    mbo(3 * SEC, 4, "F", "B", -1, 5, 0),
    mbo(3 * SEC, 4, "C", "B", -1, 5, LAST),
    # t=4: a seller takes id 5 (3) and 4 of id 7 at 63.99
    mbo(4 * SEC, 0, "T", "A", -1, 7, 0),
    mbo(4 * SEC, 5, "F", "B", -1, 3, 0),
    mbo(4 * SEC, 7, "F", "B", -1, 4, 0),
    mbo(4 * SEC, 5, "C", "B", -1, 3, 0),
    mbo(4 * SEC, 7, "M", "B", -1, 6, LAST),
    # t=5: a buyer lifts 64.01 whole (ids 1, 2) and 1 at 64.02
    mbo(5 * SEC, 0, "T", "B", 1, 11, 0),
    mbo(5 * SEC, 1, "F", "A", 1, 5, 0),
    mbo(5 * SEC, 2, "F", "A", 1, 5, 0),
    mbo(5 * SEC, 3, "F", "A", 2, 1, 0),
    mbo(5 * SEC, 1, "C", "A", 1, 5, 0),
    mbo(5 * SEC, 2, "C", "A", 1, 5, 0),
    mbo(5 * SEC, 3, "M", "A", 2, 9, LAST),
    # t=6: a new ask at 64.03, then quiet until t=10
    mbo(6 * SEC, 8, "A", "A", 3, 4, LAST),
    mbo(10 * SEC, 9, "A", "A", 4, 1, LAST),
]


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


@pytest.fixture
def fixture_file(tmp_path: Path) -> Path:
    return write_dbn(tmp_path / "book.mbo.dbn", RECORDS)


def config(**kw: object) -> native.ExchangeConfig:
    base: dict[str, object] = {
        "tick": TICK,
        "maker_fee": fixed(-0.05),
        "taker_fee": fixed(0.35),
    }
    return ExchangeConfig(**(base | kw))  # type: ignore[arg-type]


def conserved(frame: pd.DataFrame) -> None:
    """Every report: order_qty = cum + leaves + cancelled so far; fills sum to cum_qty."""
    for _, rows in frame.groupby("client_id"):
        cancelled = np.cumsum(
            np.where(rows["exec_type"].isin(["cancelled", "expired"]), rows["last_qty"], 0)
        )
        ok = rows["status"] == OrderStatus.REJECTED
        assert (ok | (rows["order_qty"] == rows["cum_qty"] + rows["leaves_qty"] + cancelled)).all()
        fills = rows[rows["exec_type"].isin(["fill", "partial_fill"])]
        assert fills["last_qty"].sum() == rows["cum_qty"].iloc[-1]


def test_orders_of_every_type_on_a_written_file(fixture_file: Path) -> None:
    x = SimExchange(fixture_file, config())
    assert x.step() == 6
    assert x.now == 1 * SEC
    assert x.best_bid().px == pytest.approx(63.99)  # type: ignore[union-attr]
    buy_mkt = x.submit(Side.BUY, 12, time_in_force=TimeInForce.IOC)
    sell_lmt = x.submit(Side.SELL, 12, OrderType.LIMIT, limit_price=63.99, time_in_force="ioc")  # type: ignore[arg-type]
    rest = x.submit(Side.BUY, 3, OrderType.LIMIT, limit_price=63.99, time_in_force=TimeInForce.GTC)
    stop = x.submit(Side.BUY, 2, OrderType.STOP, stop_price=64.02, time_in_force=TimeInForce.GTC)
    stop_lmt = x.submit(
        Side.BUY, 2, OrderType.STOP_LIMIT, stop_price=64.01, limit_price=64.01, order_ref="sl-1"
    )
    x.run()
    frame = x.reports()
    assert list(frame.columns) == list(REPORT_COLUMNS)
    assert str(frame["ts_exchange"].dtype) == "datetime64[ns, UTC]"
    by = {cid: g.reset_index(drop=True) for cid, g in frame.groupby("client_id")}

    m = by[buy_mkt]
    assert list(m["exec_type"]) == ["new", "partial_fill", "fill"]
    assert list(m["last_px"].iloc[1:]) == pytest.approx([64.01, 64.02])
    assert list(m["last_qty"].iloc[1:]) == [10, 2]
    assert (m["liquidity"].iloc[1:] == Liquidity.TAKER).all()
    assert m["fee_per_contract"].iloc[1] == pytest.approx(0.35)
    assert m["fee"].iloc[1] == pytest.approx(3.5)

    s = by[sell_lmt]
    assert list(s["exec_type"]) == ["new", "partial_fill", "cancelled"]
    assert (s["last_px"].iloc[1], s["last_qty"].iloc[1]) == (pytest.approx(63.99), 8)
    assert s["reason"].iloc[2] == "immediate_or_cancel"
    assert s["last_qty"].iloc[2] == 4

    r = by[rest]  # behind 8 at 63.99; id 7 (10) joins behind at t=2
    fills = r[r["exec_type"].isin(["partial_fill", "fill"])]
    assert (fills["liquidity"] == Liquidity.MAKER).all()
    assert (fills["queue_ahead"] == 8).all()
    assert fills["last_px"].tolist() == pytest.approx([63.99] * len(fills))
    assert fills["fee_per_contract"].tolist() == pytest.approx([-0.05] * len(fills))
    # t=3 trades 5 (ahead 3); t=4 trades 3 ahead then 4 of id 7 behind: 3 pass and fill us.
    assert fills["ts_exchange"].iloc[-1] == pd.Timestamp(4 * SEC, tz="UTC")
    assert fills["cum_qty"].iloc[-1] == 3
    assert r["status"].iloc[-1] == OrderStatus.FILLED

    st = by[stop]  # the trades at t=5 reach 64.02: triggered, then a market buy at 64.02+
    assert list(st["exec_type"]) == ["new", "triggered", "fill"]
    assert st["ts_exchange"].iloc[1] == pd.Timestamp(5 * SEC, tz="UTC")
    assert st["last_px"].iloc[2] >= 64.02 - 1e-9

    sl = by[stop_lmt]  # triggered at t=5; 64.01 is empty afterwards: it rests as a bid
    assert list(sl["exec_type"][:2]) == ["new", "triggered"]
    assert set(sl["order_ref"]) == {"sl-1"}
    assert x.client_id("sl-1") == stop_lmt
    state = x.order(stop_lmt)
    assert state is not None
    assert state.order_type == OrderType.STOP_LIMIT
    assert state.quantity == state.filled + state.cancelled + state.leaves
    conserved(frame)
    assert x.stats["records"] == len(RECORDS)
    assert x.remaining == 0


def test_cancel_replace_and_unknown_cancel(fixture_file: Path) -> None:
    x = SimExchange(fixture_file, config(queue=QueueModel.L3_KNOWN))
    x.step()
    cid = x.submit(Side.BUY, 5, OrderType.LIMIT, limit_price=63.98, time_in_force=TimeInForce.GTC)
    x.advance_to(x.now)
    assert x.order(cid).queue_ahead == 10  # type: ignore[union-attr]
    x.replace(cid, 4)  # smaller: keeps its place
    x.advance_to(x.now)
    assert x.order(cid).queue_ahead == 10  # type: ignore[union-attr]
    x.replace(cid, 4, limit_price=63.97)  # new price: to the back of an empty level
    x.advance_to(x.now)
    state = x.order(cid)
    assert state is not None
    assert state.limit_price == pytest.approx(63.97)
    assert state.queue_ahead == 0
    x.cancel(cid)
    x.cancel(cid)  # no longer working
    x.cancel(999)  # never seen
    x.advance_to(x.now)
    frame = x.reports()
    assert list(frame["exec_type"]) == [
        "new",
        "replaced",
        "replaced",
        "cancelled",
        "rejected",
        "rejected",
    ]
    assert frame["last_qty"].iloc[3] == 4
    assert list(frame["reason"].iloc[4:]) == ["unknown_order", "unknown_order"]
    assert x.order(cid).status == OrderStatus.CANCELLED  # type: ignore[union-attr]


def test_rejections_carry_their_reason(fixture_file: Path) -> None:
    x = SimExchange(fixture_file, config(sessions=[(0, 20 * SEC)]))
    x.step()
    off_tick = x.submit(Side.BUY, 1, OrderType.LIMIT, limit_price=63.995)
    no_price = x.submit(Side.BUY, 1, OrderType.LIMIT)
    zero = x.submit(Side.SELL, 0)
    x.submit(Side.BUY, 1, OrderType.LIMIT, limit_price=63.90, client_id=off_tick + 100)
    dup = x.submit(Side.BUY, 1, OrderType.LIMIT, limit_price=63.90, client_id=off_tick + 100)
    late = x.submit(Side.BUY, 1, at=25 * SEC)
    x.run()
    x.advance_to(30 * SEC)
    frame = x.reports().set_index("seq")
    reasons = frame[frame["exec_type"] == "rejected"].groupby("client_id")["reason"].first()
    assert reasons[off_tick] == "off_tick"
    assert reasons[no_price] == "invalid_price"
    assert reasons[zero] == "invalid_quantity"
    assert reasons[dup] == "duplicate_client_id"
    assert reasons[late] == "market_closed"
    # The DAY order accepted in the session expires at its close.
    expired = frame[frame["exec_type"] == "expired"]
    assert list(expired["client_id"]) == [off_tick + 100]
    assert expired["reason"].iloc[0] == "session_end"
    assert expired["ts_exchange"].iloc[0] == pd.Timestamp(20 * SEC, tz="UTC")
    assert ExecReason.SESSION_END.label == "session_end"


def test_off_hours_hold_releases_at_the_open(fixture_file: Path) -> None:
    x = SimExchange(fixture_file, config(sessions=[(3 * SEC, 20 * SEC)], off_hours=OffHours.HOLD))
    x.step()
    cid = x.submit(Side.BUY, 1)
    x.run_until(2 * SEC)
    assert x.order(cid).status == OrderStatus.PENDING  # type: ignore[union-attr]
    x.run()
    frame = x.reports()
    assert frame["ts_exchange"].iloc[0] == pd.Timestamp(3 * SEC, tz="UTC")
    assert list(frame["exec_type"]) == ["new", "fill"]


def run_with(source: object, cfg: native.ExchangeConfig) -> pd.DataFrame:
    x = SimExchange(source, cfg, instrument_id=7)  # type: ignore[arg-type]
    x.step()
    x.submit(Side.BUY, 3, OrderType.LIMIT, limit_price=63.99, time_in_force=TimeInForce.GTC)
    x.submit(Side.BUY, 2, OrderType.LIMIT, limit_price=63.98, time_in_force=TimeInForce.GTC)
    x.submit(Side.SELL, 1, at=x.now + 1)
    x.run()
    x.advance_to(20 * SEC)
    return x.reports()


def test_deterministic_for_a_seed_and_same_from_file_bytes_and_records(
    fixture_file: Path,
) -> None:
    cfg = config(
        queue=QueueModel.PROBABILISTIC,
        queue_function=QueueFunction.POWER,
        queue_power=3.0,
        entry_latency_samples=[10, 900_000_000, 1_500_000_000],
        response_latency_samples=[5, 50_000],
        seed=42,
    )
    a = run_with(fixture_file, cfg)
    pd.testing.assert_frame_equal(a, run_with(fixture_file, cfg))
    pd.testing.assert_frame_equal(a, run_with(fixture_file.read_bytes(), cfg))
    pd.testing.assert_frame_equal(a, run_with(RECORDS, cfg))
    assert (a["ts_local"] >= a["ts_exchange"]).all()
    delays = pd.DatetimeIndex(a["ts_local"]).asi8 - pd.DatetimeIndex(a["ts_exchange"]).asi8
    assert set(delays) <= {5, 50_000}
    other = [run_with(fixture_file, config(**{**_kw(cfg), "seed": s})) for s in range(1, 6)]
    assert any(not o.equals(a) for o in other)


def _kw(cfg: native.ExchangeConfig) -> dict[str, object]:
    return {
        "queue": cfg.queue,
        "queue_function": cfg.queue_function,
        "queue_power": cfg.queue_power,
        "entry_latency_samples": cfg.entry_latency_samples,
        "response_latency_samples": cfg.response_latency_samples,
    }


def test_frame_matches_the_native_records(fixture_file: Path) -> None:
    x = SimExchange(fixture_file, config())
    x.step()
    x.submit(Side.BUY, 12)
    x.submit(Side.SELL, 2, OrderType.LIMIT, limit_price=64.05)
    x.run()
    rows = x.report_records()
    frame = reports_frame(rows)
    assert len(frame) == len(rows) > 0
    assert (frame["seq"].to_numpy() == np.arange(len(rows))).all()
    assert (pd.DatetimeIndex(frame["ts_exchange"]).asi8 == rows["ts_exchange"]).all()
    fills = rows["last_px"] != native.UNDEF_PRICE
    assert np.allclose(frame["last_px"][fills], rows["last_px"][fills] / 1e9)
    assert frame["last_px"][~fills].isna().all()
    assert np.allclose(frame["fee"], rows["fee"] / 1e9)
    assert (rows["fee"] == rows["fee_per_contract"] * rows["last_qty"] * fills).all()
    assert list(frame["exec_type"]) == [ExecType(int(k)).label for k in rows["exec_type"]]
    assert x.report_records().size == 0  # drained


def test_submit_order_model_records(fixture_file: Path) -> None:
    x = SimExchange(fixture_file, config())
    x.step()
    order = Order("ref-1", "MCLZ5", Side.SELL, 2, OrderType.LIMIT, limit_price=63.99)
    cid = x.submit_order(order)
    x.advance_to(x.now)
    frame = x.reports()
    assert set(frame["order_ref"]) == {"ref-1"}
    assert set(frame["client_id"]) == {cid}
    assert frame["last_qty"].iloc[-1] == 2
    assert frame["side"].iloc[-1] == -1


def test_bad_input_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BookFileError, match="no DBN file"):
        SimExchange(tmp_path / "missing.dbn")
    bad = tmp_path / "bad.dbn"
    bad.write_text("not DBN at all\n" * 20)
    with pytest.raises(BookFileError, match="not a readable DBN file"):
        SimExchange(bad)
    two = [*RECORDS[:1], mbo(1, 99, "A", "B", -5, 1)]
    two[1] = dbn.MBOMsg(
        publisher_id=1,
        instrument_id=8,
        ts_event=2,
        order_id=99,
        price=px(-5),
        size=1,
        action=dbn.Action("A"),
        side=dbn.Side("B"),
        ts_recv=2,
        flags=LAST,
    )
    with pytest.raises(ConfigError, match="several instruments"):
        SimExchange(write_dbn(tmp_path / "two.dbn", two))
    assert SimExchange(write_dbn(tmp_path / "two2.dbn", two), instrument_id=8).remaining == 1
    with pytest.raises(ConfigError, match="instrument_id"):
        SimExchange(None)
    with pytest.raises(ConfigError, match="time zone"):
        SimExchange(None, instrument_id=1).advance_to(pd.Timestamp("2024-01-01"))


def test_trade_bars_from_the_feed(fixture_file: Path) -> None:
    bars = SimExchange(fixture_file).trade_bars("1s", symbol="MCLZ5")
    assert list(bars.index.asi8) == [3 * SEC, 4 * SEC, 5 * SEC]
    assert str(bars.index.dtype) == "datetime64[ns, UTC]"
    assert bars["close"].tolist() == pytest.approx([63.99, 63.99, 64.01])
    assert bars["volume"].tolist() == [5, 7, 11]
    assert set(bars["symbol"]) == {"MCLZ5"}
    with pytest.raises(ConfigError, match="interval"):
        SimExchange(fixture_file).trade_bars("0s")


def test_cme_sessions_feed_the_schedule() -> None:
    start = pd.Timestamp("2025-09-24 19:30", tz="UTC")
    sessions = cme_sessions(start, start + pd.Timedelta(days=2))
    assert len(sessions) >= 2
    assert all(o < c for o, c in sessions)
    assert all(c1 <= o2 for (_, c1), (o2, _) in itertools.pairwise(sessions))
    # Wednesday 19:30 UTC is inside the Globex session that closes at 17:00 New York (21:00 UTC)
    inside = [s for s in sessions if s[0] <= start.value < s[1]]
    assert len(inside) == 1
    assert pd.Timestamp(inside[0][1], tz="UTC") == pd.Timestamp("2025-09-24 21:00", tz="UTC")
    cfg = ExchangeConfig(sessions=sessions)
    assert cfg.sessions == sessions
