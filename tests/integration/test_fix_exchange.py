"""The simulated exchange behind FIX, from Python: ``FixExchange`` and ``FixInitiator`` over
loopback, the ``workbench fix-exchange`` command in a child process, and QuickFIX's
initiator against that command when Debian's libquickfix-dev is installed."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import databento_dbn as dbn
import pytest

from tests.conftest import real_data_path
from tests.integration.subprocesses import EXE, child_env
from workbench.adapters.fix import (
    FixExchange,
    FixExchangeConfig,
    FixInitiator,
    FixReport,
    parse_feed_time,
    start_fix_exchange,
)
from workbench.errors import ConfigError, DataError

T0 = 1_700_000_000_000_000_000
CENT = 10_000_000  # 0.01 in 1e-9 fixed point
LAST = 128


def _mbo(ts: int, action: str, side: str, oid: int, cents: int, size: int) -> dbn.MBOMsg:
    return dbn.MBOMsg(
        1, 42, ts, oid, cents * CENT, size, dbn.Action(action), dbn.Side(side), ts + 5, flags=LAST
    )


@pytest.fixture(scope="module")
def feed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small MBO file: bids 70.00 x5, 69.99 x10; asks 70.01 x3, 70.02 x10 (MCLM4, id 42)."""
    records = [
        _mbo(T0, "A", "B", 1, 7000, 5),
        _mbo(T0, "A", "B", 2, 6999, 10),
        _mbo(T0, "A", "A", 3, 7001, 3),
        _mbo(T0, "A", "A", 4, 7002, 10),
    ]
    meta = dbn.Metadata(
        "GLBX.MDP3",
        T0,
        dbn.SType.RAW_SYMBOL,
        dbn.SType.INSTRUMENT_ID,
        dbn.Schema.MBO,
        symbols=["MCLM4"],
    )
    path = tmp_path_factory.mktemp("fix") / "mclm4.mbo.dbn"
    path.write_bytes(meta.encode() + b"".join(bytes(r) for r in records))
    return path


@pytest.fixture
def exchange(feed: Path) -> Iterator[FixExchange]:
    """The exchange held at the end of the synthetic feed."""
    config = FixExchangeConfig(feed=feed, port=0, hold_at_ns=T0, tick="0.01")
    with start_fix_exchange(config) as x:
        yield x


def _next(client: FixInitiator) -> FixReport:
    report = client.next_report(timeout=10.0)
    assert report is not None, "no report within 10 s"
    return report


def test_orders_fill_rest_replace_and_cancel_over_fix(exchange: FixExchange) -> None:
    assert (exchange.symbol, exchange.instrument_id) == ("MCLM4", 42)
    with FixInitiator(port=exchange.port, symbol=exchange.symbol) as client:
        # Marketable: 3 @ 70.01 then 1 @ 70.02.
        client.new_order("buy-1", "buy", 4, "limit", price="70.02")
        kinds = [_next(client) for _ in range(3)]
        assert [r.kind for r in kinds] == ["new", "partial_fill", "fill"]
        assert [(r.last_qty, r.last_px) for r in kinds[1:]] == [(3, 70.01), (1, 70.02)]
        fill = kinds[2]
        assert (fill.cum_qty, fill.leaves_qty, fill.avg_px) == (4, 0, 70.0125)
        assert fill.transact_time_ns == T0
        assert dict(fill.fields)[55] == "MCLM4"
        # Resting below the bid, then replaced (larger, repriced), then cancelled.
        client.new_order("rest-1", "buy", 2, "limit", price=69.5, tif="gtc")
        assert _next(client).kind == "new"
        client.replace("rest-2", "rest-1", "buy", 5, price="69.75", tif="gtc")
        replaced = _next(client)
        assert (replaced.kind, replaced.cl_ord_id, replaced.orig_cl_ord_id) == (
            "replaced",
            "rest-2",
            "rest-1",
        )
        assert (replaced.order_qty, replaced.price, replaced.leaves_qty) == (5, 69.75, 5)
        client.cancel("rest-3", "rest-2", "buy")
        cancelled = _next(client)
        assert (cancelled.kind, cancelled.ord_status, cancelled.orig_cl_ord_id) == (
            "canceled",
            "4",
            "rest-2",
        )
        # A cancel that cannot be done, a duplicate ClOrdID, an off-tick price.
        client.cancel("late-1", "buy-1", "buy")
        late = _next(client)
        assert (late.kind, late.cxl_rej_reason, late.ord_status) == ("cancel_reject", 0, "2")
        client.new_order("buy-1", "sell", 1, "market")
        dup = _next(client)
        assert (dup.kind, dup.ord_rej_reason) == ("rejected", 6)
        client.new_order("tick-1", "sell", 1, "limit", price="70.005")
        off = _next(client)
        assert (off.kind, off.text) == ("rejected", "price off the tick grid")
        assert off.to_dict()["ord_status"] == "8"
    stats = exchange.stats
    assert (stats["orders"], stats["replaces"], stats["cancels"], stats["fills"]) == (4, 1, 2, 2)
    assert stats["records_replayed"] == 4


def test_bad_arguments_are_refused_before_sending(exchange: FixExchange) -> None:
    with FixInitiator(port=exchange.port, symbol=exchange.symbol) as client:
        with pytest.raises(ValueError, match="side must be"):
            client.new_order("x", "long", 1)
        with pytest.raises(ValueError, match="not a decimal price"):
            client.new_order("x", "buy", 1, price="seventy")
    with pytest.raises(RuntimeError, match="not connected"):
        FixInitiator(port=exchange.port).new_order("x", "buy", 1)


def test_settings_and_feeds_are_checked(feed: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="must differ"):
        FixExchangeConfig(feed=feed, sender_comp_id="A", target_comp_id="A")
    with pytest.raises(ConfigError, match="speed"):
        FixExchangeConfig(feed=feed, speed=0)
    with pytest.raises(DataError, match="does not exist"):
        start_fix_exchange(FixExchangeConfig(feed=tmp_path / "none.dbn", port=0))
    bars = tmp_path / "bars.dbn"
    meta = dbn.Metadata(
        "GLBX.MDP3", T0, dbn.SType.RAW_SYMBOL, dbn.SType.INSTRUMENT_ID, dbn.Schema.OHLCV_1M
    )
    bar = dbn.OHLCVMsg(0x21, 1, 42, T0, 1, 2, 0, 1, 5)
    bars.write_bytes(meta.encode() + bytes(bar))
    with pytest.raises(DataError, match="no MBO records"):
        start_fix_exchange(FixExchangeConfig(feed=bars, port=0))
    assert parse_feed_time("2023-11-14T22:13:20") == T0
    assert parse_feed_time(str(T0)) == T0


def _start_cli(*args: str) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [EXE, "fix-exchange", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("FIX exchange listening on 127.0.0.1:"), (line, proc.stderr.read())
    port = int(line.split("127.0.0.1:")[1].split()[0])
    return proc, port


def test_the_command_serves_orders_and_stops_on_ctrl_c(feed: Path) -> None:
    proc, port = _start_cli("--feed", str(feed), "--hold-at", str(T0), "--tick", "0.01")
    try:
        with FixInitiator(port=port, symbol="MCLM4") as client:
            client.new_order("m-1", "sell", 2, "market")
            assert [_next(client).kind for _ in range(2)] == ["new", "fill"]
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "1 orders, 1 fills" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--feed", "/nonexistent/x.dbn.zst"], "does not exist"),
        (["--feed", "FEED", "--speed", "fast"], "--speed 'fast' is not a number"),
        (["--feed", "FEED", "--hold-at", "yesterday"], "'yesterday' is not a time"),
        (["--feed", "FEED", "--sender-comp-id", "A B"], "is not a CompID"),
    ],
)
def test_the_command_refuses_bad_input(feed: Path, args: list[str], message: str) -> None:
    args = [str(feed) if a == "FEED" else a for a in args]
    out = subprocess.run(
        [EXE, "fix-exchange", "--port", "0", *args],
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=60,
    )
    assert out.returncode == 2
    assert message in out.stderr
    assert "Traceback" not in out.stderr


def test_esh4_market_order_over_fix() -> None:
    path = real_data_path("nautilus", "esh4-glbx-mdp3-20231225.mbo.dbn.zst")
    hold = parse_feed_time("2023-12-25T23:30:00")
    with (
        FixExchange(str(path), port=0, hold_at_ns=hold) as x,
        FixInitiator(port=x.port, symbol=x.symbol) as client,
    ):
        client.new_order("mkt-1", "buy", 1, "market")
        reports = [_next(client) for _ in range(2)]
    assert [r.kind for r in reports] == ["new", "fill"]
    assert reports[1].last_px is not None
    assert 4000 < reports[1].last_px < 6000
    assert reports[1].transact_time_ns == hold


QUICKFIX = Path(__file__).resolve().parents[2] / "native" / "tests" / "quickfix"


def test_a_quickfix_initiator_trades_with_the_command(feed: Path, tmp_path: Path) -> None:
    build = subprocess.run(
        ["sh", str(QUICKFIX / "build_one.sh"), "client"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if build.returncode == 77:
        pytest.skip("libquickfix-dev is not installed (apt-get install libquickfix-dev)")
    assert build.returncode == 0, build.stderr
    client = build.stdout.strip()
    proc, port = _start_cli(
        "--feed", str(feed), "--hold-at", str(T0), "--sender-comp-id", "WB",
        "--target-comp-id", "QF",
    )  # fmt: skip
    try:
        out = subprocess.run(
            [client, str(port), str(tmp_path)], capture_output=True, text=True, timeout=60
        )
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    lines = out.stdout.splitlines()
    assert out.returncode == 0, (lines, out.stderr)
    assert lines == [
        "LOGON",
        "EXEC qf-1 0 0",
        "EXEC qf-1 F 1",
        "EXEC qf-1 F 2",
        "EXEC qf-2 0 0",
        "EXEC qf-3 5 0",
        "EXEC qf-4 4 4",
        "LOGOUT",
    ]
