"""The backtest dashboard: ipywidgets tabs in a notebook, report.html in a browser elsewhere.

>>> from workbench.visualization import BacktestViewer
>>> BacktestViewer().show(result)  # doctest: +SKIP

In a Jupyter kernel :meth:`BacktestViewer.show` displays :func:`create_dashboard`: a
``ipywidgets.Tab`` with Overview, Equity, Drawdown, Trades, Monthly, Time analysis and
Statistics. Charts are ``plotly.graph_objects.FigureWidget`` (Plotly 6+ builds them on
anywidget, whose JupyterLab extension ships with the ``anywidget`` package); without
anywidget they are ``ipywidgets.Output`` areas showing the figure through Plotly's notebook
renderer. The trade table is sorted in Python (a column and a direction to choose), so it
sorts every trade, not only the rows on screen.

Outside a kernel (a script, the CLI) ``show`` writes report.html -- into the run folder
when it is known, else a temporary folder -- and opens it with :mod:`webbrowser`, unless
the environment variable ``WORKBENCH_NO_BROWSER`` is ``1`` (tests, CI, servers).
"""

from __future__ import annotations

import importlib.util
import logging
import math
import os
import tempfile
import webbrowser
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import plotly.graph_objects as go

from workbench.results import build_summary, is_run_dir, load_summary
from workbench.visualization import charts as C
from workbench.visualization.assets import asset
from workbench.visualization.html_parts import (
    banner,
    esc,
    fmt_num,
    kv_table,
    metric_cards,
    plain,
    tone,
    usd,
)
from workbench.visualization.report import REPORT_FILE, write_report
from workbench.visualization.report.sections import statistics_section

if TYPE_CHECKING:
    import ipywidgets

    from workbench.backtest.result import BacktestResult

logger = logging.getLogger(__name__)

#: Set to ``1`` to keep :meth:`BacktestViewer.show` from opening a browser.
NO_BROWSER_ENV = "WORKBENCH_NO_BROWSER"
#: Rows of the dashboard's trade table shown at once.
TABLE_PAGE_ROWS = 200
#: Tab titles of :func:`create_dashboard`, in order.
TAB_TITLES = (
    "Overview",
    "Equity",
    "Drawdown",
    "Trades",
    "Monthly",
    "Time analysis",
    "Statistics",
)


def dashboard_css() -> str:
    """The ``<style>`` of the dashboard's HTML parts (``templates/dashboard.css``)."""
    return f"\n<style>\n{asset('dashboard.css')}</style>\n"


def in_notebook() -> bool:
    """Whether code runs in a Jupyter kernel (an IPython shell with a kernel)."""
    try:
        from IPython import get_ipython  # optional: absent outside Jupyter installs
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def figurewidget_available() -> bool:
    """Whether ``plotly.graph_objects.FigureWidget`` can be built (Plotly 6+ needs anywidget)."""
    return importlib.util.find_spec("anywidget") is not None


def _json_safe(value: Any) -> Any:
    """``value`` with every NaN or infinity (in floats, lists, tuples and numpy float arrays)
    replaced by None, which Plotly draws as a gap."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            return [_json_safe(v) for v in value.tolist()]
        if value.dtype.kind == "O":
            return [_json_safe(v) for v in value.tolist()]
        return value
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    return value


def json_safe_figure(fig: go.Figure) -> go.Figure:
    """A copy of ``fig`` whose data holds no NaN or infinity (None instead).

    A widget's state travels to the browser as JSON, which has no NaN: jupyter-client then
    warns "Message serialization failed ... Out of range float values are not JSON
    compliant" (the monthly heatmap has NaN for months without trade dates, the rolling
    Sharpe for its first window). Plotly draws None as a gap, as it draws NaN.

    Parameters
    ----------
    fig : plotly.graph_objects.Figure

    Returns
    -------
    plotly.graph_objects.Figure
    """
    data = [_json_safe(trace.to_plotly_json()) for trace in fig.data]
    return go.Figure(data=data, layout=fig.layout)


def figure_widget(fig: go.Figure, *, use_figurewidget: bool | None = None) -> ipywidgets.Widget:
    """A widget showing ``fig``: a FigureWidget, or an Output displaying the figure.

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
        The figure.
    use_figurewidget : bool, optional
        Force one kind; default: FigureWidget when anywidget is installed.

    Returns
    -------
    ipywidgets.Widget
    """
    import ipywidgets as W  # here for start-up time: slow, and only needed in a kernel

    use = figurewidget_available() if use_figurewidget is None else use_figurewidget
    if use:
        return go.FigureWidget(json_safe_figure(fig))
    out = W.Output(layout={"width": "100%"})
    with out:
        from IPython.display import display  # optional package; in a kernel it is there

        display(fig)
    return out


def _overview_html(result: BacktestResult, summary: dict[str, Any]) -> str:
    provenance = {**(result.provenance or {}), **(summary.get("provenance") or {})}
    strategy = summary.get("strategy") or {}
    dr = summary.get("data_range") or result.data_range
    head = (
        f"<h3 style='margin:4px 0'>{esc(strategy.get('name'))} on "
        f"{esc(summary.get('symbol'))}"
        f"{' - SYNTHETIC DATA' if provenance.get('synthetic') else ''}</h3>"
        f"<div class='sub' style='margin-bottom:8px'>{esc(dr.get('start'))} to "
        f"{esc(dr.get('end'))}, {fmt_num(dr.get('trading_days'), ',.0f')} trade dates, "
        f"{fmt_num(dr.get('total_bars'), ',.0f')} bars; parameters "
        f"{esc(plain(strategy.get('parameters') or {}))}</div>"
    )
    recs = summary.get("recommendations") or []
    rec_html = (
        "<ul>" + "".join(f"<li>{esc(r)}</li>" for r in recs) + "</ul>"
        if recs
        else "<p class='sub'>No recommendations.</p>"
    )
    risk = summary.get("risk_metrics") or {}
    ta = summary.get("time_analysis") or {}
    side = (
        "<div style='display:flex;gap:28px;margin-top:12px'>"
        f"<div><b>Recommendations</b>{rec_html}</div>"
        f"<div><b>Risk</b>{kv_table(risk.items())}</div>"
        f"<div><b>Time analysis</b>{kv_table(ta.items())}</div></div>"
    )
    return (
        f"{dashboard_css()}<div class='wb-dash'>{banner(provenance)}{head}"
        f"{metric_cards(summary.get('performance') or {}, summary.get('unreliable_metrics') or ())}"
        f"{side}</div>"
    )


def _trade_table_html(rows: Any, total: int, sort_by: str, ascending: bool) -> str:
    heads = "".join(f"<th class='l'>{esc(h)}</th>" for h in rows.columns)
    body = []
    for rec in rows.itertuples(index=False):
        cells = []
        for h, v in zip(rows.columns, rec, strict=True):
            if h in ("Net P&L", "Commission"):
                cls = tone(v) if h == "Net P&L" else ""
                cells.append(f"<td class='{cls}'>{usd(v)}</td>")
            elif h in ("Entry px", "Exit px"):
                cells.append(f"<td>{fmt_num(v, '.2f')}</td>")
            elif isinstance(v, (int, float, np.integer, np.floating)):
                cells.append(f"<td>{esc(v)}</td>")
            else:
                cells.append(f"<td class='l'>{esc(v)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    order = "ascending" if ascending else "descending"
    note = (
        f"<p class='sub'>{len(rows):,} of {total:,} trades, sorted by {esc(sort_by)} "
        f"({order}); times New York.</p>"
    )
    return (
        f"{dashboard_css()}<div class='wb-dash'>{note}<div style='max-height:460px;overflow:auto'>"
        f"<table><thead><tr>{heads}</tr></thead><tbody>{''.join(body)}</tbody></table></div></div>"
    )


def trade_table_widget(result: BacktestResult, page_rows: int = TABLE_PAGE_ROWS) -> Any:
    """The trades as a table sortable by any column (sorting all trades, in Python).

    Returns
    -------
    ipywidgets.VBox
        A column chooser, a direction toggle and the table (the first ``page_rows`` rows).
    """
    import ipywidgets as W  # here for start-up time: slow, and only needed in a kernel

    rows = C.trade_rows(result.trades)
    sort_key = {h: rows[h] for h in rows.columns}
    # Sort numerically on the raw values (times as text sort chronologically already).
    column = W.Dropdown(options=list(rows.columns), value="Net P&L", description="Sort by")
    direction = W.ToggleButtons(options=["descending", "ascending"], value="descending")
    table = W.HTML()

    def render(*_: Any) -> None:
        if rows.empty:
            table.value = (
                f"{dashboard_css()}<div class='wb-dash'><p class='sub'>No trades.</p></div>"
            )
            return
        asc = direction.value == "ascending"
        order = sort_key[column.value].sort_values(ascending=asc, kind="stable").index
        table.value = _trade_table_html(rows.loc[order[:page_rows]], len(rows), column.value, asc)

    column.observe(render, names="value")
    direction.observe(render, names="value")
    render()
    return W.VBox([W.HBox([column, direction]), table])


#: Width in pixels of the monthly heatmap in the dashboard: fixed, because a chart in a tab
#: that is not shown yet is laid out without a width of its own, and twelve columns of
#: "-26.7%" then run together (the tab scrolls sideways instead when narrower).
MONTHLY_HEATMAP_WIDTH = 960


#: Charts of the dashboard's Statistics tab, below the statistics tables.
STATISTICS_TAB_CHARTS = ("trade_distribution", "rolling_sharpe", "streaks", "exit_reasons")


def dashboard_figures(result: BacktestResult) -> dict[str, go.Figure]:
    """The registered charts as the dashboard shows them: JSON-safe (see
    :func:`json_safe_figure`), the monthly heatmap at :data:`MONTHLY_HEATMAP_WIDTH`.

    Parameters
    ----------
    result : BacktestResult
        The backtest.

    Returns
    -------
    dict of str to plotly.graph_objects.Figure
    """
    figs = {name: json_safe_figure(fig) for name, fig in C.build_charts(result).items()}
    figs["monthly_returns"].update_layout(width=MONTHLY_HEATMAP_WIDTH, autosize=False)
    return figs


def create_dashboard(
    result: BacktestResult,
    summary: dict[str, Any] | None = None,
    *,
    use_figurewidget: bool | None = None,
) -> ipywidgets.Widget:
    """An interactive dashboard of a backtest for Jupyter.

    Parameters
    ----------
    result : BacktestResult
        The backtest.
    summary : dict, optional
        The run's summary.json dict (for its recommendations); by default
        :func:`workbench.results.build_summary` of ``result``.
    use_figurewidget : bool, optional
        Draw charts as ``FigureWidget`` (default when anywidget is installed) or through
        ``Output`` areas.

    Returns
    -------
    ipywidgets.Tab
        Tabs :data:`TAB_TITLES`: Overview (headline metric cards, recommendations, risk,
        time analysis), Equity (with the price and the trades), Drawdown, Trades (sortable),
        Monthly, Time analysis (hour and weekday), Statistics (return statistics beside the
        buy-and-hold benchmark, trade P&L distribution, rolling Sharpe, streaks, exit
        reasons).
    """
    import ipywidgets as W  # here for start-up time: slow, and only needed in a kernel

    summary = summary or build_summary(result)
    figs = dashboard_figures(result)

    def fw(name: str) -> Any:
        return figure_widget(figs[name], use_figurewidget=use_figurewidget)

    children = [
        W.HTML(_overview_html(result, summary)),
        W.VBox([fw("equity_curve"), fw("price_trades")]),
        fw("drawdown"),
        trade_table_widget(result),
        fw("monthly_returns"),
        W.VBox([fw("time_of_day"), fw("day_of_week")]),
        W.VBox(
            [
                W.HTML(
                    f"{dashboard_css()}<div class='wb-dash'>"
                    f"{statistics_section(summary, result)}</div>"
                ),
                *(fw(n) for n in STATISTICS_TAB_CHARTS),
            ]
        ),
    ]
    tab = W.Tab(children=children)
    tab.titles = TAB_TITLES
    return tab


class BacktestViewer:
    """Show a backtest: a dashboard in Jupyter, report.html in a browser elsewhere.

    Parameters
    ----------
    open_browser : bool, optional
        Open the report outside notebooks; default: yes unless ``WORKBENCH_NO_BROWSER=1``.
    """

    def __init__(self, open_browser: bool | None = None) -> None:
        self.open_browser = open_browser

    def create_dashboard(self, result: BacktestResult) -> ipywidgets.Widget:
        """The dashboard widget (see :func:`create_dashboard`)."""
        return create_dashboard(result)

    def _browser_wanted(self) -> bool:
        if self.open_browser is not None:
            return self.open_browser
        return os.environ.get(NO_BROWSER_ENV, "") not in ("1", "true", "yes")

    def show(self, result: BacktestResult, run_dir: str | Path | None = None) -> Path | None:
        """Display the dashboard (in a kernel) or write and open report.html (elsewhere).

        Parameters
        ----------
        result : BacktestResult
            The backtest.
        run_dir : str or Path, optional
            The run's saved folder (``save_results`` returns it): its report.html is opened
            (written first if missing). Defaults to ``result.extra["run_dir"]`` when set,
            else a new temporary folder.

        Returns
        -------
        pathlib.Path or None
            The report opened (outside a kernel); None when the dashboard was displayed.
        """
        if in_notebook():
            from IPython.display import display  # optional package; in a kernel it is there

            display(create_dashboard(result))
            return None
        path = self.write_report(result, run_dir)
        if self._browser_wanted():
            webbrowser.open(path.resolve().as_uri())
        else:
            logger.info("report written to %s (browser not opened: %s=1)", path, NO_BROWSER_ENV)
        return path

    def write_report(self, result: BacktestResult, run_dir: str | Path | None = None) -> Path:
        """report.html of ``result``: the run folder's (written if missing) or a new one.

        The summary is the run folder's summary.json when there is one, else
        :func:`workbench.results.build_summary` of ``result``.
        """
        known = run_dir or (result.extra or {}).get("run_dir")
        if known:
            folder = Path(known)
            existing = folder / REPORT_FILE
            if existing.exists():
                return existing
        else:
            folder = Path(tempfile.mkdtemp(prefix="workbench-report-"))
        summary = load_summary(folder) if is_run_dir(folder) else build_summary(result)
        return write_report(result, folder, summary, pdf=False)
