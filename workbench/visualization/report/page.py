"""report.html and charts/ of one backtest run."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.visualization import charts as C
from workbench.visualization.assets import fill
from workbench.visualization.html_parts import (
    account_banner,
    banner,
    columns,
    esc,
    flatten,
    fmt_num,
    kv_table,
    metric_cards,
    recommendations_list,
    reliability_banner,
)
from workbench.visualization.report.document import (
    PLOTLY_JS_FILE,
    figure_div,
    page,
    plotly_head,
    write_plotly_js,
)
from workbench.visualization.report.pdf import write_pdf
from workbench.visualization.report.sections import (
    drawdown_table,
    provenance_section,
    risk_section,
    statistics_section,
    time_section,
    trade_table_html,
)

if TYPE_CHECKING:
    from workbench.backtest.result import BacktestResult
    from workbench.results import RunWriter

logger = logging.getLogger(__name__)

#: File names written by :func:`write_report`.
REPORT_FILE = "report.html"
CHARTS_DIR = "charts"
#: plotly.js as the chart pages in charts/ find it: the run folder's one copy.
PARENT_PLOTLY_JS = f"../{PLOTLY_JS_FILE}"
#: Charts drawn across the whole page width, in this order (the others go two by two).
FULL_WIDTH_CHARTS = ("equity_curve", "price_trades", "drawdown", "monthly_returns")


def write_chart_files(
    divs: Mapping[str, tuple[str, str]], charts_dir: Path, *, plotly_src: str = PARENT_PLOTLY_JS
) -> list[Path]:
    """Write ``charts_dir/{name}.html`` for each ``name -> (title, div)``.

    The pages load plotly.js from ``plotly_src``, a URL relative to ``charts_dir``: by default
    the run folder's one copy (:func:`write_plotly_js`), which the caller writes.

    Parameters
    ----------
    divs : mapping
        ``name -> (title, figure div)``.
    charts_dir : pathlib.Path
        The folder (created if missing).
    plotly_src : str, default "../plotly.min.js"
        Where the pages find plotly.js.

    Returns
    -------
    list of pathlib.Path
        The chart pages written.
    """
    charts_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, (title, div) in divs.items():
        path = charts_dir / f"{name}.html"
        text = fill("chart_page.html", title=esc(title), plotly_js=esc(plotly_src), div=div)
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def _meta(
    summary: Mapping[str, Any],
    result: BacktestResult,
    data_range: Mapping[str, Any],
    provenance: Mapping[str, Any],
    strategy: Mapping[str, Any],
) -> str:
    return (
        f"<span>run <b>{esc(summary.get('run_id') or '')}</b></span>"
        f"<span>{esc(data_range.get('start'))} to {esc(data_range.get('end'))}</span>"
        f"<span>{fmt_num(data_range.get('trading_days'), ',.0f')} trade dates, "
        f"{fmt_num(data_range.get('total_bars'), ',.0f')} bars ({esc(provenance.get('schema'))})"
        "</span>"
        f"<span>class {esc(strategy.get('class'))}</span>"
        f"<span>generated {esc(summary.get('timestamp') or result.parameters.get('generated'))}"
        "</span>"
    )


def _provenance_html(
    result: BacktestResult, provenance: Mapping[str, Any], data_range: Mapping[str, Any]
) -> str:
    trades = result.trades
    traded = trades["symbol"].dropna().unique() if "symbol" in trades else ()
    return provenance_section(provenance, traded=traded, reference_date=data_range.get("start"))


def _charts_html(chart_divs: Mapping[str, tuple[str, str]]) -> str:
    divs = dict(chart_divs)
    html = "".join(
        f'<div class="chart" id="chart-{n}">{divs[n][1]}</div>'
        for n in FULL_WIDTH_CHARTS
        if n in divs
    )
    rest = [n for n in divs if n not in FULL_WIDTH_CHARTS]
    return (
        html
        + '<div class="grid2">'
        + "".join(f'<div class="chart" id="chart-{n}">{divs[n][1]}</div>' for n in rest)
        + "</div>"
    )


def render_report(
    result: BacktestResult,
    summary: Mapping[str, Any],
    chart_divs: Mapping[str, tuple[str, str]],
) -> str:
    """The report page as a string (see :func:`write_report`): it loads plotly.js from
    ``plotly.min.js`` beside it.

    Parameters
    ----------
    result : BacktestResult
        The backtest.
    summary : mapping
        The summary.json dict of the run (:func:`workbench.results.build_summary`).
    chart_divs : mapping
        ``name -> (title, figure div)`` of the charts drawn in the report, in order.

    Returns
    -------
    str
    """
    # The result's provenance has each roll's closes and adjustment; summary.json keeps only
    # the dates and symbols.
    provenance = {**(summary.get("provenance") or {}), **(result.provenance or {})}
    synthetic = bool(provenance.get("synthetic"))
    strategy = summary.get("strategy") or result.parameters.get("strategy", {})
    data_range = {**result.data_range, **(summary.get("data_range") or {})}
    perf = summary.get("performance") or result.metrics["performance"]
    name = strategy.get("name") or "Backtest"
    symbol = summary.get("symbol") or provenance.get("product") or ""
    run_id = summary.get("run_id") or ""
    title = f"{name} on {symbol}" + (" - SYNTHETIC DATA" if synthetic else "")
    params = dict(strategy.get("parameters") or {})
    config = summary.get("config") or result.parameters.get("config") or {}
    cards = metric_cards(perf, summary.get("unreliable_metrics") or ())
    body = (
        f'<header><h1>{esc(title)}</h1><div class="meta">'
        f"{_meta(summary, result, data_range, provenance, strategy)}</div></header>"
        + banner(provenance)
        + account_banner(summary)
        + reliability_banner(summary)
        + '<nav><a href="#metrics">Metrics</a><a href="#statistics">Statistics</a>'
        '<a href="#charts">Charts</a>'
        '<a href="#recommendations">Recommendations</a><a href="#trades">Trades</a>'
        '<a href="#drawdowns">Drawdowns</a><a href="#risk">Risk</a>'
        '<a href="#parameters">Parameters</a><a href="#provenance">Provenance</a></nav>'
        "<main>"
        f'<section id="metrics"><h2>Headline metrics</h2>{cards}</section>'
        f'<section id="statistics"><h2>Statistics and benchmark</h2><div class="panel">'
        f"{statistics_section(summary, result)}</div></section>"
        f'<section id="recommendations"><h2>Recommendations</h2><div class="panel">'
        f"{recommendations_list(summary.get('recommendations') or [])}</div></section>"
        f'<section id="charts"><h2>Charts</h2>{_charts_html(chart_divs)}</section>'
        f'<section id="trades"><h2>Trades</h2><div class="panel">'
        f"{trade_table_html(result.trades)}</div></section>"
        f'<section id="drawdowns"><h2>Deepest drawdowns</h2><div class="panel">'
        f"{drawdown_table(result)}</div></section>"
        '<section><div class="cols3">'
        f'<div class="panel" id="risk"><h2>Risk</h2>{risk_section(result, summary)}</div>'
        f'<div class="panel" id="time"><h2>Time analysis</h2>{time_section(summary, result)}'
        "</div>"
        '<div class="panel" id="parameters"><h2>Strategy parameters</h2>'
        f"{kv_table(params.items())}"
        "</div></div></section>"
        f'<section><div class="panel"><h2>Backtest configuration</h2>'
        f"{columns(flatten(config))}</div></section>"
        f'<section id="provenance"><h2>Data provenance: '
        f"{'SYNTHETIC' if synthetic else 'real market data'}</h2>"
        f'<div class="panel">{_provenance_html(result, provenance, data_range)}</div></section>'
        "</main>"
        f"<footer>workbench report &middot; {esc(run_id)} &middot; charts downsampled for "
        "display (extremes kept); metrics from the full-resolution data.</footer>"
    )
    return page(title, plotly_head(PLOTLY_JS_FILE), body)


def write_report(
    result: BacktestResult,
    run_dir: Path,
    summary: dict[str, Any],
    *,
    pdf: bool = True,
    charts: bool = True,
) -> Path:
    """Write report.html, charts/*.html, their one plotly.min.js and (optionally) report.pdf
    into ``run_dir``.

    report.html and the chart pages load ``plotly.min.js`` with a relative ``<script src>``,
    so the folder opens offline, from disk, and moved or zipped whole.

    Parameters
    ----------
    result : BacktestResult
        The backtest.
    run_dir : pathlib.Path
        The run folder (created if missing).
    summary : dict
        The run's summary.json dict (:func:`workbench.results.build_summary`: headline
        metrics, recommendations, provenance...).
    pdf : bool, default True
        Also print report.pdf with headless Chromium (:func:`write_pdf`); skipped with a
        logged reason when no Chromium is installed. Printing takes several seconds (4-7 s
        for a two-year 1-minute backtest on a 2-core machine): pass False when speed matters.
    charts : bool, default True
        Also write one page per chart into ``run_dir/charts``.

    Returns
    -------
    pathlib.Path
        The report.html written.
    """
    t0 = time.perf_counter()
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    figures = C.build_charts(result)
    specs = C.registered_charts()
    divs = {
        name: (
            C.chart_title(specs[name].title, C.is_synthetic(result)),
            figure_div(fig, f"chart-{name}-plot"),
        )
        for name, fig in figures.items()
    }
    t1 = time.perf_counter()
    report_divs = {n: d for n, d in divs.items() if specs[n].in_report}
    write_plotly_js(run_dir)
    path = run_dir / REPORT_FILE
    path.write_text(render_report(result, summary, report_divs), encoding="utf-8")
    if charts:
        write_chart_files(divs, run_dir / CHARTS_DIR)
    t2 = time.perf_counter()
    logger.info(
        "report: charts built in %.2f s, pages written in %.2f s (%s, %.1f MB)",
        t1 - t0,
        t2 - t1,
        path,
        path.stat().st_size / 1e6,
    )
    if pdf:
        write_pdf(path)
    return path


def report_writer(*, pdf: bool = False, charts: bool = True) -> RunWriter:
    """:func:`write_report` as a writer for ``workbench.results.save_results(writers=...)``.

    Parameters
    ----------
    pdf : bool, default False
        Also print report.pdf (a few seconds more).
    charts : bool, default True
        Also write charts/.

    Returns
    -------
    RunWriter
        ``writer(result, folder, summary)``.
    """
    return functools.partial(write_report, pdf=pdf, charts=charts)
