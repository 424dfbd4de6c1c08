"""``workbench sweep``: a parameter sweep from the command line."""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path
from typing import Any

import click

from workbench.cli.backtest import _parse_params
from workbench.cli.options import data_dir_option


def _parse_grid(items: tuple[str, ...], cls: Any) -> dict[str, Any]:
    """``name=a,b,c`` (values) or ``name=low:high:step`` (a range), typed like ``--param``."""
    from workbench.errors import ConfigError
    from workbench.strategies import ParamRange

    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(
                f"--grid {item!r} must look like name=a,b,c or name=low:high:step",
                hint="e.g. --grid fast_period=10,20,30 --grid slow_period=50:200:50",
            )
        name, spec = (s.strip() for s in item.split("=", 1))
        if spec.count(":") == 2:
            low, high, step = (_parse_params((f"{name}={v}",), cls)[name] for v in spec.split(":"))
            if not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high, step)
            ):
                raise ConfigError(f"--grid {item!r}: a range needs a numeric parameter")
            if step <= 0 or high < low:
                raise ConfigError(f"--grid {item!r}: give low <= high and a positive step")
            out[name] = ParamRange(low, high, step)
        else:
            out[name] = [_parse_params((f"{name}={v}",), cls)[name] for v in spec.split(",")]
    return out


@click.command()
@data_dir_option
@click.option("--strategy", "strategy_name", default="ema_crossover", show_default=True)
@click.option(
    "--grid",
    "grid_items",
    multiple=True,
    metavar="NAME=SPEC",
    help="A swept parameter, repeatable: values (fast_period=10,20,30) or a range "
    "(slow_period=50:200:50). Default: the strategy's declared ranges.",
)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="A parameter held fixed for every combination, repeatable.",
)
@click.option("--symbol", default="MCL_FUT", show_default=True)
@click.option("--schema", default="ohlcv-1m", show_default=True)
@click.option("--start", help="First UTC day (YYYY-MM-DD).")
@click.option("--end", help="Last UTC day, inclusive (YYYY-MM-DD).")
@click.option("--risk/--no-risk", "use_risk", default=True, show_default=True)
@click.option(
    "--objective",
    default="sharpe_ratio",
    show_default=True,
    help="The figure to rank by (e.g. total_return_pct, calmar_ratio, max_drawdown_pct).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Dask worker processes (a LocalCluster); 1 runs in this process.",
)
@click.option(
    "--notebooks",
    is_flag=True,
    help="Run each combination as a papermill execution of notebooks/02_backtest.ipynb "
    "(an executed notebook and a results folder per run, inside the sweep folder).",
)
@click.option(
    "--blocks",
    type=click.IntRange(min=2),
    default=16,
    show_default=True,
    help="CSCV blocks (even) for the probability of backtest overfitting.",
)
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--save/--no-save", default=True, show_default=True)
@click.option(
    "--results-dir",
    default="results/optimizations",
    show_default=True,
    type=click.Path(file_okay=False),
)
@click.option("--json", "as_json", is_flag=True, help="Print the analysis as JSON.")
def sweep(
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
    workers: int,
    notebooks: bool,
    blocks: int,
    top: int,
    save: bool,
    results_dir: str,
    as_json: bool,
) -> None:
    """Backtest every combination of a parameter grid and rank them."""
    from workbench.analysis.overfitting import check_blocks
    from workbench.data import load_bars
    from workbench.optimize import ParameterGrid, StrategyOptimizer
    from workbench.optimize import sweep as run_sweep
    from workbench.strategies import strategy_class

    t0 = time.perf_counter()
    check_blocks(blocks, n_rows=2 * blocks)  # an odd count fails before any backtest runs
    cls = strategy_class(strategy_name)
    ranges: dict[str, Any] = dict(cls.param_space) if not grid_items else {}
    ranges.update(_parse_grid(grid_items, cls))
    ranges.update({k: [v] for k, v in _parse_params(params, cls).items()})
    grid = ParameterGrid(cls, ranges)
    folder: Path | None
    with contextlib.ExitStack() as stack:
        client = None
        if workers > 1:
            from dask.distributed import Client, LocalCluster

            cluster = stack.enter_context(
                LocalCluster(n_workers=workers, threads_per_worker=1, processes=True)
            )
            client = stack.enter_context(Client(cluster))
        if notebooks:
            from workbench.optimize import run_notebook_sweep

            parameters = {"symbol": symbol, "schema": schema, "use_risk_manager": use_risk}
            parameters.update({k: v for k, v in (("start", start), ("end", end)) if v})
            parameters["data_dir"] = (
                str(Path(data_dir).resolve()) if "://" not in data_dir else data_dir
            )
            result, folder = run_notebook_sweep(
                grid,
                parameters=parameters,
                objective=objective,
                results_dir=results_dir,
                client=client,
                blocks=blocks,
            )
        else:
            bars = load_bars(symbol, schema, start=start, end=end, data_dir=data_dir)
            result = run_sweep(
                bars,
                grid,
                objective=objective,
                client=client,
                blocks=blocks,
                use_risk_manager=use_risk,
            )
            folder = result.save(results_dir) if save else None
    analysis = StrategyOptimizer(result).analyze_results()
    analysis["next_experiments"] = StrategyOptimizer(result).generate_next_experiments()
    if as_json:
        if folder is not None:
            analysis["folder"] = str(folder)
        click.echo(json.dumps(analysis, indent=2, default=str))
        return
    shown = result.table.head(top)
    click.echo(
        f"{cls.display_name or cls.name}: {len(result.table)} combinations "
        f"({len(result.skipped)} refused by the strategy), ranked by {objective}"
    )
    click.echo(shown.to_string(index=False))
    click.echo(f"  best: {json.dumps(result.best)}")
    if analysis["most_sensitive"]:
        click.echo(f"  most sensitive: {analysis['most_sensitive']}")
    if analysis["next_experiments"]:
        click.echo(f"  next: {json.dumps(analysis['next_experiments'])}")
    click.echo(f"  overfitting: {_overfitting_line(analysis['diagnostics'])}")
    for line in analysis["recommendations"]:
        click.echo(f"    - {line}")
    if folder is not None:
        click.echo(f"  results: {folder}")
    click.echo(f"  ({time.perf_counter() - t0:.2f} s)")


def _overfitting_line(d: dict[str, Any] | None) -> str:
    """One line of the sweep's diagnostics: DSR, PSR and PBO with what they rest on."""
    if not d or not d.get("available"):
        return "no diagnostics (no daily returns kept)"
    dsr, pbo = d["deflated_sharpe"], d["pbo"]
    parts = []
    if dsr.get("dsr") is not None:
        luck, psr = dsr["expected_max_sharpe_annualized"], dsr.get("psr")
        parts.append(
            f"deflated Sharpe {dsr['dsr']:.2f} over {d['trials']} trials (Sharpe "
            f"{dsr['sharpe_annualized']:.2f} vs {luck:.2f} expected of the best by luck, "
            f"annualized; PSR {'n/a' if psr is None else f'{psr:.2f}'})"
        )
    else:
        parts.append("no deflated Sharpe")
    if pbo.get("pbo") is not None:
        parts.append(
            f"PBO {pbo['pbo']:.2f} ({pbo['blocks']} blocks, {pbo['splits']} splits; "
            f"probability of loss {pbo['prob_loss']:.2f})"
        )
    else:
        parts.append("no PBO")
    return "; ".join(parts)
