"""Paper sessions on the ``ib`` broker: the real ib-async client against the simulated IB
Gateway on a random loopback port.

The gateway moves its market only when a test steps it (12 five-second bars = one minute);
the helper waits for the session to take each minute and for every order to be acknowledged
before the next one, as a real market leaves time to. Parity: the same trades as
``run_backtest`` on the same bars (no slippage: the gateway fills market orders at the next
minute's open, as the backtest's fill model with ``slippage_ticks=0``).
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.integration.subprocesses import EXE, child_env
from workbench.adapters.ib import BarFeed, GatewayConfig, IBClient, SimulatedGateway
from workbench.adapters.ib.broker import IBBroker
from workbench.backtest import run_backtest
from workbench.backtest.engine import build_config
from workbench.data import load_bars
from workbench.execution import ExecutionConfig, PaperSession
from workbench.model import OrderStatus
from workbench.strategies import MomentumStrategy

STRATEGY = MomentumStrategy(fast_period=5, slow_period=20)
SUB = 12  # five-second bars per minute


def wait_for(cond: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.002)


def subscribed(gw: SimulatedGateway) -> bool:
    return gw._call(gw._run(lambda: any(s.rt_bars for s in gw._sessions)))


def acked(session: PaperSession) -> bool:
    return all(mo.status is not OrderStatus.PENDING for mo in session.engine.om.orders.values())


def feed_of(bars: pd.DataFrame) -> BarFeed:
    return BarFeed(
        bars.index.asi8,
        bars["open"].to_numpy(),
        bars["high"].to_numpy(),
        bars["low"].to_numpy(),
        bars["close"].to_numpy(),
        bars["volume"].to_numpy(),
        base_seconds=60,
    )


@pytest.fixture(scope="module")
def bars(small_sample: Path) -> pd.DataFrame:
    return load_bars("MCL_FUT", data_dir=small_sample, start="2024-03-04", end="2024-03-06").iloc[
        :400
    ]


def start_session(
    gw: SimulatedGateway,
    cfg: object,
    n: int,
    *,
    warm_up: int = 0,
    execution: ExecutionConfig | None = None,
    listeners: list | None = None,
    settle_timeout: float = 0.2,
) -> tuple[PaperSession, IBBroker]:
    client = IBClient(port=gw.port, client_id=11, timeout=5, auto_reconnect=True)
    broker = IBBroker(client, warm_up_bars=warm_up, max_messages_per_second=0)
    session = PaperSession(
        None,
        STRATEGY,
        cfg,  # type: ignore[arg-type]
        broker=broker,
        feed=broker,
        execution=execution or ExecutionConfig(flatten_at_end=False),
        max_bars=n,
        settle_timeout=settle_timeout,
        listeners=listeners,
    )
    session.start()
    wait_for(lambda: subscribed(gw) and bool(session.reconciled), "the session to subscribe")
    return session, broker


def play(gw: SimulatedGateway, session: PaperSession, minutes: int) -> None:
    """Step the gateway minute by minute, each once the session took the last one."""
    for _ in range(minutes):
        done = session.bars_done
        gw.step(SUB)

        def took(d: int = done) -> bool:
            return session.bars_done > d or session.finished.is_set()

        wait_for(took, f"bar {done}")
        wait_for(lambda: acked(session), f"acknowledgements after bar {done}")


@pytest.fixture
def no_risk() -> object:
    return build_config(use_risk_manager=False, slippage_ticks=0)


PARITY_CONFIGS = {
    "no_stop": {"use_risk_manager": False},
    "atr_stop": {},  # the risk manager's sizing and the ATR stop (a resting STP order)
    "trailing_target": {"stop": {"mode": "trailing_atr", "target_r": 2.0}},
}


@pytest.mark.parametrize("options", PARITY_CONFIGS.values(), ids=PARITY_CONFIGS.keys())
def test_ib_session_matches_backtest(bars: pd.DataFrame, options: dict) -> None:
    n = 240
    window = bars.iloc[:n]
    cfg = build_config(slippage_ticks=0, **options)
    bt = run_backtest(window, STRATEGY, config=cfg)
    with SimulatedGateway(feed_of(window), GatewayConfig(port=0)) as gw:
        session, broker = start_session(gw, cfg, n)
        play(gw, session, n)
        session.join(30)
        paper = session.result()
        positions = gw.positions()
        gw_orders = gw.orders()
    expected = bt.trades[bt.trades["exit_reason"] != "end_of_data"].reset_index(drop=True)
    got = paper.trades.reset_index(drop=True)
    assert len(expected) >= 4
    if options.get("use_risk_manager", True):  # the stops did their work on some trades
        assert set(expected["exit_reason"]) & {"stop", "target"}
    cols = ["side", "contracts", "entry_price", "exit_price", "gross_pnl", "commission"]
    cols += ["exit_reason"]
    pd.testing.assert_frame_equal(got[cols], expected[cols])
    np.testing.assert_allclose(
        got["gross_pnl"] - got["commission"], expected["gross_pnl"] - expected["commission"]
    )
    assert list(got["entry_time"]) == list(expected["entry_time"])
    assert list(got["exit_time"]) == list(expected["exit_time"])
    # the gateway's own log: each orderRef once, all from this session
    refs = [o.order_ref for o in gw_orders]
    assert len(refs) == len(set(refs)) == session.engine.om.sent
    # fills with commissions reached the journal; the broker's position is the engine's
    fills = session.journal.table("fills")
    assert len(fills) == 2 * len(got) + (1 if session.engine.position_qty else 0)
    assert all(row[-1] > 0 for row in fills)  # commission
    assert sum(positions.values()) == session.engine.position_qty
    assert broker.ack_ns  # every order acknowledged through ib-async
    session.close()


def test_session_ending_in_a_position_agrees_with_its_trades_and_the_account(
    bars: pd.DataFrame, no_risk: object
) -> None:
    """The end flatten's fill (which a live broker gives after the last bar) reaches the
    equity curve: summary total return == the trades' net P&L == the account's change."""
    n = 40
    with SimulatedGateway(feed_of(bars.iloc[: n + 5]), GatewayConfig(port=0)) as gw:
        before = gw.account_values()["NetLiquidation"]
        session, _ = start_session(gw, no_risk, n, execution=ExecutionConfig(), settle_timeout=20)
        play(gw, session, n - 1)
        om = session.engine.om
        gw.step(SUB)  # the last bar: the session sends the end flatten and waits for its fill
        wait_for(lambda: any(mo.purpose == "end" for mo in om.orders.values()), "the flatten")
        wait_for(lambda: acked(session), "the flatten's acknowledgement")
        gw.step(SUB)  # the market moves on: the flatten fills
        session.join(30)
        after = gw.account_values()["NetLiquidation"]
        positions = gw.positions()
    result = session.result()
    session.close()
    assert result.trades["exit_reason"].iloc[-1] == "end_of_data"  # it ended in a position
    assert not positions
    net = result.trades["net_pnl"].sum()
    assert result.metrics["performance"]["total_return_usd"] == pytest.approx(net)
    assert after - before == pytest.approx(net)
    assert result.equity.iloc[-1] == pytest.approx(result.initial_capital + net)
    assert result.position.iloc[-1] == 0


def test_ib_session_capital_is_the_accounts_and_a_resume_keeps_it(
    bars: pd.DataFrame, no_risk: object, tmp_path: Path
) -> None:
    n = 5

    def session(gw: SimulatedGateway) -> PaperSession:
        broker = IBBroker(IBClient(port=gw.port, client_id=12, timeout=5), warm_up_bars=0)
        return PaperSession(
            None,
            STRATEGY,
            no_risk,  # type: ignore[arg-type]
            broker=broker,
            feed=broker,
            max_bars=n,
            state_dir=tmp_path,
            settle_timeout=0.2,
            capital_from_broker=True,
        )

    with SimulatedGateway(feed_of(bars), GatewayConfig(port=0, cash=80_000)) as gw:
        first = session(gw)
        first.start()
        wait_for(lambda: subscribed(gw) and bool(first.reconciled), "the session to subscribe")
        play(gw, first, n)
        first.join(30)
        first.close()
    assert first.cfg.initial_capital == 80_000
    assert first.result().initial_capital == 80_000
    assert first.capital_source == "the account's NetLiquidation at the start"
    with SimulatedGateway(feed_of(bars), GatewayConfig(port=0, cash=90_000)) as gw:
        again = session(gw)  # the account is worth more now: the session's capital stays
        assert again.cfg.initial_capital == 80_000
        assert again.engine.cash == 80_000
        assert "journal" in again.capital_source
        again.close()


def test_warm_up_from_history_gives_the_backtests_signals(bars: pd.DataFrame, no_risk: object):
    warm, n = 60, 30
    window = bars.iloc[: warm + n]
    bt = run_backtest(window, STRATEGY, config=no_risk)  # type: ignore[arg-type]
    with SimulatedGateway(feed_of(window), GatewayConfig(port=0)) as gw:
        gw.step(SUB * warm)  # history the session finds when it starts
        session, _ = start_session(gw, no_risk, n, warm_up=warm)
        play(gw, session, n)
        session.join(30)
    assert session.journal.meta("warm_up_bars") == warm
    session.close()
    # the first live bar's signal is the backtest's at that bar: the indicators were warm
    np.testing.assert_array_equal(np.asarray(session.engine.signals), bt.signals.to_numpy()[warm:])


def test_paper_cli_on_the_simulated_gateway(bars: pd.DataFrame, tmp_path) -> None:
    """``workbench paper --broker ib`` end to end: the gateway replays at 200x."""
    args = ["--client-id", "5", "--warm-up", "0", "--bars", "60", "--results-dir", str(tmp_path)]
    args += ["--param", "fast_period=3", "--param", "slow_period=8"]
    with SimulatedGateway(feed_of(bars), GatewayConfig(port=0, speed=200)) as gw:
        done = subprocess.run(
            [EXE, "paper", "--broker", "ib", "--port", str(gw.port), *args],
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        refs = [o.order_ref for o in gw.orders()]
    assert done.returncode == 0, done.stderr
    assert "paper ib ema_crossover: 60 bars" in done.stdout
    # the session's capital is the account's (the gateway's 100,000), and says so
    assert "capital 100,000.00 USD: the account's NetLiquidation at the start" in done.stdout
    equity = float(done.stdout.split("equity ")[1].split()[0].rstrip(","))
    assert abs(equity - 100_000) < 2_000
    assert len(refs) == len(set(refs)) > 0
    assert any((p / "summary.json").exists() for p in tmp_path.iterdir())


def test_paper_cli_without_a_gateway_is_a_clear_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nobody listens once closed
    done = subprocess.run(
        [EXE, "paper", "--broker", "ib", "--port", str(port), "--bars", "3", "--no-save-results"],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert f"no IB API at 127.0.0.1:{port}" in done.stderr
    assert "ib-gateway-sim" in done.stderr  # the hint
    assert "Traceback" not in done.stderr
