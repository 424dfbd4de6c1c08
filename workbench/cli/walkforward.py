"""``workbench walkforward``: optimise in sample, trade the choice out of sample, window by
window (:func:`workbench.optimize.walk_forward`)."""

from __future__ import annotations

import contextlib
import json
import time
from typing import Any

import click

from workbench.cli.backtest import _parse_params
from workbench.cli.options import data_dir_option
from workbench.cli.sweep import _parse_grid


@click.command()
@data_dir_option
@click.option("--strategy", "strategy_name", default="ema_crossover", show_default=True)
@click.option(
    "--grid",
    "grid_items",
    multiple=True,
    metavar="NAME=SPEC",
    help="A parameter searched in sample, repeatable: values (fast_period=10,20,30) or a "
    "range (slow_period=50:200:50). Default: the strategy's declared ranges.",
)
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="Held fixed.")
@click.option("--symbol", default="MCL_FUT", show_default=True)
@click.option("--schema", default="ohlcv-1m", show_default=True)
@click.option("--start", help="First UTC day (YYYY-MM-DD).")
@click.option("--end", help="Last UTC day, inclusive (YYYY-MM-DD).")
@click.option("--risk/--no-risk", "use_risk", default=True, show_default=True)
@click.option("--objective", default="sharpe_ratio", show_default=True)
@click.option(
    "--in-sample",
    "in_sample",
    type=click.IntRange(min=1),
    required=True,
    help="Bars per in-sample part (the first one with --anchored).",
)
@click.option(
    "--out-of-sample",
    "out_of_sample",
    type=click.IntRange(min=1),
    required=True,
    help="Bars per out-of-sample part.",
)
@click.option(
    "--step", type=click.IntRange(min=1), help="Bars between windows [default: --out-of-sample]."
)
@click.option(
    "--gap",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Purge/embargo bars between each in-sample end and its out-of-sample start.",
)
@click.option("--anchored", is_flag=True, help="Every in-sample part starts at the first bar.")
@click.option(
    "--search",
    "method",
    type=click.Choice(["grid", "random", "lhs", "optuna"]),
    default="grid",
    show_default=True,
    help="How each in-sample part is searched (random/lhs/optuna need --trials).",
)
@click.option("--trials", type=click.IntRange(min=1), help="Trials per in-sample search.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--progress/--no-progress", default=True, show_default=True, help="On stderr.")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Dask worker processes for the in-sample sweeps; 1 runs in this process.",
)
@click.option("--save/--no-save", default=True, show_default=True)
@click.option(
    "--results-dir",
    default="results/walkforward",
    show_default=True,
    type=click.Path(file_okay=False),
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def walkforward(
    data_dir: str,
    strategy_name: str,
    grid_items: tuple[str, ...],
    params: tuple[str, ...],
    symbol: str,
    schema: str,
    start: str | None,
    end: str | None,
    use_risk: bool,
    objective: str,
    in_sample: int,
    out_of_sample: int,
    step: int | None,
    gap: int,
    anchored: bool,
    method: str,
    trials: int | None,
    seed: int,
    progress: bool,
    workers: int,
    save: bool,
    results_dir: str,
    as_json: bool,
) -> None:
    """Walk-forward: per window, sweep in sample and trade the best parameters out of sample.

    Positions are flattened at every window edge; the out-of-sample windows, stitched, get
    the normal backtest report (stitched_oos/report.html in the folder).
    """
    # start-up: pandas, the data layer and the backtest engine load only when the command runs
    from workbench.data import load_bars
    from workbench.errors import ConfigError
    from workbench.optimize import ParameterGrid, search, walk_forward, walk_forward_windows
    from workbench.optimize.sweep import SweepResult, check_objective
    from workbench.strategies import strategy_class

    t0 = time.perf_counter()
    check_objective(objective)
    if method != "grid" and trials is None:
        raise ConfigError(f"--search {method} needs --trials N", hint="e.g. --trials 30")
    cls = strategy_class(strategy_name)
    ranges: dict[str, Any] = dict(cls.param_space) if not grid_items else {}
    ranges.update(_parse_grid(grid_items, cls))
    ranges.update({k: [v] for k, v in _parse_params(params, cls).items()})
    grid = ParameterGrid(cls, ranges)
    bars = load_bars(symbol, schema, start=start, end=end, data_dir=data_dir)
    windows = walk_forward_windows(
        len(bars), in_sample, out_of_sample, step=step, gap=gap, anchored=anchored
    )
    click.echo(
        f"{cls.display_name or cls.name}: {len(windows)} windows x "
        + (f"{len(grid.valid())} combinations" if method == "grid" else f"{trials} {method} trials")
        + f" on {len(bars):,} bars {bars.index[0]} to {bars.index[-1]}",
        err=True,
    )
    with contextlib.ExitStack() as stack:
        client = None
        if workers > 1:
            # start-up: dask.distributed only when asked for workers
            from dask.distributed import Client, LocalCluster

            cluster = stack.enter_context(
                LocalCluster(n_workers=workers, threads_per_worker=1, processes=True)
            )
            client = stack.enter_context(Client(cluster))

        def optimise(b: Any, g: ParameterGrid, obj: str) -> SweepResult:
            extra: dict[str, Any] = {"client": client} if method != "optuna" else {}
            return search(
                b,
                g,
                method=method,
                trials=trials,
                seed=seed,
                objective=obj,
                use_risk_manager=use_risk,
                **extra,
            )

        result = walk_forward(
            bars,
            grid,
            in_sample=in_sample,
            out_of_sample=out_of_sample,
            step=step,
            gap=gap,
            anchored=anchored,
            objective=objective,
            optimise=optimise,
            progress=progress,
            use_risk_manager=use_risk,
        )
    folder = result.save(results_dir) if save else None
    summary = result.summary()
    if as_json:
        if folder is not None:
            summary["folder"] = str(folder)
        click.echo(json.dumps(summary, indent=2))
        return
    cols = ["window", "oos_start_time", "oos_end_time", "params", "is_objective", "oos_objective"]
    click.echo(result.windows[cols].to_string(index=False))
    oos = summary["out_of_sample"]
    wfe = summary["walk_forward_efficiency"]
    click.echo(
        f"  out of sample {oos['start']} to {oos['end']}: return {oos['total_return_pct']}%, "
        f"Sharpe {oos['sharpe_ratio']}, max drawdown {oos['max_drawdown_pct']}%, "
        f"{oos['total_trades']} trades"
    )
    click.echo(
        "  walk-forward efficiency: "
        + ("n/a (in-sample return not positive)" if wfe is None else f"{wfe:.2f}")
    )
    click.echo("  positions flattened at every window edge")
    if folder is not None:
        click.echo(f"  results: {folder} (walkforward.html, stitched_oos/report.html)")
    click.echo(f"  ({time.perf_counter() - t0:.2f} s)")
