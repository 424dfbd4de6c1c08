"""Market-data streams: a DBN file replayed over TCP or UDP multicast into the native books.

:func:`publish` replays a file at N x speed to one TCP client or to a multicast group (on
loopback by default), on a native thread; :func:`subscribe` reads such a stream into one L3
book per instrument, also on a native thread, checking the datagram sequence. Both return a
handle at once; ``join()`` waits with the GIL released. Loss and backpressure are counted,
never silent: :class:`StreamStats` lists the missing datagram ranges, and
:class:`PublisherStats` the publisher's stalls on a full TCP send buffer and the datagrams it
withheld on purpose (``drop_every``, a test of the gap check).

The wire formats (plain DBN over TCP; a 24-byte sequenced header per datagram over UDP) are
those of ``native/src/feed`` (see its module docs).

Examples
--------
>>> sub = subscribe(port=45100, transport="udp", group="239.255.0.1")  # doctest: +SKIP
>>> pub = publish("esh4.mbo.dbn.zst", port=45100, transport="udp")  # doctest: +SKIP
>>> result = sub.join()  # doctest: +SKIP
>>> result.stats.gaps, result.book.best_bid()  # doctest: +SKIP
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, fields
from types import TracebackType
from typing import Any, Literal

from workbench import native
from workbench.book.errors import BookFileError
from workbench.book.order_book import OrderBook
from workbench.errors import ConfigError, WorkbenchError

Transport = Literal["tcp", "udp"]

DEFAULT_GROUP = "239.255.0.1"
"""The multicast group used when none is given (administratively scoped, stays on the host
with TTL 0)."""


class StreamError(WorkbenchError):
    """A stream that could not be published or read (socket error, timeout, bad DBN)."""


@dataclass(frozen=True)
class PublisherStats:
    """What a publisher did (see ``native/src/feed`` ``PublisherStats``).

    Attributes
    ----------
    records, bytes, sends : int
        Records sent (UDP: including withheld ones), bytes handed to the kernel, writes or
        datagrams.
    stalls, blocked_ns, max_stall_ns, max_pending_bytes, send_buffer_bytes : int
        TCP backpressure: times the send buffer was full, time blocked, longest block, bytes
        waiting when a stall began, and the kernel's send buffer size.
    dropped_by_plan, send_errors : int
        UDP: datagrams withheld on purpose (``drop_every``/``drop_seqs``) and datagrams the
        kernel refused.
    max_lag_ns, elapsed_ns : int
        Largest delay behind the pacing schedule, and time from first to last send.
    stopped : bool
        The publisher was stopped before the end of the file.
    """

    records: int
    bytes: int
    sends: int
    stalls: int
    blocked_ns: int
    max_stall_ns: int
    max_pending_bytes: int
    send_buffer_bytes: int
    dropped_by_plan: int
    send_errors: int
    max_lag_ns: int
    elapsed_ns: int
    stopped: bool


@dataclass(frozen=True)
class StreamStats:
    """What a subscriber received.

    Attributes
    ----------
    transport : {"tcp", "udp"}
    records, bytes, datagrams : int
        Records applied to the books, bytes and (UDP) datagrams received.
    gaps : list of (int, int)
        UDP: the missing datagram sequence numbers as inclusive ``(first, last)`` ranges
        (the first 64 ranges; ``gap_count`` and ``missing_datagrams`` count them all).
    gap_count, missing_datagrams, late_datagrams, malformed_datagrams : int
        UDP sequence check counts.
    records_published : int or None
        UDP: the publisher's record count, from the end datagram.
    end_seen, timed_out, stopped_on_gap, complete : bool
        Whether the end datagram came, the idle timeout expired, the subscriber stopped at
        the first gap, and whether the whole stream arrived (no gap, counts equal).
    elapsed_ns, max_lag_ns : int
        Time from the first byte to the end, and largest send-to-receive delay (UDP).
    recv_buffer_bytes : int
        UDP: the receive buffer the kernel granted (an overrun shows as gaps).
    dataset : str or None
        The DBN metadata's dataset, when received.
    replay : dict
        The books' counts (records per action, refusals, ...) and ``integrity``.
    """

    transport: Transport
    records: int
    bytes: int
    datagrams: int
    gaps: list[tuple[int, int]]
    gap_count: int
    missing_datagrams: int
    late_datagrams: int
    malformed_datagrams: int
    records_published: int | None
    end_seen: bool
    timed_out: bool
    stopped_on_gap: bool
    complete: bool
    elapsed_ns: int
    max_lag_ns: int
    recv_buffer_bytes: int
    dataset: str | None
    replay: dict[str, Any]

    @property
    def records_per_second(self) -> float:
        """Records applied per second of stream time (0 when nothing arrived)."""
        return self.records / (self.elapsed_ns / 1e9) if self.elapsed_ns else 0.0

    def as_dict(self) -> dict[str, Any]:
        """The counts as a JSON-ready dict (``replay`` included)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class StreamResult:
    """The end of a subscription: the final books and the counts.

    Attributes
    ----------
    stats : StreamStats
    books : dict of int to OrderBook
        The L3 book of each instrument, by instrument id.
    """

    stats: StreamStats
    books: dict[int, OrderBook]

    @property
    def book(self) -> OrderBook:
        """The one book of a single-instrument stream.

        Raises
        ------
        StreamError
            When the stream held no MBO record or several instruments (use :attr:`books`).
        """
        if len(self.books) != 1:
            raise StreamError(
                f"the stream built {len(self.books)} books (instruments "
                f"{sorted(self.books)}), not one",
                hint="pick one from `result.books[instrument_id]`",
            )
        return next(iter(self.books.values()))


def _stream_error(exc: Exception, what: str) -> WorkbenchError:
    """A native failure as a workbench error with a hint."""
    if isinstance(exc, TimeoutError):
        return StreamError(
            f"{what}: timed out: {exc}",
            hint="start the other side (publisher or subscriber), or raise the timeout",
        )
    if isinstance(exc, ValueError) and len(exc.args) == 2:
        return StreamError(f"{what}: bad stream ({exc.args[0]}): {exc.args[1]}")
    return StreamError(
        f"{what}: {exc}", hint="check the address, and that the other side is running"
    )


class Publication:
    """A running publisher (see :func:`publish`); a context manager that stops and joins it."""

    def __init__(self, handle: native.FeedPublisher) -> None:
        self._handle = handle

    @property
    def address(self) -> tuple[str, int]:
        """``(host, port)`` of the TCP listener (the actual port when 0 was asked), or the
        multicast group."""
        return self._handle.address

    @property
    def running(self) -> bool:
        """Whether it is still sending (or waiting for its TCP client)."""
        return self._handle.running

    def stop(self) -> None:
        """Stop early: the stream ends cleanly with the records sent so far."""
        self._handle.stop()

    def join(self, timeout: float | None = None) -> PublisherStats | None:
        """Wait for the end of the replay.

        Parameters
        ----------
        timeout : float, optional
            Seconds; by default wait until done.

        Returns
        -------
        PublisherStats or None
            ``None`` if still running after ``timeout``.

        Raises
        ------
        StreamError
            No client came (TCP), a client stopped reading, or a socket failed.
        """
        try:
            out = self._handle.join(timeout)
        except (OSError, ValueError) as exc:
            raise _stream_error(exc, "publisher") from None
        return None if out is None else PublisherStats(**out)

    def __enter__(self) -> Publication:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        self._handle.join()

    def __repr__(self) -> str:
        return f"Publication({self._handle!r})"


class Subscription:
    """A running subscriber (see :func:`subscribe`)."""

    def __init__(self, handle: native.FeedSubscriber) -> None:
        self._handle = handle

    @property
    def running(self) -> bool:
        """Whether the stream is still being read."""
        return self._handle.running

    def join(self, timeout: float | None = None) -> StreamResult | None:
        """Wait for the end of the stream.

        Parameters
        ----------
        timeout : float, optional
            Seconds; by default wait until the stream ends (or its own idle timeout).

        Returns
        -------
        StreamResult or None
            The books and counts; ``None`` if still running after ``timeout``.

        Raises
        ------
        StreamError
            The connection failed or timed out, or the stream is not valid DBN.
        """
        try:
            out = self._handle.join(timeout)
        except (OSError, ValueError) as exc:
            raise _stream_error(exc, "subscriber") from None
        if out is None:
            return None
        raw, books = out
        replay = dict(raw["replay"])
        replay["integrity"] = raw["integrity"]
        stats = StreamStats(
            transport=raw["transport"],
            records=raw["records"],
            bytes=raw["bytes"],
            datagrams=raw["datagrams"],
            gaps=[(int(a), int(b)) for a, b in raw["gap_ranges"]],
            gap_count=raw["gaps"],
            missing_datagrams=raw["missing_datagrams"],
            late_datagrams=raw["late_datagrams"],
            malformed_datagrams=raw["malformed_datagrams"],
            records_published=raw["records_published"],
            end_seen=raw["end_seen"],
            timed_out=raw["timed_out"],
            stopped_on_gap=raw["stopped_on_gap"],
            complete=raw["complete"],
            elapsed_ns=raw["elapsed_ns"],
            max_lag_ns=raw["max_lag_ns"],
            recv_buffer_bytes=raw["recv_buffer_bytes"],
            dataset=raw["dataset"],
            replay=replay,
        )
        return StreamResult(
            stats=stats, books={i: OrderBook.from_native(b) for i, b in books.items()}
        )

    def __repr__(self) -> str:
        return f"Subscription({self._handle!r})"


def _check_transport(transport: str) -> Transport:
    if transport not in ("tcp", "udp"):
        raise ConfigError(
            f"transport must be 'tcp' or 'udp', got {transport!r}",
            hint="TCP: one client, lossless; UDP: a multicast group, loss counted as gaps",
        )
    return "tcp" if transport == "tcp" else "udp"


def check_group(group: str) -> str:
    """Check that ``group`` is an IPv4 multicast group.

    Parameters
    ----------
    group : str
        E.g. ``"239.255.0.1"``.

    Returns
    -------
    str
        The group.

    Raises
    ------
    ConfigError
        Not an IPv4 address, or not in ``224.0.0.0/4``.
    """
    try:
        addr = ipaddress.IPv4Address(group)
    except ValueError:
        raise ConfigError(
            f"{group!r} is not an IPv4 address", hint="use a group such as 239.255.0.1"
        ) from None
    if not addr.is_multicast:
        raise ConfigError(
            f"{group} is not a multicast group (224.0.0.0 to 239.255.255.255)",
            hint="use an administratively scoped group such as 239.255.0.1",
        )
    return group


def _check_port(port: int, *, allow_zero: bool) -> int:
    low = 0 if allow_zero else 1
    if not low <= port <= 65535:
        raise ConfigError(f"port must be in {low}..65535, got {port}")
    return port


def publish(
    path: str | os.PathLike[str],
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    speed: float = 0.0,
    transport: Transport = "tcp",
    group: str | None = None,
    max_rate: float = 0.0,
    repeat: int = 1,
    chunk: int | None = None,
    timeout: float = 10.0,
    drop_every: int = 0,
    drop_seqs: list[int] | None = None,
) -> Publication:
    """Replay a DBN file over TCP (to one client) or UDP multicast, on a native thread.

    Parameters
    ----------
    path : str or os.PathLike
        A DBN file, plain or zstd.
    host : str, default "127.0.0.1"
        TCP: the address to listen on. UDP: the interface to send on (loopback by default).
    port : int, default 0
        TCP: the port (0: a free one, see :attr:`Publication.address`). UDP: the group's
        port (required).
    speed : float, default 0.0
        N x real time by ``ts_event``; 0 sends as fast as possible.
    transport : {"tcp", "udp"}, default "tcp"
    group : str, optional
        UDP: the multicast group (default :data:`DEFAULT_GROUP`).
    max_rate : float, default 0.0
        Records per second at most (0: no cap); keeps a UDP receiver from overrunning.
    repeat : int, default 1
        Times the file is sent back to back.
    chunk : int, optional
        TCP bytes per write / largest UDP datagram (default 64 KiB).
    timeout : float, default 10.0
        TCP: seconds to wait for the client, and for one blocked write.
    drop_every, drop_seqs : optional
        UDP test mode: withhold every n-th record datagram, or these sequence numbers; the
        subscriber must report them as gaps.

    Returns
    -------
    Publication
        ``stop()``, ``join()``, ``address``.

    Raises
    ------
    BookFileError
        The file is missing or not DBN.
    ConfigError
        A bad transport, port, group or option.
    StreamError
        The socket could not be set up.
    """
    kind = _check_transport(transport)
    _check_port(port, allow_zero=kind == "tcp")
    if kind == "udp" and port == 0:
        raise ConfigError("a multicast stream needs a port", hint="e.g. port=45100")
    dest, interface = (
        (check_group(group or DEFAULT_GROUP), host) if kind == "udp" else (host, "127.0.0.1")
    )
    try:
        handle = native.FeedPublisher(
            os.fspath(path),
            transport=kind,
            host=dest,
            port=port,
            speed=speed,
            max_rate=max_rate,
            repeat=repeat,
            chunk=chunk,
            timeout=timeout,
            interface=interface,
            drop_every=drop_every,
            drop_seqs=drop_seqs,
        )
    except FileNotFoundError:
        raise BookFileError(
            os.fspath(path), f"{os.fspath(path)}: no such file", hint="check the path"
        ) from None
    except OverflowError as exc:
        raise ConfigError(f"publish: an option is out of range: {exc}") from None
    except ValueError as exc:
        msg = str(exc)
        if msg.startswith(os.fspath(path)):
            raise BookFileError(
                os.fspath(path), msg, hint="give a DBN file (.dbn or .dbn.zst)"
            ) from None
        raise ConfigError(f"publish: {msg}") from None
    except OSError as exc:
        raise StreamError(f"publish on {dest}:{port}: {exc}") from None
    return Publication(handle)


def subscribe(
    host: str = "127.0.0.1",
    port: int = 45100,
    *,
    transport: Transport = "tcp",
    group: str | None = None,
    timeout: float = 5.0,
    stop_on_gap: bool = False,
    instrument_id: int | None = None,
    recv_buffer: int = 16 << 20,
) -> Subscription:
    """Read a DBN stream into one L3 book per instrument, on a native thread.

    Parameters
    ----------
    host : str, default "127.0.0.1"
        TCP: the publisher's address. UDP: the interface to join the group on.
    port : int, default 45100
        The publisher's TCP port, or the group's UDP port.
    transport : {"tcp", "udp"}, default "tcp"
    group : str, optional
        UDP: the multicast group (default :data:`DEFAULT_GROUP`). The group is joined before
        this returns: start the publisher after it.
    timeout : float, default 5.0
        TCP: connect (retrying while refused) and read timeout. UDP: idle timeout.
    stop_on_gap : bool, default False
        UDP: stop at the first missing datagram instead of carrying on.
    instrument_id : int, optional
        Only this instrument's records are applied.
    recv_buffer : int, default 16 MiB
        UDP receive buffer asked of the kernel.

    Returns
    -------
    Subscription
        ``join()`` gives a :class:`StreamResult`.

    Raises
    ------
    ConfigError
        A bad transport, port or group.
    StreamError
        The socket could not be set up (e.g. the group cannot be joined).
    """
    kind = _check_transport(transport)
    _check_port(port, allow_zero=False)
    dest, interface = (
        (check_group(group or DEFAULT_GROUP), host) if kind == "udp" else (host, "127.0.0.1")
    )
    try:
        handle = native.FeedSubscriber(
            port=port,
            transport=kind,
            host=dest,
            timeout=timeout,
            interface=interface,
            recv_buffer=recv_buffer,
            stop_on_gap=stop_on_gap,
            instrument_id=instrument_id,
        )
    except (OverflowError, ValueError) as exc:
        raise ConfigError(f"subscribe: {exc}") from None
    except OSError as exc:
        raise StreamError(f"subscribe to {dest}:{port}: {exc}") from None
    return Subscription(handle)
