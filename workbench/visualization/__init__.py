"""Charts, HTML/PDF reports and the notebook dashboard of a backtest.

>>> from workbench.visualization import BacktestViewer, write_report
>>> write_report(result, run_dir, summary)  # doctest: +SKIP
>>> BacktestViewer().show(result)  # doctest: +SKIP

Names are imported on first use (Plotly and ipywidgets take a while to import).
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
        summary_from_result,
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
    "summary_from_result": "report",
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
