"""report.html, the chart files, report.pdf and comparison_report.html of backtest runs.

:func:`write_report` writes, into a run folder::

    report.html            the report page
    plotly.min.js          the folder's one copy of plotly.js, loaded by report.html and
                           charts/*.html with a relative <script src> (offline, from disk,
                           and after the folder is moved or zipped whole)
    report.pdf             the same page printed by headless Chromium (when one is installed)
    charts/{name}.html     one page per registered chart (equity_curve, drawdown, ...)

:func:`write_comparison_report` writes comparison_report.html for several runs: their
metrics side by side and their equity curves overlaid, loading plotly.min.js beside it
the same way. Both take the runs' summary.json
dicts (:func:`workbench.results.build_summary`, the one builder). :func:`save_with_report`
and :func:`compare_with_report` hand these writers to :mod:`workbench.results`.

Modules: :mod:`~.page` (report.html, charts/), :mod:`~.sections` (its tables),
:mod:`~.comparison`, :mod:`~.pdf`, :mod:`~.document` (page skeleton, embedded figures),
:mod:`~.save`. Style, script and HTML skeletons are package data in
``workbench/visualization/templates/`` (:mod:`workbench.visualization.assets`).

Sizes and speed: long curves are downsampled for display (see
:func:`workbench.visualization.charts.downsample_minmax`) and the trade table is capped, so
a two-year 1-minute backtest (737k bars) gives a report.html of about 0.4 MB (321 trades) to
0.9 MB (27k trades) beside the 4.8 MB plotly.min.js; the size does not grow with the bars or
trades.
Writing report.html and charts/ takes about 1 s for it; printing report.pdf 4-7 s more
(Chromium starting and parsing plotly.js dominate), so the PDF is optional.
"""

from __future__ import annotations

from workbench.visualization.assets import plotly_js
from workbench.visualization.report.comparison import (
    COMPARISON_FILE,
    COMPARISON_ROWS,
    comparison_figures,
    comparison_table_html,
    write_comparison_report,
)
from workbench.visualization.report.document import (
    PLOTLY_CONFIG,
    PLOTLY_JS_FILE,
    PRINT_TABLE_ROWS,
    figure_div,
    write_plotly_js,
)
from workbench.visualization.report.page import (
    CHARTS_DIR,
    REPORT_FILE,
    render_report,
    report_writer,
    write_chart_files,
    write_report,
)
from workbench.visualization.report.pdf import (
    CHROMIUM_ENV,
    PDF_FILE,
    chromium_command,
    find_chromium,
    write_pdf,
)
from workbench.visualization.report.save import compare_with_report, save_with_report
from workbench.visualization.report.sections import trade_table_html

__all__ = [
    "CHARTS_DIR",
    "CHROMIUM_ENV",
    "COMPARISON_FILE",
    "COMPARISON_ROWS",
    "PDF_FILE",
    "PLOTLY_CONFIG",
    "PLOTLY_JS_FILE",
    "PRINT_TABLE_ROWS",
    "REPORT_FILE",
    "chromium_command",
    "compare_with_report",
    "comparison_figures",
    "comparison_table_html",
    "figure_div",
    "find_chromium",
    "plotly_js",
    "render_report",
    "report_writer",
    "save_with_report",
    "trade_table_html",
    "write_chart_files",
    "write_comparison_report",
    "write_pdf",
    "write_plotly_js",
    "write_report",
]
