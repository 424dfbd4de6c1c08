"""Parameter sweeps: one backtest per grid combination, in this process or on a Dask cluster.

>>> from workbench.optimize import ParameterGrid, sweep
>>> grid = ParameterGrid(MomentumStrategy, {"fast_period": [10, 20], "slow_period": [50, 100]})
>>> result = sweep(bars, grid, objective="sharpe_ratio")
>>> result.table.head()          # one row per combination, best first
>>> result.diagnostics()         # deflated Sharpe ratio, PBO, plain-words warnings
>>> result.save()                # results/optimizations/{time}_{strategy}/
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.analysis.overfitting import DEFAULT_BLOCKS, check_blocks, psr_of_returns
from workbench.backtest.engine import build_config
from workbench.errors import ConfigError
from workbench.optimize.compiled import (
    COMPILED,
    PER_COMBINATION,
    compiled_reason,
    run_compiled,
)
from workbench.optimize.diagnostics import (
    OverfittingReport,
    overfitting_report,
    write_overfitting_files,
)
from workbench.optimize.grid import ParameterGrid
from workbench.optimize.ledger import Ledger
from workbench.optimize.progress import progress_bar
from workbench.optimize.runner import METRIC_COLUMNS, Outcome, combo_key, run_all
from workbench.results.folders import atomic_folder, prepare_parent
from workbench.results.saver import utc_now

__all__ = ["METRIC_COLUMNS", "MINIMIZE", "PSR_COLUMN", "SweepResult", "sweep"]

#: Objectives where smaller is better.
MINIMIZE = frozenset({"max_drawdown_pct", "trades_rejected", "circuit_breaker_triggered"})
#: The column after :data:`METRIC_COLUMNS`: the probabilistic Sharpe ratio of the row's daily
#: returns against 0 (:func:`workbench.analysis.overfitting.psr_of_returns`).
PSR_COLUMN = "psr"


@dataclass
class SweepResult:
    """A finished sweep.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per valid combination: its parameters, :data:`METRIC_COLUMNS` and
        :data:`PSR_COLUMN`, best first by ``objective`` (undefined figures last).
    objective : str
        The figure the rows are ranked by.
    grid : ParameterGrid
        What was swept.
    skipped : list of (dict, str)
        Combinations the strategy refused (e.g. ``fast_period >= slow_period``), with why.
    options : dict
        The backtest options every combination ran with.
    returns : pandas.DataFrame, optional
        Daily returns by CME trade date, one column per row of ``table`` (column ``i`` is row
        ``i``), on the union of the rows' dates with 0 where a row has none.
    trials : int, optional
        Combinations tried, for the deflated Sharpe ratio: by default every combination of
        the grid, including those refused or failed.
    blocks : int, default 16
        CSCV blocks for the probability of backtest overfitting.
    engine : str, default "per-combination"
        How the combinations ran: ``"compiled"`` (all through the native kernel at once, see
        :mod:`workbench.optimize.compiled`), ``"per-combination"`` (one
        :func:`~workbench.backtest.run_backtest` each, in this process or on Dask) or
        ``"notebooks"`` (one papermill run each).
    engine_note : str, optional
        Why the compiled path was not taken (None when it was, or was not considered).
    data : dict, optional
        The bars the sweep ran on (:func:`describe_bars`: product, schema, bars, first and
        last bar, ``synthetic``), written to ``best_params.json`` and the overfitting page.
    """

    table: pd.DataFrame
    objective: str
    grid: ParameterGrid
    skipped: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    returns: pd.DataFrame | None = None
    trials: int | None = None
    blocks: int = DEFAULT_BLOCKS
    engine: str = PER_COMBINATION
    engine_note: str | None = None
    data: dict[str, Any] | None = None
    _report: OverfittingReport | None = field(default=None, init=False, repr=False)

    @property
    def params(self) -> list[str]:
        """The swept parameters' names."""
        return list(self.grid.ranges)

    @property
    def best(self) -> dict[str, Any]:
        """The best row's parameters (empty when no combination had a defined objective)."""
        top = self.table[self.table[self.objective].notna()]
        return first_record(top, self.params)

    @property
    def n_trials(self) -> int:
        """Combinations tried (``trials``, or every combination of the grid)."""
        return self.trials if self.trials is not None else len(self.grid)

    def overfitting(self) -> OverfittingReport:
        """The diagnostics of :meth:`diagnostics` with the CSCV splits (computed once)."""
        if self._report is None:
            self._report = overfitting_report(
                self.table, self.returns, self.objective, self.params, self.n_trials, self.blocks
            )
        return self._report

    def diagnostics(self) -> dict[str, Any]:
        """Overfitting diagnostics of choosing the best row: its probabilistic and deflated
        Sharpe ratios, the probability of backtest overfitting by CSCV, and recommendations in
        plain words (best_params.json's ``diagnostics`` block; see
        :mod:`workbench.optimize.diagnostics` for the conventions)."""
        return self.overfitting().summary

    def sensitivity(self, param: str) -> pd.DataFrame:
        """How the objective moves with one parameter, the others varying: per value, the
        mean, median, best and worst objective and the number of combinations."""
        return sensitivity_table(self.table, param, self.params, self.objective)

    def save(self, results_dir: str | Path = "results/optimizations") -> Path:
        """Write ``parameter_sweep.csv``, ``best_params.json`` (with a ``diagnostics``
        block), ``sensitivity.csv``, ``daily_returns.parquet``, ``cscv_splits.csv`` and
        ``overfitting.html`` into a new folder ``{UTC time}_{strategy}`` (complete or not at
        all)."""

        parent, base = sweep_folder(results_dir, self.grid)
        with atomic_folder(parent, base) as (name, tmp):
            self.write_into(tmp)
        return parent / name

    def write_into(self, folder: Path) -> None:
        """Write the files of :meth:`save` into an existing ``folder`` (``best_params.json``
        last: its presence marks a finished sweep)."""
        self.table.to_csv(folder / "parameter_sweep.csv", index=False)
        frames = []
        for p in self.params:
            s = self.sensitivity(p).reset_index().rename(columns={p: "value"})
            s.insert(0, "parameter", p)
            frames.append(s)
        pd.concat(frames, ignore_index=True).to_csv(folder / "sensitivity.csv", index=False)
        doc = {
            "strategy": self.grid.strategy.name,
            "objective": self.objective,
            "best_params": self.best,
            "best": first_record(self.table, list(self.table.columns)) or None,
            "grid": self.grid.to_dict(),
            "combinations": len(self.table),
            "skipped": [{"params": p, "reason": why} for p, why in self.skipped],
            "options": self.options,
            "trials": self.n_trials,
            "engine": self.engine,
            "engine_note": self.engine_note,
            "data": self.data,
            "diagnostics": self.diagnostics(),
        }
        write_overfitting_files(folder, self.returns, self.overfitting(), data=self.data)
        # Last, and by rename: a folder with best_params.json holds a finished sweep.
        text = json.dumps(doc, indent=2, allow_nan=False, default=str)
        part = folder / ".best_params.json.part"
        part.write_text(text + "\n", encoding="utf-8")
        part.replace(folder / "best_params.json")


def sweep_folder(results_dir: str | Path, grid: ParameterGrid) -> tuple[Path, str]:
    """(the created parent folder, the wanted name ``{UTC time}_{strategy}``) of a sweep."""

    return prepare_parent(results_dir), f"{utc_now():%Y-%m-%d_%H%M%S}_{grid.strategy.name}"


def check_objective(objective: str) -> None:
    """Refuse an objective that is not one of :data:`METRIC_COLUMNS`."""
    if objective not in METRIC_COLUMNS:
        raise ConfigError(
            f"unknown objective {objective!r}", hint=f"one of: {', '.join(METRIC_COLUMNS)}"
        )


def ranked(
    rows: list[dict[str, Any]],
    grid: ParameterGrid,
    objective: str,
    returns: list[pd.Series] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The sweep table of ``rows`` and their returns matrix, in the same order.

    The table has the parameters, :data:`METRIC_COLUMNS` and :data:`PSR_COLUMN` (None
    without ``returns``), best first by ``objective`` (smallest first for :data:`MINIMIZE`),
    undefined figures last. The matrix (see :func:`returns_matrix`) has column ``i`` for row
    ``i``.
    """
    table = pd.DataFrame(rows, columns=[*grid.ranges, *METRIC_COLUMNS])
    psr = [psr_of_returns(r) for r in returns] if returns is not None else [None] * len(rows)
    table[PSR_COLUMN] = pd.Series(psr, index=table.index, dtype="float64")
    order = table.sort_values(
        objective, ascending=objective in MINIMIZE, na_position="last", kind="stable"
    ).index.to_numpy()
    table = table.loc[order].reset_index(drop=True)
    if returns is None:
        return table, None
    return table, returns_matrix([returns[i] for i in order])


def returns_matrix(returns: list[pd.Series]) -> pd.DataFrame:
    """Daily returns side by side: column ``i`` is ``returns[i]``, on the union of their
    dates (sorted), 0 where a series has no date and where a return is undefined (an
    account at or below 0 has nothing left to earn or lose)."""
    if not returns:
        return pd.DataFrame(dtype=np.float64)
    first = returns[0].index
    if all(r.index is first for r in returns) and first.is_monotonic_increasing and first.is_unique:
        # One shared, sorted index (the compiled sweep's rows): no alignment to do.
        values = np.column_stack([r.to_numpy(dtype=np.float64) for r in returns])
        frame = pd.DataFrame(values, index=first.copy(), columns=pd.RangeIndex(len(returns)))
    else:
        frame = pd.concat(
            [r.astype(np.float64) for r in returns], axis=1, keys=range(len(returns)), sort=True
        )
    if isinstance(frame.index, pd.DatetimeIndex):  # one resolution, whatever the source
        frame.index = frame.index.as_unit("ns")
    frame.index.name = "trade_date"
    return frame.fillna(0.0)


def sensitivity_table(
    table: pd.DataFrame, param: str, swept: list[str], objective: str
) -> pd.DataFrame:
    """Per value of ``param``: the mean, median, best and worst ``objective`` of the
    combinations with that value, and how many there are."""
    if param not in swept:
        raise ConfigError(f"{param!r} was not swept", hint=f"swept: {', '.join(swept)}")
    out = table.groupby(param, sort=True)[objective].agg(["mean", "median", "max", "min", "count"])
    best, worst = ("min", "max") if objective in MINIMIZE else ("max", "min")
    return out.rename(columns={best: "best", worst: "worst"})[
        ["mean", "median", "best", "worst", "count"]
    ]


def _plain(v: Any) -> Any:
    """numpy scalars to Python ones, NaN to None (JSON-ready)."""
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def records(table: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    """Rows as dicts of plain values, each column keeping its own type (an integer parameter
    stays an int; a row taken as one Series would turn it into a float)."""
    return [{k: _plain(v) for k, v in r.items()} for r in table[columns].to_dict("records")]


def first_record(table: pd.DataFrame, columns: list[str]) -> dict[str, Any]:
    """The first row as :func:`records` gives it; empty for an empty table."""
    return records(table.head(1), columns)[0] if len(table) else {}


def _options_dict(options: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in options.items():
        out[k] = v.to_dict() if hasattr(v, "to_dict") else v
    return json.loads(json.dumps(out, default=str))


def sweep(
    bars: pd.DataFrame,
    grid: ParameterGrid,
    *,
    objective: str = "sharpe_ratio",
    client: Any = None,
    chunk_size: int = 4,
    blocks: int = DEFAULT_BLOCKS,
    combinations: list[dict[str, Any]] | None = None,
    trials: int | None = None,
    folder: str | Path | None = None,
    progress: bool = False,
    search_info: Mapping[str, Any] | None = None,
    compiled: bool = True,
    **options: Any,
) -> SweepResult:
    """Backtest every valid combination of ``grid`` (or the given ``combinations``) on ``bars``.

    Parameters
    ----------
    bars : pandas.DataFrame
        Bars from :func:`workbench.data.load_bars`.
    grid : ParameterGrid
        The strategy and the parameter values to combine.
    objective : str, default "sharpe_ratio"
        One of :data:`METRIC_COLUMNS`; rows are ranked by it (smaller first for drawdown and
        the risk counters, larger first otherwise).
    client : dask.distributed.Client, optional
        Run on this Dask cluster (a ``LocalCluster``, or an existing one:
        ``Client("tcp://host:8786")``), one backtest per combination; the bars are sent to
        each worker once. Default: in this process, through the compiled path when it applies
        (see ``compiled``), else one combination after another.
    chunk_size : int, default 4
        Combinations per Dask task.
    blocks : int, default 16
        CSCV blocks (even) for the probability of backtest overfitting in
        :meth:`SweepResult.diagnostics`.
    combinations : list of dict, optional
        Run these combinations of ``grid``'s parameters instead of all of them (a random or
        Latin-hypercube sample, see :mod:`workbench.optimize.search`); refused ones are set
        aside like the grid's.
    trials : int, optional
        Combinations tried, for the deflated Sharpe ratio. Default: every combination of the
        grid, or of ``combinations``.
    folder : str or Path, optional
        Keep a ledger there (``ledger.jsonl``, one line per result as it arrives) and write
        the sweep's files there at the end. Started again with the same folder, the sweep
        runs only the combinations without a result; Ctrl-C leaves the ledger consistent.
    progress : bool, default False
        Show a progress bar (stderr; a widget in Jupyter).
    search_info : mapping, optional
        How ``combinations`` were chosen, recorded as ``options["search"]``.
    compiled : bool, default True
        Run all combinations through the native kernel at once when the options allow
        (:mod:`workbench.optimize.compiled`: the same rows, far faster); ``False``: one
        :func:`~workbench.backtest.run_backtest` per combination. The result's ``engine``
        says which ran (and ``engine_note`` why not the compiled one).
    **options
        Passed to :func:`workbench.backtest.run_backtest` for every combination
        (``use_risk_manager``, ``risk_per_trade``, ``config`` ...).

    Returns
    -------
    SweepResult
        A combination that raised is left out of the table and listed in ``skipped`` with
        its error; the sweep goes on.
    """
    check_objective(objective)
    if chunk_size < 1:
        raise ConfigError(f"chunk_size must be >= 1, got {chunk_size}")
    check_blocks(blocks, n_rows=2 * blocks)  # even and >= 2; the length is checked later

    # Bad options fail here, once, not in every task.
    build_config(options.get("config"), **{k: v for k, v in options.items() if k != "config"})
    if combinations is None:
        combos, skipped, tried = grid.valid(), grid.skipped(), len(grid)
    else:
        combos, skipped = [], []
        for p in combinations:
            why = grid.check(p)
            if why is None:
                combos.append(dict(p))
            else:
                skipped.append((dict(p), why))
        tried = len(combinations)
    if not combos:
        raise grid.no_valid_combination(skipped)
    ledger = None
    if folder is not None:
        ledger = Ledger(Path(folder), sweep_identity(bars, grid, options))
    todo = [p for p in combos if ledger is None or not ledger.done(combo_key(p))]
    note = compiled_reason(grid.strategy, options, client) if compiled else "compiled=False"
    engine = COMPILED if note is None else PER_COMBINATION
    with progress_bar(len(todo), "combinations", enabled=progress) as bar:

        def on_outcome(o: Outcome) -> None:
            if ledger is not None:
                ledger.record(o)
            bar.update(1)

        if engine == COMPILED:
            fresh = run_compiled(bars, grid.strategy, todo, options, on_outcome=on_outcome)
        else:
            fresh = run_all(
                bars,
                grid.strategy,
                todo,
                options,
                client=client,
                chunk_size=chunk_size,
                on_outcome=on_outcome,
            )
    known = {o.key: o for o in fresh}
    if ledger is not None:
        known = {**ledger.outcomes, **known}
    outcomes = [known[combo_key(p)] for p in combos]
    ok = [o for o in outcomes if o.error is None]
    skipped += [(o.params, f"failed: {o.error}") for o in outcomes if o.error is not None]
    table, returns = ranked(
        [o.row for o in ok if o.row is not None],
        grid,
        objective,
        [o.returns for o in ok if o.returns is not None],
    )
    result = SweepResult(
        table=table,
        objective=objective,
        grid=grid,
        skipped=skipped,
        options={
            **_options_dict(options),
            **({"search": dict(search_info)} if search_info else {}),
        },
        returns=returns,
        trials=trials if trials is not None else tried,
        blocks=blocks,
        engine=engine,
        engine_note=note,
        data=describe_bars(bars),
    )
    if ledger is not None:
        result.write_into(ledger.folder)
    return result


def describe_bars(bars: pd.DataFrame) -> dict[str, Any]:
    """What a sweep ran on, for its folder: product, schema, number of bars, first and last
    bar (UTC) and whether they are the synthetic sample (``bars.attrs["synthetic"]``)."""
    data = sweep_identity(bars, None, {})["data"]
    return {**data, "synthetic": bool(bars.attrs.get("synthetic", False))}


def sweep_identity(
    bars: pd.DataFrame, grid: ParameterGrid | None, options: Mapping[str, Any]
) -> dict[str, Any]:
    """What makes two sweeps the same for the ledger: strategy, data and backtest options."""
    return {
        "strategy": grid.strategy.name if grid is not None else None,
        "data": {
            "product": bars.attrs.get("product"),
            "schema": bars.attrs.get("schema"),
            "bars": len(bars),
            "start": str(bars.index[0]) if len(bars) else None,
            "end": str(bars.index[-1]) if len(bars) else None,
        },
        "options": _options_dict(options),
    }
