"""``workbench fix-exchange``: the simulated exchange behind a FIX 4.4 acceptor."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any, Literal

import click

from workbench.errors import ConfigError


@click.command("fix-exchange")
@click.option(
    "--feed",
    default=None,
    type=click.Path(dir_okay=False),
    help="Databento MBO file to replay (.dbn or .dbn.zst). The catalog holds bars only, so "
    "the order book comes from an MBO file (e.g. from `workbench data download --schema mbo`).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--port", default=9878, show_default=True, type=int, help="TCP port (0 picks a free one)."
)
@click.option("--sender-comp-id", default="EXCH", show_default=True, help="Our CompID (49).")
@click.option(
    "--target-comp-id", default="CLIENT", show_default=True, help="The client's CompID (56)."
)
@click.option(
    "--heartbeat",
    default=30,
    show_default=True,
    type=int,
    help="HeartBtInt (s) expected; the client's Logon sets the one used.",
)
@click.option(
    "--store",
    "store_dir",
    default=None,
    type=click.Path(file_okay=False),
    help="Folder of the file message store (QuickFIX layout: a restart resumes the "
    "sequence). Default: memory.",
)
@click.option(
    "--log",
    "log_dir",
    default=None,
    type=click.Path(file_okay=False),
    help="Folder of the FIX message and event log (QuickFIX FileLog names: "
    "FIX.4.4-EXCH-CLIENT.messages.current.log, one line per message in and out, and "
    ".event.current.log). Default: no log.",
)
@click.option(
    "--dictionary",
    "dictionary_path",
    default=None,
    type=click.Path(dir_okay=False),
    help="QuickFIX XML data dictionary to validate received messages against (default: the "
    "built-in FIX 4.4 one, which --write-dictionary writes out).",
)
@click.option(
    "--busy-poll-us",
    default=None,
    type=click.IntRange(min=0),
    help="After each message, poll the socket this many microseconds before parking "
    "(lower latency, a core busy). Default: park at once.",
)
@click.option(
    "--write-dictionary",
    "write_dictionary",
    default=None,
    type=click.Path(dir_okay=False),
    help="Write the built-in FIX 4.4 data dictionary (QuickFIX XML) to this file and exit.",
)
@click.option(
    "--reset-on-logon", is_flag=True, help="Reset sequence numbers to 1 at each connection."
)
@click.option(
    "--no-validate",
    is_flag=True,
    help="Do not validate received messages against the FIX 4.4 data dictionary.",
)
@click.option(
    "--speed",
    default="1",
    show_default=True,
    help="Replay speed: a multiple of the records' own timestamps (1 = as recorded), "
    "'max' (as fast as possible), or 'driven' (in lock-step with the client: "
    "`workbench paper --broker fix` moves the feed clock bar by bar).",
)
@click.option(
    "--hold-at",
    default=None,
    help="Replay up to this time (ISO 8601 UTC or ns since the epoch), then hold the book "
    "still (overrides --speed).",
)
@click.option("--symbol", default=None, help="Symbol (55) of orders (default: the file's).")
@click.option(
    "--instrument-id",
    default=None,
    type=int,
    help="Instrument to trade (default: the file's most frequent).",
)
@click.option("--tick", default=None, help="Price increment checked on orders, e.g. 0.01.")
@click.option(
    "--fee",
    default=0.0,
    show_default=True,
    type=float,
    help="Fee per contract in dollars, makers and takers (MiscFees on fills).",
)
@click.option(
    "--timestamp-precision",
    type=click.Choice(["s", "ms", "us", "ns"]),
    default="ms",
    show_default=True,
    help="Sub-second digits of SendingTime and TransactTime.",
)
def fix_exchange(
    feed: str | None,
    host: str,
    port: int,
    sender_comp_id: str,
    target_comp_id: str,
    heartbeat: int,
    store_dir: str | None,
    log_dir: str | None,
    dictionary_path: str | None,
    busy_poll_us: int | None,
    write_dictionary: str | None,
    reset_on_logon: bool,
    no_validate: bool,
    speed: str,
    hold_at: str | None,
    symbol: str | None,
    instrument_id: int | None,
    tick: str | None,
    fee: float,
    timestamp_precision: Literal["s", "ms", "us", "ns"],
) -> None:
    """Run the simulated exchange behind a FIX 4.4 acceptor.

    NewOrderSingle, OrderCancelRequest and OrderCancelReplaceRequest are matched against the
    real L3 book of the replayed MBO file and answered with ExecutionReports (new, partial
    fill, fill, canceled, replaced, rejected), OrderCancelReject or BusinessMessageReject.
    Ctrl-C logs the client out and stops.
    """
    # Lazy: the compiled engine loads only when the command runs (CLI start-up).
    from workbench.adapters.fix import (
        FixExchangeConfig,
        parse_feed_time,
        start_fix_exchange,
        write_dictionary_file,
    )

    if write_dictionary is not None:
        path = write_dictionary_file(Path(write_dictionary))
        click.echo(f"wrote the built-in FIX 4.4 data dictionary to {path}")
        return
    if feed is None:
        raise ConfigError(
            "--feed is required", hint="give the MBO file to replay: --feed FILE.dbn.zst"
        )

    pace: float | Literal["max", "driven"]
    if speed in ("max", "driven"):
        pace = "max" if speed == "max" else "driven"
    else:
        try:
            pace = float(speed)
        except ValueError:
            raise ConfigError(
                f"--speed {speed!r} is not a number",
                hint="e.g. --speed 10, --speed max or --speed driven",
            ) from None
    config = FixExchangeConfig(
        feed=Path(feed),
        host=host,
        port=port,
        sender_comp_id=sender_comp_id,
        target_comp_id=target_comp_id,
        heartbeat=heartbeat,
        store_dir=None if store_dir is None else Path(store_dir),
        reset_on_logon=reset_on_logon,
        validate=not no_validate,
        speed=pace,
        hold_at_ns=None if hold_at is None else parse_feed_time(hold_at),
        symbol=symbol,
        instrument_id=instrument_id,
        tick=tick,
        fee=fee,
        timestamp_precision=timestamp_precision,
        log_dir=None if log_dir is None else Path(log_dir),
        dictionary_path=None if dictionary_path is None else Path(dictionary_path),
        busy_poll_us=busy_poll_us,
    )
    exchange = start_fix_exchange(config)
    stats = exchange.stats
    replay = f"held at {hold_at}" if hold_at is not None else f"replay speed {speed}x"
    if hold_at is None and speed == "driven":
        replay = "replay driven by the client"
    click.echo(
        f"FIX exchange listening on {exchange.host}:{exchange.port} "
        f"(SenderCompID={sender_comp_id}, TargetCompID={target_comp_id}, FIX.4.4); "
        f"symbol {exchange.symbol} (instrument {exchange.instrument_id}), "
        f"{stats['records_total']} records from {feed}, {replay}; Ctrl-C stops",
    )
    _wait_for_interrupt(exchange)
    exchange.stop()
    final = exchange.stats
    click.echo(
        f"FIX exchange stopped: {final['orders']} orders, {final['fills']} fills, "
        f"{final['execution_reports']} execution reports",
        err=True,
    )


def _wait_for_interrupt(exchange: Any) -> None:
    """Block until Ctrl-C or SIGTERM, or until the exchange stops by itself."""
    stop = {"now": False}

    def handler(signum: int, frame: Any) -> None:
        stop["now"] = True

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    while not stop["now"] and exchange.running:
        time.sleep(0.2)
