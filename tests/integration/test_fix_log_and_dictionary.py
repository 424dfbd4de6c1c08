"""The FIX message log (``--log`` / ``log_dir``) and external data dictionaries
(``--dictionary`` / ``dictionary_path``, ``--write-dictionary``) of the FIX exchange."""

from __future__ import annotations

import itertools
import signal
import subprocess
from pathlib import Path

import databento_dbn as dbn
import pytest

from tests.integration.subprocesses import EXE, child_env
from workbench.adapters.fix import (
    FixExchange,
    FixExchangeConfig,
    FixInitiator,
    FixReport,
    read_message_log,
    start_fix_exchange,
    write_dictionary_file,
)
from workbench.errors import ConfigError, DataError

T0 = 1_700_000_000_000_000_000
CENT = 10_000_000  # 0.01 in 1e-9 fixed point


@pytest.fixture(scope="module")
def feed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One ask: 70.01 x3 (MCLM4, instrument 42)."""
    ask = dbn.MBOMsg(
        1, 42, T0, 3, 7001 * CENT, 3, dbn.Action("A"), dbn.Side("A"), T0 + 5, flags=128
    )
    meta = dbn.Metadata(
        "GLBX.MDP3",
        T0,
        dbn.SType.RAW_SYMBOL,
        dbn.SType.INSTRUMENT_ID,
        dbn.Schema.MBO,
        symbols=["MCLM4"],
    )
    path = tmp_path_factory.mktemp("fixlog") / "mclm4.mbo.dbn"
    path.write_bytes(meta.encode() + bytes(ask))
    return path


def _next(client: FixInitiator) -> FixReport:
    report = client.next_report(timeout=10.0)
    assert report is not None, "no report within 10 s"
    return report


def _cli(*args: str, check_listening: bool = True) -> tuple[subprocess.Popen[str], int]:
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
    return proc, int(line.split("127.0.0.1:")[1].split()[0])


def test_the_command_logs_every_message_in_order(feed: Path, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    proc, port = _cli("--feed", str(feed), "--hold-at", str(T0), "--log", str(logs))
    try:
        with FixInitiator(port=port, symbol="MCLM4", log_dir=tmp_path / "client") as client:
            client.new_order("b-1", "buy", 2, "limit", price="70.01")
            assert [_next(client).kind for _ in range(2)] == ["new", "fill"]
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    log = read_message_log(logs / "FIX.4.4-EXCH-CLIENT.messages.current.log")
    seen = [(m.direction, m.msg_type, m.get(34)) for m in log]
    assert seen == [
        ("IN", "A", "1"),
        ("OUT", "A", "1"),
        ("IN", "D", "2"),
        ("OUT", "8", "2"),
        ("OUT", "8", "3"),
        ("IN", "5", "3"),
        ("OUT", "5", "4"),
    ]
    assert [log[i].get(39) for i in (3, 4)] == ["0", "2"]
    assert log[2].get(11) == "b-1"
    assert all(a.time <= b.time for a, b in itertools.pairwise(log))
    raw = (logs / "FIX.4.4-EXCH-CLIENT.messages.current.log").read_bytes()
    assert b"\x01" in raw, "SOH kept raw, as QuickFIX's FileLog keeps it"
    events = (logs / "FIX.4.4-EXCH-CLIENT.event.current.log").read_text().splitlines()
    texts = [line.split(" : ", 1)[1] for line in events]
    assert texts[0] == "Connected"
    assert "Received Logon (MsgSeqNum 1): ResetSeqNumFlag=Y" in texts
    assert texts.index("Logon complete") > texts.index(
        "Received Logon (MsgSeqNum 1): ResetSeqNumFlag=Y"
    )
    assert "Received Logout (MsgSeqNum 3)" in texts
    client_log = read_message_log(tmp_path / "client" / "FIX.4.4-CLIENT-EXCH.messages.current.log")
    assert [(m.direction, m.msg_type) for m in client_log][:3] == [
        ("OUT", "A"),
        ("IN", "A"),
        ("OUT", "D"),
    ]


def test_a_corrupt_log_line_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "x.messages.current.log"
    bad.write_bytes(b"20240102-10:00:00.000001 : IN : 8=FIX.4.4\x019=5\x0135=0\x0110=000\x01\n")
    with pytest.raises(DataError, match=r"x.messages.current.log, line 1: not a FIX message"):
        read_message_log(bad)


def _edited_dictionary(tmp_path: Path) -> Path:
    """The built-in dictionary with Account (1) required in NewOrderSingle."""
    text = write_dictionary_file(tmp_path / "FIX44.xml").read_text()
    head, tail = text.split('<message name="NewOrderSingle"', 1)
    tail = tail.replace(
        '<field name="Account" required="N"/>', '<field name="Account" required="Y"/>', 1
    )
    edited = tmp_path / "FIX44-account.xml"
    edited.write_text(head + '<message name="NewOrderSingle"' + tail)
    return edited


def test_an_edited_dictionary_changes_what_is_rejected(feed: Path, tmp_path: Path) -> None:
    edited = _edited_dictionary(tmp_path)
    with (
        FixExchange(str(feed), port=0, hold_at_ns=T0, dictionary_path=str(edited)) as x,
        FixInitiator(port=x.port, symbol=x.symbol) as client,
    ):
        client.new_order("n-1", "buy", 1, "limit", price="69")
        reject = _next(client)
        assert reject.kind == "session_reject"
        assert (dict(reject.fields)[373], dict(reject.fields)[371]) == ("1", "1")
        client.new_order("n-2", "buy", 1, "limit", price="69", account="ACC")
        assert _next(client).kind == "new"
    # the exported one, unedited, accepts what the built-in one does
    with (
        FixExchange(
            str(feed), port=0, hold_at_ns=T0, dictionary_path=str(tmp_path / "FIX44.xml")
        ) as x,
        FixInitiator(port=x.port, symbol=x.symbol) as client,
    ):
        client.new_order("n-1", "buy", 1, "limit", price="69")
        assert _next(client).kind == "new"


def test_bad_dictionaries_are_named_with_a_line(feed: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text('<fix major="4" minor="4">\n<header>\n</fix>\n')
    with pytest.raises(ConfigError, match=r"data dictionary .*bad.xml, line 3: not well-formed"):
        start_fix_exchange(FixExchangeConfig(feed=feed, port=0, dictionary_path=bad))
    with pytest.raises(ConfigError, match="does not exist"):
        start_fix_exchange(
            FixExchangeConfig(feed=feed, port=0, dictionary_path=tmp_path / "none.xml")
        )
    with pytest.raises(ValueError, match=r"bad.xml, line 3"):
        FixInitiator(port=1, dictionary_path=str(bad))


def test_the_command_writes_and_reads_dictionaries(feed: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "FIX44.xml"
    done = subprocess.run(
        [EXE, "fix-exchange", "--write-dictionary", str(out_file)],
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert out_file.read_text().startswith('<fix type="FIX" major="4" minor="4"')
    bad = tmp_path / "bad.xml"
    bad.write_text(out_file.read_text().replace('type="CHAR"', 'type="LETTER"', 1))
    refused = subprocess.run(
        [EXE, "fix-exchange", "--port", "0", "--feed", str(feed), "--dictionary", str(bad)],
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=60,
    )
    assert refused.returncode == 2
    assert "bad.xml, line " in refused.stderr
    assert 'unknown type "LETTER"' in refused.stderr
    assert "Traceback" not in refused.stderr
    proc, port = _cli("--feed", str(feed), "--hold-at", str(T0), "--dictionary", str(out_file))
    try:
        with FixInitiator(port=port, symbol="MCLM4") as client:
            client.new_order("m-1", "buy", 1, "market")
            assert [_next(client).kind for _ in range(2)] == ["new", "fill"]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    assert proc.returncode == 0
