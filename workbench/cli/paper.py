"""``workbench paper``: a paper-trading session (sim broker on a replay by default).

``--broker ib`` trades through TWS / IB Gateway (or ``workbench ib-gateway-sim``) on its
real-time bars. ``--broker sim-l3 --book FILE.dbn`` fills against the real order book of a
Databento MBO replay (the native simulated exchange); the strategy's bars are the feed's
trades aggregated to ``--bar-size``.

Alerts: when ``WORKBENCH_SLACK_WEBHOOK_URL`` or ``WORKBENCH_SMTP_*`` are set, an
:class:`~workbench.alerts.AlertManager` listens to the session's events (fills, closed
trades, drawdown, risk refusals, rejects, errors); it delivers on its own thread, so the
trading loop never waits for Slack or SMTP.
"""

from __future__ import annotations

from pathlib import Path

import click

from workbench.cli.backtest import _parse_params
from workbench.cli.options import data_dir_option


@click.command()
@click.option(
    "--broker", type=click.Choice(["sim", "ib", "sim-l3"]), default="sim", show_default=True
)
@click.option("--book", "book_path", default=None, help="sim-l3: the MBO file (.dbn, .dbn.zst).")
@click.option("--bar-size", default="1min", show_default=True, help="sim-l3: bar length.")
@click.option("--strategy", "strategy_name", default="ema_crossover", show_default=True)
@click.option("--param", "params", multiple=True, help="Strategy parameter name=value.")
@click.option("--symbol", default="MCL_FUT", show_default=True)
@click.option("--start", default=None, help="First date of the replay.")
@click.option("--end", default=None, help="Last date of the replay.")
@click.option("--bars", "max_bars", type=int, default=None, help="Stop after N bars.")
@click.option("--speed", type=float, default=0.0, show_default=True, help="Replay x real time.")
@click.option("--state", "state_dir", default=None, help="Journal folder (resumable session).")
@click.option("--host", default="127.0.0.1", show_default=True, help="IB Gateway/TWS host.")
@click.option("--port", type=int, default=4002, show_default=True, help="IB Gateway/TWS port.")
@click.option("--client-id", type=int, default=1, show_default=True, help="IB API client id.")
@click.option("--expiry", default=None, help="IB contract (MCLZ5, 202512); default front month.")
@click.option(
    "--warm-up", "warm_up", type=int, default=500, show_default=True, help="IB history bars."
)
@click.option("--live", is_flag=True, help="Allow a live port / non-paper account.")
@click.option("--confirm", "confirm_live", default="", help="Typed confirmation for --live.")
@click.option("--results-dir", default="results/paper", show_default=True)
@click.option("--save-results/--no-save-results", default=True, show_default=True)
@data_dir_option
def paper(
    broker: str,
    book_path: str | None,
    bar_size: str,
    strategy_name: str,
    params: tuple[str, ...],
    symbol: str,
    start: str | None,
    end: str | None,
    max_bars: int | None,
    speed: float,
    state_dir: str | None,
    host: str,
    port: int,
    client_id: int,
    expiry: str | None,
    warm_up: int,
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
    from workbench.alerts import AlertConfig, AlertManager
    from workbench.data import load_bars
    from workbench.errors import ConfigError
    from workbench.execution import PaperSession
    from workbench.strategies import strategy_class

    cls = strategy_class(strategy_name)
    strategy = cls.from_parameters(_parse_params(params, cls))
    if broker == "ib":
        from workbench.adapters.ib.broker import IBBroker  # start-up: ib-async is heavy
        from workbench.adapters.ib.client import IBClient  # start-up: ib-async is heavy

        client = IBClient(
            host, port, client_id, live=live, confirm_live=confirm_live, auto_reconnect=True
        )
        client.check_port()  # a live port without --live and the confirmation: refused
        if state_dir is not None:
            raise ConfigError(
                "--state (resume from the journal) is for --broker sim only",
                hint="an ib session reconciles with the account at start instead",
            )
        ib = IBBroker(client, expiry=expiry, warm_up_bars=warm_up)
        session = PaperSession(None, strategy, broker=ib, feed=ib, max_bars=max_bars)
    elif broker == "sim-l3":
        if live or state_dir is not None:
            raise ConfigError("--live and --state do not apply to --broker sim-l3")
        if book_path is None:
            raise ConfigError(
                "--broker sim-l3 needs --book FILE",
                hint="a Databento MBO file, e.g. --book data/CLX5_mbo.dbn",
            )
        from workbench.execution.brokers.sim_l3 import l3_session  # start-up: native book

        session = l3_session(
            book_path, strategy, bar_size=bar_size, symbol=symbol, max_bars=max_bars
        )
    else:
        if live:
            raise ConfigError("--live applies to --broker ib only")
        if book_path is not None:
            raise ConfigError("--book applies to --broker sim-l3 only")
        bars = load_bars(symbol, start=start, end=end, data_dir=data_dir)
        session = PaperSession(bars, strategy, speed=speed, state_dir=state_dir, max_bars=max_bars)
    alerts_cfg = AlertConfig.from_env()
    alerts = None
    if alerts_cfg.slack() is not None or alerts_cfg.email() is not None:
        alerts = AlertManager(alerts_cfg)
        session.listeners.append(alerts.on_event)
        click.echo(f"alerts: {alerts!r}", err=True)
    if session.resumed_from:
        click.echo(f"resuming: {session.resumed_from} bars replayed from the journal", err=True)
    try:
        result = session.run()
    except (ConnectionError, OSError) as exc:
        raise ConfigError(
            f"the {broker} session could not go on: {exc}",
            hint="is the gateway running (workbench ib-gateway-sim --port 4002)?",
        ) from None
    finally:
        if alerts is not None:
            alerts.close(timeout=10.0)
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
