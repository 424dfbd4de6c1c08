"""Charts, HTML/PDF reports and the notebook dashboard of a backtest.

>>> from workbench.visualization import BacktestViewer, save_with_report
>>> run_dir = save_with_report(result)  # doctest: +SKIP  (results folder + report.html)
>>> BacktestViewer().show(result)  # doctest: +SKIP

Layering: this package draws; :mod:`workbench.results` writes data. The report writers are
handed to the results layer (``save_results(..., writers=[report_writer()])``), never looked
up by it. Summaries come from :func:`workbench.results.build_summary`.

Names are imported on first use (Plotly and ipywidgets take a while to import: this keeps
``import workbench.visualization`` cheap for the CLI).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - names for type checkers and IDEs
    from workbench.visualization.charts import (  # noqa: F401
        build_chart,
        build_charts,
        chart_names,
        downsample_minmax,
        register_chart,
    )
    from workbench.visualization.report import (  # noqa: F401
        compare_with_report,
        report_writer,
        save_with_report,
        write_comparison_report,
        write_pdf,
        write_report,
    )
    from workbench.visualization.sweep_charts import sweep_heatmap  # noqa: F401
    from workbench.visualization.viewer import BacktestViewer, create_dashboard  # noqa: F401

_EXPORTS = {
    "build_chart": "charts",
    "build_charts": "charts",
    "chart_names": "charts",
    "downsample_minmax": "charts",
    "register_chart": "charts",
    "compare_with_report": "report",
    "report_writer": "report",
    "save_with_report": "report",
    "write_comparison_report": "report",
    "write_pdf": "report",
    "write_report": "report",
    "sweep_heatmap": "sweep_charts",
    "BacktestViewer": "viewer",
    "create_dashboard": "viewer",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module = importlib.import_module(f"workbench.visualization.{_EXPORTS[name]}")
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'workbench.visualization' has no attribute {name!r}")
