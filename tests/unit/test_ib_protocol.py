"""The TWS API wire format, message layouts (decoded by ib-async's own Decoder), MCL contract
identifiers, order matching on a bar, bar aggregation and request pacing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from ib_async.decoder import Decoder

from workbench.adapters.ib import messages as m
from workbench.adapters.ib.account import SimAccount, SimOrder
from workbench.adapters.ib.bars import BarAggregator, RequestPacer
from workbench.adapters.ib.connectivity import Action, Connectivity, LinkState
from workbench.adapters.ib.contracts import ContractQuery, future, listed_contracts
from workbench.adapters.ib.feed import Bar, BarFeed
from workbench.adapters.ib.protocol import (
    UNSET_DOUBLE,
    FrameReader,
    ProtocolError,
    encode,
    encode_handshake,
    field,
    ib_time,
    parse_version_range,
    split_fields,
)
from workbench.market import contract_spec

MCLH5 = future(contract_spec("MCL"), 2025, 3)
NS = 1_000_000_000


# ----------------------------------------------------------------------------- framing
def test_fields_are_encoded_as_ib_writes_them() -> None:
    assert [field(v) for v in (None, True, False, 7, 70.05, 100.0, UNSET_DOUBLE, 2**31 - 1)] == [
        "", "1", "0", "7", "70.05", "100.0", "", "",
    ]  # fmt: skip
    assert field(float("inf")) == "Infinite"


def test_frames_round_trip_across_arbitrary_chunks() -> None:
    wire = encode([9, 1, 42]) + encode([15, 1, "DU1234567"]) + encode([49, 1, 1_700_000_000])
    reader = FrameReader()
    got: list[list[str]] = []
    for i in range(0, len(wire), 3):  # three bytes at a time
        reader.feed(wire[i : i + 3])
        got += list(reader.messages())
    assert got == [["9", "1", "42"], ["15", "1", "DU1234567"], ["49", "1", "1700000000"]]
    assert reader.pending() == 0


def test_oversized_frame_is_refused() -> None:
    reader = FrameReader()
    reader.feed((64 * 1024 * 1024).to_bytes(4, "big"))
    with pytest.raises(ProtocolError, match="over the"):
        list(reader.messages())


def test_handshake_version_range() -> None:
    hello = encode_handshake()
    assert hello.startswith(b"API\0")
    assert parse_version_range(hello[8:]) == (157, 178)
    assert parse_version_range(b"v100..178 +PACEAPI") == (100, 178)
    with pytest.raises(ProtocolError):
        parse_version_range(b"hello")
    assert split_fields(b"178\x0020250101 12:00:00 UTC\x00") == ["178", "20250101 12:00:00 UTC"]
    assert ib_time(1_735_732_800 * NS) == "20250101 12:00:00 UTC"


# -------------------------------------------------- layouts, read by ib-async's decoder
class _Wrapper:
    """Records the wrapper calls ib-async's Decoder makes (stands in for ib-async's own
    Wrapper, which needs a whole IB instance)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.ib = self

    TimezoneTWS = None
    defaultTimezone = dt.UTC

    def __getattr__(self, name: str) -> Any:
        def record(*args: Any) -> None:
            self.calls.append((name, args))

        return record


def decode(fields: list[object]) -> list[tuple[str, tuple[Any, ...]]]:
    wrapper = _Wrapper()
    decoder = Decoder(wrapper, 178)  # type: ignore[arg-type]
    payload = encode(fields)[4:]
    raw = split_fields(payload)
    msg_id = int(raw[0])
    decoder.handlers[msg_id](raw)  # raises on a layout error (interpret() would only log)
    return wrapper.calls


def _order_view(status: str = "Submitted") -> m.OrderView:
    return m.OrderView(
        order_id=7, client_id=3, perm_id=1_000_001, parent_id=5, contract=MCLH5,
        action="SELL", quantity=2.0, order_type="LMT", lmt_price=71.25, aux_price=None,
        tif="GTC", oca_group="", account="DU1234567", order_ref="wb-x", status=status,
        filled=0.0, remaining=2.0, avg_fill_price=0.0, last_fill_price=0.0,
    )  # fmt: skip


def test_open_order_layout() -> None:
    fields = m.open_order(_order_view())
    assert len(fields) == 127
    [(name, (order_id, contract, order, state))] = decode(fields)
    assert (name, order_id) == ("openOrder", 7)
    assert (contract.localSymbol, contract.conId, contract.multiplier) == (
        "MCLH5",
        MCLH5.con_id,
        "100",
    )
    assert (order.action, order.totalQuantity, order.orderType, order.lmtPrice) == (
        "SELL",
        2.0,
        "LMT",
        71.25,
    )
    assert (order.orderRef, order.permId, order.parentId, order.clientId, order.tif) == (
        "wb-x", 1_000_001, 5, 3, "GTC",
    )  # fmt: skip
    assert state.status == "Submitted"


def test_order_status_execution_and_commission_layouts() -> None:
    [(name, args)] = decode(m.order_status(_order_view("Filled")))
    assert name == "orderStatus"
    assert args[:3] == (7, "Filled", 0.0)
    assert args[5:7] == (1_000_001, 5)
    assert args[8] == 3
    ex = m.ExecutionView(
        exec_id="e1", order_id=7, client_id=3, perm_id=1_000_001, contract=MCLH5,
        time_ns=1_735_732_800 * NS, account="DU1234567", side="SLD", shares=2.0, price=71.25,
        cum_qty=2.0, avg_price=71.25, order_ref="wb-x", commission=2.5, realized_pnl=None,
    )  # fmt: skip
    fields = m.execution_data(-1, ex, ib_time(ex.time_ns))
    assert len(fields) == 32
    [(name, (req_id, contract, execution))] = decode(fields)
    assert (name, req_id, contract.localSymbol) == ("execDetails", -1, "MCLH5")
    assert (execution.side, execution.shares, execution.price, execution.orderRef) == (
        "SLD",
        2.0,
        71.25,
        "wb-x",
    )
    assert execution.time == dt.datetime(2025, 1, 1, 12, tzinfo=dt.UTC)
    assert len(m.commission_report(ex)) == 8
    [(name, (report,))] = decode(m.commission_report(ex))
    assert (report.execId, report.commission, report.currency) == ("e1", 2.5, "USD")


def test_contract_position_and_portfolio_layouts() -> None:
    fields = m.contract_data(12, MCLH5)
    assert len(fields) == 40
    [(name, (req_id, details))] = decode(fields)
    c = details.contract
    assert (name, req_id) == ("contractDetails", 12)
    assert (c.localSymbol, c.lastTradeDateOrContractMonth, details.contractMonth) == (
        "MCLH5", "20250219", "202503",
    )  # fmt: skip
    assert (details.minTick, c.multiplier, c.exchange, c.tradingClass) == (
        0.01,
        "100",
        "NYMEX",
        "MCL",
    )
    assert len(m.position("DU1", MCLH5, -2.0, 7124.0)) == 16
    [(name, (account, contract, qty, cost))] = decode(m.position("DU1", MCLH5, -2.0, 7124.0))
    assert (name, account, contract.conId, qty, cost) == (
        "position",
        "DU1",
        MCLH5.con_id,
        -2.0,
        7124.0,
    )
    fields = m.portfolio_value("DU1", MCLH5, 1.0, 71.3, 7130.0, 7126.25, 3.75, 0.0)
    assert len(fields) == 20
    [(name, args)] = decode(fields)
    assert name == "updatePortfolio"
    assert args[1:] == (1.0, 71.3, 7130.0, 7126.25, 3.75, 0.0, "DU1")


def test_bar_layouts() -> None:
    [(name, args)] = decode(m.real_time_bar(4, 1_735_732_800, 71.0, 71.2, 70.9, 71.1, 12.0, 6))
    assert name == "realtimeBar"
    assert args[:6] == (4, 1_735_732_800, 71.0, 71.2, 70.9, 71.1)
    rows = [("20250101 12:00:00 UTC", 71.0, 71.2, 70.9, 71.1, 12.0, 6)]
    calls = decode(m.historical_data(5, "a", "b", rows))
    assert [c[0] for c in calls] == ["historicalData", "historicalDataEnd"]
    assert calls[0][1][1].close == 71.1


# --------------------------------------------------------------------------- contracts
def test_contract_month_and_last_trade_date_differ() -> None:
    assert (MCLH5.local_symbol, MCLH5.contract_month, MCLH5.last_trade) == (
        "MCLH5",
        "202503",
        "20250219",
    )
    listed = listed_contracts("MCL", dt.date(2025, 2, 19))
    assert listed[0].local_symbol == "MCLH5"
    assert len(listed) == 12
    assert listed_contracts("MCL", dt.date(2025, 2, 20))[0].local_symbol == "MCLJ5"


def _query(**kw: str) -> ContractQuery:
    f = ["0", "", "FUT", "", "0.0", "", "", "", "", "", "", ""]
    names = {"con_id": 0, "symbol": 1, "last": 3, "exchange": 7, "local": 10}
    for k, v in kw.items():
        f[names[k]] = v
    return ContractQuery.from_fields(f)


def test_contract_queries() -> None:
    assert _query(symbol="MCL", last="202503", exchange="NYMEX").matches(MCLH5)
    assert _query(symbol="MCL", last="20250219").matches(MCLH5)
    assert _query(local="MCLH5").matches(MCLH5)
    assert _query(con_id=str(MCLH5.con_id)).matches(MCLH5)
    assert not _query(symbol="MCL", last="202504").matches(MCLH5)
    assert not _query(symbol="MCL", exchange="CME").matches(MCLH5)
    assert not _query().matches(MCLH5)


# ---------------------------------------------------------------------------- matching
def _order(order_id: int, action: str, order_type: str, price: float | None = None) -> SimOrder:
    return SimOrder(
        order_id=order_id, client_id=1, perm_id=0, contract=MCLH5, action=action, quantity=1,
        order_type=order_type, lmt_price=price if order_type == "LMT" else None,
        aux_price=price if order_type == "STP" else None, tif="DAY", order_ref=f"r{order_id}",
        parent_id=0, transmit=True, oca_group="", account="DU1",
    )  # fmt: skip


def test_orders_fill_along_the_bar_path_at_their_price() -> None:
    acct = SimAccount(account="DU1")
    for o in (
        _order(1, "BUY", "LMT", 69.80),  # inside the range: fills at 69.80
        _order(2, "SELL", "STP", 69.90),  # touched on the way down: at 69.90
        _order(3, "BUY", "STP", 70.50),  # never reached
        _order(4, "SELL", "LMT", 69.50),  # the bar opens above: fills at the open
        _order(5, "BUY", "MKT"),  # at the open
    ):
        acct.place(o, cursor=0)
    down_bar = Bar(0, 70.00, 70.20, 69.70, 69.75, 10, 5)  # path: 70.00 70.20 69.70 69.75
    events = acct.on_bar(down_bar, 0)
    fills = {e.execution.order_id: e.execution.price for e in events if hasattr(e, "execution")}
    assert fills == {1: 69.80, 2: 69.90, 4: 70.00, 5: 70.00}
    assert acct.orders[3].status == "Submitted"
    assert acct.positions[MCLH5.con_id].quantity == 0  # +1 -1 -1 +1


def test_round_trip_pnl_and_cash_with_commissions() -> None:
    acct = SimAccount(account="DU1", cash=10_000.0, commission=1.25)
    acct.place(_order(1, "BUY", "MKT"), 0)
    acct.on_bar(Bar(0, 70.00, 70.00, 70.00, 70.00, 1, 1), 0)
    acct.place(_order(2, "SELL", "MKT"), 1)
    [ev] = acct.on_bar(Bar(5 * NS, 70.50, 70.50, 70.50, 70.50, 1, 1), 1)
    assert ev.execution.realized_pnl == pytest.approx(50.0 - 2.5)  # type: ignore[union-attr]
    assert acct.cash == pytest.approx(10_000 + 47.5)
    assert acct.values()["NetLiquidation"] == pytest.approx(10_047.5)


def test_rejections() -> None:
    acct = SimAccount(account="DU1")
    [err] = acct.place(_order(1, "BUY", "LMT", 70.005), 0)
    assert (err.code, err.order_id) == (201, 1)  # type: ignore[union-attr]
    acct.reject_next.append("test")
    [err] = acct.place(_order(2, "BUY", "MKT"), 0)
    assert err.code == 201
    assert "test" in err.text
    [err] = acct.cancel(1, 99)
    assert err.code == 10147  # type: ignore[union-attr]


# ----------------------------------------------------------------------- feed and bars
def test_price_feed_history_has_no_look_ahead() -> None:
    feed = BarFeed.from_prices([float(70 + i / 100) for i in range(24)])
    for _ in range(18):
        feed.step()
    minutes = feed.history(feed.clock_ns(), 600, 60)
    assert len(minutes) == 1  # the second minute is half done
    assert minutes[0].close == 70.11


def test_aggregator_emits_a_bar_when_its_last_five_seconds_arrive() -> None:
    agg = BarAggregator(60)
    out = []
    for i in range(12):
        out += agg.add(i * 5 * NS, 70 + i, 71 + i, 69 + i, 70.5 + i, 1)
        if i < 11:
            assert out == []
    [bar] = out
    assert (bar.ts, bar.open, bar.high, bar.low, bar.close, bar.volume) == (0, 70, 82, 69, 81.5, 12)
    assert bar.end == 60 * NS
    # A missing last bar: the next minute's first bar closes the previous one.
    agg.add(60 * NS, 1, 1, 1, 1, 1)
    [late] = agg.add(125 * NS, 2, 2, 2, 2, 1)
    assert late.ts == 60 * NS
    assert late.close == 1
    assert agg.add(125 * NS, 3, 3, 3, 3, 1) == []  # a repeat is ignored


def test_pacer_delays() -> None:
    pacer = RequestPacer(max_requests=2, window=10.0, identical_gap=3.0)
    pacer._starts.extend([100.0, 101.0])
    assert pacer.delay_for("a", 102.0) == pytest.approx(8.0)
    assert pacer.delay_for("a", 111.0) == 0.0
    pacer._last_by_key["b"] = 110.0
    assert pacer.delay_for("b", 111.0) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="max_requests >= 1"):
        RequestPacer(max_requests=0)


def test_aggregator_marks_a_bar_that_began_before_the_subscription() -> None:
    agg = BarAggregator(60)
    out = []
    for i in range(6, 12):  # joined half-way through the first minute
        out += agg.add(i * 5 * NS, 70, 70, 70, 70, 1)
    [first] = out
    assert not first.complete
    [second] = [b for i in range(12, 24) for b in agg.add(i * 5 * NS, 71, 71, 71, 71, 1)]
    assert second.complete
    assert second.ts == 60 * NS


# ------------------------------------------------------------------------- connectivity
def test_connectivity_state_machine() -> None:
    link = Connectivity(base_backoff=1.0, max_backoff=8.0)
    link.connecting()
    assert link.connected(restored=False) is Action.NONE
    assert link.code(2104) is Action.NONE
    assert link.data_ok
    assert link.code(2103) is Action.NONE
    assert not link.data_ok  # the market data farm is down
    assert link.code(2104) is Action.FILL_GAP  # back: bars may have been missed
    assert link.code(1100) is Action.NONE
    assert link.state is LinkState.IB_LOST
    assert link.code(1101) is Action.RESUBSCRIBE
    assert link.code(1100) is Action.NONE
    assert link.code(1102) is Action.FILL_GAP
    assert link.state is LinkState.CONNECTED
    assert link.socket_closed() is Action.RECONNECT
    backoffs = []
    for _ in range(5):
        link.connecting()
        backoffs.append(link.backoff)
        assert link.connect_failed() is Action.RECONNECT
    assert backoffs == [1.0, 2.0, 4.0, 8.0, 8.0]
    link.connecting()
    assert link.connected(restored=True) is Action.RESUBSCRIBE
    link.closed_by_user()
    assert link.socket_closed() is Action.NONE  # already down, and wanted down
