"""`workbench backtest --json` prints the summary.json document (one builder): its warnings,
unreliable figures and account findings are never missing from one of the two."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from workbench.backtest import run_backtest
from workbench.data import load_bars
from workbench.results import backtest_document, build_summary
from workbench.strategies import BreakoutStrategy

SHORT = ("--start", "2024-02-05", "--end", "2024-02-10")


@pytest.fixture(scope="module")
def bars(small_sample: Path) -> pd.DataFrame:
    return load_bars("MCL_FUT", data_dir=small_sample)


def test_cli_json_is_the_saved_summary_plus_parameters(small_sample: Path, tmp_path: Path) -> None:
    from workbench.cli.main import cli

    args = ["backtest", "--data-dir", str(small_sample), *SHORT, "--json"]
    res = CliRunner().invoke(cli, [*args, "--results-dir", str(tmp_path)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    saved = json.loads((Path(doc.pop("run_dir")) / "summary.json").read_text())
    assert doc.pop("parameters")["strategy"]["key"] == "ema_crossover"
    assert doc == saved
    # a short run: the warnings are there, in the unsaved run's JSON too
    res = CliRunner().invoke(cli, [*args, "--no-save-results"], catch_exceptions=False)
    unsaved = json.loads(res.stdout)
    assert unsaved["warnings"]
    assert "sharpe_ratio" in unsaved["unreliable_metrics"]
    assert set(saved) | {"parameters"} == set(unsaved)


def test_account_counts_entry_requests_with_risk_management_off(bars: pd.DataFrame) -> None:
    # $600 cannot carry the initial margin after the first losses: entries are refused.
    result = run_backtest(bars, BreakoutStrategy(), use_risk_manager=False, initial_capital=600)
    account = backtest_document(result)["account"]
    assert account["entries_rejected"] > 0
    assert account["entry_requests"] == len(result.trades) + account["entries_rejected"]
    assert account["rejected_share"] == pytest.approx(
        account["entries_rejected"] / account["entry_requests"]
    )
    assert build_summary(result)["account"] == account
