"""The backtest summary's lines: the header names the symbol run on (a contract, not its
product); money reads ``-$12.50`` or ``n/a``, never ``$-12.50`` or ``$n/a``."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.cli.main import main


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    main(["backtest", *argv, "--no-save-results"])
    return capsys.readouterr().out


def test_header_names_the_contract_run_on(
    small_sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _run(["--data-dir", str(small_sample), "--symbol", "MCLH4"], capsys)
    assert out.startswith("EMA Crossover on MCLH4 ")


def test_money_without_a_stray_dollar(
    small_sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--data-dir", str(small_sample), "--start", "2024-02-06", "--end", "2024-02-06"]
    out = _run([*argv, "--param", "fast_period=5", "--param", "slow_period=5000"], capsys)
    assert "trades 0 " in out
    assert "avg trade n/a" in out
    assert "$n/a" not in out
    out = _run(["--data-dir", str(small_sample)], capsys)
    assert "$-" not in out
