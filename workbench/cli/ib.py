"""``workbench ib-gateway-sim``: the simulated IB Gateway as a command."""

from __future__ import annotations

import signal
import time
from typing import Any

import click

from workbench.cli.options import data_dir_option


@click.command("ib-gateway-sim")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Interface to listen on: loopback, or 0.0.0.0 inside a container network.",
)
@click.option(
    "--port",
    default=4002,
    show_default=True,
    type=int,
    help="API port (IB's paper Gateway uses 4002, paper TWS 7497; 0 picks a free port).",
)
@data_dir_option
@click.option(
    "--speed",
    default=1.0,
    show_default=True,
    type=float,
    help="Replay speed: 1 = one 5-second bar every 5 s, 60 = a minute of market per second, "
    "0 = a frozen market.",
)
@click.option("--start", default=None, help="Replay from this UTC date/time (default: 5 days "
              "before the catalog's end); earlier bars serve reqHistoricalData.")  # fmt: skip
@click.option("--end", default=None, help="Last date of bars to load (default: the catalog's end).")
@click.option(
    "--control-port",
    default=None,
    type=int,
    help="Also accept fault commands on this loopback port, one per line (status, step N, "
    "drop, restart SECONDS, reject, delay MS, notice 1101, help); 0 picks a free port.",
)
@click.option("--account", default="DU1234567", show_default=True, help="Paper account id.")
@click.option(
    "--cash", default=100_000.0, show_default=True, type=float, help="Starting cash, USD."
)
@click.option(
    "--commission",
    default=1.25,
    show_default=True,
    type=float,
    help="USD per contract per side (IBKR fixed rate plus fees; the backtest default).",
)
def ib_gateway_sim(
    host: str,
    port: int,
    data_dir: str,
    speed: float,
    start: str | None,
    end: str | None,
    control_port: int | None,
    account: str,
    cash: float,
    commission: float,
) -> None:
    """Run a simulated IB Gateway on loopback: the TWS API for ib-async, TWS-free rehearsals.

    MCL contract details, orders filled on the catalog's bars replayed as 5-second bars
    (each listed contract on its own bars, so a paper session can roll to the next one),
    commissions, positions, account values, real-time and historical bars. Faults on
    command through --control-port (e.g. `echo 'notice 1101' | nc 127.0.0.1 PORT`).
    Ctrl-C stops it.
    """
    # Lazy: pandas, ib-async and the catalog load only when the command runs (CLI start-up).
    import pandas as pd

    from workbench.adapters.ib.feed import ContractFeeds
    from workbench.adapters.ib.gateway_sim import GatewayConfig, SimulatedGateway
    from workbench.errors import ConfigError

    try:
        config = GatewayConfig(
            host=host,
            port=port,
            account=account,
            cash=cash,
            commission=commission,
            speed=speed,
            control_port=control_port,
        )
    except ValueError as exc:
        raise ConfigError(f"ib-gateway-sim: {exc}") from None
    feed = ContractFeeds.from_catalog(data_dir, end=end)  # each contract its own bars
    if start is not None:
        try:
            stamp = pd.Timestamp(start)
        except ValueError:
            raise ConfigError(f"--start {start!r} is not a date", hint="e.g. 2025-06-02") from None
        stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
        feed.seek(int(stamp.value))
    else:
        feed.seek(int(feed.ts[-1]) - 5 * 86_400 * 1_000_000_000)
    if feed.done:
        raise ConfigError(f"--start {start} is after the last bar in {data_dir}")
    gateway = SimulatedGateway(feed, config)
    try:
        bound = gateway.start()
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}",
            hint="another gateway or TWS may use that port; pick another with --port",
        ) from None
    now = pd.Timestamp(feed.clock_ns(), tz="UTC")
    click.echo(
        f"simulated IB Gateway listening on {host}:{bound} account {account} "
        f"(market at {now:%Y-%m-%d %H:%M:%S} UTC, speed {speed:g}x); Ctrl-C stops",
    )
    if gateway.control_port is not None:
        click.echo(f"control commands on {host}:{gateway.control_port} (type 'help')")
    _wait_for_interrupt()
    gateway.stop()
    click.echo("simulated IB Gateway stopped", err=True)


def _wait_for_interrupt() -> None:
    """Block until Ctrl-C or SIGTERM (docker stop)."""
    stop = {"now": False}

    def handler(signum: int, frame: Any) -> None:
        stop["now"] = True

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    while not stop["now"]:
        time.sleep(0.2)
