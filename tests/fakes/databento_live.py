"""A loopback fake of Databento's Live Subscription Gateway (LSG), at the wire protocol.

The unmodified ``databento.Live(key, gateway="127.0.0.1", port=fake.port)`` client talks to
:class:`FakeLiveGateway` over plain TCP, as it talks to the real gateway (the live client
uses no TLS; it runs ``loop.create_connection(host, port)``). Nothing in ``databento`` is
patched or mocked.

What the client (databento 0.87, ``databento/live/{protocol,gateway,session}.py``) does on
the wire, and what this fake serves:

1. The gateway greets with text lines: ``lsg_version=<v>\\n`` then ``cram=<challenge>\\n``.
2. The client answers ``auth=<sha256(f"{challenge}|{key}")>-<key[-5:]>|dataset=...|
   encoding=dbn|ts_out=0|compression=none|client=Python/...\\n`` (plus
   ``heartbeat_interval_s`` and ``slow_reader_behavior`` when set). The fake recomputes the
   response from the keys it knows and answers ``success=1|session_id=<id>\\n``, or
   ``success=0|error=Authentication failed.\\n`` and closes (the client raises
   ``BentoError("Authentication failed.")``).
3. Subscriptions, one line each: ``schema=ohlcv-1m|stype_in=raw_symbol|symbols=MCLZ5|
   start=<ns>?|snapshot=0|id=0|is_last=1\\n``; then ``start_session=0\\n``.
4. From then on a DBN stream: the metadata header (live: no schema, no stype_in,
   ``stype_out=instrument_id``, no mappings), one ``SymbolMappingMsg`` per instrument the
   subscriptions resolve to, then the records, time-ordered, encoded with the real
   ``databento_dbn`` encoder. A subscription with ``start`` replays from that time (the
   gateway's intraday replay); without it, everything the fake holds is "now".

After the records the fake closes the session (``end_session=True``, the default) so a
test ends without waiting, or keeps it open and sends heartbeats (``SystemMsg``) until the
client leaves.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
import socket
import socketserver
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import databento_dbn as dbn

from tests.fakes.databento_gateway import (
    _OHLCV_RTYPES,
    DEFAULT_API_KEY,
    DEFAULT_DATASET,
    GLBX_PUBLISHER_ID,
    MarketRecord,
)

__all__ = [
    "AUTH_FAILED",
    "DEFAULT_API_KEY",
    "FakeLiveGateway",
    "LiveSession",
    "cram_response",
    "make_trade",
]

LSG_VERSION = "0.7.2"
AUTH_FAILED = "Authentication failed."
_BUCKET = 5  # the key's last characters the client appends to its CRAM response


def cram_response(challenge: str, key: str) -> str:
    """What a client holding ``key`` must answer to ``challenge`` (Databento's CRAM)."""
    digest = hashlib.sha256(f"{challenge}|{key}".encode()).hexdigest()
    return f"{digest}-{key[-_BUCKET:]}"


def make_trade(
    ts_event: int,
    instrument_id: int,
    price: float,
    size: int,
    *,
    side: str = "B",
    sequence: int = 0,
) -> dbn.TradeMsg:
    """A ``TradeMsg`` (price in dollars, stored in 1e-9 fixed point)."""
    return dbn.TradeMsg(
        GLBX_PUBLISHER_ID,
        instrument_id,
        ts_event,
        round(price * dbn.FIXED_PRICE_SCALE),
        size,
        dbn.Action.TRADE,  # type: ignore[arg-type]  # stub types it as str
        dbn.Side.BID if side == "B" else dbn.Side.ASK,  # type: ignore[arg-type]
        0,
        ts_event + 1_000,
        sequence=sequence,
    )


def _parse_line(line: str) -> dict[str, str]:
    return dict(t.partition("=")[::2] for t in line.strip().split("|") if t)


@dataclass
class LiveSession:
    """What one client connection did: its auth line, subscriptions and outcome."""

    auth: dict[str, str] = field(default_factory=dict)
    authenticated: bool = False
    session_id: str | None = None
    subscriptions: list[dict[str, str]] = field(default_factory=list)
    started: bool = False
    records_sent: int = 0


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        gw = self.server.gateway
        session = LiveSession()
        with gw.lock:
            gw.sessions.append(session)
        challenge = secrets.token_hex(16)
        self.wfile.write(f"lsg_version={LSG_VERSION}\ncram={challenge}\n".encode())
        session.auth = _parse_line(self.rfile.readline().decode())
        if not gw.verify(challenge, session.auth.get("auth", "")):
            self.wfile.write(f"success=0|error={AUTH_FAILED}\n".encode())
            return
        if session.auth.get("compression", "none") != "none":
            self.wfile.write(b"success=0|error=Unsupported compression.\n")
            return
        session.authenticated = True
        session.session_id = str(next(gw.session_ids))
        self.wfile.write(f"success=1|session_id={session.session_id}\n".encode())
        while True:
            line = self.rfile.readline().decode()
            if not line:  # the client left before starting
                return
            fields = _parse_line(line)
            if "start_session" in fields:
                break
            session.subscriptions.append(fields)
        session.started = True
        self.wfile.write(gw.stream(session))
        session.records_sent = gw.last_count
        if gw.end_session:
            return
        while not gw.stopping.wait(gw.heartbeat_s):  # keep the session open: heartbeats
            try:
                self.wfile.write(bytes(dbn.SystemMsg(gw.clock_ns, "Heartbeat")))
            except OSError:
                return


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    gateway: FakeLiveGateway


class FakeLiveGateway:
    """A Live Subscription Gateway on 127.0.0.1 serving the records it is given.

    Parameters
    ----------
    records : iterable of MarketRecord
        Everything the market holds (a ``MarketRecord`` pairs a DBN record with its raw
        symbol); subscriptions pick records by schema and symbol.
    keys : sequence of str
        API keys the gateway accepts (default: the historical fake's key).
    dataset : str
        The dataset served.
    end_session : bool, default True
        Close the connection after the records (else send heartbeats until the client
        leaves or :meth:`close`).
    """

    def __init__(
        self,
        records: Iterable[MarketRecord] = (),
        *,
        keys: Sequence[str] = (DEFAULT_API_KEY,),
        dataset: str = DEFAULT_DATASET,
        end_session: bool = True,
        heartbeat_s: float = 0.2,
    ) -> None:
        self.records = list(records)
        self.keys = tuple(keys)
        self.dataset = dataset
        self.end_session = end_session
        self.heartbeat_s = heartbeat_s
        self.sessions: list[LiveSession] = []
        self.session_ids = itertools.count(1)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.clock_ns = 0
        self.last_count = 0
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.gateway = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        """The port the client connects to (``Live(gateway="127.0.0.1", port=...)``)."""
        return int(self._server.server_address[1])

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving and close the listening socket."""
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def verify(self, challenge: str, answer: str) -> bool:
        """Whether ``answer`` is the CRAM response of one of the accepted keys."""
        return any(secrets.compare_digest(answer, cram_response(challenge, k)) for k in self.keys)

    def _selected(self, sub: dict[str, str]) -> list[MarketRecord]:
        schema = sub["schema"]
        stype = sub.get("stype_in", "raw_symbol")
        wanted = set(sub.get("symbols", "").split(","))
        start = int(sub["start"]) if sub.get("start") else None
        chosen = []
        for rec in self.records:
            if _schema_of(rec.record) != schema:
                continue
            if "ALL_SYMBOLS" not in wanted:
                if stype == "raw_symbol" and rec.raw_symbol not in wanted:
                    continue
                if stype == "parent" and not any(
                    rec.raw_symbol.startswith(p.removesuffix(".FUT")) for p in wanted
                ):
                    continue
            if start is not None and rec.ts_index < start:
                continue
            chosen.append(rec)
        return chosen

    def stream(self, session: LiveSession) -> bytes:
        """The DBN bytes sent after ``start_session``: metadata, mappings, records."""
        picked: dict[int, MarketRecord] = {}
        for sub in session.subscriptions:
            for rec in self._selected(sub):
                picked.setdefault(id(rec), rec)
        ordered = sorted(picked.values(), key=lambda r: r.ts_index)
        starts = [int(s["start"]) for s in session.subscriptions if s.get("start")]
        start = min(starts) if starts else (ordered[0].ts_index if ordered else 0)
        metadata = dbn.Metadata(
            self.dataset,
            start,
            None,  # live: several stype_in may be mixed
            dbn.SType("instrument_id"),
            None,  # live: several schemas may be mixed
            symbols=[],
            partial=[],
            not_found=[],
            mappings=[],
        )
        out = [metadata.encode()]
        in_symbols = {s.get("stype_in", "raw_symbol") for s in session.subscriptions}
        stype_in = dbn.SType(in_symbols.pop() if len(in_symbols) == 1 else "raw_symbol")
        seen: set[int] = set()
        for rec in ordered:
            if rec.instrument_id in seen:
                continue
            seen.add(rec.instrument_id)
            out.append(
                bytes(
                    dbn.SymbolMappingMsg(
                        GLBX_PUBLISHER_ID,
                        rec.instrument_id,
                        start,
                        stype_in,
                        rec.raw_symbol,
                        dbn.SType("raw_symbol"),
                        rec.raw_symbol,
                        start,
                        2**64 - 1,
                    )
                )
            )
        out += [bytes(r.record) for r in ordered]
        self.clock_ns = ordered[-1].ts_index if ordered else start
        self.last_count = len(ordered)
        return b"".join(out)


def _schema_of(record: Any) -> str:
    if isinstance(record, dbn.OHLCVMsg):
        names = {int(v): k for k, v in _OHLCV_RTYPES.items()}
        return names[int(record.rtype)]
    if isinstance(record, dbn.TradeMsg):
        return "trades"
    raise TypeError(f"the live fake does not serve {type(record).__name__}")


def free_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
