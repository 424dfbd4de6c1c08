"""Saved backtest results: run folders, summary.json, recommendations and comparisons.

>>> from workbench.results import save_results, compare_runs
>>> run_dir = save_results(result)  # results/backtests/2026-01-10_143052_ema_MCL_FUT/
>>> compare_runs([run_a, run_b])  # results/comparisons/2026-01-10_150000/

See :mod:`workbench.results.saver` for the folder layout, :mod:`workbench.results.summary`
for summary.json (:func:`build_summary`, its one builder) and its JSON Schema,
:mod:`workbench.results.recommendations` for the rules, and :mod:`workbench.results.folders`
for how folders appear atomically.

This layer writes data, not pages: report.html and comparison_report.html come from writers
handed in (``save_results(..., writers=[...])``, ``compare_runs(..., writers=[...])``), which
:mod:`workbench.visualization` provides (``save_with_report``, ``compare_with_report``).
Nothing here imports :mod:`workbench.visualization`.
"""

from __future__ import annotations

from workbench.results.compare import (
    PERIOD_DEPENDENT,
    ComparisonWriter,
    NotARunError,
    compare_runs,
    config_differences,
    daily_return_correlation,
    load_equity,
    load_summary,
    period_warning,
)
from workbench.results.folders import is_run_dir, list_runs
from workbench.results.recommendations import make_recommendations
from workbench.results.saver import ResultSaver, RunWriter, save_results
from workbench.results.summary import (
    backtest_document,
    build_summary,
    make_run_id,
    summary_schema,
    utc_now,
    validate_summary,
)

__all__ = [
    "PERIOD_DEPENDENT",
    "ComparisonWriter",
    "NotARunError",
    "ResultSaver",
    "RunWriter",
    "backtest_document",
    "build_summary",
    "compare_runs",
    "config_differences",
    "daily_return_correlation",
    "is_run_dir",
    "list_runs",
    "load_equity",
    "load_summary",
    "make_recommendations",
    "make_run_id",
    "period_warning",
    "save_results",
    "summary_schema",
    "utc_now",
    "validate_summary",
]
