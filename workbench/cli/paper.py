"""``workbench paper``: a paper-trading session (sim broker on a replay by default)."""

from __future__ import annotations

from pathlib import Path

import click

from workbench.cli.backtest import _parse_params
from workbench.cli.options import data_dir_option


@click.command()
@click.option("--broker", type=click.Choice(["sim", "ib"]), default="sim", show_default=True)
@click.option("--strategy", "strategy_name", default="ema_crossover", show_default=True)
@click.option("--param", "params", multiple=True, help="Strategy parameter name=value.")
@click.option("--symbol", default="MCL_FUT", show_default=True)
@click.option("--start", default=None, help="First date of the replay.")
@click.option("--end", default=None, help="Last date of the replay.")
@click.option("--bars", "max_bars", type=int, default=None, help="Stop after N bars.")
@click.option("--speed", type=float, default=0.0, show_default=True, help="Replay x real time.")
@click.option("--state", "state_dir", default=None, help="Journal folder (resumable session).")
@click.option("--port", type=int, default=4002, show_default=True, help="IB Gateway/TWS port.")
@click.option("--live", is_flag=True, help="Allow a live port / non-paper account.")
@click.option("--confirm", "confirm_live", default="", help="Typed confirmation for --live.")
@click.option("--results-dir", default="results/paper", show_default=True)
@click.option("--save-results/--no-save-results", default=True, show_default=True)
@data_dir_option
def paper(
    broker: str,
    strategy_name: str,
    params: tuple[str, ...],
    symbol: str,
    start: str | None,
    end: str | None,
    max_bars: int | None,
    speed: float,
    state_dir: str | None,
    port: int,
    live: bool,
    confirm_live: str,
    results_dir: str,
    save_results: bool,
    data_dir: str,
) -> None:
    """Run a strategy as a paper session and save its record like a backtest's.

    With --state DIR the session journals to DIR; the same command after a crash replays the
    journal, reconciles with the broker and goes on without sending any order twice.
    """
    # Imported here, not at the top: pandas, the native crate and ib-async are slow to
    # import (CLI start-up).
    from workbench.data import load_bars
    from workbench.errors import ConfigError
    from workbench.execution import PaperSession
    from workbench.strategies import strategy_class

    if broker == "ib":
        from workbench.adapters.ib.client import IBClient  # start-up: ib-async is heavy

        client = IBClient(port=port, live=live, confirm_live=confirm_live)
        client.check_port()  # a live port without --live and the confirmation: refused
        raise ConfigError(
            "the ib broker adapter for paper sessions is not built yet",
            hint="use --broker sim (the simulated gateway: workbench ib-gateway-sim)",
        )
    if live:
        raise ConfigError("--live applies to --broker ib only")
    cls = strategy_class(strategy_name)
    strategy = cls.from_parameters(_parse_params(params, cls))
    bars = load_bars(symbol, start=start, end=end, data_dir=data_dir)
    session = PaperSession(bars, strategy, speed=speed, state_dir=state_dir, max_bars=max_bars)
    if session.resumed_from:
        click.echo(f"resuming: {session.resumed_from} bars replayed from the journal", err=True)
    result = session.run()
    status = session.status()
    session.close()
    click.echo(
        f"paper {broker} {strategy.name}: {status['bars']} bars, {status['trades']} trades, "
        f"{status['orders_sent']} orders sent, equity {status['equity']:.2f}"
        + (f", halted: {status['halted_reason']}" if status["halted_reason"] else "")
    )
    if save_results:
        from workbench.cli.backtest import _report_saver  # start-up: plotly is heavy

        run_dir = _report_saver()(result, Path(results_dir))
        click.echo(f"saved {run_dir}")
