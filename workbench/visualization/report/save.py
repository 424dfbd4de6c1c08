"""Save a run, or compare runs, with their pages: :mod:`workbench.results` hands the folder to
the report writers of this package (results itself never draws)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.results import compare_runs, save_results
from workbench.results.compare import DEFAULT_COMPARISONS_DIR
from workbench.results.saver import DEFAULT_RESULTS_DIR
from workbench.visualization.report.comparison import write_comparison_report
from workbench.visualization.report.page import report_writer

if TYPE_CHECKING:
    from workbench.backtest.result import BacktestResult


def save_with_report(
    result: BacktestResult,
    results_dir: str | Path = DEFAULT_RESULTS_DIR,
    *,
    run_id: str | None = None,
    pdf: bool = False,
    charts: bool = True,
) -> Path:
    """Save a backtest's run folder with report.html, charts/ and (optionally) report.pdf.

    :func:`workbench.results.save_results` with :func:`report_writer` handed in: the report
    is written inside the atomic save, so the folder appears complete or not at all.

    Parameters
    ----------
    result : BacktestResult
        The backtest.
    results_dir : str or Path, default "results/backtests"
        The folder of runs (created if missing).
    run_id : str, optional
        The folder name (default: ``{UTC time}_{strategy}_{symbol}``).
    pdf : bool, default False
        Also print report.pdf with headless Chromium (a few seconds more).
    charts : bool, default True
        Also write one page per chart into charts/.

    Returns
    -------
    Path
        The run folder (also ``result.extra["run_dir"]``).
    """
    writer = report_writer(pdf=pdf, charts=charts)
    return save_results(result, results_dir, run_id=run_id, writers=[writer])


def compare_with_report(
    run_dirs: Sequence[str | Path],
    out_root: str | Path = DEFAULT_COMPARISONS_DIR,
) -> Path:
    """Compare saved runs: strategy_comparison.csv and comparison_report.html.

    :func:`workbench.results.compare_runs` with :func:`write_comparison_report` handed in.

    Parameters
    ----------
    run_dirs : sequence of str or Path
        Two or more run folders, each once.
    out_root : str or Path, default "results/comparisons"
        Where the comparison folder (named by the UTC time) is created.

    Returns
    -------
    Path
        The comparison folder.
    """
    return compare_runs(list(run_dirs), out_root, writers=[write_comparison_report])
