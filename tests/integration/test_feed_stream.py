"""DBN streams over TCP and UDP multicast (loopback) into the books, from Python.

A replayed file arrives whole (the final book of each instrument equals the last row of
``workbench.book.replay(..., every="record")``), a datagram withheld by the publisher is
reported as a gap, a publisher can be stopped, and ``workbench feed`` rejects bad input.
The small fixture is written with Databento's own encoder (``databento_dbn``); the real
ESH4 file is used when ../shared is present.
"""

from __future__ import annotations

import json
import random
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import databento_dbn as dbn
import numpy as np
import pandas as pd
import pytest

from tests.conftest import REPO, real_data_path
from workbench.book import (
    BookFileError,
    OrderBook,
    StreamError,
    StreamResult,
    level_columns,
    publish,
    replay,
    subscribe,
)
from workbench.errors import ConfigError

UNDEF = 2**63 - 1
LAST = 128
TICK = 10_000_000
ESH4 = ("nautilus", "esh4-glbx-mdp3-20231225.mbo.dbn.zst")


def mbo(
    inst: int, ts: int, oid: int, action: str, side: str, ticks: int, size: int, flags: int
) -> dbn.MBOMsg:
    return dbn.MBOMsg(
        publisher_id=1, instrument_id=inst, ts_event=ts, order_id=oid,
        price=7000 * TICK + ticks * TICK, size=size,
        action=dbn.Action(action), side=dbn.Side(side),  # type: ignore[arg-type]
        ts_recv=ts + 5, flags=flags, sequence=ts % 2**32,
    )  # fmt: skip


@pytest.fixture(scope="module")
def small_dbn(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """600 MBO records over two instruments (adds, modifies, cancels, trades), seeded."""
    rng = random.Random(7)
    live: dict[int, tuple[int, str, int, int]] = {}
    records: list[dbn.MBOMsg] = []
    ts, next_id = 1_700_000_000_000_000_000, 1
    while len(records) < 600:
        ts += 1_000
        inst = rng.choice((11, 12))
        mine = [o for o, v in live.items() if v[0] == inst]
        r = rng.random()
        if len(mine) < 8 or r < 0.45:
            side = rng.choice("BA")
            ticks = -rng.randint(1, 12) if side == "B" else rng.randint(1, 12)
            live[next_id] = (inst, side, ticks, rng.randint(1, 9))
            records.append(mbo(inst, ts, next_id, "A", side, ticks, live[next_id][3], LAST))
            next_id += 1
        elif r < 0.65:
            oid = rng.choice(mine)
            _, side, ticks, size = live[oid]
            live[oid] = (inst, side, ticks, max(1, size - 1))
            records.append(mbo(inst, ts, oid, "T", side, ticks, 1, 0))
            records.append(mbo(inst, ts, oid, "M", side, ticks, live[oid][3], LAST))
        else:
            oid = rng.choice(mine)
            _, side, ticks, size = live.pop(oid)
            records.append(mbo(inst, ts, oid, "C", side, ticks, size, LAST))
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
    path = tmp_path_factory.mktemp("feed") / "small.mbo.dbn"
    path.write_bytes(meta.encode() + b"".join(bytes(r) for r in records))
    return path


def multicast_group() -> tuple[str, int]:
    """A random 239.255.x.y group and port (tests of other worktrees may run at once), or
    a skip when multicast on loopback does not work here."""
    group = f"239.255.{random.randint(1, 254)}.{random.randint(1, 254)}"
    port = random.randint(46_000, 49_000)
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        rx.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        rx.bind((group, port))
        mreq = struct.pack("4s4s", socket.inet_aton(group), socket.inet_aton("127.0.0.1"))
        rx.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
        rx.settimeout(1.0)
        tx.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
        tx.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
        tx.sendto(b"probe", (group, port))
        if rx.recv(16) != b"probe":
            pytest.skip("multicast on loopback: the probe came back altered")
    except OSError as exc:
        pytest.skip(f"multicast on loopback does not work here: {exc}")
    finally:
        rx.close()
        tx.close()
    return group, port


def final_rows(path: Path) -> dict[int, np.ndarray]:
    """The last ``replay(every="record")`` row of each instrument, in DBN units."""
    frame = replay(path, every="record")
    out = {}
    for inst, rows in frame.groupby("instrument_id"):
        last = rows.iloc[-1]
        vals = []
        for col in level_columns(10):
            v = last[col]
            if "_px_" in col:
                vals.append(UNDEF if pd.isna(v) else round(float(v) * 1e9))
            else:
                vals.append(int(v))
        out[int(inst)] = np.array(vals, dtype=np.int64)
    return out


def book_row(book: OrderBook) -> np.ndarray:
    """A book's top 10 levels in the MBP-10 column order of :func:`level_columns`."""
    bids, asks = book.depth(10)
    vals: list[int] = []
    for i in range(10):
        b = bids[i] if i < len(bids) else None
        a = asks[i] if i < len(asks) else None
        vals += [
            b.price if b else UNDEF,
            a.price if a else UNDEF,
            b.size if b else 0,
            a.size if a else 0,
            b.orders if b else 0,
            a.orders if a else 0,
        ]
    return np.array(vals, dtype=np.int64)


def assert_books_equal_replay(result: StreamResult, path: Path) -> None:
    want = final_rows(path)
    assert sorted(result.books) == sorted(want)
    for inst, row in want.items():
        got = book_row(result.books[inst])
        bad = np.flatnonzero(got != row)
        assert len(bad) == 0, (
            f"instrument {inst}: {level_columns(10)[bad[0]]} {got[bad[0]]} != {row[bad[0]]}"
        )


def stream_tcp(path: Path, **kw: object) -> StreamResult:
    pub = publish(path, port=0, **kw)  # type: ignore[arg-type]
    host, port = pub.address
    result = subscribe(host, port, timeout=10).join()
    stats = pub.join()
    assert result is not None
    assert stats is not None
    assert stats.records == result.stats.records
    return result


def stream_udp(path: Path, **kw: object) -> tuple[StreamResult, int]:
    group, port = multicast_group()
    sub = subscribe(port=port, transport="udp", group=group, timeout=3)
    pub = publish(path, port=port, transport="udp", group=group, **kw)  # type: ignore[arg-type]
    result = sub.join()
    stats = pub.join()
    assert result is not None
    assert stats is not None
    return result, stats.dropped_by_plan


def test_tcp_stream_of_a_small_file_equals_the_file_replay(small_dbn: Path) -> None:
    result = stream_tcp(small_dbn, chunk=256)
    assert result.stats.records == 600
    assert result.stats.complete
    assert result.stats.gaps == []
    assert result.stats.dataset == "GLBX.MDP3"
    assert result.stats.replay["refused"] == 0
    assert_books_equal_replay(result, small_dbn)


def test_udp_stream_of_a_small_file_equals_the_file_replay(small_dbn: Path) -> None:
    result, dropped = stream_udp(small_dbn, chunk=512)
    assert dropped == 0
    st = result.stats
    assert st.complete, st
    assert (st.records, st.records_published, st.gap_count) == (600, 600, 0)
    assert st.datagrams > 60  # many small datagrams, each checked in sequence
    assert_books_equal_replay(result, small_dbn)


def test_a_withheld_datagram_is_reported_as_a_gap(small_dbn: Path) -> None:
    result, dropped = stream_udp(small_dbn, chunk=512, drop_seqs=[3, 10, 11])
    st = result.stats
    assert dropped == 3
    assert st.gaps == [(3, 3), (10, 11)]
    assert (st.gap_count, st.missing_datagrams) == (2, 3)
    assert st.end_seen
    assert not st.complete
    assert st.records_published == 600
    assert st.records < 600


def test_esh4_over_tcp_and_multicast_equals_the_file_replay() -> None:
    path = real_data_path(*ESH4)
    tcp = stream_tcp(path)
    assert tcp.stats.records == 68_792
    assert tcp.stats.complete
    assert_books_equal_replay(tcp, path)
    # A rate cap keeps the unpaced publisher from overrunning the receive buffer.
    udp, _ = stream_udp(path, max_rate=2e6)
    assert udp.stats.complete, udp.stats
    assert udp.stats.records == 68_792
    assert_books_equal_replay(udp, path)
    assert len(udp.book) == len(tcp.book) > 0


def test_a_paced_publisher_stops_on_request(small_dbn: Path) -> None:
    # 600 records 1 us apart at 1e-6 x speed would take 600 s: stop it early.
    with publish(small_dbn, port=0, speed=1e-6) as pub:
        host, port = pub.address
        sub = subscribe(host, port, timeout=10)
        time.sleep(0.2)
        assert pub.running
        pub.stop()
        stats = pub.join(timeout=5)
        assert stats is not None
        assert stats.stopped
        assert stats.records < 600
        result = sub.join(timeout=5)
    assert result is not None
    assert result.stats.records == stats.records


def test_bad_arguments_are_clear_errors(small_dbn: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a multicast group"):
        publish(small_dbn, port=45_100, transport="udp", group="10.1.2.3")
    with pytest.raises(ConfigError, match="transport"):
        publish(small_dbn, transport="sctp")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="TCP cannot drop"):
        publish(small_dbn, drop_every=2)
    not_dbn = tmp_path / "x.dbn"
    not_dbn.write_bytes(b"hello world")
    with pytest.raises(BookFileError, match="DBN"):
        publish(not_dbn)
    with pytest.raises(StreamError, match=r"timed out|refused"):
        publish(small_dbn, port=0, timeout=0.2).join()


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workbench.cli.main", *args],
        capture_output=True, text=True, cwd=REPO, timeout=timeout,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["feed", "publish", "{file}"], "exactly one of --tcp"),
        (["feed", "publish", "{file}", "--tcp", "localhost"], "is not HOST:PORT"),
        (["feed", "publish", "{file}", "--udp", "10.0.0.1:45100"], "not a multicast group"),
        (["feed", "publish", "/no/such.dbn", "--tcp", "127.0.0.1:0"], "no such file"),
        (["feed", "publish", "{file}", "--tcp", "127.0.0.1:0", "--drop-every", "3"], "--udp only"),
        (["feed", "listen", "--udp", "239.255.0.1:0"], "port"),
    ],
)
def test_cli_bad_input_exits_2_without_traceback(
    small_dbn: Path, args: list[str], message: str
) -> None:
    out = run_cli(*[a.format(file=small_dbn) for a in args])
    assert out.returncode == 2, out
    assert message in out.stderr
    assert "Traceback" not in out.stderr


def test_cli_publish_and_listen_over_tcp(small_dbn: Path) -> None:
    with socket.socket() as s:  # a free port for the publisher
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    publisher = subprocess.Popen(
        [sys.executable, "-m", "workbench.cli.main", "feed", "publish", str(small_dbn),
         "--tcp", f"127.0.0.1:{port}", "--json", "--wait", "30"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
    )  # fmt: skip
    listened = run_cli("feed", "listen", "--tcp", f"127.0.0.1:{port}", "--json", "--timeout", "30")
    published, err = publisher.communicate(timeout=30)
    assert listened.returncode == 0, listened.stderr
    assert publisher.returncode == 0, err
    got = json.loads(listened.stdout)
    assert got["records"] == json.loads(published)["records"] == 600
    assert got["complete"]
    assert set(got["books"]) == {"11", "12"}
