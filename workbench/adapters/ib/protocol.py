"""The TWS API wire format: framing, the handshake, and field encoding.

Every message after the handshake, in both directions, is a 4-byte big-endian payload length
followed by UTF-8 fields, each terminated by NUL. The client opens with ``b"API\\0"`` and a
framed version range (``v157..178``); the server answers with a framed pair of fields (server
version, connection time) and no message id. Facts from reading ib-async 2.1.0 (see the
project's ``reference/ib-tws-protocol.md``).
"""

from __future__ import annotations

import datetime as dt
import math
import struct
from collections.abc import Iterable, Iterator

#: The server version the simulator speaks (ib-async 2.1.0 accepts 157..178).
SERVER_VERSION = 178
#: Oldest client version the simulator accepts.
MIN_CLIENT_VERSION = 157
#: The client's opening bytes.
API_PREFIX = b"API\0"
#: IB's "no value" for doubles and integers.
UNSET_DOUBLE = 1.7976931348623157e308
UNSET_INTEGER = 2**31 - 1
#: Refuse absurd frames rather than buffer them (the real gateway's limit is 16 MB).
MAX_FRAME = 16 * 1024 * 1024

_LEN = struct.Struct(">I")


class ProtocolError(ValueError):
    """A peer sent bytes that are not the TWS API wire format."""


def field(value: object) -> str:
    """One value as the TWS API writes it.

    ``None`` and IB's unset numbers become ``""``, booleans ``"1"``/``"0"``, floats their
    shortest round-trip text (``71.23``, integral floats without ``.0`` only when they are
    ints), infinity ``"Infinite"``.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return "" if value == UNSET_INTEGER else str(value)
    if isinstance(value, float):
        if value == UNSET_DOUBLE or math.isnan(value):
            return ""
        if math.isinf(value):
            return "Infinite"
        return repr(round(value, 10))
    return str(value)


def encode(fields: Iterable[object]) -> bytes:
    """A framed message: length prefix, then each field NUL-terminated."""
    payload = "".join(field(f) + "\0" for f in fields).encode()
    return _LEN.pack(len(payload)) + payload


def encode_handshake(min_version: int = MIN_CLIENT_VERSION, max_version: int = 178) -> bytes:
    """The client's opening bytes (what ib-async sends; used by tests and probes)."""
    text = f"v{min_version}..{max_version}".encode()
    return API_PREFIX + _LEN.pack(len(text)) + text


def parse_version_range(payload: bytes) -> tuple[int, int]:
    """``b"v157..178"`` (optionally followed by connect options) -> ``(157, 178)``.

    Raises
    ------
    ProtocolError
        If the payload is not a version range.
    """
    text = payload.decode(errors="replace").split(" ", 1)[0]
    if not text.startswith("v"):
        raise ProtocolError(f"not a TWS API version range: {text!r}")
    lo, sep, hi = text[1:].partition("..")
    try:
        low = int(lo)
        high = int(hi) if sep else low
    except ValueError:
        raise ProtocolError(f"not a TWS API version range: {text!r}") from None
    return low, high


class FrameReader:
    """Splits a byte stream into messages (lists of field strings).

    Feed it whatever arrived with :meth:`feed`; iterate :meth:`messages` for complete ones.
    """

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> None:
        """Append received bytes."""
        self._buf += data

    def pending(self) -> int:
        """Bytes held that do not make a whole message yet."""
        return len(self._buf)

    def next_payload(self) -> bytes | None:
        """The next whole frame's payload, or None if it has not all arrived."""
        if len(self._buf) < 4:
            return None
        (size,) = _LEN.unpack_from(self._buf)
        if size > MAX_FRAME:
            raise ProtocolError(f"frame of {size} bytes is over the {MAX_FRAME} byte limit")
        if len(self._buf) < 4 + size:
            return None
        payload = bytes(self._buf[4 : 4 + size])
        del self._buf[: 4 + size]
        return payload

    def messages(self) -> Iterator[list[str]]:
        """Complete messages, each split into its fields (the trailing empty one dropped)."""
        while (payload := self.next_payload()) is not None:
            yield split_fields(payload)


def split_fields(payload: bytes) -> list[str]:
    """Fields of one payload: UTF-8 text split on NUL, the last (empty) element dropped."""
    parts = payload.decode(errors="backslashreplace").split("\0")
    if parts and parts[-1] == "":
        parts.pop()
    return parts


def ib_time(epoch_ns: int) -> str:
    """``20250102 14:30:00 UTC``: IB's timestamp text for a UTC instant."""
    t = dt.datetime.fromtimestamp(epoch_ns // 1_000_000_000, dt.UTC)
    return t.strftime("%Y%m%d %H:%M:%S UTC")
