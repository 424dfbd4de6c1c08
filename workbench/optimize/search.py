"""Searches beyond the full grid: random and Latin-hypercube samples of the declared ranges,
and a Bayesian search through optuna. All seeded: the same seed gives the same trials.

>>> from workbench.optimize import ParameterGrid, search
>>> grid = ParameterGrid(BreakoutStrategy)                 # the declared ranges: 12,600 points
>>> result = search(bars, grid, method="lhs", trials=60, seed=7)
>>> result.trials                                           # 60: what the deflated Sharpe counts

Every method draws from the grid's values (a :class:`ParamRange` becomes its list of values),
so a search is a subset of the sweep it replaces and its rows compare with a grid's.

- ``random``: ``trials`` distinct combinations drawn uniformly from the grid.
- ``lhs``: a Latin hypercube: each parameter's range is cut into ``trials`` equal strata,
  each stratum used once (at its middle) in a random order per parameter, so every
  parameter's values are used as evenly as their number allows; duplicate combinations are
  replaced by random draws.
- ``optuna``: optuna's TPE sampler (seeded), integer and float parameters on an even grid as
  stepped ranges, others as categories; a combination the strategy refuses is a pruned trial.
  With ``prune=True`` each trial is first run on the first half of the bars and stopped there
  when it is below the median of earlier trials at that point (optuna's ``MedianPruner``).

The number of trials given to the deflated Sharpe ratio is every trial run, refused or
pruned: a search that looked at 60 combinations has had 60 chances to be lucky.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from workbench.errors import ConfigError
from workbench.optimize.grid import ParameterGrid
from workbench.optimize.progress import progress_bar
from workbench.optimize.runner import combo_key, evaluate
from workbench.optimize.sweep import (
    MINIMIZE,
    SweepResult,
    _options_dict,
    check_objective,
    describe_bars,
    ranked,
    sweep,
)

#: The search methods.
METHODS = ("grid", "random", "lhs", "optuna")


def _decode(grid: ParameterGrid, flat: int) -> dict[str, Any]:
    """The ``flat``-th combination of ``grid`` (in its iteration order)."""
    out: dict[str, Any] = {}
    for name in reversed(list(grid.ranges)):
        vals = grid.ranges[name]
        flat, i = divmod(flat, len(vals))
        out[name] = vals[i]
    return {k: out[k] for k in grid.ranges}


def sample_combinations(
    grid: ParameterGrid, trials: int, *, method: str = "random", seed: int = 0
) -> list[dict[str, Any]]:
    """``trials`` distinct combinations of ``grid``, drawn by ``method`` with ``seed``.

    Parameters
    ----------
    grid : ParameterGrid
        The values to draw from.
    trials : int
        How many (at most the grid's size; more is refused).
    method : {"random", "lhs"}
    seed : int, default 0

    Returns
    -------
    list of dict
        Valid or not: the strategy's refusals are set aside by :func:`sweep` and still count
        as trials.
    """
    if method not in ("random", "lhs"):
        raise ConfigError(f"unknown sampling method {method!r}", hint="random or lhs")
    total = len(grid)
    if trials < 1:
        raise ConfigError(f"trials must be >= 1, got {trials}")
    if trials > total:
        raise ConfigError(
            f"{trials} trials asked of a grid of {total} combinations",
            hint=f"ask for at most {total}, or sweep the whole grid",
        )
    rng = np.random.default_rng(seed)
    if method == "random":
        flats = rng.choice(total, size=trials, replace=False)
        return [_decode(grid, int(f)) for f in flats]
    names = list(grid.ranges)
    columns = []
    for name in names:
        k = len(grid.ranges[name])
        # one point per stratum, at its middle: a discrete parameter's values are then used
        # as evenly as the strata allow (jitter inside a stratum would only add uneven counts)
        strata = (rng.permutation(trials) + 0.5) / trials
        columns.append(np.minimum((strata * k).astype(np.int64), k - 1))
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for row in zip(*columns, strict=True):
        combo = {n: grid.ranges[n][int(i)] for n, i in zip(names, row, strict=True)}
        key = combo_key(combo)
        if key not in seen:
            seen.add(key)
            out.append(combo)
    while len(out) < trials:  # a coarse parameter repeats values: fill with random draws
        combo = _decode(grid, int(rng.integers(total)))
        key = combo_key(combo)
        if key not in seen:
            seen.add(key)
            out.append(combo)
    return out


def _distributions(grid: ParameterGrid) -> dict[str, Any]:
    """optuna distributions of the grid's values: stepped int/float ranges, else categories."""
    # start-up: optuna (with sqlalchemy and alembic) takes about a second to import; only
    # optuna searches need it
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    out: dict[str, Any] = {}
    for name, vals in grid.ranges.items():
        nums = [v for v in vals if isinstance(v, (int, float)) and not isinstance(v, bool)]
        steps = np.diff(sorted(nums)) if len(nums) == len(vals) and len(vals) > 1 else np.zeros(0)
        step = float(steps[0]) if steps.size else 0.0
        even = steps.size > 0 and step > 0 and bool(np.allclose(steps, step))
        if even and all(isinstance(v, int) for v in vals):
            out[name] = IntDistribution(min(vals), max(vals), step=int(step))
        elif even:
            out[name] = FloatDistribution(min(vals), max(vals), step=step)
        else:
            out[name] = CategoricalDistribution(list(vals))
    return out


def _snap(grid: ParameterGrid, params: dict[str, Any]) -> dict[str, Any]:
    """Each value replaced by the grid's value nearest to it (floats off by rounding)."""
    out = {}
    for name, v in params.items():
        vals = grid.ranges[name]
        if v in vals:
            out[name] = v
        else:
            out[name] = min(vals, key=lambda x: abs(float(x) - float(v)))
    return out


def _value(row: dict[str, Any] | None, objective: str) -> float | None:
    if row is None:
        return None
    v = row.get(objective)
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return None
    return float(v)


def optuna_search(
    bars: pd.DataFrame,
    grid: ParameterGrid,
    *,
    trials: int,
    seed: int = 0,
    objective: str = "sharpe_ratio",
    prune: bool = False,
    progress: bool = False,
    blocks: int = 16,
    **options: Any,
) -> SweepResult:
    """A Bayesian search (optuna TPE, seeded) over the grid's values; see the module notes.

    Parameters
    ----------
    bars, grid, objective, blocks, **options
        As :func:`workbench.optimize.sweep`.
    trials : int
        Trials to run (a repeated combination is run once and counted once).
    seed : int, default 0
    prune : bool, default False
        Stop hopeless trials after the first half of the bars (median rule).
    progress : bool, default False
        A progress bar (stderr; a widget in Jupyter).

    Returns
    -------
    SweepResult
        Every completed trial in ``table``; refused, failed and pruned ones in ``skipped``;
        ``trials`` = every trial run.
    """
    # start-up: optuna is imported only by optuna searches (about a second)
    import optuna

    check_objective(objective)
    if trials < 1:
        raise ConfigError(f"trials must be >= 1, got {trials}")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    direction = (
        optuna.study.StudyDirection.MINIMIZE
        if objective in MINIMIZE
        else optuna.study.StudyDirection.MAXIMIZE
    )
    pruner = (
        optuna.pruners.MedianPruner(n_startup_trials=5) if prune else optuna.pruners.NopPruner()
    )
    study = optuna.create_study(
        direction=direction, sampler=optuna.samplers.TPESampler(seed=seed), pruner=pruner
    )
    dists = _distributions(grid)
    half = bars.iloc[: len(bars) // 2]
    done: dict[str, tuple[dict[str, Any] | None, pd.Series | None, str | None]] = {}
    order: list[str] = []
    skipped: list[tuple[dict[str, Any], str]] = []
    with progress_bar(trials, "trials", enabled=progress) as bar:
        for _ in range(trials):
            trial = study.ask(dists)
            params = _snap(grid, dict(trial.params))
            key = combo_key(params)
            why = grid.check(params)
            if why is not None:
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                if key not in done:
                    done[key] = (None, None, why)
                    skipped.append((params, why))
            elif key in done:  # TPE asked again: the answer is known, no new trial counted
                row = done[key][0]
                value = _value(row, objective)
                state = optuna.trial.TrialState.COMPLETE if value is not None else None
                study.tell(trial, value, state=state or optuna.trial.TrialState.FAIL)
            else:
                if prune:
                    first = evaluate(half, grid.strategy, params, options)
                    v = _value(first.row, objective)
                    if v is not None:
                        trial.report(v, step=0)
                    if v is not None and trial.should_prune():
                        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                        done[key] = (None, None, "pruned")
                        skipped.append((params, f"pruned: {objective} {v:.4g} on the first half"))
                        bar.update(1)
                        continue
                o = evaluate(bars, grid.strategy, params, options)
                if o.error is not None:
                    skipped.append((params, f"failed: {o.error}"))
                    done[key] = (None, None, o.error)
                    study.tell(trial, state=optuna.trial.TrialState.FAIL)
                else:
                    done[key] = (o.row, o.returns, None)
                    order.append(key)
                    value = _value(o.row, objective)
                    if value is None:
                        study.tell(trial, state=optuna.trial.TrialState.FAIL)
                    else:
                        study.tell(trial, value)
            bar.update(1)
    rows = [done[k][0] for k in order]
    rets = [done[k][1] for k in order]
    if not rows:
        raise ConfigError(
            f"{grid.strategy.name}: none of {trials} optuna trials ran",
            hint=skipped[0][1] if skipped else None,
        )
    table, returns = ranked(
        [r for r in rows if r is not None], grid, objective, [r for r in rets if r is not None]
    )
    return SweepResult(
        table=table,
        objective=objective,
        grid=grid,
        skipped=skipped,
        options={
            **_options_dict(options),
            "search": {"method": "optuna", "seed": seed, "trials": trials, "prune": prune},
        },
        returns=returns,
        trials=len(done),
        blocks=blocks,
        engine_note="optuna: one backtest per trial, each chosen after the previous ones",
        data=describe_bars(bars),
    )


def search(
    bars: pd.DataFrame,
    grid: ParameterGrid,
    *,
    method: str = "random",
    trials: int | None = None,
    seed: int = 0,
    objective: str = "sharpe_ratio",
    prune: bool = False,
    **kwargs: Any,
) -> SweepResult:
    """Search ``grid`` by ``method`` with ``trials`` trials; see the module notes.

    Parameters
    ----------
    bars : pandas.DataFrame
    grid : ParameterGrid
    method : {"grid", "random", "lhs", "optuna"}, default "random"
        ``grid`` sweeps every combination (``trials`` ignored).
    trials : int
        Trials (required except for ``grid``).
    seed : int, default 0
    objective : str, default "sharpe_ratio"
    prune : bool, default False
        optuna only: stop hopeless trials early.
    **kwargs
        :func:`~workbench.optimize.sweep` keywords (``client``, ``folder``, ``progress``,
        ``blocks`` ...) and backtest options.

    Returns
    -------
    SweepResult
        ``trials`` set to every trial run (refused ones included).
    """
    if method not in METHODS:
        raise ConfigError(f"unknown search {method!r}", hint=f"one of: {', '.join(METHODS)}")
    if method == "grid":
        return sweep(bars, grid, objective=objective, **kwargs)
    if trials is None:
        raise ConfigError(f"a {method} search needs a number of trials", hint="e.g. --trials 50")
    if method == "optuna":
        unsupported = sorted({"client", "folder", "chunk_size"} & set(kwargs))
        if unsupported:
            raise ConfigError(
                f"an optuna search runs in this process: {', '.join(unsupported)} not supported",
                hint="use --search random or lhs on a cluster or with a resumable folder",
            )
        return optuna_search(
            bars, grid, trials=trials, seed=seed, objective=objective, prune=prune, **kwargs
        )
    combos = sample_combinations(grid, trials, method=method, seed=seed)
    info = {"method": method, "seed": seed, "trials": trials}
    return sweep(bars, grid, objective=objective, combinations=combos, search_info=info, **kwargs)


def suggest_with_optuna(
    grid: ParameterGrid, table: pd.DataFrame, objective: str, *, n: int = 5, seed: int = 0
) -> list[dict[str, Any]]:
    """``n`` untested combinations of ``grid`` that optuna's TPE sampler (seeded) proposes
    after being told every row of a sweep ``table`` (its parameters and ``objective``).

    Parameters
    ----------
    grid : ParameterGrid
        The values to propose from.
    table : pandas.DataFrame
        A sweep table (parameters and the objective column).
    objective : str
    n : int, default 5
    seed : int, default 0

    Returns
    -------
    list of dict
        At most ``n`` (fewer when the grid runs out), none already in ``table``, all accepted
        by the strategy.
    """
    # start-up: optuna is imported only when asked for (about a second)
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dists = _distributions(grid)
    direction = (
        optuna.study.StudyDirection.MINIMIZE
        if objective in MINIMIZE
        else optuna.study.StudyDirection.MAXIMIZE
    )
    study = optuna.create_study(direction=direction, sampler=optuna.samplers.TPESampler(seed=seed))
    names = list(grid.ranges)
    tested = set()
    for rec in table[[*names, objective]].to_dict("records"):
        params = {k: rec[k].item() if hasattr(rec[k], "item") else rec[k] for k in names}
        tested.add(combo_key(params))
        value = _value(rec, objective)
        if value is None or any(params[k] not in grid.ranges[k] for k in names):
            continue
        study.add_trial(optuna.trial.create_trial(params=params, distributions=dists, value=value))
    out: list[dict[str, Any]] = []
    for _ in range(max(50, 20 * n)):
        if len(out) >= n:
            break
        trial = study.ask(dists)
        params = _snap(grid, dict(trial.params))
        key = combo_key(params)
        if key in tested or grid.check(params) is not None:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            continue
        tested.add(key)
        out.append(params)
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)  # not run: no value to learn
    return out
