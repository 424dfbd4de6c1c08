"""``IBClient`` (over the real ib-async) against the simulated IB Gateway on 127.0.0.1.

Each test runs the client in its own event loop (``asyncio.run``); the gateway runs on its
own thread and moves its market only on ``step()``. A test fails if ib-async logged
"Error handling fields".
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import socket
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

import pytest

from workbench.adapters.ib import (
    LIVE_CONFIRMATION,
    LIVE_PORTS,
    PAPER_PORTS,
    BarFeed,
    GatewayConfig,
    IBClient,
    LiveBar,
    LiveTradingRefused,
    RequestPacer,
    SimulatedGateway,
)
from workbench.errors import ConfigError
from workbench.model import Fill, OrderStatus, Side

T = TypeVar("T")
START = dt.datetime(2025, 1, 6, 14, 30, tzinfo=dt.UTC)  # front month: MCLG5 (last trade 01-17)
# Two minutes of 5-second prices, then more.
PATH = [70.00, 70.05, 70.10, 69.95, 69.80, 69.90, 70.20, 70.40, 70.30, 70.10, 70.00, 69.70]
PATH += [69.75, 69.80, 69.85, 69.90, 70.00, 70.10, 70.20, 70.15, 70.05, 70.00, 69.95, 69.90]
PATH += [70.00 + i / 100 for i in range(12)] + [70.20 - i / 100 for i in range(12)]
PATH += [70.50 + (i % 5) / 100 for i in range(24)]
PATH = [round(p, 2) for p in PATH]


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture(autouse=True)
def no_decode_errors() -> Iterator[None]:
    """Fail the test if ib-async could not decode a message (it only logs that)."""
    handler = _Records()
    logger = logging.getLogger("ib_async")
    old = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old)
    bad = [m for m in handler.messages if m.startswith(("Error handling fields", "Error for "))]
    assert not bad, f"ib-async could not decode: {bad[:3]}"


@pytest.fixture
def gateway() -> Iterator[SimulatedGateway]:
    with SimulatedGateway(BarFeed.from_prices(PATH, START), GatewayConfig(port=0)) as gw:
        yield gw


def run(coro: Awaitable[T]) -> T:
    async def main() -> T:
        return await coro

    return asyncio.run(main())


async def step(gw: SimulatedGateway, n: int = 1) -> None:
    await asyncio.to_thread(gw.step, n)


async def until(cond: Callable[[], bool], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


async def connected(gw: SimulatedGateway, client_id: int = 1, **kw: object) -> IBClient:
    client = IBClient("127.0.0.1", gw.port, client_id, timeout=5, **kw)  # type: ignore[arg-type]
    await client.connect()
    return client


def test_front_month_and_named_expiries(gateway: SimulatedGateway) -> None:
    async def scenario() -> None:
        client = await connected(gateway)
        front = await client.get_mcl_contract()
        assert (front.localSymbol, front.lastTradeDateOrContractMonth) == ("MCLG5", "20250117")
        assert front.conId > 0
        march = await client.get_mcl_contract("202503")
        assert (march.localSymbol, march.lastTradeDateOrContractMonth) == ("MCLH5", "20250219")
        assert (await client.get_mcl_contract("MCLH5")).conId == march.conId
        assert (await client.get_mcl_contract("20250219")).conId == march.conId
        rolled = await client.get_mcl_contract(roll_days=14)  # MCLG5 expires within 14 days
        assert rolled.localSymbol == "MCLH5"
        with pytest.raises(ConfigError, match="no listed MCL contract matches"):
            await client.get_mcl_contract("MCLZ9")
        client.disconnect()

    run(scenario())


def test_market_order_fill_is_a_model_fill_with_commission(gateway: SimulatedGateway) -> None:
    async def scenario() -> None:
        client = await connected(gateway)
        contract = await client.get_mcl_contract()
        await step(gateway)
        placed = await client.place_market_order(
            Side.BUY, 2, contract=contract, order_ref="wb-mkt-1"
        )
        assert placed.status is OrderStatus.WORKING
        assert placed.perm_id > 0
        await step(gateway)
        assert await placed.wait() is OrderStatus.FILLED
        [fill] = placed.fills
        assert fill == Fill(
            time=int((START + dt.timedelta(seconds=5)).timestamp()) * 1_000_000_000,  # the open
            symbol="MCLG5",
            side=Side.BUY,
            quantity=2,
            price=70.05,
            commission=2.5,
            order_ref="wb-mkt-1",
        )
        await until(lambda: bool(client.get_positions()))
        [pos] = client.get_positions()
        assert (pos.symbol, pos.quantity, pos.account) == ("MCLG5", 2, "DU1234567")
        assert pos.avg_price == pytest.approx(70.05 + 1.25 / 100)
        with pytest.raises(ValueError, match="already sent"):
            await client.place_market_order(Side.BUY, 1, contract=contract, order_ref="wb-mkt-1")
        client.disconnect()

    run(scenario())


def test_limit_stop_and_cancel(gateway: SimulatedGateway) -> None:
    async def scenario() -> None:
        client = await connected(gateway)
        contract = await client.get_mcl_contract()
        await step(gateway)  # 70.00
        limit = await client.place_limit_order(Side.BUY, 1, 69.85, contract=contract)
        stop = await client.place_stop_order(Side.SELL, 1, 69.90, contract=contract)
        far = await client.place_limit_order(Side.BUY, 1, 60.00, contract=contract)
        assert len({limit.order_ref, stop.order_ref, far.order_ref}) == 3
        await step(gateway, 4)  # 70.05 70.10 69.95 69.80
        assert await limit.wait() is OrderStatus.FILLED
        assert await stop.wait() is OrderStatus.FILLED
        assert [f.price for f in limit.fills + stop.fills] == [69.80, 69.80]
        assert await client.cancel_order(far.order_ref) is OrderStatus.CANCELLED
        await client.server_date()  # a round trip: the position messages are in
        assert client.get_positions() == []
        assert gateway.positions() == {}
        assert await client.cancel_order(far) is OrderStatus.CANCELLED  # already done: no-op
        client.disconnect()

    run(scenario())


def test_cancels_we_asked_for_are_not_logged_as_errors(gateway: SimulatedGateway) -> None:
    """ib-async logs every cancel as "Error 202"; ours (and the OCA sibling of a bracket
    exit) are expected and dropped, a cancel we did not ask for still shows."""
    records = _Records()
    logging.getLogger("ib_async").addHandler(records)

    async def scenario() -> None:
        client = await connected(gateway)
        contract = await client.get_mcl_contract()
        await step(gateway)  # 70.00
        ours = await client.place_limit_order(Side.BUY, 1, 60.00, contract=contract)
        theirs = await client.place_limit_order(Side.BUY, 1, 61.00, contract=contract)
        assert await client.cancel_order(ours) is OrderStatus.CANCELLED
        bracket = await client.place_bracket_order(
            Side.SELL, 1, take_profit=69.85, stop_loss=70.50, contract=contract
        )
        await step(gateway, 4)  # the entry fills, then the take-profit: the stop is cancelled
        assert await bracket.stop_loss.wait() is OrderStatus.CANCELLED
        client.ib.reqGlobalCancel()  # not through our cancel: unexpected, so logged
        assert await theirs.wait(OrderStatus.CANCELLED) is OrderStatus.CANCELLED
        await until(lambda: any(m.startswith("Error 202") for m in records.messages))
        await client.server_date()  # a round trip: every message of the cancels is in
        errors = [m for m in records.messages if m.startswith("Error 202")]
        assert errors == [f"Error 202, reqId {theirs.order_id}: Order Canceled - reason:"]
        client.disconnect()

    try:
        run(scenario())
    finally:
        logging.getLogger("ib_async").removeHandler(records)


def test_bracket_order(gateway: SimulatedGateway) -> None:
    async def scenario() -> None:
        client = await connected(gateway)
        contract = await client.get_mcl_contract()
        await step(gateway)  # 70.00
        bracket = await client.place_bracket_order(
            Side.SELL, 1, take_profit=69.85, stop_loss=70.50, contract=contract, order_ref="wb-br"
        )
        assert bracket.take_profit.order_ref == "wb-br-tp"
        assert bracket.stop_loss.trade.order.parentId == bracket.entry.order_id
        await step(gateway)  # entry sells at 70.05
        assert await bracket.entry.wait() is OrderStatus.FILLED
        await step(gateway, 3)  # 70.10 69.95 69.80: take-profit fills at 69.80 (opened through)
        assert await bracket.take_profit.wait() is OrderStatus.FILLED
        assert await bracket.stop_loss.wait() is OrderStatus.CANCELLED
        assert bracket.take_profit.fills[0].price == 69.80
        with pytest.raises(ValueError, match="take_profit on the profit side"):
            await client.place_bracket_order(Side.BUY, 1, take_profit=69.0, stop_loss=70.0)
        client.disconnect()

    run(scenario())


def test_account_summary_and_rejection(gateway: SimulatedGateway) -> None:
    async def scenario() -> None:
        client = await connected(gateway)
        summary = await client.get_account_summary()
        assert summary["NetLiquidation"] == 100_000
        assert summary["AvailableFunds"] == 100_000
        gateway.reject_next_order("risk check (simulated)")
        rejected = await client.place_market_order(Side.BUY, 1)
        assert rejected.status is OrderStatus.REJECTED
        assert rejected.error_code == 201
        client.disconnect()

    run(scenario())


def test_one_minute_bars_are_emitted_at_their_end(gateway: SimulatedGateway) -> None:
    async def scenario() -> None:
        client = await connected(gateway)
        contract = await client.get_mcl_contract()
        got: list[LiveBar] = []
        sub = client.subscribe_bars(contract, 60, got.append)
        await client.server_date()  # a round trip: the subscription is in
        await step(gateway, 11)
        await until(
            lambda: (
                len(sub.aggregator.__dict__) > 0
                and sub.ib_bars is not None
                and len(sub.ib_bars) == 11
            )
        )
        assert got == []  # the minute is not over: no look-ahead
        await step(gateway)
        await until(lambda: len(got) == 1)
        bar = got[0]
        assert bar.ts == int(START.timestamp()) * 1_000_000_000
        assert (bar.open, bar.high, bar.low, bar.close) == (70.00, 70.40, 69.70, 69.70)
        client.unsubscribe_bars(sub)
        client.disconnect()

    run(scenario())


def test_historical_bars_are_paced_not_refused() -> None:
    cfg = GatewayConfig(port=0, pacing_requests=2, pacing_window=1.0)
    with SimulatedGateway(BarFeed.from_prices(PATH, START), cfg) as gw:

        async def scenario() -> None:
            # The client keeps a margin under the gateway's limit, as it should under IB's.
            pacer = RequestPacer(max_requests=2, window=1.3, identical_gap=0.0)
            client = await connected(gw, pacer=pacer)
            codes: list[int] = []
            client.ib.errorEvent += lambda req_id, code, text, c=None: codes.append(code)
            contract = await client.get_mcl_contract()
            gw.step(36)
            frames = [await client.historical_bars(contract, "180 S", "1 min") for _ in range(4)]
            assert codes == []  # no 162: requests 3 and 4 waited for the window
            assert pacer.waited > 0
            frame = frames[-1]
            assert list(frame.columns) == ["open", "high", "low", "close", "volume"]
            assert len(frame) == 3
            assert frame.index[0] == START
            assert frame["close"].tolist() == [PATH[11], PATH[23], PATH[35]]
            client.disconnect()

        run(scenario())


def test_bar_feed_is_restored_after_1101_and_after_a_reconnect(gateway: SimulatedGateway) -> None:
    async def scenario() -> None:
        client = await connected(gateway, client_id=4)
        contract = await client.get_mcl_contract()
        got: list[LiveBar] = []
        sub = client.subscribe_bars(contract, 5, got.append)
        await client.server_date()
        await step(gateway)
        await until(lambda: len(got) == 1)
        await asyncio.to_thread(gateway.connectivity_lost)
        await asyncio.to_thread(gateway.connectivity_restored, True)  # data lost
        await until(lambda: 1101 in [code for code, _ in client.notices])
        await client.server_date()  # the client's resubscription is in
        await step(gateway)
        await until(lambda: len(got) == 2)
        # The connection dropped: connect again with the same client id; bars resume.
        await asyncio.to_thread(gateway.drop_connections)
        await until(lambda: not client.is_connected)
        await client.connect()
        await client.server_date()
        await step(gateway)
        await until(lambda: len(got) == 3)
        assert [b.close for b in got] == PATH[:3]
        assert sub.active
        client.disconnect()

    run(scenario())


def test_positions_survive_a_dropped_connection(gateway: SimulatedGateway) -> None:
    async def scenario() -> None:
        client = await connected(gateway, client_id=8)
        contract = await client.get_mcl_contract()
        await step(gateway)
        placed = await client.place_market_order(Side.SELL, 3, contract=contract)
        await step(gateway)
        await placed.wait()
        await asyncio.to_thread(gateway.drop_connections)
        await until(lambda: not client.is_connected)
        await client.connect()
        assert [(p.symbol, p.quantity) for p in client.get_positions()] == [("MCLG5", -3)]
        client.disconnect()

    run(scenario())


def test_bars_missed_while_disconnected_come_from_history(gateway: SimulatedGateway) -> None:
    async def scenario() -> None:
        pacer = RequestPacer(identical_gap=0.0)
        client = await connected(gateway, client_id=6, pacer=pacer)
        contract = await client.get_mcl_contract()
        got: list[LiveBar] = []
        sub = client.subscribe_bars(contract, 60, got.append)
        await client.server_date()
        await step(gateway, 12)  # minute 1, live
        await until(lambda: len(got) == 1)
        await asyncio.to_thread(gateway.drop_connections)
        await until(lambda: not client.is_connected)
        await step(gateway, 30)  # minutes 2 and 3 and half of 4 pass while away
        await client.connect()  # same client id; gap filled from history, feed re-requested
        await until(lambda: len(got) == 3)
        await client.server_date()
        await step(gateway, 6)  # minute 4 ends: it straddled the gap, so it comes from history
        await until(lambda: len(got) == 4)
        await step(gateway, 12)  # minute 5, live again
        await until(lambda: len(got) == 5)
        minutes = [PATH[i : i + 12] for i in range(0, 60, 12)]
        assert [(b.open, b.high, b.low, b.close) for b in got] == [
            (m[0], max(m), min(m), m[-1]) for m in minutes
        ]
        assert [b.ts for b in got] == [
            int(START.timestamp()) * 1_000_000_000 + i * 60_000_000_000 for i in range(5)
        ]
        assert sub.gap_filled == 3
        client.disconnect()

    run(scenario())


def test_auto_reconnect_after_a_drop_keeps_the_same_client_id(gateway: SimulatedGateway) -> None:
    async def scenario() -> None:
        client = await connected(gateway, client_id=11, auto_reconnect=True)
        client.link.base_backoff = 0.05
        contract = await client.get_mcl_contract()
        await step(gateway)
        placed = await client.place_market_order(Side.BUY, 1, contract=contract)
        await step(gateway)
        await placed.wait()
        await asyncio.to_thread(gateway.drop_connections)
        await until(lambda: not client.is_connected)
        await client.wait_connected(timeout=10)
        assert gateway.client_ids() == [11]
        assert [(p.symbol, p.quantity) for p in client.get_positions()] == [("MCLG5", 1)]
        states = [state.value for state, _ in client.link.history]
        assert states == ["connecting", "connected", "disconnected", "connecting", "connected"]
        client.disconnect()
        await asyncio.sleep(0.2)
        assert not client.is_connected  # a user's disconnect is not undone

    run(scenario())


# ----------------------------------------------------------------------------- safety
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_live_port_is_refused_before_any_connection() -> None:
    async def scenario() -> None:
        for port in sorted(LIVE_PORTS):
            client = IBClient("127.0.0.1", port, 1, timeout=1)
            with pytest.raises(LiveTradingRefused, match="live trading port") as refused:
                await client.connect()
            assert not client.is_connected
            # the message names every live port (4003 too), the hint the paper ones
            for live_port in LIVE_PORTS | PAPER_PORTS:
                assert str(live_port) in str(refused.value)

    run(scenario())
    with pytest.raises(LiveTradingRefused, match="typed confirmation"):
        IBClient(port=4001, live=True, confirm_live="yes")
    assert IBClient(port=4001, live=True, confirm_live=LIVE_CONFIRMATION).live


def test_non_paper_account_is_refused_before_any_order() -> None:
    cfg = GatewayConfig(port=0, account="U7654321")
    with SimulatedGateway(BarFeed.from_prices(PATH, START), cfg) as gw:

        async def scenario() -> None:
            client = IBClient("127.0.0.1", gw.port, 1, timeout=5)
            with pytest.raises(LiveTradingRefused, match="not a paper account") as refused:
                await client.connect()
            # the account number stays masked; the hint names the CLI flags too
            assert "7654321" not in str(refused.value)
            assert "--live --confirm" in str(refused.value)
            assert not client.is_connected
            with pytest.raises(LiveTradingRefused):
                await client.place_market_order(Side.BUY, 1)
            confirmed = IBClient(
                "127.0.0.1", gw.port, 2, timeout=5, live=True, confirm_live=LIVE_CONFIRMATION
            )
            await confirmed.connect()
            assert confirmed.account == "U7654321"
            confirmed.disconnect()

        run(scenario())
        assert gw.orders() == []
