"""Reading the FIX message log that ``log_dir`` / ``--log`` writes (QuickFIX FileLog files)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Literal

from workbench.errors import DataError
from workbench.native import fix_decode


@dataclasses.dataclass(frozen=True)
class LoggedMessage:
    """One line of a ``*.messages.current.log`` file.

    Attributes
    ----------
    time
        When the engine received or sent it (UTC, microseconds).
    direction
        ``"IN"`` (received) or ``"OUT"`` (sent).
    fields
        The decoded ``(tag, value)`` fields in order, header and trailer included.
    """

    time: dt.datetime
    direction: Literal["IN", "OUT"]
    fields: tuple[tuple[int, str], ...]

    def get(self, tag: int) -> str | None:
        """The value of the first ``tag`` field, or ``None``."""
        return next((v for t, v in self.fields if t == tag), None)

    @property
    def msg_type(self) -> str:
        """MsgType (35)."""
        return self.get(35) or ""


def read_message_log(path: str | Path) -> list[LoggedMessage]:
    """Read a FIX message log: ``YYYYMMDD-HH:MM:SS.ffffff : IN|OUT : <raw message>`` lines.

    Parameters
    ----------
    path
        A ``FIX.4.4-SENDER-TARGET.messages.current.log`` file.

    Returns
    -------
    list of LoggedMessage
        In file order (the order the engine saw them).

    Raises
    ------
    DataError
        When a line is not a log line or its message does not decode (BodyLength and
        CheckSum are checked), naming the file and line.
    """
    path = Path(path)
    out: list[LoggedMessage] = []
    for number, line in enumerate(path.read_bytes().split(b"\n"), start=1):
        if not line:
            continue
        parts = line.split(b" : ", 2)
        try:
            if len(parts) != 3 or parts[1] not in (b"IN", b"OUT"):
                raise ValueError("expected 'timestamp : IN|OUT : message'")
            stamp = dt.datetime.strptime(parts[0].decode(), "%Y%m%d-%H:%M:%S.%f")
            fields = tuple(fix_decode(parts[2]))
        except ValueError as exc:
            raise DataError(f"FIX log {path}, line {number}: {exc}") from None
        direction: Literal["IN", "OUT"] = "IN" if parts[1] == b"IN" else "OUT"
        out.append(LoggedMessage(stamp.replace(tzinfo=dt.UTC), direction, fields))
    return out
