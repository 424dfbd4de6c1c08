"""Sweeps over odd grids: one value, a grid too large to list, nothing valid. Each gets a
clear answer (or a clear refusal) rather than a misleading figure or an exhausted machine."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from workbench.cli.main import main
from workbench.data import load_bars
from workbench.errors import ConfigError
from workbench.optimize import ParameterGrid, StrategyOptimizer, sample_combinations, sweep
from workbench.optimize.grid import MAX_COMBINATIONS
from workbench.strategies import ParamRange
from workbench.strategies.mean_reversion import MeanReversionStrategy
from workbench.strategies.momentum import MomentumStrategy


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    out = capsys.readouterr()
    code = info.value.code
    return (code if isinstance(code, int) else 1), out.out, out.err


def test_a_range_with_more_values_than_a_grid_can_list_is_refused_before_listing_them() -> None:
    with pytest.raises(ConfigError, match=r"'fast_period' \(1:2000000:1\) has 2,000,000 values"):
        ParameterGrid(MomentumStrategy, {"fast_period": ParamRange(1, 2_000_000, 1)})


def test_a_grid_too_large_to_list_is_refused_but_can_still_be_sampled() -> None:
    values = list(range(1, 2001))
    grid = ParameterGrid(MomentumStrategy, {"fast_period": values, "slow_period": values})
    assert len(grid) == 4_000_000 > MAX_COMBINATIONS
    with pytest.raises(ConfigError, match="4,000,000 combinations") as info:
        next(iter(grid))
    assert "--search random" in (info.value.hint or "")
    drawn = sample_combinations(grid, 5, method="random", seed=1)
    assert len(drawn) == 5


def test_cli_refuses_a_huge_grid_even_with_yes(
    small_sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _cli(
        [
            *("sweep", "--data-dir", str(small_sample), "--grid", "fast_period=1:5000"),
            *("--grid", "slow_period=2:5000", "--yes", "--no-save", "--no-progress"),
        ],
        capsys,
    )
    assert code == 2
    assert "error: the ema_crossover grid has 24,995,000 combinations" in err
    assert "--search random --trials" in err
    assert "Traceback" not in err
    assert out == ""


def test_one_combination_names_no_most_sensitive_parameter(small_sample: Path) -> None:
    bars = load_bars("MCL_FUT", data_dir=small_sample)
    grid = ParameterGrid(MomentumStrategy, {"fast_period": [10], "slow_period": [50]})
    analysis = StrategyOptimizer(sweep(bars, grid)).analyze_results()
    assert analysis["combinations"] == 1
    assert analysis["most_sensitive"] is None


def test_a_parameter_held_at_one_value_is_never_the_most_sensitive(small_sample: Path) -> None:
    bars = load_bars("MCL_FUT", data_dir=small_sample)
    grid = ParameterGrid(MomentumStrategy, {"fast_period": [50], "slow_period": [60, 120]})
    analysis = StrategyOptimizer(sweep(bars, grid)).analyze_results()
    assert analysis["sensitivity"]["fast_period"]["spread"] == 0
    assert analysis["most_sensitive"] == "slow_period"


def test_cli_single_combination_and_nothing_valid(
    small_sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["sweep", "--data-dir", str(small_sample), "--no-save", "--no-progress"]
    main([*base, "--grid", "fast_period=10", "--grid", "slow_period=50"])
    out = capsys.readouterr()
    assert "EMA Crossover: 1 combination (" in out.out
    assert "EMA Crossover: 1 combination," in out.err
    assert "most sensitive" not in out.out
    code, _, err = _cli([*base, "--grid", "atr_stop_mult=0,-1"], capsys)
    assert code == 2
    assert "no valid combination in the grid" in err
    assert "per notebook" not in err  # no notebook runs: no notebook estimate


def test_a_grid_value_that_is_not_finite_is_refused() -> None:
    for bad in (float("inf"), float("nan")):
        with pytest.raises(ConfigError, match="'num_std' has a value that is not a finite"):
            ParameterGrid(MeanReversionStrategy, {"num_std": [2.0, bad]})


def test_cli_names_a_refused_combination_and_refuses_an_all_refused_grid_early(
    small_sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["sweep", "--data-dir", str(small_sample), "--no-save", "--no-progress"]
    base += ["--strategy", "bollinger_reversion"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no overflow leaks from num_std * std
        main([*base, "--grid", "num_std=1e308,2"])
    out = capsys.readouterr()
    assert "Bollinger Mean Reversion: 1 combination (1 refused" in out.out
    assert "num_std must be between 0 and 10, got 1e+308" in out.out
    assert 'best: {"num_std": 2.0}' in out.out
    code, stdout, err = _cli([*base, "--grid", "num_std=1e308"], capsys)
    assert code == 2
    assert "no valid combination in the grid" in err
    assert "num_std must be between 0 and 10" in err
    assert "hint: typical values of num_std" in err
    assert err.count("hint:") == 1
    assert "0 combinations" not in err  # refused before the bars are loaded
    assert stdout == ""
    code, _, err = _cli([*base, "--grid", "num_std=3e308,2"], capsys)
    assert code == 2
    assert "num_std='3e308' is not a finite number" in err
    assert "Traceback" not in err
