"""A run too short for its statistics says so: in the result, summary.json and the report."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.analysis import reliability_notes, unreliable_metrics
from workbench.analysis.reliability import MIN_TRADE_DATES, MIN_TRADES
from workbench.backtest import run_backtest
from workbench.data import load_bars
from workbench.results import build_summary, validate_summary
from workbench.strategies import MomentumStrategy
from workbench.visualization.report.page import render_report

PERF = {
    "sharpe_ratio": 1.0,
    "sortino_ratio": 2.0,
    "calmar_ratio": 0.5,
    "win_rate": 0.5,
    "profit_factor": 1.2,
    "avg_trade_pnl": 3.0,
}


@pytest.mark.parametrize(
    ("days", "trades", "expected"),
    [
        (MIN_TRADE_DATES, MIN_TRADES, []),
        (MIN_TRADE_DATES - 1, MIN_TRADES, ["calmar_ratio", "sharpe_ratio", "sortino_ratio"]),
        (MIN_TRADE_DATES, MIN_TRADES - 1, ["avg_trade_pnl", "profit_factor", "win_rate"]),
    ],
)
def test_the_thresholds(days: int, trades: int, expected: list[str]) -> None:
    notes = reliability_notes(
        {**PERF, "total_trades": trades},
        {"trading_days": days, "start": "2024-01-02", "end": "2024-02-01"},
    )
    assert unreliable_metrics(notes) == expected


def test_a_short_run_is_flagged_in_summary_and_report(small_sample: Path) -> None:
    bars = load_bars("MCL_FUT", data_dir=small_sample, start="2024-01-08", end="2024-01-12")
    result = run_backtest(bars, MomentumStrategy(fast_period=10, slow_period=40))
    assert result.data_range["trading_days"] < MIN_TRADE_DATES
    summary = build_summary(result)
    validate_summary(summary)
    assert "sharpe_ratio" in summary["unreliable_metrics"]
    assert any("trade date" in w for w in summary["warnings"])
    # the Calmar ratio is not computed over so few days, and the warning says why
    assert summary["performance"]["calmar_ratio"] is None
    assert any("calmar_ratio n/a (a growth rate compounded" in w for w in summary["warnings"])
    html = render_report(result, summary, {})
    assert 'id="reliability-banner"' in html
    assert "annualized, daily · unreliable" in html


def test_a_long_run_is_not_flagged(small_sample: Path) -> None:
    bars = load_bars("MCL_FUT", data_dir=small_sample)
    result = run_backtest(bars, MomentumStrategy(fast_period=10, slow_period=40))
    assert result.data_range["trading_days"] >= MIN_TRADE_DATES
    summary = build_summary(result)
    validate_summary(summary)
    assert result.metrics["performance"]["total_trades"] >= MIN_TRADES
    assert summary["warnings"] == []
    assert summary["unreliable_metrics"] == []
    assert 'id="reliability-banner"' not in render_report(result, summary, {})
