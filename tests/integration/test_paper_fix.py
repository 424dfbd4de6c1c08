"""The ``fix`` paper broker: a session's orders over FIX 4.4 to the simulated exchange driven
in lock-step (``speed="driven"``), on a synthetic MBO file written with the real DBN encoder
and on the real CLX5 file (skipped when ../shared is absent).

What must hold: the same strategy through ``fix`` and through the in-process ``sim-l3`` on
the same file gives the same fills (order, side, quantity, price, fee, liquidity, time) and
the same trades, because both apply the same records to the same native exchange in the same
order and the engine reacts between the same two records; a dropped connection (a TCP relay
cut mid-session) or a restarted exchange is survived without any order sent twice.
"""

from __future__ import annotations

import contextlib
import random
import signal
import socket
import subprocess
import threading
from collections import Counter
from pathlib import Path

import databento_dbn as dbn
import pandas as pd
import pytest

from tests.conftest import real_data_path
from tests.integration.subprocesses import EXE, child_env
from workbench.adapters.fix import FixExchange, read_message_log
from workbench.backtest.config import BacktestConfig
from workbench.execution import PaperSession
from workbench.execution.brokers.fix import FixBroker, fix_session
from workbench.execution.brokers.sim_l3 import L3SimBroker, l3_session
from workbench.strategies.momentum import MomentumStrategy

T0 = 1_700_000_000_000_000_000  # 2023-11-14T22:13:20Z
SEC = 1_000_000_000
CENT = 10_000_000
LAST = 128
FEE = BacktestConfig().commission_per_contract
CLX5 = ("clx5-mbo", "CLX5_mbo.dbn")
FEES = ("--fee", str(FEE), "--timestamp-precision", "ns")
PARAMS = ("--param", "fast_period=3", "--param", "slow_period=8")


def _mbo(ts: int, action: str, side: str, oid: int, cents: int, size: int) -> dbn.MBOMsg:
    return dbn.MBOMsg(
        1, 42, ts, oid, cents * CENT, size, dbn.Action(action), dbn.Side(side), ts + 5, flags=LAST
    )


@pytest.fixture(scope="module")
def feed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three hours of a random walk (seeded): every 10 s the quotes move around the price
    (two bid and two ask levels, replaced) and 1-3 contracts trade at the bid or the ask."""
    rng = random.Random(7)
    records: list[dbn.MBOMsg] = []
    price, oid, live = 7000, 1, []
    for k in range(3 * 360):
        ts = T0 + k * 10 * SEC
        for old_id, old_side, old_px, old_sz in live:
            records.append(_mbo(ts, "C", old_side, old_id, old_px, old_sz))
        price += rng.choice((-2, -1, -1, 0, 1, 1, 2)) + (1 if (k // 120) % 2 else -1) * (
            rng.random() < 0.3
        )
        live = []
        for side, px, sz in (
            ("B", price - 1, 4),
            ("B", price - 2, 10),
            ("A", price + 1, 4),
            ("A", price + 2, 10),
        ):
            records.append(_mbo(ts, "A", side, oid, px, sz))
            live.append((oid, side, px, sz))
            oid += 1
        aggressor = rng.choice(("A", "B"))
        px = price + 1 if aggressor == "B" else price - 1
        records.append(_mbo(ts + SEC, "T", aggressor, 0, px, rng.randint(1, 3)))
    meta = dbn.Metadata(
        "GLBX.MDP3",
        T0,
        dbn.SType.RAW_SYMBOL,
        dbn.SType.INSTRUMENT_ID,
        dbn.Schema.MBO,
        symbols=["MCLM4"],
    )
    path = tmp_path_factory.mktemp("paper-fix") / "walk.mbo.dbn"
    path.write_bytes(meta.encode() + b"".join(bytes(r) for r in records))
    return path


def _strategy() -> MomentumStrategy:
    return MomentumStrategy(fast_period=3, slow_period=8)


def _exchange(path: Path, port: int = 0, store: Path | None = None) -> FixExchange:
    return FixExchange(
        str(path),
        port=port,
        speed="driven",
        maker_fee=FEE,
        taker_fee=FEE,
        timestamp_precision="ns",
        store_dir=None if store is None else str(store),
    )


def _l3_run(path: Path) -> tuple[PaperSession, pd.DataFrame]:
    session = l3_session(path, _strategy(), BacktestConfig())
    result = session.run()
    return session, result.trades


def _fills(session: PaperSession) -> pd.DataFrame:
    """The engine's blotter with each fill's time and liquidity, from its broker."""
    blotter = pd.DataFrame(session.engine.blotter)
    broker = session.broker
    if isinstance(broker, L3SimBroker):
        frame = broker.report_frame()
        f = frame[frame["exec_type"].isin(["fill", "partial_fill"])]
        times = [int(t.value) for t in f["ts_exchange"]]
        liq = [str(x) for x in f["liquidity"]]
    else:
        assert isinstance(broker, FixBroker)
        f2 = [r for r in broker.reports if r.kind in ("fill", "partial_fill")]
        times = [int(r.transact_time_ns or 0) for r in f2]
        liq = ["maker" if r.last_liquidity_ind == 1 else "taker" for r in f2]
    blotter["time"], blotter["liquidity"] = times, liq
    return blotter


def _same_session(path: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int], FixBroker]:
    ref, ref_trades = _l3_run(path)
    with _exchange(path) as x:
        session = fix_session(path, _strategy(), BacktestConfig(), port=x.port)
        trades = session.run().trades
        broker = session.broker
        assert isinstance(broker, FixBroker)
        fills = _fills(session)
        session.close()
        stats = dict(x.stats)
    pd.testing.assert_frame_equal(fills, _fills(ref))
    pd.testing.assert_frame_equal(trades, ref_trades)
    assert session.engine.cash == pytest.approx(ref.engine.cash)
    return fills, trades, stats, broker


def _no_order_twice(broker: FixBroker, *stats: dict[str, int]) -> None:
    """Every NewOrderSingle the exchanges received is a distinct order of the engine."""
    assert sum(s["orders"] for s in stats) == broker.orders_sent == len(broker._orders)
    assert sum(s["rejects"] for s in stats) == 0  # a duplicate ClOrdID is rejected (103=6)


def test_fix_and_sim_l3_fill_alike_on_a_written_file(feed: Path) -> None:
    fills, trades, stats, broker = _same_session(feed)
    assert len(trades) >= 3
    assert (fills["commission"] == FEE * fills["quantity"]).all()
    _no_order_twice(broker, stats)
    assert stats["cancels"] > 0  # OCA siblings and exits cancelled over FIX
    assert broker.connections == 1
    assert stats["session_rejects"] == 0


def test_fix_and_sim_l3_fill_alike_on_clx5() -> None:
    fills, trades, stats, broker = _same_session(real_data_path(*CLX5))
    assert len(trades) >= 3
    assert len(fills) >= 2 * len(trades)
    _no_order_twice(broker, stats)


class Relay:
    """A TCP relay on loopback whose connections can be cut (a dropped network link)."""

    def __init__(self, target_port: int) -> None:
        self.target = target_port
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.conns: list[socket.socket] = []
        self.cuts = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                a, _ = self.server.accept()
            except OSError:
                return
            b = socket.create_connection(("127.0.0.1", self.target))
            self.conns += [a, b]
            for src, dst in ((a, b), (b, a)):
                threading.Thread(target=self._pipe, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        for s in self.conns:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
        self.conns = []
        self.cuts += 1

    def close(self) -> None:
        self.cut()
        self.cuts -= 1  # not a cut mid-session
        self.server.close()


def test_a_dropped_connection_mid_session_resumes_without_sending_twice(feed: Path) -> None:
    ref, ref_trades = _l3_run(feed)
    with _exchange(feed) as x:
        relay = Relay(x.port)
        session = fix_session(feed, _strategy(), BacktestConfig(), port=relay.port)
        broker = session.broker
        assert isinstance(broker, FixBroker)

        def drop(eng: object) -> None:
            # cut while a position (and its protective orders) is open, a few times
            if session.engine.position_qty and relay.cuts < 3:
                relay.cut()

        session.on_bar(drop)
        trades = session.run().trades
        fills = _fills(session)
        session.close()
        relay.close()
        stats = dict(x.stats)
    assert relay.cuts == 3
    assert broker.connections == 4  # logged on again after each cut
    assert stats["logons"] == 4
    pd.testing.assert_frame_equal(fills, _fills(ref))
    pd.testing.assert_frame_equal(trades, ref_trades)
    _no_order_twice(broker, stats)
    assert stats["status_requests"] > 0  # open orders reconciled by OrderStatusRequest


def test_a_restarted_exchange_loses_its_book_and_nothing_is_sent_twice(
    feed: Path, tmp_path: Path
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    store = tmp_path / "exchange-store"
    exchanges = [_exchange(feed, port, store)]
    session = fix_session(feed, _strategy(), BacktestConfig(), port=port)
    broker = session.broker
    assert isinstance(broker, FixBroker)
    held: list[str] = []

    def restart(eng: object) -> None:
        working = [r for r in broker._open()]
        if working and len(exchanges) == 1:
            held.extend(working)
            exchanges[0].stop()
            exchanges.append(_exchange(feed, port, store))

    session.on_bar(restart)
    session.run()
    stats = [dict(x.stats) for x in exchanges]
    session.close()
    for x in exchanges:
        x.stop()
    assert len(exchanges) == 2
    assert held
    # the new exchange resumed the FIX sequence from the store, then was asked for the orders
    assert stats[1]["logons"] == 1
    assert stats[1]["status_requests"] >= len(held)
    for ref in held:  # unknown to the new exchange: cancelled here, never sent again
        bo = broker.find_order(ref)
        assert bo is not None
        assert bo.status.is_done
        assert bo.message == "unknown at the FIX exchange after reconnect"
    _no_order_twice(broker, *stats)
    assert session.engine.position_qty == sum(broker.positions().values())


def _start_exchange_cli(path: Path, *extra: str) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [
            EXE,
            "fix-exchange",
            "--port",
            "0",
            "--feed",
            str(path),
            "--speed",
            "driven",
            "--fee",
            str(FEE),
            "--timestamp-precision",
            "ns",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert "replay driven by the client" in line, line
    return proc, int(line.split("127.0.0.1:")[1].split()[0])


def _paper(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            EXE,
            "paper",
            "--param",
            "fast_period=3",
            "--param",
            "slow_period=8",
            "--no-save-results",
            *args,
        ],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_session_over_fix_against_the_command(feed: Path) -> None:
    proc, port = _start_exchange_cli(feed)
    try:
        done = _paper("--broker", "fix", "--book", str(feed), "--fix-port", str(port))
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert done.returncode == 0, done.stderr
    assert proc.returncode == 0, err
    l3 = _paper("--broker", "sim-l3", "--book", str(feed))
    assert l3.returncode == 0, l3.stderr
    tail = l3.stdout.split("paper sim-l3 ")[1]
    assert f"paper fix {tail}" in done.stdout  # same bars, trades, orders, equity
    orders = int(tail.split(" orders sent")[0].rsplit(" ", 1)[1])
    assert f"FIX exchange stopped: {orders} orders" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--broker", "fix"], "--broker fix needs --book FILE"),
        (["--broker", "fix", "--book", "BOOK", "--fix-port", "70000"], "is not a TCP port"),
        (["--broker", "fix", "--book", "BOOK", "--fix-port", "PORT"], "could not go on"),
    ],
)
def test_cli_refuses_bad_fix_input(feed: Path, args: list[str], message: str) -> None:
    with socket.create_server(("127.0.0.1", 0)) as s:
        free = str(s.getsockname()[1])  # nobody listens there once closed
    done = _paper(*[str(feed) if a == "BOOK" else free if a == "PORT" else a for a in args])
    assert done.returncode != 0
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_reports_are_applied_once_and_liquidity_is_flagged(feed: Path) -> None:
    with _exchange(feed) as x:
        session = fix_session(feed, _strategy(), BacktestConfig(), port=x.port)
        session.run()
        broker = session.broker
        assert isinstance(broker, FixBroker)
        session.close()
    exec_ids = Counter(r.exec_id for r in broker.reports if r.exec_id)
    assert exec_ids
    assert max(exec_ids.values()) == 1
    fills = [r for r in broker.reports if r.kind in ("fill", "partial_fill")]
    assert fills
    assert all(r.last_liquidity_ind in (1, 2) for r in fills)
    assert all(r.misc_fee_amt == pytest.approx(FEE * (r.last_qty or 0)) for r in fills)


def test_cli_fix_log_and_busy_polling_both_ends(feed: Path, tmp_path: Path) -> None:
    proc, port = _start_exchange_cli(feed, "--busy-poll-us", "50")
    try:
        done = _paper(
            "--broker",
            "fix",
            "--book",
            str(feed),
            "--fix-port",
            str(port),
            "--fix-log",
            str(tmp_path / "log"),
            "--fix-busy-poll-us",
            "50",
        )
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    assert done.returncode == 0, done.stderr
    orders = int(done.stdout.split(" orders sent")[0].rsplit(" ", 1)[1])
    assert orders > 0
    log = read_message_log(tmp_path / "log" / "FIX.4.4-CLIENT-EXCH.messages.current.log")
    sent = [m for m in log if m.direction == "OUT" and m.msg_type == "D"]
    assert len(sent) == orders
