"""Searches beyond grids: seeded random and Latin-hypercube samples, optuna (with pruning),
the trial count in the deflated Sharpe ratio, optuna's next experiments, the CLI."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from tests.integration.subprocesses import EXE, child_env
from workbench.data import load_bars
from workbench.errors import ConfigError
from workbench.optimize import ParameterGrid, StrategyOptimizer, sample_combinations, search, sweep
from workbench.strategies import BreakoutStrategy, MeanReversionStrategy, MomentumStrategy

GRID = {"fast_period": [5, 10, 20, 30], "slow_period": [10, 20, 40, 60, 90]}


@pytest.fixture(scope="module")
def bars(small_sample: Path) -> pd.DataFrame:
    return load_bars("MCL_FUT", data_dir=small_sample, start="2024-01-08", end="2024-02-16")


@pytest.mark.parametrize("method", ["random", "lhs"])
def test_samples_are_seeded_distinct_and_from_the_grid(method: str) -> None:
    grid = ParameterGrid(MeanReversionStrategy)  # the declared ranges: 12,600 points
    a = sample_combinations(grid, 40, method=method, seed=7)
    assert a == sample_combinations(grid, 40, method=method, seed=7)
    assert a != sample_combinations(grid, 40, method=method, seed=8)
    assert len({json.dumps(p, sort_keys=True) for p in a}) == 40
    for p in a:
        assert all(p[k] in grid.ranges[k] for k in grid.ranges)
    with pytest.raises(ConfigError, match="at most 4"):
        sample_combinations(ParameterGrid(MomentumStrategy, {"fast_period": [1, 2, 3, 4]}), 5)


def test_latin_hypercube_uses_every_stratum_once() -> None:
    grid = ParameterGrid(BreakoutStrategy)  # entry_period has 21 values, exit_period 12
    k = len(grid.ranges["entry_period"])
    sample = sample_combinations(grid, k, method="lhs", seed=3)
    # one point per stratum: with as many trials as values, each value appears once
    assert Counter(p["entry_period"] for p in sample) == Counter(grid.ranges["entry_period"])
    # a coarser parameter spreads evenly: each of its values about k / 12 times
    counts = Counter(p["exit_period"] for p in sample)
    assert max(counts.values()) - min(counts.values()) <= 1
    assert len(counts) == len(grid.ranges["exit_period"])


def test_random_search_rows_are_the_sweep_of_its_sample(bars: pd.DataFrame) -> None:
    grid = ParameterGrid(MomentumStrategy, GRID)
    result = search(bars, grid, method="random", trials=8, seed=1)
    sample = sample_combinations(grid, 8, method="random", seed=1)
    valid = [p for p in sample if grid.check(p) is None]
    assert len(result.table) == len(valid)
    assert len(result.skipped) == 8 - len(valid)
    assert result.n_trials == 8  # refused ones count too
    assert result.diagnostics()["trials"] == 8
    assert result.options["search"] == {"method": "random", "seed": 1, "trials": 8}
    full = sweep(bars, grid)
    keyed = full.table.set_index(["fast_period", "slow_period"])
    for row in result.table.to_dict("records"):
        want = keyed.loc[(row["fast_period"], row["slow_period"])]
        assert row["sharpe_ratio"] == want["sharpe_ratio"]
    assert full.n_trials == len(grid)


def test_optuna_is_seeded_and_counts_every_trial(bars: pd.DataFrame) -> None:
    grid = ParameterGrid(MomentumStrategy, GRID)
    a = search(bars, grid, method="optuna", trials=10, seed=5)
    b = search(bars, grid, method="optuna", trials=10, seed=5)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert a.skipped == b.skipped
    # every distinct combination optuna asked for is a trial: run, refused or failed
    assert a.n_trials == len(a.table) + len(a.skipped)
    assert 1 <= a.n_trials <= 10
    assert a.diagnostics()["trials"] == a.n_trials
    assert all("must be < slow_period" in why for _, why in a.skipped)
    with pytest.raises(ConfigError, match="needs a number of trials"):
        search(bars, grid, method="lhs")
    with pytest.raises(ConfigError, match="unknown search"):
        search(bars, grid, method="annealing", trials=3)


def test_optuna_pruning_stops_hopeless_trials(bars: pd.DataFrame) -> None:
    grid = ParameterGrid(BreakoutStrategy, {"entry_period": list(range(10, 130, 5))})
    result = search(bars, grid, method="optuna", trials=24, seed=2, prune=True)
    pruned = [why for _, why in result.skipped if why.startswith("pruned")]
    assert pruned, "the median pruner stopped no trial"
    assert result.n_trials == len(result.table) + len(result.skipped)


def test_next_experiments_from_optuna(bars: pd.DataFrame) -> None:
    grid = ParameterGrid(MomentumStrategy, GRID)
    result = sweep(bars, grid, combinations=sample_combinations(grid, 8, seed=4))
    opt = StrategyOptimizer(result)
    nxt = opt.generate_next_experiments(n=4, method="optuna", seed=11)
    assert nxt == opt.generate_next_experiments(n=4, method="optuna", seed=11)
    assert len(nxt) == 4
    tested = {(r["fast_period"], r["slow_period"]) for r in result.table.to_dict("records")}
    for p in nxt:
        assert (p["fast_period"], p["slow_period"]) not in tested
        assert grid.check(p) is None


def test_cli_search(small_sample: Path, tmp_path: Path) -> None:
    out = subprocess.run(
        [
            *(EXE, "sweep", "--data-dir", str(small_sample), "--strategy", "donchian_breakout"),
            *("--search", "lhs", "--trials", "6", "--seed", "3", "--results-dir", str(tmp_path)),
            *("--json", "--end", "2024-02-16"),
        ],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["combinations"] == 6
    assert doc["diagnostics"]["trials"] == 6
    assert "6 combinations, lhs search, data 2024-01-01" in out.stderr
    saved = json.loads((Path(doc["folder"]) / "best_params.json").read_text())
    assert saved["options"]["search"] == {"method": "lhs", "seed": 3, "trials": 6}
    missing = subprocess.run(
        [EXE, "sweep", "--data-dir", str(small_sample), "--search", "optuna", "--no-save"],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert missing.returncode != 0
    assert "--search optuna needs --trials N" in missing.stderr
