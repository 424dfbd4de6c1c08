"""The unmodified ib-async client against the simulated IB Gateway on 127.0.0.1.

Nothing in ``ib_async`` is patched: the client connects over TCP to
:class:`SimulatedGateway` (on its own thread and event loop) and the tests read what the
client decoded. Every test fails if the client logged "Error handling fields" (a message it
could not decode). The market moves only on ``gateway.step()`` (speed 0), so fills are
deterministic.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import signal
import socket
import subprocess
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from ib_async import IB, Future, LimitOrder, MarketOrder, Order, StopOrder

from tests.integration.subprocesses import EXE, child_env
from workbench.adapters.ib import BarFeed, GatewayConfig, SimulatedGateway
from workbench.data import load_bars
from workbench.market import contract_spec

T = TypeVar("T")
START = dt.datetime(2025, 1, 6, 14, 30, tzinfo=dt.UTC)  # a Monday; front month MCLG5
PATH = [70.00, 70.05, 70.10, 69.95, 69.80, 69.90, 70.20, 70.40, 70.30, 70.10, 70.00, 69.70]
DECODE_ERRORS = ("Error handling fields", "Error for ")


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def no_decode_errors() -> Iterator[_Records]:
    """Fail the test if ib-async could not decode a message (it only logs that)."""
    handler = _Records()
    logger = logging.getLogger("ib_async")
    old_level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    bad = [r.getMessage() for r in handler.records if r.getMessage().startswith(DECODE_ERRORS)]
    assert not bad, f"ib-async could not decode: {bad[:3]}"


@pytest.fixture
def gateway() -> Iterator[SimulatedGateway]:
    gw = SimulatedGateway(BarFeed.from_prices(PATH, START), GatewayConfig(port=0))
    gw.start()
    yield gw
    gw.stop()


def run(coro: Awaitable[T]) -> T:
    async def main() -> T:
        return await coro

    return asyncio.run(main())


async def connect(gw: SimulatedGateway, client_id: int = 1, timeout: float = 5) -> IB:
    ib = IB()
    await ib.connectAsync("127.0.0.1", gw.port, clientId=client_id, timeout=timeout)
    return ib


async def settle(ib: IB, until: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the client read until ``until()`` holds (fails the test after ``timeout`` s)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not until():
        if loop.time() > deadline:
            raise AssertionError("the client did not see the expected messages in time")
        await asyncio.sleep(0.01)


async def sync(ib: IB) -> None:
    """A round trip: the gateway has handled everything the client sent before it."""
    await asyncio.wait_for(ib.reqCurrentTimeAsync(), 5)


async def step(gw: SimulatedGateway, n: int = 1) -> None:
    """Advance the market without blocking the client's event loop."""
    await asyncio.to_thread(gw.step, n)


async def mcl(ib: IB, month: str = "202502") -> Any:
    [c] = await ib.qualifyContractsAsync(Future("MCL", month, "NYMEX"))
    return c


def errors_of(ib: IB) -> list[tuple[int, int]]:
    seen: list[tuple[int, int]] = []
    ib.errorEvent += lambda req_id, code, text, contract=None: seen.append((req_id, code))
    return seen


# --------------------------------------------------------------------------- connect
def test_connect_handshake_accounts_and_farm_notices(gateway: SimulatedGateway) -> None:
    async def scenario() -> None:
        ib = IB()
        seen = errors_of(ib)
        await ib.connectAsync("127.0.0.1", gateway.port, clientId=3, timeout=5)
        assert ib.client.serverVersion() == 178
        assert ib.managedAccounts() == ["DU1234567"]
        assert ib.positions() == []
        assert ib.openTrades() == []
        now = await ib.reqCurrentTimeAsync()
        assert now == START
        await settle(ib, lambda: len(seen) >= 3)
        assert {code for _, code in seen} >= {2104, 2106, 2158}
        assert gateway.client_ids() == [3]
        ib.disconnect()

    run(scenario())


def test_a_second_client_with_the_same_id_is_refused(gateway: SimulatedGateway) -> None:
    async def scenario() -> None:
        first = await connect(gateway, client_id=5)
        second = IB()
        seen = errors_of(second)
        # The gateway says 326 and closes the socket, as IB does; ib-async then times out.
        with pytest.raises((ConnectionError, TimeoutError)):
            await second.connectAsync("127.0.0.1", gateway.port, clientId=5, timeout=2)
        assert (-1, 326) in seen
        assert first.isConnected()
        assert gateway.client_ids() == [5]
        first.disconnect()

    run(scenario())


# ------------------------------------------------------------------------- contracts
def test_mcl_contract_details_follow_the_expiry_rule(gateway: SimulatedGateway) -> None:
    spec = contract_spec("MCL")

    async def scenario() -> None:
        ib = await connect(gateway)
        details = await ib.reqContractDetailsAsync(Future("MCL", exchange="NYMEX"))
        assert len(details) == 12
        months = [d.contractMonth for d in details]
        assert months[0] == "202502"
        assert months[-1] == "202601"
        for d in details:
            c = d.contract
            y, mo = int(d.contractMonth[:4]), int(d.contractMonth[4:])
            assert c.lastTradeDateOrContractMonth == spec.last_trade_date(y, mo).strftime("%Y%m%d")
            assert (c.multiplier, d.minTick, c.exchange, c.tradingClass) == (
                "100",
                0.01,
                "NYMEX",
                "MCL",
            )
        # The contract month differs from the last trade date: 202503 stops on 2025-02-19.
        march = await mcl(ib, "202503")
        assert (march.localSymbol, march.lastTradeDateOrContractMonth) == ("MCLH5", "20250219")
        by_symbol = await ib.qualifyContractsAsync(Future(localSymbol="MCLH5", exchange="NYMEX"))
        assert by_symbol[0].conId == march.conId
        ib.disconnect()

    run(scenario())


def test_unknown_contract_is_error_200(gateway: SimulatedGateway) -> None:
    async def scenario() -> None:
        ib = await connect(gateway)
        seen = errors_of(ib)
        assert await ib.reqContractDetailsAsync(Future("MCL", "201001", "NYMEX")) == []
        assert await ib.reqContractDetailsAsync(Future("ZZZ", exchange="NYMEX")) == []
        assert [code for _, code in seen] == [200, 200]
        ib.disconnect()

    run(scenario())


# ---------------------------------------------------------------------------- orders
def test_market_order_fills_at_the_next_price_with_commission(gateway: SimulatedGateway) -> None:
    async def scenario() -> None:
        ib = await connect(gateway)
        contract = await mcl(ib)
        await step(gateway)  # 70.00 traded
        order = MarketOrder("BUY", 2)
        order.orderRef = "wb-test-1"
        events: list[str] = []
        ib.execDetailsEvent += lambda trade, fill: events.append("exec")
        ib.orderStatusEvent += lambda trade: events.append(f"status:{trade.orderStatus.status}")
        ib.commissionReportEvent += lambda trade, fill, report: events.append("commission")
        ib.positionEvent += lambda pos: events.append("position")
        trade = ib.placeOrder(contract, order)
        await settle(ib, lambda: trade.orderStatus.status == "Submitted")
        assert trade.orderStatus.permId > 0
        await step(gateway)  # the next price: 70.05
        await settle(ib, lambda: "position" in events)
        assert trade.orderStatus.status == "Filled"
        [fill] = trade.fills
        assert (fill.execution.side, fill.execution.shares, fill.execution.price) == (
            "BOT",
            2,
            70.05,
        )
        assert fill.execution.orderRef == "wb-test-1"
        assert fill.execution.permId == trade.orderStatus.permId
        assert fill.commissionReport.commission == pytest.approx(2.50)
        # The real gateway's order: execution, status, commission, then the position.
        assert events.index("exec") < events.index("status:Filled") < events.index("commission")
        assert events.index("commission") < events.index("position")
        [pos] = ib.positions()
        assert pos.position == 2
        assert pos.avgCost == pytest.approx(70.05 * 100 + 1.25)
        ib.disconnect()

    run(scenario())


def test_limit_and_stop_orders_trigger_on_the_replayed_path(gateway: SimulatedGateway) -> None:
    # PATH: 70.00 70.05 70.10 69.95 69.80 69.90 70.20 70.40 ...
    async def scenario() -> None:
        ib = await connect(gateway)
        contract = await mcl(ib)
        await step(gateway)
        buy_limit = ib.placeOrder(contract, LimitOrder("BUY", 1, 69.85))
        sell_limit = ib.placeOrder(contract, LimitOrder("SELL", 1, 70.35))
        buy_stop = ib.placeOrder(contract, StopOrder("BUY", 1, 70.15))
        await settle(
            ib,
            lambda: all(
                t.orderStatus.status == "Submitted" for t in (buy_limit, sell_limit, buy_stop)
            ),
        )
        await step(gateway, 3)  # 70.05 70.10 69.95: nothing reaches a level
        assert [t.orderStatus.status for t in (buy_limit, sell_limit, buy_stop)] == [
            "Submitted"
        ] * 3
        await step(gateway)  # 69.80: through the buy limit (the bar opens below it)
        await settle(ib, lambda: buy_limit.orderStatus.status == "Filled")
        assert buy_limit.fills[0].execution.price == 69.80
        await step(gateway, 2)  # 69.90, 70.20: the buy stop gaps through 70.15
        await settle(ib, lambda: buy_stop.orderStatus.status == "Filled")
        assert buy_stop.fills[0].execution.price == 70.20
        assert sell_limit.orderStatus.status == "Submitted"
        await step(gateway)  # 70.40
        await settle(ib, lambda: sell_limit.orderStatus.status == "Filled")
        assert sell_limit.fills[0].execution.price == 70.40
        await settle(ib, lambda: ib.positions() and ib.positions()[0].position == 1)
        ib.disconnect()

    run(scenario())


def test_intrabar_limit_fills_at_its_price() -> None:
    # One-minute bars split into 5-second bars: a limit inside a bar's range fills at the limit.
    feed = BarFeed.from_prices([70.0], START)
    feed = BarFeed(
        feed.ts,
        [70.00],
        [70.30],
        [69.50],
        [70.20],
        [120.0],
        base_seconds=60,  # up bar: O L H C
    )
    with SimulatedGateway(feed, GatewayConfig(port=0)) as gw:

        async def scenario() -> None:
            ib = await connect(gw)
            contract = await mcl(ib)
            trade = ib.placeOrder(contract, LimitOrder("BUY", 1, 69.75))
            await settle(ib, lambda: trade.orderStatus.status == "Submitted")
            await step(gw, 12)
            await settle(ib, lambda: trade.orderStatus.status == "Filled")
            assert trade.fills[0].execution.price == 69.75
            ib.disconnect()

        run(scenario())


def test_bracket_children_work_after_the_entry_and_cancel_each_other(
    gateway: SimulatedGateway,
) -> None:
    async def scenario() -> None:
        ib = await connect(gateway)
        seen = errors_of(ib)
        contract = await mcl(ib)
        await step(gateway)  # 70.00
        parent, take_profit, stop_loss = ib.bracketOrder("BUY", 1, 70.05, 70.30, 69.70)
        trades = [ib.placeOrder(contract, o) for o in (parent, take_profit, stop_loss)]
        await settle(ib, lambda: trades[0].orderStatus.status == "Submitted")
        await settle(ib, lambda: trades[1].orderStatus.status == "PreSubmitted")
        assert trades[1].orderStatus.parentId == parent.orderId
        await step(gateway)  # 70.05: the entry fills; the children start working
        await settle(ib, lambda: trades[2].orderStatus.status == "Submitted")
        assert trades[0].fills[0].execution.price == 70.05
        await step(gateway, 6)  # 70.10 69.95 69.80 69.90 70.20 70.40: the take-profit fills
        await settle(ib, lambda: trades[2].orderStatus.status == "Cancelled")
        assert trades[1].orderStatus.status == "Filled"
        assert trades[1].fills[0].execution.price == 70.40  # opened through 70.30
        assert (stop_loss.orderId, 202) in seen
        await settle(ib, lambda: not ib.positions() or ib.positions()[0].position == 0)
        realized = trades[1].fills[0].commissionReport.realizedPNL
        assert realized == pytest.approx((70.40 - 70.05) * 100 - 2 * 1.25)
        ib.disconnect()

    run(scenario())


def test_cancel_and_cancel_of_unknown_order(gateway: SimulatedGateway) -> None:
    async def scenario() -> None:
        ib = await connect(gateway)
        seen = errors_of(ib)
        contract = await mcl(ib)
        trade = ib.placeOrder(contract, LimitOrder("BUY", 1, 60.00))
        await settle(ib, lambda: trade.orderStatus.status == "Submitted")
        ib.cancelOrder(trade.order)
        await settle(ib, lambda: trade.orderStatus.status == "Cancelled")
        assert (trade.order.orderId, 202) in seen
        ghost = Order(orderId=99_999)
        ib.cancelOrder(ghost)
        await settle(ib, lambda: (99_999, 10147) in seen)
        assert gateway.positions() == {}
        ib.disconnect()

    run(scenario())


def test_modify_and_global_cancel(gateway: SimulatedGateway) -> None:
    async def scenario() -> None:
        ib = await connect(gateway)
        contract = await mcl(ib)
        await step(gateway)  # 70.00
        order = LimitOrder("BUY", 1, 69.00)
        trade = ib.placeOrder(contract, order)
        other = ib.placeOrder(contract, LimitOrder("SELL", 1, 75.00))
        await settle(ib, lambda: other.orderStatus.status == "Submitted")
        order.lmtPrice = 70.10  # modify: same order id, new price
        ib.placeOrder(contract, order)
        await sync(ib)
        await step(gateway)  # 70.05: at or below the new limit
        await settle(ib, lambda: trade.orderStatus.status == "Filled")
        assert trade.fills[0].execution.price == 70.05
        ib.reqGlobalCancel()
        await settle(ib, lambda: other.orderStatus.status == "Cancelled")
        ib.disconnect()

    run(scenario())


def test_replay_clock_publishes_bars_by_itself() -> None:
    feed = BarFeed.from_prices(PATH, START)
    with SimulatedGateway(feed, GatewayConfig(port=0, speed=100.0)) as gw:  # a bar every 50 ms

        async def scenario() -> None:
            ib = await connect(gw)
            contract = await mcl(ib)
            bars = ib.reqRealTimeBars(contract, 5, "TRADES", False)
            await settle(ib, lambda: len(bars) >= 3)
            closes = [b.close for b in bars]
            assert closes == PATH[PATH.index(closes[0]) :][: len(closes)]
            ib.disconnect()

        run(scenario())


def test_positions_portfolio_and_account_values(gateway: SimulatedGateway) -> None:
    async def scenario() -> None:
        ib = await connect(gateway)
        contract = await mcl(ib)
        await step(gateway)
        trade = ib.placeOrder(contract, MarketOrder("SELL", 3))
        await settle(ib, lambda: trade.orderStatus.status == "Submitted")
        await step(gateway, 2)  # sells at 70.05, marks 70.10
        await settle(ib, lambda: bool(ib.portfolio()) and ib.portfolio()[0].marketPrice == 70.10)
        [item] = ib.portfolio()
        assert item.position == -3
        assert item.unrealizedPNL == pytest.approx((70.05 - 70.10) * 100 * 3 - 3 * 1.25)
        summary = {v.tag: v for v in await ib.accountSummaryAsync()}
        net_liq = float(summary["NetLiquidation"].value)
        assert net_liq == pytest.approx(100_000 - 3 * 1.25 + (70.05 - 70.10) * 100 * 3)
        assert float(summary["AvailableFunds"].value) < net_liq
        assert summary["NetLiquidation"].currency == "USD"
        values = {v.tag for v in ib.accountValues()}
        assert {"NetLiquidation", "AvailableFunds", "TotalCashValue", "InitMarginReq"} <= values
        assert gateway.positions() == {"MCLG5": -3}
        ib.disconnect()

    run(scenario())


# ----------------------------------------------------------------------------- bars
def test_real_time_and_historical_bars(gateway: SimulatedGateway) -> None:
    async def scenario() -> None:
        ib = await connect(gateway)
        contract = await mcl(ib)
        bars = ib.reqRealTimeBars(contract, 5, "TRADES", False)
        await sync(ib)
        await step(gateway, 3)
        await settle(ib, lambda: len(bars) == 3)
        assert [b.close for b in bars] == PATH[:3]
        assert bars[0].time == START
        await step(gateway, 9)  # 12 bars out: one whole minute
        hist = await ib.reqHistoricalDataAsync(contract, "", "120 S", "1 min", "TRADES", False)
        assert len(hist) == 1  # only whole bars up to the simulation clock: no look-ahead
        b = hist[0]
        assert (b.open, b.high, b.low, b.close) == (PATH[0], max(PATH), min(PATH), PATH[11])
        assert b.date == START
        secs = await ib.reqHistoricalDataAsync(contract, "", "30 S", "10 secs", "TRADES", False)
        assert [x.close for x in secs] == [PATH[7], PATH[9], PATH[11]]
        ib.disconnect()

    run(scenario())


def test_historical_pacing_violation_is_error_162() -> None:
    feed = BarFeed.from_prices(PATH, START)
    with SimulatedGateway(feed, GatewayConfig(port=0, pacing_requests=2)) as gw:

        async def scenario() -> None:
            ib = await connect(gw)
            seen = errors_of(ib)
            contract = await mcl(ib)
            gw.step(12)
            for _ in range(3):
                await ib.reqHistoricalDataAsync(contract, "", "60 S", "5 secs", "TRADES", False)
            assert [code for _, code in seen] == [162]
            ib.disconnect()

        run(scenario())


def test_catalog_feed_replays_minutes_as_five_second_bars(small_sample: Path) -> None:
    bars = load_bars(
        "MCL_FUT", "ohlcv-1m", start="2024-02-05", end="2024-02-05", data_dir=small_sample
    )
    feed = BarFeed.from_catalog(small_sample, start="2024-02-05", end="2024-02-05")
    first = [feed.step() for _ in range(24)]
    assert all(b is not None for b in first)
    minute = first[:12]
    row = bars.iloc[0]
    assert minute[0] is not None
    assert minute[0].open == row["open"]
    assert max(b.high for b in minute if b) == row["high"]
    assert min(b.low for b in minute if b) == row["low"]
    assert minute[-1] is not None
    assert minute[-1].close == row["close"]
    assert sum(b.volume for b in minute if b) == row["volume"]
    hist = feed.history(feed.clock_ns(), 120, 60)  # both minutes are whole: both are history
    assert [(b.ts, b.open, b.high, b.low, b.close) for b in hist] == [
        (t.value, r.open, r.high, r.low, r.close) for t, r in bars.iloc[:2].iterrows()
    ]
    assert feed.history(feed.clock_ns() - 1, 120, 60) == hist[:1]  # no look-ahead


# ---------------------------------------------------------------------------- faults
def test_dropped_connection_reconnect_same_client_id_positions_kept(
    gateway: SimulatedGateway,
) -> None:
    async def scenario() -> None:
        ib = await connect(gateway, client_id=9)
        contract = await mcl(ib)
        await step(gateway)
        trade = ib.placeOrder(contract, MarketOrder("BUY", 1))
        await settle(ib, lambda: trade.orderStatus.status == "Submitted")
        await step(gateway)
        await settle(ib, lambda: bool(ib.positions()))
        working = ib.placeOrder(contract, LimitOrder("BUY", 1, 60.00))
        await settle(ib, lambda: working.orderStatus.status == "Submitted")
        lost: list[bool] = []
        ib.disconnectedEvent += lambda: lost.append(True)
        assert await asyncio.to_thread(gateway.drop_connections) == 1
        await settle(ib, lambda: bool(lost))
        assert not ib.isConnected()
        await ib.connectAsync("127.0.0.1", gateway.port, clientId=9, timeout=5)
        assert [p.position for p in ib.positions()] == [1]
        [again] = ib.openTrades()
        assert again.order.permId == working.order.permId
        fresh = ib.placeOrder(contract, LimitOrder("BUY", 1, 60.00))
        assert fresh.order.orderId > working.order.orderId  # ids continue
        ib.disconnect()

    run(scenario())


def test_gateway_restart_keeps_the_account_and_order_ids(gateway: SimulatedGateway) -> None:
    async def scenario() -> None:
        ib = await connect(gateway, client_id=2)
        contract = await mcl(ib)
        await step(gateway)
        trade = ib.placeOrder(contract, MarketOrder("SELL", 2))
        await settle(ib, lambda: trade.orderStatus.status == "Submitted")
        await step(gateway)
        await settle(ib, lambda: bool(ib.positions()))
        await asyncio.to_thread(gateway.restart, 0.2)
        await settle(ib, lambda: not ib.isConnected())
        ib2 = await connect(gateway, client_id=2)
        assert [p.position for p in ib2.positions()] == [-2]
        assert ib2.client.getReqId() > trade.order.orderId
        fills = ib2.fills()
        assert [f.execution.price for f in fills] == [70.05]
        assert fills[0].commissionReport.commission == pytest.approx(2.5)
        ib2.disconnect()

    run(scenario())


def test_rejected_order_reaches_the_client_as_201(gateway: SimulatedGateway) -> None:
    async def scenario() -> None:
        ib = await connect(gateway)
        seen = errors_of(ib)
        contract = await mcl(ib)
        gateway.reject_next_order("margin check (simulated)")
        trade = ib.placeOrder(contract, MarketOrder("BUY", 1))
        await settle(ib, lambda: trade.orderStatus.status == "Cancelled")
        assert (trade.order.orderId, 201) in seen
        assert any(e.errorCode == 201 for e in trade.log)
        bad_tick = ib.placeOrder(contract, LimitOrder("BUY", 1, 70.005))
        await settle(ib, lambda: bad_tick.orderStatus.status == "Cancelled")
        assert (bad_tick.order.orderId, 201) in seen
        await step(gateway, 2)
        assert gateway.positions() == {}
        ib.disconnect()

    run(scenario())


def test_connectivity_notices_reach_the_client_and_1101_ends_bar_feeds(
    gateway: SimulatedGateway,
) -> None:
    async def scenario() -> None:
        ib = await connect(gateway)
        seen = errors_of(ib)
        contract = await mcl(ib)
        bars = ib.reqRealTimeBars(contract, 5, "TRADES", False)
        await sync(ib)
        await step(gateway)
        await settle(ib, lambda: len(bars) == 1)
        await asyncio.to_thread(gateway.send_notice, 2103)
        await asyncio.to_thread(gateway.connectivity_lost)
        await step(gateway)  # not delivered while IB is unreachable
        await asyncio.to_thread(gateway.connectivity_restored, True)
        await asyncio.to_thread(gateway.send_notice, 2105)
        await settle(ib, lambda: (-1, 2105) in seen)
        assert [c for _, c in seen] == [2103, 1100, 1101, 2105]
        await step(gateway)  # data lost: the subscription is gone until re-requested
        await asyncio.sleep(0.1)
        assert len(bars) == 1
        again = ib.reqRealTimeBars(contract, 5, "TRADES", False)
        await sync(ib)
        await step(gateway)
        await settle(ib, lambda: len(again) == 1)
        assert again[0].close == PATH[3]
        ib.disconnect()

    run(scenario())


def test_delayed_responses(gateway: SimulatedGateway) -> None:
    async def scenario() -> None:
        ib = await connect(gateway)
        gateway.set_delay(1500)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(ib.reqCurrentTimeAsync(), 0.2)
        gateway.set_delay(0)
        assert await asyncio.wait_for(ib.reqCurrentTimeAsync(), 5) == START
        ib.disconnect()

    run(scenario())


def test_same_orders_on_the_same_path_give_the_same_fills() -> None:
    def session() -> list[tuple[str, float, str]]:
        with SimulatedGateway(BarFeed.from_prices(PATH, START), GatewayConfig(port=0)) as gw:

            async def scenario() -> list[tuple[str, float, str]]:
                ib = await connect(gw)
                contract = await mcl(ib)
                await step(gw)
                orders = (
                    MarketOrder("BUY", 1),
                    LimitOrder("SELL", 1, 70.35),
                    StopOrder("SELL", 1, 69.85),
                )
                for o in orders:
                    ib.placeOrder(contract, o)
                await sync(ib)
                await step(gw, 11)
                await settle(ib, lambda: len(ib.fills()) == 3)
                out = [
                    (f.execution.execId, f.execution.price, str(f.execution.time))
                    for f in ib.fills()
                ]
                ib.disconnect()
                return out

            return run(scenario())

    first = session()
    assert first == session()
    assert [price for _, price, _ in first] == [70.05, 69.80, 70.40]


# ------------------------------------------------------------------------------- CLI
def control(port: int, line: str) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(line.encode() + b"\n")
        return sock.makefile().readline().strip()


def test_control_socket_commands() -> None:
    cfg = GatewayConfig(port=0, control_port=0)
    with SimulatedGateway(BarFeed.from_prices(PATH, START), cfg) as gw:
        assert gw.control_port

        async def scenario() -> None:
            ib = await connect(gw, client_id=4)
            seen = errors_of(ib)
            reply = await asyncio.to_thread(control, gw.control_port, "notice 1101")
            assert reply == "ok sent 1101"
            await settle(ib, lambda: (-1, 1101) in seen)
            reply = await asyncio.to_thread(control, gw.control_port, "step 2")
            assert reply == f"ok stepped 2 last close {PATH[1]}"
            status = await asyncio.to_thread(control, gw.control_port, "status")
            assert status.startswith("ok ")
            assert json.loads(status[3:])["clients"] == [4]
            assert (await asyncio.to_thread(control, gw.control_port, "bogus")).startswith("error")
            assert (
                await asyncio.to_thread(control, gw.control_port, "drop")
                == "ok dropped 1 connection(s)"
            )
            await settle(ib, lambda: not ib.isConnected())

        run(scenario())


def test_cli_starts_and_answers_a_connect(small_sample: Path) -> None:
    cmd = [EXE, "ib-gateway-sim", "--port", "0", "--data-dir", str(small_sample)]
    cmd += ["--speed", "0", "--control-port", "0"]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env()
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "listening on 127.0.0.1:" in line, line
        assert "DU" in line, line
        port = int(line.split("127.0.0.1:")[1].split()[0])
        control_line = proc.stdout.readline()
        control_port = int(control_line.split("127.0.0.1:")[1].split()[0])

        async def scenario() -> None:
            ib = IB()
            await ib.connectAsync("127.0.0.1", port, clientId=1, timeout=10)
            assert ib.managedAccounts()[0].startswith("DU")
            details = await ib.reqContractDetailsAsync(Future("MCL", exchange="NYMEX"))
            assert details[0].contract.localSymbol.startswith("MCL")
            bars = ib.reqRealTimeBars(details[0].contract, 5, "TRADES", False)
            await asyncio.wait_for(ib.reqCurrentTimeAsync(), 5)
            reply = await asyncio.to_thread(control, control_port, "step 3")
            assert reply.startswith("ok stepped 3")
            await settle(ib, lambda: len(bars) == 3)
            ib.disconnect()

        run(scenario())
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert "stopped" in out + err


def test_cli_refuses_a_non_loopback_host() -> None:
    done = subprocess.run(
        [EXE, "ib-gateway-sim", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True, text=True, env=child_env(), timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert "loopback" in done.stderr
    assert "Traceback" not in done.stderr
