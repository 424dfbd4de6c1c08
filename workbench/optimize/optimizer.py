"""What a sweep says: which parameters matter, and which combinations to test next."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from workbench.errors import ConfigError, WorkbenchError
from workbench.optimize.grid import ParameterGrid
from workbench.optimize.search import suggest_with_optuna
from workbench.optimize.sweep import (
    MINIMIZE,
    SweepResult,
    _plain,
    first_record,
    records,
    sensitivity_table,
)
from workbench.strategies import strategy_class

if TYPE_CHECKING:
    from workbench.strategies.base import Strategy


class StrategyOptimizer:
    """Insights from a parameter sweep (in memory, or saved by :meth:`SweepResult.save`).

    Parameters
    ----------
    result : SweepResult, optional
        A sweep just run; or call :meth:`analyze_results` with a saved sweep's folder.
    """

    def __init__(self, result: SweepResult | None = None) -> None:
        self._table: pd.DataFrame | None = None
        self._objective = ""
        self._params: list[str] = []
        self._strategy: type[Strategy] | None = None
        self._values: dict[str, list[Any]] = {}
        self._result = result
        self._diagnostics: dict[str, Any] | None = None
        if result is not None:
            self._use(result.table, result.objective, result.params, result.grid.strategy)
            self._values = {k: list(v) for k, v in result.grid.ranges.items()}

    def _use(
        self, table: pd.DataFrame, objective: str, params: list[str], strategy: type[Strategy]
    ) -> None:
        self._table, self._objective, self._params = table, objective, params
        self._strategy = strategy

    def _need(self) -> pd.DataFrame:
        if self._table is None:
            raise ConfigError(
                "no sweep to analyse", hint="pass a SweepResult, or call analyze_results(folder)"
            )
        return self._table

    def analyze_results(self, results_dir: str | Path | None = None) -> dict[str, Any]:
        """Summarise a sweep: the best parameters, and each parameter's sensitivity.

        Parameters
        ----------
        results_dir : str or Path, optional
            A saved sweep's folder (``parameter_sweep.csv`` and ``best_params.json``).
            Default: the sweep this optimizer was built with.

        Returns
        -------
        dict
            ``strategy``, ``objective``, ``combinations``, ``best_params``, ``best`` (the
            best row's figures), ``sensitivity`` (per parameter: the spread of the mean
            objective across its values, and the value with the best mean),
            ``most_sensitive`` (the parameter with the largest spread; None when no
            parameter's values change the mean objective), ``diagnostics`` (the
            deflated Sharpe ratio, PBO and their figures, see
            :meth:`SweepResult.diagnostics`; None for a saved sweep without them) and
            ``recommendations`` (plain words, when the evidence for the best row is weak or
            strong, citing the numbers).
        """
        if results_dir is not None:
            self._load(Path(results_dir))
        table = self._need()
        diagnostics = self._diagnostics
        if diagnostics is None and self._result is not None:
            diagnostics = self._result.diagnostics()
        defined = table[table[self._objective].notna()]
        sens = {}
        for p in self._params:
            s = self.parameter_sensitivity(p)["mean"].dropna()
            if s.empty:
                continue
            best_value = s.idxmin() if self._objective in MINIMIZE else s.idxmax()
            sens[p] = {"spread": _plain(s.max() - s.min()), "best_value": _plain(best_value)}
        return {
            "strategy": self._strategy.name if self._strategy else None,
            "objective": self._objective,
            "combinations": len(table),
            "best_params": first_record(defined, self._params),
            "best": first_record(defined, list(defined.columns)) or None,
            "sensitivity": sens,
            "most_sensitive": _most_sensitive(sens),
            "diagnostics": diagnostics,
            "recommendations": list(diagnostics["recommendations"]) if diagnostics else [],
        }

    def _load(self, folder: Path) -> None:
        sweep_csv, meta_json = folder / "parameter_sweep.csv", folder / "best_params.json"
        if not (sweep_csv.is_file() and meta_json.is_file()):
            raise WorkbenchError(
                f"{folder} is not a saved sweep (no parameter_sweep.csv / best_params.json)",
                hint="pass a folder written by SweepResult.save (results/optimizations/...)",
            )
        meta = json.loads(meta_json.read_text(encoding="utf-8"))
        self._values = {k: list(v) for k, v in meta["grid"]["ranges"].items()}
        self._result = None
        self._diagnostics = meta.get("diagnostics")
        self._use(
            pd.read_csv(sweep_csv),
            meta["objective"],
            list(self._values),
            strategy_class(meta["strategy"]),
        )

    def parameter_sensitivity(self, param_name: str) -> pd.DataFrame:
        """How the objective changes with one parameter (the others varying).

        Parameters
        ----------
        param_name : str
            A swept parameter.

        Returns
        -------
        pandas.DataFrame
            Indexed by the parameter's values: mean, median, best and worst objective, and
            the number of combinations.
        """
        return sensitivity_table(self._need(), param_name, self._params, self._objective)

    def generate_next_experiments(
        self, n: int = 5, top: int = 3, *, method: str = "neighbours", seed: int = 0
    ) -> list[dict[str, Any]]:
        """Untested combinations worth trying next.

        ``method="neighbours"`` (default): a finer or a wider grid where the best results are
        (below). ``method="optuna"``: optuna's TPE sampler (seeded with ``seed``) is told
        every tested combination and its objective, then asked for ``n`` untested ones of the
        grid (:func:`workbench.optimize.search.suggest_with_optuna`).

        From each of the ``top`` best combinations, one numeric parameter at a time moves
        half a grid step either way (between two tested values), or a whole step past the
        edge of the grid when the best value sits on it. Combinations already tested, or
        that the strategy refuses, are left out.

        Parameters
        ----------
        n : int, default 5
            At most this many suggestions, best base first.
        top : int, default 3
            How many of the best combinations to start from.

        Returns
        -------
        list of dict
            Parameter sets (the swept parameters only).
        """
        table = self._need()
        assert self._strategy is not None
        if method == "optuna":
            grid = ParameterGrid(self._strategy, self._values)
            return suggest_with_optuna(grid, table, self._objective, n=n, seed=seed)
        if method != "neighbours":
            raise ConfigError(f"unknown method {method!r}", hint="neighbours or optuna")
        defined = table[table[self._objective].notna()].head(top)
        tested = {tuple(r.values()) for r in records(table, self._params)}
        out: list[dict[str, Any]] = []
        seen: set[tuple[Any, ...]] = set()
        for base in records(defined, self._params):
            for p in self._params:
                for value in _neighbours(self._values.get(p, []), base[p]):
                    cand = {**base, p: value}
                    key = tuple(cand[k] for k in self._params)
                    if key in tested or key in seen or not self._accepts(cand):
                        continue
                    seen.add(key)
                    out.append(cand)
                    if len(out) >= n:
                        return out
        return out

    def _accepts(self, params: dict[str, Any]) -> bool:
        assert self._strategy is not None
        try:
            self._strategy.from_parameters(params)
        except (WorkbenchError, TypeError, ValueError):
            return False
        return True


def _neighbours(values: list[Any], at: Any) -> list[Any]:
    """Values half a step from ``at`` inside the grid, or a step beyond it at its edges."""
    nums = sorted(v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool))
    if len(nums) < 2 or at not in nums:
        return []
    integer = all(isinstance(v, int) for v in nums)
    i = nums.index(at)
    out = []
    for j, edge in ((i - 1, i == 0), (i + 1, i == len(nums) - 1)):
        if edge:
            step = nums[1] - nums[0] if j < i else nums[-1] - nums[-2]
            v = at - step if j < i else at + step
        else:
            v = (at + nums[j]) / 2
        if integer:
            v = round(v)
        if v != at and v not in nums:
            out.append(int(v) if integer else v)
    return out


def _most_sensitive(sens: dict[str, dict[str, Any]]) -> str | None:
    """The parameter whose values move the mean objective most; None when none moves it (a
    single combination, or parameters held at one value, say nothing about sensitivity)."""
    moving = {k: v["spread"] for k, v in sens.items() if v["spread"]}
    return max(moving, key=lambda k: moving[k]) if moving else None
