"""``workbench backtest`` and ``workbench strategies``."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
import time
import warnings
import webbrowser
from pathlib import Path
from typing import Any

import click

from workbench.cli.options import (
    bars_options,
    data_dir_option,
    json_option,
    param_option,
    results_dir_option,
    risk_option,
    strategy_option,
)


def _parse_params(items: tuple[str, ...], cls: Any) -> dict[str, Any]:
    """``name=value`` pairs, typed after the strategy's field defaults."""
    from workbench.errors import ConfigError

    fields = {f.name: f for f in dataclasses.fields(cls)}
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(
                f"--param {item!r} must look like name=value", hint="e.g. --param fast_period=20"
            )
        name, raw = (s.strip() for s in item.split("=", 1))
        if name not in fields:
            raise ConfigError(
                f"{cls.name}: unknown parameter {name!r}",
                hint=f"parameters of {cls.name}: "
                + ", ".join(sorted(f for f in fields if f != "time_filter")),
            )
        default = fields[name].default
        try:
            if isinstance(default, bool):
                if raw.lower() not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError
                value: Any = raw.lower() in ("true", "1", "yes")
            elif isinstance(default, int):
                value = int(raw)
            elif isinstance(default, float):
                value = float(raw)
                if not math.isfinite(value):  # "nan", "inf", or beyond 1.8e308
                    raise ConfigError(
                        f"{cls.name}: {name}={raw!r} is not a finite number",
                        hint=f"give a finite {name}, e.g. {name}={default}",
                    )
            else:
                value = json.loads(raw) if raw[:1] in "[{" else raw
        except ValueError:
            raise ConfigError(
                f"{cls.name}: {name}={raw!r} is not a valid {type(default).__name__}"
            ) from None
        out[name] = value
    return out


@click.command()
@data_dir_option
@strategy_option
@param_option("Strategy parameter, repeatable: --param fast_period=20 --param slow_period=50.")
@bars_options
@risk_option
@click.option("--risk-per-trade", type=float, help="Fraction of equity risked per trade [0.02].")
@click.option("--daily-loss-limit", type=float, help="Fraction of the day's equity [0.05].")
@click.option("--max-contracts", type=int, help="Position cap [5].")
@click.option("--initial-capital", type=float, help="USD [5000].")
@click.option("--commission", type=float, help="USD per contract per side [1.25].")
@click.option(
    "--initial-margin",
    type=float,
    help="USD per contract to enter, every mode [the contract's: MCL 770]; 0: no margin model.",
)
@click.option(
    "--maintenance-margin",
    type=float,
    help="USD per contract held; below it a margin call flattens and stops [MCL 700].",
)
@click.option("--slippage-ticks", type=int, help="Ticks per side [1].")
@click.option(
    "--stop-mode",
    type=click.Choice(["none", "fixed_pct", "fixed_usd", "atr", "trailing_atr", "trailing_pct"]),
    help="Protective stop [atr].",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False),
    help="A BacktestConfig JSON file (options above override it).",
)
@json_option("Print the metrics as JSON.")
@click.option(
    "--save-results/--no-save-results",
    default=True,
    show_default=True,
    help="Save the run (summary.json, CSVs, report.html) into a new folder under --results-dir.",
)
@results_dir_option("results/backtests")
@click.option("--show", is_flag=True, help="Open the interactive results viewer.")
@click.option("--pdf", is_flag=True, help="Also print report.pdf (headless Chromium).")
def backtest(
    data_dir: str,
    strategy_name: str,
    params: tuple[str, ...],
    symbol: str,
    schema: str,
    start: str | None,
    end: str | None,
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
    as_json: bool,
    save_results: bool,
    results_dir: str,
    show: bool,
    pdf: bool,
) -> None:
    """Backtest a strategy on the catalog (the sample data by default) and print a summary.

    A run shorter than 20 trade dates gets a warning, and its annualised figures (Sharpe,
    Sortino, Calmar, ...) are marked unreliable; fewer than 10 trades gets a warning too.
    """
    from workbench.backtest import BacktestConfig, run_backtest
    from workbench.data import load_bars
    from workbench.strategies import strategy_class

    t0 = time.perf_counter()
    cls = strategy_class(strategy_name)
    strategy = cls.from_parameters(_parse_params(params, cls))
    config = BacktestConfig.from_file(config_file) if config_file else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bars = load_bars(symbol, schema, start=start, end=end, data_dir=data_dir, dates="trade")
    for w in caught:  # e.g. an unreadable file of other days, left out
        click.secho(f"warning: {w.message}", fg="yellow", err=True)
    options: dict[str, Any] = {}
    if stop_mode:
        options["stop"] = {"mode": stop_mode}
    if initial_margin is not None:
        options["initial_margin"] = initial_margin
    if maintenance_margin is not None:
        options["maintenance_margin"] = maintenance_margin
    result = run_backtest(
        bars,
        strategy,
        config=config,
        use_risk_manager=use_risk,
        risk_per_trade=risk_per_trade,
        daily_loss_limit=daily_loss_limit,
        max_position_contracts=max_contracts,
        initial_capital=initial_capital,
        commission_per_contract=commission,
        slippage_ticks=slippage_ticks,
        **options,
    )
    notes = result.reliability
    run_dir = None
    if save_results:
        run_dir = _report_saver()(result, results_dir, pdf=pdf)
    if as_json:
        # start-up: the results layer loads pandas; `workbench --help` should not
        from workbench.results.summary import backtest_document

        doc = backtest_document(result, run_dir)
        click.echo(json.dumps(doc, indent=2, default=str))
    else:
        click.echo(result.summary())
        for n in notes:
            click.secho(f"  unreliable: {', '.join(n['metrics'])} ({n['why']})", fg="yellow")
        if run_dir is not None:
            click.echo(f"  results: {run_dir}")
        click.echo(f"  ({time.perf_counter() - t0:.2f} s)")
    for n in notes:
        click.secho(f"warning: {n['message']}", fg="yellow", err=True)
    if pdf and run_dir is not None:
        _say_where_the_pdf_went(Path(run_dir), as_json)
    elif pdf:
        click.secho("warning: --pdf needs the saved run (drop --no-save-results)", err=True)
    if show:
        _show(result)


def _say_where_the_pdf_went(run_dir: Path, as_json: bool) -> None:
    """Print report.pdf's path, or why it was not written."""
    pdf = run_dir / "report.pdf"
    if pdf.is_file():
        click.echo(f"  pdf: {pdf}", err=as_json)
    else:
        click.secho(
            f"warning: report.pdf was not written to {run_dir}: no headless Chromium found "
            "(install the chromium package or set WORKBENCH_CHROMIUM to a Chrome binary)",
            fg="yellow",
            err=True,
        )


def _report_saver() -> Any:
    """``workbench.visualization.save_with_report``: the run folder with report.html."""
    from workbench.errors import WorkbenchError

    try:  # imported here, not at the top: Plotly is slow to import (CLI start-up)
        from workbench.visualization.report import save_with_report
    except ImportError as exc:
        raise WorkbenchError(
            f"cannot write report.html: workbench.visualization.report is not importable ({exc})",
            hint="update the workbench installation, or run with --no-save-results",
        ) from exc
    return save_with_report


def browser_available() -> bool:
    """Whether ``webbrowser`` can open a page here: a graphical browser on a desktop.

    False on a headless machine: no controller at all, or on Linux/BSD no ``$DISPLAY`` or
    ``$WAYLAND_DISPLAY`` (``webbrowser`` would start a console browser in the terminal, or
    nothing) unless ``$BROWSER`` names one.
    """
    try:
        webbrowser.get()
    except webbrowser.Error:
        return False
    if sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return any(os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER"))
    return True


def _show(result: Any) -> None:
    """Open the results viewer (``workbench.visualization.viewer``) on the run's report, or,
    without a browser, say so and print the report's file:// URL."""
    from workbench.errors import WorkbenchError

    try:
        from workbench.visualization.viewer import BacktestViewer
    except ImportError as exc:
        raise WorkbenchError(
            f"--show needs workbench.visualization.viewer, which is not importable ({exc})",
            hint="update the workbench installation, or open report.html of the saved run",
        ) from exc
    viewer = BacktestViewer()
    headless = not browser_available()
    if headless:
        viewer.open_browser = False
    opened = viewer.show(result)  # the saved run's report.html (result.extra["run_dir"])
    if opened is None:
        return
    url = Path(opened).resolve().as_uri()
    if headless:
        click.secho(
            "  no web browser available here (headless: no $DISPLAY, or no browser found); "
            "open the report yourself:",
            fg="yellow",
        )
    click.echo(f"  report: {url}")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
def strategies(as_json: bool) -> None:
    """List the strategies, their parameters, defaults and sweep ranges."""
    from workbench.strategies import registered

    rows: list[dict[str, Any]] = []
    for name, cls in sorted(registered().items()):
        params: list[dict[str, Any]] = []
        for f in dataclasses.fields(cls):
            if f.name == "time_filter":
                continue
            rng = cls.param_space.get(f.name)
            span: list[Any] | None = None
            if rng is not None:
                span = list(rng.choices) if rng.choices else [rng.low, rng.high, rng.step]
            params.append({"name": f.name, "default": f.default, "range": span})
        doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        rows.append(
            {
                "name": name,
                "class": cls.__name__,
                "display_name": cls.display_name,
                "description": doc,
                "parameters": params,
            }
        )
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    for r in rows:
        click.secho(f"{r['name']}  ({r['class']}: {r['display_name']})", bold=True)
        if r["description"]:
            click.echo(f"  {r['description']}")
        for p in r["parameters"]:
            sweep = "" if p["range"] is None else f"  sweep {p['range']}"
            click.echo(f"    {p['name']} = {p['default']!r}{sweep}")
        click.echo("    time_filter = None  (e.g. TimeFilter('09:00', '14:30'), New York time)")
