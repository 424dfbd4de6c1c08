"""Settings of the FIX exchange, checked with clear messages, and its start."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path
from typing import Literal

from workbench.errors import ConfigError, DataError
from workbench.native import FixExchange

_COMP_ID = re.compile(r"^[!-~]{1,64}$")  # printable ASCII, no spaces


@dataclasses.dataclass(frozen=True)
class FixExchangeConfig:
    """Settings of a simulated FIX exchange (what a FIX engineer sets on an acceptor).

    Parameters
    ----------
    feed
        The MBO file to replay: Databento DBN, ``.dbn`` or ``.dbn.zst``. The catalog holds
        bars, not order-by-order data, so the feed is a file path.
    host, port
        Where to listen (``port=0`` picks a free port).
    sender_comp_id, target_comp_id
        Our CompID (49 on what we send) and the client's.
    heartbeat
        HeartBtInt (108) in seconds expected from the client (its Logon sets the one used).
    store_dir
        Folder of the file message store (QuickFIX's layout; a restart resumes the sequence),
        or ``None`` for a memory store.
    reset_on_logon
        Reset both sequence numbers to 1 at each new connection.
    validate
        Validate received messages against the built-in FIX 4.4 data dictionary.
    speed
        Replay at this multiple of the records' timestamps, ``"max"`` (as fast as
        possible), or ``"driven"`` (in lock-step with the client, which moves the feed clock
        with ReplayRequests: ``workbench paper --broker fix``). Ignored when ``hold_at_ns``
        is set.
    hold_at_ns
        Apply every record up to this time (ns since the epoch), then hold the book still.
    symbol, instrument_id
        The Symbol (55) orders must carry and the instrument traded (default: the file's
        most frequent instrument and its raw symbol).
    tick
        Price increment checked on orders, as a decimal string (e.g. ``"0.01"``).
    fee
        Fee per contract in dollars, for makers and takers (sent as MiscFees on fills).
    timestamp_precision
        Sub-second digits of SendingTime and TransactTime: ``"ms"``, ``"us"`` or ``"ns"``.
    dictionary_path
        A QuickFIX XML data dictionary to validate received messages against, or ``None``
        for the built-in FIX 4.4 one (``workbench fix-exchange --write-dictionary FILE``
        writes that one out, to edit).
    log_dir
        Folder of the FIX message and event log (QuickFIX's FileLog files,
        ``FIX.4.4-EXCH-CLIENT.messages.current.log`` and ``.event.current.log``, appended
        to), or ``None`` for no log.
    busy_poll_us
        After each message, poll the socket for up to this many microseconds before
        parking on epoll: lower latency for a busy core. ``None`` or 0: park at once.
    """

    feed: Path
    host: str = "127.0.0.1"
    port: int = 9878
    sender_comp_id: str = "EXCH"
    target_comp_id: str = "CLIENT"
    heartbeat: int = 30
    store_dir: Path | None = None
    reset_on_logon: bool = False
    validate: bool = True
    speed: float | Literal["max", "driven"] = 1.0
    hold_at_ns: int | None = None
    symbol: str | None = None
    instrument_id: int | None = None
    tick: str | None = None
    fee: float = 0.0
    timestamp_precision: Literal["s", "ms", "us", "ns"] = "ms"
    log_dir: Path | None = None
    dictionary_path: Path | None = None
    busy_poll_us: int | None = None

    def __post_init__(self) -> None:
        """Reject settings that cannot work, naming the setting and what to do."""
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port {self.port} is not a TCP port", hint="use 1-65535, or 0")
        for name in ("sender_comp_id", "target_comp_id"):
            value = getattr(self, name)
            if not _COMP_ID.match(value):
                raise ConfigError(
                    f"{name} {value!r} is not a CompID",
                    hint="1-64 printable ASCII characters without spaces, e.g. EXCH",
                )
        if self.sender_comp_id == self.target_comp_id:
            raise ConfigError("sender_comp_id and target_comp_id must differ")
        if not 1 <= self.heartbeat <= 3600:
            raise ConfigError(f"heartbeat {self.heartbeat} s is out of range", hint="1-3600 s")
        if self.speed not in ("max", "driven") and not (
            isinstance(self.speed, int | float) and self.speed > 0
        ):
            raise ConfigError(
                f"speed {self.speed!r} must be a positive number, 'max' or 'driven'",
                hint="1 = as recorded, 60 = a minute of market per second",
            )
        if not (self.fee >= 0 and self.fee < 1e6):
            raise ConfigError(f"fee {self.fee!r} must be >= 0 dollars per contract")
        if self.timestamp_precision not in ("s", "ms", "us", "ns"):
            raise ConfigError(
                f"timestamp_precision {self.timestamp_precision!r} is not s, ms, us or ns"
            )
        if self.tick is not None and not re.fullmatch(r"\d*\.?\d+", self.tick):
            raise ConfigError(f"tick {self.tick!r} is not a positive decimal", hint="e.g. 0.01")


def parse_feed_time(text: str) -> int:
    """A point in feed time: integer nanoseconds since the epoch, or an ISO 8601 date/time
    (UTC unless it carries an offset).

    Parameters
    ----------
    text
        ``"1703462400000000000"`` or ``"2023-12-25T00:30:00"``.

    Returns
    -------
    int
        Nanoseconds since the UNIX epoch.

    Raises
    ------
    ConfigError
        When the text is neither.
    """
    if text.isdigit():
        return int(text)
    try:
        stamp = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"{text!r} is not a time",
            hint="ISO 8601 UTC like 2023-12-25T00:30:00, or nanoseconds since the epoch",
        ) from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    delta = stamp - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


def start_fix_exchange(config: FixExchangeConfig) -> FixExchange:
    """Start the simulated exchange behind a FIX acceptor, in a background thread.

    Parameters
    ----------
    config
        The settings.

    Returns
    -------
    FixExchange
        Running; ``stop()`` it (or use it as a context manager).

    Raises
    ------
    DataError
        When the feed is missing or holds no MBO records.
    ConfigError
        When the port cannot be bound, a setting is refused, or the data dictionary is
        missing or not a QuickFIX XML data dictionary (the error names the file and line).
    """
    feed = Path(config.feed)
    if not feed.is_file():
        raise DataError(
            f"feed {feed} does not exist",
            hint="give a Databento MBO file (.dbn or .dbn.zst); the catalog holds bars only",
        )
    if config.dictionary_path is not None and not Path(config.dictionary_path).is_file():
        raise ConfigError(
            f"data dictionary {config.dictionary_path} does not exist",
            hint="write the built-in one with `workbench fix-exchange --write-dictionary FILE`, "
            "then edit it",
        )
    try:
        return FixExchange(
            str(feed),
            host=config.host,
            port=config.port,
            sender_comp_id=config.sender_comp_id,
            target_comp_id=config.target_comp_id,
            heartbeat=config.heartbeat,
            store_dir=None if config.store_dir is None else str(config.store_dir),
            reset_on_logon=config.reset_on_logon,
            validate=config.validate,
            speed=None if config.hold_at_ns is not None else config.speed,
            hold_at_ns=config.hold_at_ns,
            instrument_id=config.instrument_id,
            symbol=config.symbol,
            tick=config.tick,
            maker_fee=config.fee,
            taker_fee=config.fee,
            timestamp_precision=config.timestamp_precision,
            log_dir=None if config.log_dir is None else str(config.log_dir),
            dictionary_path=None if config.dictionary_path is None else str(config.dictionary_path),
            busy_poll_us=config.busy_poll_us,
        )
    except FileNotFoundError as exc:
        raise DataError(str(exc)) from None
    except OSError as exc:
        raise ConfigError(
            f"cannot start the FIX exchange: {exc}",
            hint="another program may use that port (pick another with --port), "
            "or the log folder is not writable",
        ) from None
    except ValueError as exc:
        message = str(exc)
        if message.startswith("feed "):
            raise DataError(message) from None
        raise ConfigError(message) from None
