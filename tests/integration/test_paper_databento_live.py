"""Paper sessions on Databento Live bars: the unmodified ``databento.Live`` client against the
loopback Live Subscription Gateway fake (tests/fakes/databento_live.py), the sim broker.

Parity: a contract's minute bars served as live OHLCV records give the same trades, equity
and positions as the same bars replayed from the catalog (the sim's fill model either way);
trades folded into minute bars give the trades of those bars.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.fakes.databento_gateway import DEFAULT_API_KEY, MarketRecord, OhlcvBar
from tests.fakes.databento_live import FakeLiveGateway, make_trade
from tests.integration.subprocesses import EXE, child_env
from workbench.adapters.databento.paper_feed import DatabentoPaperFeed, front_contract
from workbench.backtest.engine import build_config
from workbench.data import load_bars
from workbench.execution import PaperSession
from workbench.strategies import MomentumStrategy

pytestmark = pytest.mark.timeout(120)

STRATEGY = MomentumStrategy(fast_period=5, slow_period=20)
CONTRACT, IID = "MCLH4", 4242
NS = 1_000_000_000


@pytest.fixture(scope="module")
def bars(small_sample: Path) -> pd.DataFrame:
    """Three days of one contract (no roll: a live session trades one contract)."""
    return load_bars(CONTRACT, data_dir=small_sample, start="2024-01-16", end="2024-01-18")


def ohlcv_records(bars: pd.DataFrame) -> list[MarketRecord]:
    return [
        MarketRecord(
            CONTRACT,
            OhlcvBar(int(ts), CONTRACT, IID, o, h, lo, c, int(v)).to_record("ohlcv-1m"),
        )
        for ts, o, h, lo, c, v in zip(
            bars.index.as_unit("ns").asi8,
            bars["open"],
            bars["high"],
            bars["low"],
            bars["close"],
            bars["volume"],
            strict=True,
        )
    ]


def live_session(port: int, cfg: object, **feed: object) -> PaperSession:
    source = DatabentoPaperFeed(
        CONTRACT,
        key=DEFAULT_API_KEY,
        gateway="127.0.0.1",
        port=port,
        bar_timeout=30,
        **feed,  # type: ignore[arg-type]
    )
    return PaperSession(None, STRATEGY, cfg, feed=source)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "options",
    [{}, {"stop": {"mode": "trailing_atr", "target_r": 2.0}, "slippage_ticks": 2}],
    ids=["default", "stops_slippage"],
)
def test_live_bars_trade_as_the_replay(bars: pd.DataFrame, options: dict) -> None:
    cfg = build_config(**options)
    replay = PaperSession(bars, STRATEGY, cfg).run()
    with FakeLiveGateway(ohlcv_records(bars)) as gw:
        session = live_session(gw.port, cfg)
        live = session.run()
    (sub,) = gw.sessions
    assert sub.authenticated
    assert sub.subscriptions[0]["symbols"] == CONTRACT
    assert len(replay.trades) > 5
    assert len(session.live_bars) == len(bars)
    pd.testing.assert_frame_equal(live.trades, replay.trades)
    np.testing.assert_array_equal(live.equity.to_numpy(), replay.equity.to_numpy())
    np.testing.assert_array_equal(live.position.to_numpy(), replay.position.to_numpy())
    assert live.metrics == replay.metrics
    assert live.parameters["broker"] == "sim"
    session.close()


def test_trades_are_folded_into_the_strategys_bars(bars: pd.DataFrame) -> None:
    """Each minute as four trades (open, extremes, close): the live feed builds the bars."""
    window = bars.iloc[:300]
    records = []
    for ts, o, h, lo, c, v in zip(
        window.index.as_unit("ns").asi8,
        window["open"],
        window["high"],
        window["low"],
        window["close"],
        window["volume"],
        strict=True,
    ):
        sizes = [int(v) // 4] * 3 + [int(v) - 3 * (int(v) // 4)]
        for k, (px, size) in enumerate(zip((o, h, lo, c), sizes, strict=True)):
            records.append(MarketRecord(CONTRACT, make_trade(int(ts) + k * NS, IID, px, size)))
    # one trade in the next minute closes the last bar
    end = int(window.index.as_unit("ns").asi8[-1]) + 60 * NS
    records.append(MarketRecord(CONTRACT, make_trade(end, IID, float(window["close"].iloc[-1]), 1)))
    cfg = build_config()
    replay = PaperSession(window, STRATEGY, cfg).run()
    with FakeLiveGateway(records) as gw:
        session = live_session(gw.port, cfg, schema="trades")
        live = session.run()
    assert len(session.live_bars) == len(window)
    assert len(replay.trades) >= 2
    pd.testing.assert_frame_equal(live.trades, replay.trades)
    session.close()


def test_paper_cli_on_databento_live(bars: pd.DataFrame, tmp_path: Path) -> None:
    window = bars.iloc[:600]
    args = ["--feed", "databento-live", "--expiry", CONTRACT, "--results-dir", str(tmp_path)]
    args += ["--param", "fast_period=5", "--param", "slow_period=20"]
    with FakeLiveGateway(ohlcv_records(window)) as gw:
        done = subprocess.run(
            [EXE, "paper", *args, "--live-gateway", f"127.0.0.1:{gw.port}"],
            env=child_env(DATABENTO_API_KEY=DEFAULT_API_KEY),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert done.returncode == 0, done.stderr
    assert f"paper sim ema_crossover: {len(window)} bars" in done.stdout
    assert DEFAULT_API_KEY not in done.stdout + done.stderr  # never shown
    assert any((p / "summary.json").exists() for p in tmp_path.iterdir() if p.is_dir())


def test_paper_cli_databento_live_without_a_key(tmp_path: Path) -> None:
    done = subprocess.run(
        [EXE, "paper", "--feed", "databento-live", "--no-save-results"],
        env=child_env(),
        cwd=tmp_path,  # no .env here
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "needs a Databento API key" in done.stderr
    assert "DATABENTO_API_KEY" in done.stderr
    assert "Traceback" not in done.stderr


def test_front_contract_follows_the_last_trade_date() -> None:
    # MCLH4 (March 2024) stops trading on 2024-02-16; the day after, April is the front
    assert front_contract("MCL_FUT", dt.date(2024, 2, 16)) == "MCLH4"
    assert front_contract("MCL_FUT", dt.date(2024, 2, 17)) == "MCLJ4"
