"""``--grid`` specs: values a,b,c or an inclusive range low:high[:step], as the help says;
a bad one gets one clear error with the syntax, exit status 2."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from workbench.cli.main import main
from workbench.cli.sweep import _parse_grid, sweep
from workbench.strategies.momentum import MomentumStrategy


def _fail(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run the CLI in this process; it must exit 2 with a message on stderr."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


def test_grid_range_without_step_steps_by_one_for_an_integer() -> None:
    grid = _parse_grid(("fast_period=5:10",), MomentumStrategy)
    assert grid["fast_period"].values() == [5, 6, 7, 8, 9, 10]
    three = _parse_grid(("slow_period=50:200:50",), MomentumStrategy)
    assert three["slow_period"].values() == [50, 100, 150, 200]


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ("atr_stop_mult=1:3", "a range of the float parameter atr_stop_mult needs a step"),
        ("fast_period=5:10:2:1", "a range is low:high (integers, step 1) or low:high:step"),
        ("fast_period=5:", "a range is low:high"),
        ("fast_period=5:x", "fast_period='x' is not a valid int"),
        ("fast_period=10:5", "give low <= high and a positive step"),
    ],
)
def test_grid_range_errors_say_the_syntax(
    small_sample: Path, capsys: pytest.CaptureFixture[str], spec: str, needle: str
) -> None:
    argv = ["sweep", "--data-dir", str(small_sample), "--strategy", "ema_crossover"]
    err = _fail([*argv, "--grid", spec, "--no-save", "--no-progress"], capsys)
    assert f"--grid '{spec}'" in err
    assert needle in err


def test_grid_help_documents_the_range_forms() -> None:
    text = " ".join(sweep.get_help(click.Context(sweep)).split())
    assert "low:high:step" in text
    assert "low:high steps by 1" in text
