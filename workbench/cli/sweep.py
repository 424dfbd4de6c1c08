"""``workbench sweep``: a parameter sweep from the command line."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from workbench.cli.backtest import _parse_params
from workbench.cli.formatting import count
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

if TYPE_CHECKING:
    from dask.distributed import Client

    from workbench.optimize import ParameterGrid


def _parse_grid(items: tuple[str, ...], cls: Any) -> dict[str, Any]:
    """``name=a,b,c`` (values) or ``name=low:high[:step]`` (an inclusive range; step 1 by
    default for an integer parameter), typed like ``--param``."""
    from workbench.errors import ConfigError

    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(
                f"--grid {item!r} must look like name=a,b,c or name=low:high[:step]",
                hint="e.g. --grid fast_period=10,20,30 --grid slow_period=50:200:50",
            )
        name, spec = (s.strip() for s in item.split("=", 1))
        if ":" in spec:
            out[name] = _parse_range(item, name, spec, cls)
        else:
            out[name] = [_parse_params((f"{name}={v}",), cls)[name] for v in spec.split(",")]
    return out


def _parse_range(item: str, name: str, spec: str, cls: Any) -> Any:
    """``low:high`` or ``low:high:step`` of ``--grid`` as a :class:`ParamRange`."""
    from workbench.errors import ConfigError
    from workbench.strategies import ParamRange

    syntax = (
        "a range is low:high (integers, step 1) or low:high:step, both ends included; "
        "a list of values is a,b,c"
    )
    parts = spec.split(":")
    if len(parts) not in (2, 3) or not all(parts):
        raise ConfigError(f"--grid {item!r}: {syntax}", hint=f"e.g. --grid {name}=10:30:5")
    try:
        bounds = [_parse_params((f"{name}={v}",), cls)[name] for v in parts]
    except ConfigError as exc:
        raise ConfigError(f"--grid {item!r}: {exc.message}", hint=syntax) from None
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in bounds):
        raise ConfigError(f"--grid {item!r}: a range needs a numeric parameter", hint=syntax)
    if len(bounds) == 2:
        if not all(isinstance(v, int) for v in bounds):
            raise ConfigError(
                f"--grid {item!r}: a range of the float parameter {name} needs a step",
                hint=f"e.g. --grid {name}={parts[0]}:{parts[1]}:0.5",
            )
        bounds.append(1)
    low, high, step = bounds
    if step <= 0 or high < low:
        raise ConfigError(f"--grid {item!r}: give low <= high and a positive step")
    return ParamRange(low, high, step)


def _parameter_grid(
    strategy_name: str, grid_items: tuple[str, ...], params: tuple[str, ...]
) -> ParameterGrid:
    """The grid of ``--strategy``, ``--grid`` and ``--param``: the strategy's declared ranges
    when no ``--grid`` is given, each ``--param`` held at one value."""
    from workbench.optimize import ParameterGrid  # start-up: the optimize package pulls pandas
    from workbench.strategies import strategy_class

    cls = strategy_class(strategy_name)
    ranges: dict[str, Any] = dict(cls.param_space) if not grid_items else {}
    ranges.update(_parse_grid(grid_items, cls))
    ranges.update({k: [v] for k, v in _parse_params(params, cls).items()})
    return ParameterGrid(cls, ranges)


def _check_trials(method: str, trials: int | None) -> None:
    """A random/lhs/optuna ``--search`` needs ``--trials``."""
    from workbench.errors import ConfigError

    if method != "grid" and trials is None:
        raise ConfigError(f"--search {method} needs --trials N", hint="e.g. --trials 100")


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """SIGINT ignored while worker processes start, so that they inherit it ignored.

    Ctrl-C in a terminal reaches the whole process group: only this process should act on it
    (keep the ledger, close the cluster, print how to resume); a worker killed by it prints
    a traceback and loses its task. Off the main thread signals cannot be changed: a no-op.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _local_client(stack: contextlib.ExitStack[Any], workers: int) -> Client | None:
    """A Dask client of ``workers`` local processes, closed with ``stack``; None for one.
    The worker processes ignore Ctrl-C: this process stops the sweep (``_sigint_ignored``)."""
    if workers <= 1:
        return None
    # start-up: dask.distributed only when asked for workers
    from dask.distributed import Client, LocalCluster

    with _sigint_ignored():
        cluster = stack.enter_context(
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                # the sweep reports failed and retried combinations itself; Dask's warnings
                # (tasks cancelled when Ctrl-C closes the cluster, ...) are noise on a terminal
                silence_logs=logging.ERROR,
            )
        )
    return stack.enter_context(Client(cluster))


#: Above this many combinations a sweep asks for --yes (or suggests sampling).
CONFIRM_ABOVE_COMBINATIONS = 1000
#: Above this estimated wall time (seconds) a sweep asks for --yes.
CONFIRM_ABOVE_SECONDS = 15 * 60


def _duration(seconds: float) -> str:
    if seconds < 1:
        return "under 1 s"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _resumable(results_dir: str, identity: dict[str, Any]) -> Path | None:
    """An unfinished sweep folder in ``results_dir`` (a ledger, no best_params.json) of the
    same sweep, newest first."""
    # start-up: the ledger module pulls pandas; only a saving sweep needs it
    from workbench.optimize.ledger import LEDGER_FILE

    root = Path(results_dir)
    if not root.is_dir():
        return None
    want = json.loads(json.dumps(identity, sort_keys=True, default=str))
    for folder in sorted(root.iterdir(), reverse=True):
        ledger = folder / LEDGER_FILE
        if not ledger.is_file() or (folder / "best_params.json").exists():
            continue
        with ledger.open(encoding="utf-8") as fh:
            try:
                head = json.loads(fh.readline())
            except json.JSONDecodeError:
                continue
        if head.get("sweep") == want:
            return folder
    return None


@click.command()
@data_dir_option
@strategy_option
@grid_option(
    "A swept parameter, repeatable: values (fast_period=10,20,30) or an inclusive range "
    "low:high:step (slow_period=50:200:50; low:high steps by 1, integers only). Default: the "
    "strategy's declared ranges."
)
@param_option("A parameter held fixed for every combination, repeatable.")
@bars_options
@risk_option
@objective_option
@search_options(
    search_help="Every combination (grid), a random or Latin-hypercube sample of --trials of "
    "them, or a Bayesian search (optuna).",
    trials_help="Trials of a random/lhs/optuna search.",
)
@click.option("--prune", is_flag=True, help="optuna: stop hopeless trials after half the bars.")
@workers_option("Dask worker processes (a LocalCluster); 1 runs in this process.")
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Run on an existing Dask cluster, e.g. tcp://host:8786 (instead of --workers).",
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
@click.option(
    "--top", type=click.IntRange(min=1), default=10, show_default=True, help="Rows printed."
)
@save_option("Write the sweep folder (ledger, table, charts, best_params.json).")
@results_dir_option("results/optimizations")
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="The sweep folder (default: a new one in --results-dir, or the unfinished one of "
    "the same sweep there). Run again with the same folder to finish an interrupted sweep.",
)
@click.option("--yes", is_flag=True, help="Run a large sweep without asking.")
@progress_option
@json_option("Print the analysis as JSON.")
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
    method: str,
    trials: int | None,
    seed: int,
    prune: bool,
    workers: int,
    scheduler: str | None,
    notebooks: bool,
    blocks: int,
    top: int,
    save: bool,
    results_dir: str,
    out: str | None,
    yes: bool,
    progress: bool,
    as_json: bool,
) -> None:
    """Backtest every combination of a parameter grid (or a sample of it) and rank them.

    Before running it prints the number of combinations, the data range and an estimate of
    the time; above 1,000 combinations or 15 minutes it asks for --yes. Results are written
    to the sweep folder's ledger as they arrive: after Ctrl-C, the same command finishes
    the sweep without running again what is done.
    """
    # start-up: pandas, the data layer and the backtest engine load only when the command runs
    from workbench.analysis.overfitting import check_blocks
    from workbench.data import load_bars
    from workbench.errors import ConfigError
    from workbench.optimize import StrategyOptimizer, sample_combinations
    from workbench.optimize.compiled import compiled_reason, run_compiled
    from workbench.optimize.runner import evaluate
    from workbench.optimize.search import search
    from workbench.optimize.sweep import check_objective, sweep_folder, sweep_identity

    t0 = time.perf_counter()
    check_blocks(blocks, n_rows=2 * blocks)  # an odd count fails before any backtest runs
    check_objective(objective)
    _check_trials(method, trials)
    if scheduler and workers > 1:
        raise ConfigError("give --scheduler or --workers, not both")
    if notebooks and method == "optuna":
        raise ConfigError("--notebooks runs a grid or a random/lhs sample, not an optuna search")
    grid = _parameter_grid(strategy_name, grid_items, params)
    cls = grid.strategy
    combos = (
        sample_combinations(grid, trials, method=method, seed=seed)
        if method in ("random", "lhs") and trials is not None
        else None
    )
    if method == "optuna" and trials is not None:
        n_run, refused = trials, 0
    else:
        checked = [(p, grid.check(p)) for p in (combos if combos is not None else grid)]
        n_run = sum(1 for _, why in checked if why is None)
        refused = len(checked) - n_run
        if not n_run:  # before loading bars: nothing could run
            raise grid.no_valid_combination([(p, why) for p, why in checked if why is not None])

    # Both modes run on the same bars: the notebooks get the same bounds.
    bars = load_bars(symbol, schema, start=start, end=end, data_dir=data_dir, dates="trade")
    first, last = bars.index[0], bars.index[-1]
    span = f"{first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC ({len(bars):,} {schema} bars)"
    if bars.attrs.get("synthetic"):
        span += " [SYNTHETIC DATA]"
    valid = [p for p in (combos if combos is not None else grid.valid()) if grid.check(p) is None]
    timed = False
    per_run = 8.0  # a papermill run starts a kernel and saves a report: several seconds
    parallel = workers
    compiled = (
        not notebooks
        and method != "optuna"
        and not scheduler
        and workers == 1
        and compiled_reason(cls, {"use_risk_manager": use_risk}) is None
    )
    if valid and compiled:
        # The compiled path runs every combination at once on every core: time one there.
        t1 = time.perf_counter()
        run_compiled(bars, cls, valid[:1], {"use_risk_manager": use_risk})
        per_run, timed = max(time.perf_counter() - t1, 1e-3), True
        parallel = os.cpu_count() or 1
    elif valid and not notebooks:
        t1 = time.perf_counter()
        evaluate(bars, cls, valid[0], {"use_risk_manager": use_risk})
        per_run, timed = max(time.perf_counter() - t1, 1e-3), True
    estimate = per_run * n_run / parallel
    where = f"for one worker of {scheduler}" if scheduler else f"on {workers} worker(s)"
    if compiled:
        where = f"compiled, on {parallel} core(s)"
    click.echo(
        f"{cls.display_name or cls.name}: "
        + count(n_run, "trial" if method == "optuna" else "combination")
        + (f" ({refused:,} refused by the strategy)" if refused else "")
        + f", {method} search, data {span}",
        err=True,
    )
    if timed:
        click.echo(f"  estimated {_duration(estimate)} {where} (one backtest timed)", err=True)
    elif notebooks and n_run:
        click.echo(f"  estimated {_duration(estimate)} {where} (about 8 s per notebook)", err=True)
    if (n_run > CONFIRM_ABOVE_COMBINATIONS or estimate > CONFIRM_ABOVE_SECONDS) and not yes:
        raise ConfigError(
            f"{n_run:,} combinations, about {_duration(estimate)}: pass --yes to run them all",
            hint="or sample the ranges: --search random --trials 200 (or --search lhs, "
            "--search optuna), or narrow them with --grid",
        )
    folder: Path | None = None
    try:
        with contextlib.ExitStack() as stack:
            client = None
            if scheduler:
                # start-up: dask.distributed only for a distributed sweep
                from dask.distributed import Client

                try:
                    client = stack.enter_context(Client(scheduler, timeout="10s"))
                except OSError as exc:
                    raise ConfigError(
                        f"cannot reach the Dask scheduler at {scheduler}: {exc}",
                        hint="start it with `dask scheduler`, workers with `dask worker ADDRESS`",
                    ) from None
            else:
                client = _local_client(stack, workers)
            if notebooks:
                from workbench.data.trade_dates import parse_trade_date, trade_date_bounds
                from workbench.optimize import run_notebook_sweep

                lo, hi = trade_date_bounds(
                    parse_trade_date(start, "--start") if start else None,
                    parse_trade_date(end, "--end") if end else None,
                )

                parameters = {
                    "symbol": symbol,
                    "schema": schema,
                    "use_risk_manager": use_risk,
                    # the UTC bounds of --start/--end (trade dates), else the catalog's days
                    "start": f"{lo:%Y-%m-%dT%H:%M}Z" if lo else f"{first:%Y-%m-%d}",
                    "end": f"{hi:%Y-%m-%dT%H:%M}Z" if hi else f"{last:%Y-%m-%d}",
                }
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
                    combinations=combos,
                    progress=progress,
                )
            else:
                kwargs: dict[str, Any] = {"objective": objective, "blocks": blocks}
                kwargs["use_risk_manager"] = use_risk
                if method != "optuna":
                    kwargs["client"] = client
                    if save:
                        identity = sweep_identity(bars, grid, {"use_risk_manager": use_risk})
                        folder = Path(out) if out else _resumable(results_dir, identity)
                        if folder is None:
                            parent, base = sweep_folder(results_dir, grid)
                            folder = parent / base
                        else:
                            click.echo(f"  resuming {folder}", err=True)
                        kwargs["folder"] = folder
                result = search(
                    bars,
                    grid,
                    method=method,
                    trials=trials,
                    seed=seed,
                    prune=prune,
                    progress=progress,
                    **kwargs,
                )
                if method == "optuna" and save:
                    folder = result.save(results_dir)
    except KeyboardInterrupt:
        # Ctrl-C: every finished combination is in the ledger; the same command resumes.
        where = f" ({folder / 'ledger.jsonl'})" if folder is not None else ""
        click.echo(
            f"interrupted: the finished combinations are kept{where}; run the same command "
            "to resume",
            err=True,
        )
        sys.exit(130)
    analysis = StrategyOptimizer(result).analyze_results()
    analysis["next_experiments"] = StrategyOptimizer(result).generate_next_experiments()
    analysis["data"] = {"start": str(first), "end": str(last), "bars": len(bars)}
    analysis["engine"] = {"name": result.engine, "note": result.engine_note}
    if as_json:
        if folder is not None:
            analysis["folder"] = str(folder)
        click.echo(json.dumps(analysis, indent=2, default=str))
        return
    shown = result.table.head(top)
    failed = sum(1 for _, why in result.skipped if why.startswith("failed"))
    click.echo(
        f"{cls.display_name or cls.name}: {count(len(result.table), 'combination')} "
        f"({len(result.skipped) - failed} refused or pruned, {failed} failed; "
        f"{count(result.n_trials, 'trial')}), ranked by {objective}"
    )
    click.echo(f"  data: {span}")
    note = f" ({result.engine_note})" if result.engine_note else ""
    click.echo(f"  engine: {result.engine}{note}")
    click.echo(shown.to_string(index=False))
    best = result.best
    click.echo(
        f"  best: {json.dumps(best)}"
        if best
        else f"  best: none (no combination has a defined {objective}, e.g. no trades)"
    )
    for p, why in result.skipped:
        if why.startswith("failed"):
            click.echo(f"  failed {json.dumps(p)}: {why[len('failed: ') :]}")
    refusals = [(p, why) for p, why in result.skipped if not why.startswith(("failed", "pruned"))]
    for p, why in refusals[:3]:
        click.echo(f"  refused {json.dumps(p, default=str)}: {why.splitlines()[0]}")
    if len(refusals) > 3:
        click.echo(f"  ... and {len(refusals) - 3:,} more refused (best_params.json lists them)")
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
