"""Batch sweeps through papermill: one executed backtest notebook per grid combination.

Each combination runs ``notebooks/02_backtest.ipynb`` (or any notebook with the same
``strategy``/``params``/``results_dir`` parameters) in a fresh Jupyter kernel, so every run
leaves what an interactive one does: the executed notebook with its outputs, and a complete
results folder (summary.json, CSVs, report.html). The table of all runs is read back from their
summary.json files. On a Dask cluster the notebooks run on its workers' processes.

The sweep folder::

    results/optimizations/{time}_{strategy}/
      parameter_sweep.csv  best_params.json  sensitivity.csv ... (as sweep() writes them)
      notebooks/0000.ipynb ...                                   executed notebooks
      runs/0000/{run id}/summary.json ...                        each run's results folder
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.analysis import daily_returns
from workbench.analysis.overfitting import DEFAULT_BLOCKS, check_blocks
from workbench.data.store import project_root
from workbench.errors import ConfigError, WorkbenchError
from workbench.optimize.grid import ParameterGrid
from workbench.optimize.progress import progress_bar
from workbench.optimize.sweep import (
    METRIC_COLUMNS,
    SweepResult,
    check_objective,
    ranked,
    sweep_folder,
)
from workbench.results.folders import atomic_folder

#: The notebook a batch sweep runs by default (relative to the project root).
BACKTEST_NOTEBOOK = Path("notebooks") / "02_backtest.ipynb"


def _execute(
    notebook: str, output: str, parameters: dict[str, Any], kernel_name: str, cwd: str
) -> str | None:
    """Run one notebook; None when it ran, else why it failed (one line)."""
    # start-up: papermill (with nbclient and jupyter_client) takes about 1.5 s to import, and
    # only batch sweeps need it; `workbench sweep` without --notebooks should not pay for it.
    import papermill as pm

    try:
        pm.execute_notebook(
            notebook,
            output,
            parameters=parameters,
            kernel_name=kernel_name,
            cwd=cwd,
            progress_bar=False,
        )
    except pm.PapermillExecutionError as exc:
        return f"{exc.ename}: {exc.evalue}"
    return None


def _summary_row(params: dict[str, Any], runs: Path) -> tuple[dict[str, Any], pd.Series]:
    """The sweep row of one combination and its daily returns, from the summary.json and
    daily_pnl.csv its notebook saved."""
    found = sorted(runs.glob("*/summary.json"))
    if len(found) != 1:
        raise WorkbenchError(f"expected one run folder in {runs}, found {len(found)}")
    doc = json.loads(found[0].read_text(encoding="utf-8"))
    row = dict(params)
    for k in METRIC_COLUMNS:
        row[k] = doc["performance"].get(k, doc.get("risk_metrics", {}).get(k))
    pnl = pd.read_csv(found[0].parent / "daily_pnl.csv", parse_dates=["trade_date"])
    series = pd.Series(pnl["net_pnl"].to_numpy(dtype="float64"), index=pd.Index(pnl["trade_date"]))
    return row, daily_returns(series, doc["config"]["initial_capital"])


def run_notebook_sweep(
    grid: ParameterGrid,
    *,
    notebook: str | Path | None = None,
    parameters: Mapping[str, Any] | None = None,
    objective: str = "sharpe_ratio",
    results_dir: str | Path = "results/optimizations",
    client: Any = None,
    kernel_name: str = "python3",
    blocks: int = DEFAULT_BLOCKS,
    combinations: list[dict[str, Any]] | None = None,
    progress: bool = False,
) -> tuple[SweepResult, Path]:
    """Execute the backtest notebook once per valid combination of ``grid`` with papermill.

    Parameters
    ----------
    grid : ParameterGrid
        The strategy and the parameter values to combine (passed as the notebook's
        ``strategy`` and ``params``).
    notebook : str or Path, optional
        Default: the project's ``notebooks/02_backtest.ipynb``.
    parameters : mapping, optional
        Other notebook parameters, the same for every run (``symbol``, ``start``, ``end``,
        ``data_dir``, ``use_risk_manager`` ...). ``strategy``, ``params`` and ``results_dir``
        are set per run.
    objective : str, default "sharpe_ratio"
        One of :data:`~workbench.optimize.METRIC_COLUMNS`, to rank the runs.
    results_dir : str or Path, default "results/optimizations"
        Where the sweep folder goes (written complete or not at all).
    client : dask.distributed.Client, optional
        Run the notebooks on this cluster's workers (they must see the same files).
    kernel_name : str, default "python3"
    blocks : int, default 16
        CSCV blocks (even) for the probability of backtest overfitting.
    combinations : list of dict, optional
        Run these combinations of the grid's parameters (a random or Latin-hypercube
        sample) instead of all of them; they all count as trials.
    progress : bool, default False
        A progress bar (stderr; a widget in Jupyter).

    Returns
    -------
    (SweepResult, Path)
        The table of every run that completed (best first), and the sweep folder. Runs whose
        notebook raised are listed in ``skipped`` with the error.
    """

    check_objective(objective)
    check_blocks(blocks, n_rows=2 * blocks)  # even and >= 2; the length is checked later
    root = project_root() or Path.cwd()
    nb = Path(notebook) if notebook is not None else root / BACKTEST_NOTEBOOK
    if not nb.is_file():
        raise ConfigError(f"no notebook at {nb}", hint="pass notebook=path/to/notebook.ipynb")
    fixed = dict(parameters or {})
    clash = sorted({"strategy", "params", "results_dir"} & set(fixed))
    if clash:
        raise ConfigError(f"parameters {', '.join(clash)} are set per run by the sweep")
    if combinations is None:
        combos, skipped, tried = grid.valid(), grid.skipped(), len(grid)
    else:
        checked = [(dict(p), grid.check(p)) for p in combinations]
        combos = [p for p, why in checked if why is None]
        skipped = [(p, why) for p, why in checked if why is not None]
        tried = len(combinations)
    if not combos:
        raise grid.no_valid_combination(skipped)
    parent, base = sweep_folder(results_dir, grid)
    with atomic_folder(parent, base) as (name, tmp):
        (tmp / "notebooks").mkdir()
        jobs = []
        for i, combo in enumerate(combos):
            runs = tmp / "runs" / f"{i:04d}"
            runs.mkdir(parents=True)
            params = {**fixed, "strategy": grid.strategy.name, "params": combo}
            params["results_dir"] = str(runs)
            jobs.append((str(nb), str(tmp / "notebooks" / f"{i:04d}.ipynb"), params))
        errors: list[str | None] = [None] * len(jobs)
        with progress_bar(len(jobs), "notebooks", enabled=progress) as bar:
            if client is None:
                for i, job in enumerate(jobs):
                    errors[i] = _execute(*job, kernel_name, str(root))
                    bar.update(1)
            else:
                # start-up: dask.distributed only for a distributed batch
                from dask.distributed import as_completed

                futures = {
                    client.submit(_execute, *job, kernel_name, str(root), pure=False): i
                    for i, job in enumerate(jobs)
                }
                for future in as_completed(futures):
                    errors[futures[future]] = future.result()
                    bar.update(1)
        done = []
        for i, (combo, error) in enumerate(zip(combos, errors, strict=True)):
            if error is None:
                done.append(_summary_row(combo, tmp / "runs" / f"{i:04d}"))
            else:
                skipped.append((combo, f"notebook {i:04d} failed: {error}"))
        table, returns = ranked([r for r, _ in done], grid, objective, [d for _, d in done])
        result = SweepResult(
            table=table,
            objective=objective,
            grid=grid,
            skipped=skipped,
            options={"notebook": str(nb), "parameters": json.loads(json.dumps(fixed, default=str))},
            returns=returns,
            trials=tried,
            blocks=blocks,
            engine="notebooks",
            engine_note="one papermill run of the backtest notebook per combination",
        )
        result.write_into(tmp)
    return result, parent / name
