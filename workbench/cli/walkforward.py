"""``workbench walkforward``: optimise in sample, trade the choice out of sample, window by
window (:func:`workbench.optimize.walk_forward`)."""

from __future__ import annotations

import contextlib
import json
import time
from typing import Any

import click

from workbench.cli.formatting import count, fixed, usd, utc_minute
from workbench.cli.options import (
    bars_options,
    data_dir_option,
    grid_option,
    json_option,
    objective_option,
    param_option,
    progress_option,
    results_dir_option,
    risk_option,
    save_option,
    search_options,
    strategy_option,
    workers_option,
)
from workbench.cli.sweep import _check_trials, _local_client, _parameter_grid


@click.command()
@data_dir_option
@strategy_option
@grid_option(
    "A parameter searched in sample, repeatable: values (fast_period=10,20,30) or an "
    "inclusive range low:high:step (slow_period=50:200:50; low:high steps by 1, integers "
    "only). Default: the strategy's declared ranges."
)
@param_option("A parameter held fixed in every window, repeatable.")
@bars_options
@risk_option
@objective_option
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
@search_options(
    search_help="How each in-sample part is searched (random/lhs/optuna need --trials).",
    trials_help="Trials per in-sample search.",
)
@progress_option
@workers_option("Dask worker processes for the in-sample sweeps; 1 runs in this process.")
@save_option("Write the walk-forward folder (walkforward.html, stitched_oos/report.html).")
@results_dir_option("results/walkforward")
@json_option("Print the summary as JSON.")
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
    import pandas as pd

    from workbench.data import load_bars
    from workbench.optimize import ParameterGrid, search, walk_forward, walk_forward_windows
    from workbench.optimize.sweep import SweepResult, check_objective

    t0 = time.perf_counter()
    check_objective(objective)
    _check_trials(method, trials)
    grid = _parameter_grid(strategy_name, grid_items, params)
    cls = grid.strategy
    n_valid = len(grid.valid()) if method == "grid" else None
    if n_valid == 0:  # before loading bars: nothing could run
        raise grid.no_valid_combination()
    bars = load_bars(symbol, schema, start=start, end=end, data_dir=data_dir, dates="trade")
    windows = walk_forward_windows(
        len(bars), in_sample, out_of_sample, step=step, gap=gap, anchored=anchored
    )
    first, last = bars.index[0], bars.index[-1]
    click.echo(
        f"{cls.display_name or cls.name}: {count(len(windows), 'window')} x "
        + (count(n_valid, "combination") if n_valid is not None else f"{trials} {method} trials")
        + f", data {utc_minute(first)} to {utc_minute(last)} UTC ({len(bars):,} {schema} bars)"
        + (" [SYNTHETIC DATA]" if bars.attrs.get("synthetic") else ""),
        err=True,
    )
    with contextlib.ExitStack() as stack:
        client = _local_client(stack, workers)

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
    table = result.windows
    shown = pd.DataFrame(
        {
            "window": table["window"],
            "oos_start": [utc_minute(t) for t in table["oos_start_time"]],
            "oos_end": [utc_minute(t) for t in table["oos_end_time"]],
            "params": [
                p if traded else "not traded"
                for p, traded in zip(table["params"], table["traded"], strict=True)
            ],
            "is_objective": [fixed(v) for v in table["is_objective"]],
            "oos_objective": [fixed(v) for v in table["oos_objective"]],
            "oos_trades": table["oos_total_trades"],
            "oos_pnl": [usd(v) for v in table["oos_pnl_usd"]],
        }
    )
    click.echo(shown.to_string(index=False))
    if not table["traded"].all():
        click.echo(
            f"  not traded: no combination had a defined {objective} in sample (e.g. no trades)"
        )
    click.echo("  out-of-sample rows are slices of the stitched run (one account)")
    for row in table.itertuples():
        if row.oos_unreliable:
            click.echo(
                f"  ! window {row.window}: {row.oos_trade_dates} trade dates, "
                f"{row.oos_total_trades} trades out of sample: unreliable {row.oos_unreliable}"
            )
    oos = summary["out_of_sample"]
    wfe = summary["walk_forward_efficiency"]
    click.echo(
        f"  out of sample {utc_minute(table['oos_start_time'].iloc[0])} to "
        f"{utc_minute(table['oos_end_time'].iloc[-1])} UTC: "
        f"return {fixed(oos['total_return_pct'])}%, sharpe {fixed(oos['sharpe_ratio'])}, "
        f"max dd {fixed(oos['max_drawdown_pct'])}%, {count(oos['total_trades'], 'trade')}"
    )
    click.echo(
        "  walk-forward efficiency: "
        + ("n/a (in-sample return not positive)" if wfe is None else f"{wfe:.2f}")
    )
    click.echo("  positions flattened at every window edge")
    if folder is not None:
        click.echo(f"  results: {folder} (walkforward.html, stitched_oos/report.html)")
    click.echo(f"  ({time.perf_counter() - t0:.2f} s)")
