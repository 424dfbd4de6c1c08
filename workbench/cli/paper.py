"""``workbench paper``: a paper-trading session (sim broker on a replay by default).

``--broker ib`` trades through TWS / IB Gateway (or ``workbench ib-gateway-sim``) on its
real-time bars. ``--feed databento-live`` runs the sim broker on Databento Live bars (the key
from ``DATABENTO_API_KEY``, never logged), folded into ``--bar-seconds`` bars.
``--broker sim-l3 --book FILE.dbn`` fills against the real order book of a Databento MBO
replay (the native simulated exchange); the strategy's bars are the feed's trades aggregated
to ``--bar-size``. ``--broker fix --book FILE --fix-port 9878`` routes the orders over FIX
4.4 to ``workbench fix-exchange --feed FILE --speed driven`` (or, with ``--fix-clock free``,
any FIX 4.4 acceptor), on the same bars as sim-l3.

Alerts: when ``WORKBENCH_SLACK_WEBHOOK_URL`` or ``WORKBENCH_SMTP_*`` are set, an
:class:`~workbench.alerts.AlertManager` listens to the session's events (fills, closed trades,
drawdown, risk refusals, rejects, errors); it delivers on its own thread, so the trading loop
never waits for Slack or SMTP.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from workbench.cli.backtest import _parse_params
from workbench.cli.options import capital_risk_options, data_dir_option, risk_option

if TYPE_CHECKING:
    from workbench.adapters.databento.paper_feed import DatabentoPaperFeed


@click.command()
@click.option(
    "--broker",
    type=click.Choice(["sim", "ib", "sim-l3", "fix"]),
    default="sim",
    show_default=True,
)
@click.option(
    "--book", "book_path", default=None, help="sim-l3, fix: the MBO file (.dbn, .dbn.zst)."
)
@click.option("--bar-size", default="1min", show_default=True, help="sim-l3, fix: bar length.")
@click.option("--fix-host", default="127.0.0.1", show_default=True, help="fix: acceptor host.")
@click.option("--fix-port", type=int, default=9878, show_default=True, help="fix: acceptor port.")
@click.option("--sender-comp-id", default="CLIENT", show_default=True, help="fix: our CompID.")
@click.option(
    "--target-comp-id", default="EXCH", show_default=True, help="fix: the acceptor's CompID."
)
@click.option(
    "--fix-symbol", default=None, help="fix: Symbol (55) of orders (default: the file's id)."
)
@click.option(
    "--fix-clock",
    type=click.Choice(["driven", "free"]),
    default="driven",
    show_default=True,
    help="fix: the session moves the exchange's feed clock bar by bar (fix-exchange --speed "
    "driven), or the acceptor replays by itself.",
)
@click.option(
    "--fix-store",
    default=None,
    help="fix: folder of the FIX message store (kept: a restart resumes the sequence). "
    "Default: --state DIR/fix-store, else a temporary folder.",
)
@click.option(
    "--fix-log",
    default=None,
    type=click.Path(file_okay=False),
    help="fix: folder of the FIX message and event log (QuickFIX FileLog names: "
    "FIX.4.4-CLIENT-EXCH.messages.current.log, .event.current.log). Default: no log.",
)
@click.option(
    "--fix-busy-poll-us",
    default=None,
    type=click.IntRange(min=0),
    help="fix: after each message, poll the socket this many microseconds before parking "
    "(lower latency, a core busy). Default: park at once.",
)
@click.option(
    "--feed",
    type=click.Choice(["replay", "databento-live"]),
    default="replay",
    show_default=True,
    help="Bars for the sim broker: the catalog replayed, or Databento Live (DATABENTO_API_KEY).",
)
@click.option(
    "--bar-seconds", type=int, default=60, show_default=True, help="Live bar size, seconds."
)
@click.option(
    "--live-schema",
    type=click.Choice(["ohlcv-1m", "trades"]),
    default="ohlcv-1m",
    show_default=True,
    help="Databento Live records the bars are built from.",
)
@click.option(
    "--live-gateway", default=None, help="Databento Live gateway HOST[:PORT] (default Databento's)."
)
@click.option("--strategy", "strategy_name", default="ema_crossover", show_default=True)
@click.option("--param", "params", multiple=True, help="Strategy parameter name=value.")
@click.option("--symbol", default="MCL_FUT", show_default=True)
@click.option(
    "--start", default=None, help="First date of the replay (databento-live: replay from, UTC)."
)
@click.option("--end", default=None, help="Last date of the replay.")
@click.option(
    "--bars",
    "max_bars",
    type=click.IntRange(min=1),
    default=None,
    help="Stop after N bars (N >= 1). Default: every bar of the replay; ib and "
    "databento-live: until Ctrl-C.",
)
@click.option("--speed", type=float, default=0.0, show_default=True, help="Replay x real time.")
@click.option("--state", "state_dir", default=None, help="Journal folder (resumable session).")
@click.option("--host", default="127.0.0.1", show_default=True, help="IB Gateway/TWS host.")
@click.option("--port", type=int, default=4002, show_default=True, help="IB Gateway/TWS port.")
@click.option("--client-id", type=int, default=1, show_default=True, help="IB API client id.")
@click.option(
    "--expiry", default=None, help="Live contract (MCLZ5; IB also 202512); default front month."
)
@click.option(
    "--roll-days",
    type=int,
    default=5,
    show_default=True,
    help="IB: roll to the next contract this many CME business days before the last trade "
    "date (as load_bars(roll='calendar', roll_days=N)); -1: never roll.",
)
@click.option(
    "--warm-up", "warm_up", type=int, default=500, show_default=True, help="IB history bars."
)
@click.option("--live", is_flag=True, help="Allow a live port / non-paper account.")
@click.option("--confirm", "confirm_live", default="", help="Typed confirmation for --live.")
@risk_option
@capital_risk_options(
    "USD. Default: sim brokers 5000 (the backtest's); --broker ib the account's "
    "NetLiquidation when the session starts (a resumed session keeps its journal's)."
)
@click.option("--results-dir", default="results/paper", show_default=True)
@click.option("--save-results/--no-save-results", default=True, show_default=True)
@data_dir_option
def paper(
    broker: str,
    book_path: str | None,
    bar_size: str,
    fix_host: str,
    fix_port: int,
    sender_comp_id: str,
    target_comp_id: str,
    fix_symbol: str | None,
    fix_clock: str,
    fix_store: str | None,
    fix_log: str | None,
    fix_busy_poll_us: int | None,
    feed: str,
    bar_seconds: int,
    live_schema: str,
    live_gateway: str | None,
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
    roll_days: int,
    warm_up: int,
    live: bool,
    confirm_live: str,
    use_risk: bool,
    risk_per_trade: float | None,
    daily_loss_limit: float | None,
    max_contracts: int | None,
    initial_capital: float | None,
    commission: float | None,
    initial_margin: float | None,
    maintenance_margin: float | None,
    slippage_ticks: int | None,
    stop_mode: str | None,
    config_file: str | None,
    results_dir: str,
    save_results: bool,
    data_dir: str,
) -> None:
    """Run a strategy as a paper session and save its record like a backtest's.

    With --state DIR the session journals to DIR; the same command after a crash replays the
    journal, reconciles with the broker and goes on without sending any order twice. A
    journal is resumed only by the same session (strategy, parameters, broker, symbol, bar
    size, capital and risk options); anything else is refused before an order is sent.

    Capital, costs and risk options are the backtest's. The capital of a --broker ib session
    is the account's NetLiquidation at its start unless --initial-capital is given; of a sim
    session --initial-capital (default 5000). The output says which.
    """
    # Imported here, not at the top: pandas, the native crate and ib-async are slow to
    # import (CLI start-up).
    import pandas as pd

    from workbench.alerts import AlertConfig, AlertManager
    from workbench.backtest import BacktestConfig
    from workbench.backtest.engine import build_config
    from workbench.data import load_bars
    from workbench.errors import ConfigError
    from workbench.execution import PaperSession
    from workbench.strategies import strategy_class

    cls = strategy_class(strategy_name)
    strategy = cls.from_parameters(_parse_params(params, cls))
    options: dict[str, Any] = {}
    if stop_mode:
        options["stop"] = {"mode": stop_mode}
    config = build_config(
        BacktestConfig.from_file(config_file) if config_file else None,
        use_risk_manager=use_risk,
        risk_per_trade=risk_per_trade,
        daily_loss_limit=daily_loss_limit,
        max_position_contracts=max_contracts,
        initial_capital=initial_capital,
        commission_per_contract=commission,
        slippage_ticks=slippage_ticks,
        initial_margin=initial_margin,
        maintenance_margin=maintenance_margin,
        **options,
    )
    if feed != "replay" and broker != "sim":
        raise ConfigError(
            f"--feed {feed} runs on --broker sim",
            hint="an ib session trades on IB's own real-time bars (drop --feed)",
        )
    if feed == "databento-live":
        if live:
            raise ConfigError("--live applies to --broker ib only")
        if state_dir is not None:
            raise ConfigError(
                "--state (resume) is for replay and ib sessions",
                hint="a databento-live session on the sim broker starts afresh",
            )
        live_feed = _databento_feed(expiry, symbol, bar_seconds, live_schema, start, live_gateway)
        click.echo(f"feed: {live_feed!r}", err=True)
        session = PaperSession(
            None,
            strategy,
            config,
            feed=live_feed,
            max_bars=max_bars,
            interval=pd.Timedelta(seconds=bar_seconds),
        )
    elif broker == "ib":
        from workbench.adapters.ib.broker import IBBroker  # start-up: ib-async is heavy
        from workbench.adapters.ib.client import IBClient  # start-up: ib-async is heavy

        client = IBClient(
            host, port, client_id, live=live, confirm_live=confirm_live, auto_reconnect=True
        )
        client.check_port()  # a live port without --live and the confirmation: refused
        if roll_days < -1:
            raise ConfigError(f"--roll-days {roll_days}: use N >= 0, or -1 to never roll")
        ib = IBBroker(
            client,
            expiry=expiry,
            warm_up_bars=warm_up,
            bar_seconds=bar_seconds,
            roll_days=None if roll_days == -1 else roll_days,
        )
        # orderRefs unique in the account across sessions (a resumed one keeps its journal's)
        session = PaperSession(
            None,
            strategy,
            config,
            broker=ib,
            feed=ib,
            capital_from_broker=initial_capital is None,
            max_bars=max_bars,
            state_dir=state_dir,
            session_id=time.strftime("wb%y%m%d%H%M%S", time.gmtime()),
            interval=pd.Timedelta(seconds=bar_seconds),
        )
    elif broker == "sim-l3":
        if live:
            raise ConfigError("--live does not apply to --broker sim-l3")
        if book_path is None:
            raise ConfigError(
                "--broker sim-l3 needs --book FILE",
                hint="a Databento MBO file, e.g. --book data/CLX5_mbo.dbn",
            )
        from workbench.execution.brokers.sim_l3 import l3_session  # start-up: native book

        session = l3_session(
            book_path,
            strategy,
            config,
            bar_size=bar_size,
            symbol=symbol,
            max_bars=max_bars,
            state_dir=state_dir,
            speed=speed,
        )
    elif broker == "fix":
        if live:
            raise ConfigError("--live does not apply to --broker fix")
        if book_path is None:
            raise ConfigError(
                "--broker fix needs --book FILE (the bars; the file fix-exchange replays)",
                hint="e.g. --book data/CLX5_mbo.dbn, with workbench fix-exchange --feed "
                "data/CLX5_mbo.dbn --speed driven running",
            )
        if not 0 < fix_port < 65536:
            raise ConfigError(f"--fix-port {fix_port} is not a TCP port", hint="1-65535")
        from workbench.execution.brokers.fix import fix_session  # start-up: native crate

        session = fix_session(
            book_path,
            strategy,
            port=fix_port,
            host=fix_host,
            sender_comp_id=sender_comp_id,
            target_comp_id=target_comp_id,
            fix_symbol=fix_symbol,
            clock="free" if fix_clock == "free" else "driven",
            store_dir=fix_store,
            bar_size=bar_size,
            symbol=symbol,
            max_bars=max_bars,
            speed=speed,
            state_dir=state_dir,
            log_dir=fix_log,
            busy_poll_us=fix_busy_poll_us,
        )
    else:
        if live:
            raise ConfigError("--live applies to --broker ib only")
        if book_path is not None:
            raise ConfigError("--book applies to --broker sim-l3 and fix only")
        bars = load_bars(symbol, start=start, end=end, data_dir=data_dir)
        session = PaperSession(
            bars, strategy, config, speed=speed, state_dir=state_dir, max_bars=max_bars
        )
    if initial_capital is not None:
        session.capital_source = "--initial-capital"
    elif session.capital_source == "the config":
        session.capital_source = "the default (--initial-capital sets it)"
    alerts_cfg = AlertConfig.from_env()
    alerts = None
    if alerts_cfg.slack() is not None or alerts_cfg.email() is not None:
        alerts = AlertManager(alerts_cfg)
        session.listeners.append(alerts.on_event)
        click.echo(f"alerts: {alerts!r}", err=True)
    if session.resumed_from:
        click.echo(f"resuming: {session.resumed_from} bars replayed from the journal", err=True)
    if broker == "fix" and state_dir is not None:
        try:
            session.broker.connect()  # a resumed session rebuilds from its log here
        except (ConnectionError, OSError) as exc:
            raise ConfigError(
                f"the fix session could not log on: {exc}",
                hint="is the FIX exchange running (workbench fix-exchange --feed FILE "
                "--speed driven)?",
            ) from None
        tail = getattr(session.broker, "resumed", None)
        if tail is not None:
            click.echo(
                f"fix: the same FIX session goes on; {len(tail.tail)} logged requests and "
                "reports of the uncommitted bars to replay",
                err=True,
            )
    try:
        result = session.run()
    except (ConnectionError, OSError) as exc:
        raise ConfigError(
            f"the {broker} session could not go on: {exc}",
            hint="is the FIX exchange running (workbench fix-exchange --feed FILE --speed driven)?"
            if broker == "fix"
            else "is the gateway running (workbench ib-gateway-sim --port 4002)?",
        ) from None
    finally:
        if alerts is not None:
            alerts.close(timeout=10.0)
    resumed = getattr(session.broker, "resumed", None)  # the fix broker's replayed log tail
    if resumed is not None:
        click.echo(
            f"fix: {resumed.replayed} logged requests and reports replayed, "
            f"{getattr(session.broker, 'resent', 0)} requests sent again (they had not "
            "reached the exchange)",
            err=True,
        )
    status = session.status()
    session.close()
    sent = f"{status['orders_sent']} orders sent"
    if session.resumed_from:
        sent += f" ({status['orders_sent_now']} since resume)"
    click.echo(
        f"paper {broker} {strategy.name}: {status['bars']} bars, {status['trades']} trades, "
        f"{sent}, equity {status['equity']:.2f}"
        + (f", halted: {status['halted_reason']}" if status["halted_reason"] else "")
    )
    click.echo(f"capital {session.cfg.initial_capital:,.2f} USD: {session.capital_source}")
    if save_results:
        from workbench.cli.backtest import _report_saver  # start-up: plotly is heavy

        run_dir = _report_saver()(result, Path(results_dir))
        click.echo(f"saved {run_dir}")


def _databento_feed(
    expiry: str | None,
    product: str,
    bar_seconds: int,
    schema: str,
    start: str | None,
    gateway: str | None,
) -> DatabentoPaperFeed:
    """The Databento Live feed of ``workbench paper --feed databento-live``."""
    import pandas as pd  # start-up: pandas is slow to import

    from workbench.adapters.databento.paper_feed import (  # start-up: databento is heavy
        DatabentoPaperFeed,
        front_contract,
    )
    from workbench.data.downloader import KEY_ENV, find_api_key
    from workbench.errors import ConfigError, WorkbenchError

    try:
        key = find_api_key()
    except WorkbenchError as exc:
        raise ConfigError(
            f"--feed databento-live needs a Databento API key: {exc.message}",
            hint=f"set {KEY_ENV} in the environment (a key with live access to GLBX.MDP3); "
            "without one, --feed replay runs on the catalog",
        ) from None
    try:
        symbol = expiry or front_contract(product)
    except KeyError:
        raise ConfigError(
            f"no contract specification for --symbol {product}",
            hint="use --symbol MCL_FUT or name the contract with --expiry MCLZ5",
        ) from None
    start_ns = None
    if start is not None:
        try:
            stamp = pd.Timestamp(start)
        except ValueError:
            raise ConfigError(
                f"--start {start!r} is not a time", hint="e.g. 2025-11-03T14:00 (UTC)"
            ) from None
        start_ns = (stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp).value
    host, port = gateway, None
    if gateway is not None and ":" in gateway:
        host, _, text = gateway.rpartition(":")
        if not text.isdigit():
            raise ConfigError(f"--live-gateway {gateway!r}: the port is not a number")
        port = int(text)
    try:
        return DatabentoPaperFeed(
            symbol,
            bar_seconds=bar_seconds,
            schema=schema,
            start=start_ns,
            key=key,
            gateway=host,
            port=port,
        )
    except ConfigError:
        raise
    except ValueError as exc:
        raise ConfigError(f"--feed databento-live: {exc}") from None
