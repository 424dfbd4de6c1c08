"""``workbench feed``: publish a DBN file over TCP or UDP multicast, or listen to a stream.

``workbench feed publish FILE --tcp 127.0.0.1:PORT --speed N`` waits for one client and
replays the file to it; ``--udp 239.x.y.z:PORT`` sends to a multicast group on loopback
(start the listener first). ``workbench feed listen --tcp HOST:PORT | --udp GROUP:PORT``
reads one stream into the books and prints its counts (gaps, backpressure) and top of book.
"""

from __future__ import annotations

import json
from typing import Any

import click

from workbench.errors import ConfigError


def _endpoint(tcp: str | None, udp: str | None) -> tuple[str, str, int]:
    """``(transport, host, port)`` from exactly one of ``--tcp`` and ``--udp``."""
    if (tcp is None) == (udp is None):
        raise ConfigError(
            "give exactly one of --tcp HOST:PORT and --udp GROUP:PORT",
            hint="e.g. --tcp 127.0.0.1:45100 or --udp 239.255.0.1:45100",
        )
    transport, value = ("tcp", tcp) if tcp is not None else ("udp", udp)
    assert value is not None
    host, sep, port_text = value.rpartition(":")
    if not sep or not host or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ConfigError(
            f"--{transport} {value!r} is not HOST:PORT (port 0..65535)",
            hint=f"e.g. --{transport} "
            + ("127.0.0.1:45100" if transport == "tcp" else "239.255.0.1:45100"),
        )
    return transport, host, int(port_text)


def _positive(name: str, value: float) -> float:
    if not value > 0:
        raise ConfigError(f"{name} must be a positive number of seconds, got {value}")
    return value


@click.group("feed")
def feed() -> None:
    """Market-data streams: a DBN file over TCP or UDP multicast into the order books."""


@feed.command("publish")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--tcp", "tcp", metavar="HOST:PORT", help="Listen here for one TCP client.")
@click.option("--udp", "udp", metavar="GROUP:PORT", help="Send to this multicast group (lo).")
@click.option(
    "--speed",
    default=0.0,
    show_default=True,
    type=float,
    help="N x real time by ts_event; 0 = as fast as possible.",
)
@click.option("--max-rate", default=0.0, type=float, help="Records per second at most (0: no cap).")
@click.option("--repeat", default=1, show_default=True, type=int, help="Send the file K times.")
@click.option(
    "--drop-every",
    default=0,
    type=int,
    help="UDP test mode: withhold every n-th record datagram (the listener must see gaps).",
)
@click.option(
    "--wait",
    default=60.0,
    show_default=True,
    type=float,
    help="TCP: seconds to wait for the client (and for one blocked write).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
def publish_cmd(
    file: str,
    tcp: str | None,
    udp: str | None,
    speed: float,
    max_rate: float,
    repeat: int,
    drop_every: int,
    wait: float,
    as_json: bool,
) -> None:
    """Replay FILE (DBN, plain or .zst) to one TCP client or to a multicast group."""
    from workbench.book import stream  # heavy import kept out of start-up

    transport, host, port = _endpoint(tcp, udp)
    if repeat < 1:
        raise ConfigError(f"--repeat must be at least 1, got {repeat}")
    if drop_every < 0 or (drop_every and transport == "tcp"):
        raise ConfigError(
            "--drop-every takes a positive count and works with --udp only (TCP cannot drop)"
        )
    _positive("--wait", wait)
    udp_mode = transport == "udp"
    pub = stream.publish(
        file,
        host="127.0.0.1" if udp_mode else host,
        port=port,
        group=host if udp_mode else None,
        transport="udp" if udp_mode else "tcp",
        speed=speed,
        max_rate=max_rate,
        repeat=repeat,
        timeout=wait,
        drop_every=drop_every,
    )
    where = "{}:{}".format(*pub.address)
    if not as_json:
        hint = "waiting for a client on" if transport == "tcp" else "sending to"
        click.echo(f"{hint} {transport}://{where}", err=True)
    try:
        stats = pub.join()
    except KeyboardInterrupt:
        pub.stop()
        stats = pub.join()
    assert stats is not None
    out = {"transport": transport, "address": where, **vars(stats)}
    if as_json:
        click.echo(json.dumps(out))
        return
    secs = stats.elapsed_ns / 1e9
    rate = stats.records / secs if secs else 0.0
    click.echo(
        f"published {stats.records:,} records ({stats.bytes:,} bytes, {stats.sends:,} sends) "
        f"to {transport}://{where} in {secs:.3f} s ({rate / 1e6:.2f} M records/s)"
        + (" [stopped]" if stats.stopped else "")
    )
    if transport == "tcp":
        click.echo(
            f"backpressure: {stats.stalls} stalls, blocked {stats.blocked_ns / 1e6:.1f} ms "
            f"(longest {stats.max_stall_ns / 1e6:.1f} ms), send buffer "
            f"{stats.send_buffer_bytes:,} bytes"
        )
    else:
        click.echo(
            f"withheld by --drop-every: {stats.dropped_by_plan}, send errors: {stats.send_errors}"
        )


@feed.command("listen")
@click.option("--tcp", "tcp", metavar="HOST:PORT", help="Connect to this TCP publisher.")
@click.option("--udp", "udp", metavar="GROUP:PORT", help="Join this multicast group (on lo).")
@click.option(
    "--timeout",
    default=30.0,
    show_default=True,
    type=float,
    help="TCP: connect and read timeout. UDP: idle timeout.",
)
@click.option("--stop-on-gap", is_flag=True, help="UDP: stop at the first missing datagram.")
@click.option("--instrument-id", default=None, type=int, help="Only this instrument.")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
def listen_cmd(
    tcp: str | None,
    udp: str | None,
    timeout: float,
    stop_on_gap: bool,
    instrument_id: int | None,
    as_json: bool,
) -> None:
    """Read one stream into the books; print its counts and each book's top of book.

    Exits 1 when the stream did not arrive whole (gaps, a missing end, a timeout).
    """
    from workbench.book import stream  # heavy import kept out of start-up

    transport, host, port = _endpoint(tcp, udp)
    _positive("--timeout", timeout)
    if port == 0:
        raise ConfigError(f"--{transport} needs the stream's port, not 0")
    udp_mode = transport == "udp"
    sub = stream.subscribe(
        host="127.0.0.1" if udp_mode else host,
        port=port,
        group=host if udp_mode else None,
        transport="udp" if udp_mode else "tcp",
        timeout=timeout,
        stop_on_gap=stop_on_gap,
        instrument_id=instrument_id,
    )
    result = sub.join()
    assert result is not None
    st = result.stats
    tops: dict[str, Any] = {}
    for inst, book in sorted(result.books.items()):
        bid, ask = book.best_bid(), book.best_ask()
        tops[str(inst)] = {
            "orders": len(book),
            "best_bid": None if bid is None else [bid.px, bid.size, bid.orders],
            "best_ask": None if ask is None else [ask.px, ask.size, ask.orders],
        }
    if as_json:
        click.echo(json.dumps({**st.as_dict(), "books": tops}))
    else:
        secs = st.elapsed_ns / 1e9
        click.echo(
            f"received {st.records:,} records ({st.bytes:,} bytes) over {transport} in "
            f"{secs:.3f} s ({st.records_per_second / 1e6:.2f} M records/s), "
            f"complete: {'yes' if st.complete else 'NO'}"
        )
        if transport == "udp":
            shown = ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in st.gaps[:10])
            click.echo(
                f"datagrams: {st.datagrams:,}, gaps: {st.gap_count} "
                f"({st.missing_datagrams} missing{': ' + shown if shown else ''}), "
                f"late: {st.late_datagrams}, malformed: {st.malformed_datagrams}, "
                f"published: {st.records_published}, end seen: {st.end_seen}"
                + (", timed out" if st.timed_out else "")
            )
        click.echo(f"refused by the books: {st.replay.get('refused', 0)}")
        for key, top in tops.items():
            click.echo(
                f"  instrument {key}: {top['orders']:,} orders, bid {top['best_bid']}, "
                f"ask {top['best_ask']}"
            )
    if not st.complete:
        raise SystemExit(1)
