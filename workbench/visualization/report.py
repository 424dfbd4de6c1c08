"""report.html, the chart files, report.pdf and comparison_report.html of backtest runs.

:func:`write_report` writes, into a run folder::

    report.html            one self-contained page (plotly.js embedded once, works offline)
    report.pdf             the same page printed by headless Chromium (when one is installed)
    charts/plotly.min.js   one copy of plotly.js shared by the chart files
    charts/{name}.html     one page per registered chart (equity_curve, drawdown, ...)

:func:`write_comparison_report` writes comparison_report.html for several runs: their
metrics side by side and their equity curves overlaid.

Sizes and speed: long curves are downsampled for display (see
:func:`workbench.visualization.charts.downsample_minmax`) and the trade table is capped, so
a two-year 1-minute backtest (737k bars) gives a report of 5.2 MB (321 trades) to 5.7 MB
(27k trades), of which 4.8 MB is plotly.js; the size does not grow with the bars or trades.
Writing report.html and charts/ takes about 1 s for it; printing report.pdf 4-7 s more
(Chromium starting and parsing plotly.js dominate), so the PDF is optional.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import json
import logging
import math
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from workbench.visualization import charts as C

if TYPE_CHECKING:
    from workbench.backtest.result import BacktestResult

logger = logging.getLogger(__name__)

#: Plotly config of every embedded figure.
PLOTLY_CONFIG: dict[str, Any] = {
    "responsive": True,
    "displaylogo": False,
    "modeBarButtonsToRemove": ["select2d", "lasso2d"],
}
#: File names written by :func:`write_report`.
REPORT_FILE = "report.html"
PDF_FILE = "report.pdf"
CHARTS_DIR = "charts"
PLOTLY_JS_FILE = "plotly.min.js"
COMPARISON_FILE = "comparison_report.html"
#: Rows of the trade table in the printed report (report.pdf).
PRINT_TABLE_ROWS = 60
#: Environment variable naming the Chromium/Chrome binary to use.
CHROMIUM_ENV = "WORKBENCH_CHROMIUM"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


@functools.cache
def plotly_js() -> str:
    """The bundled plotly.js (minified), read once."""
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs())


# --------------------------------------------------------------------------- formatting


def _esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def fmt_num(value: Any, spec: str = ",.2f", *, prefix: str = "", suffix: str = "") -> str:
    """A number formatted with ``spec`` (``n/a`` for None/NaN), sign before the prefix."""
    if value is None:
        return "n/a"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return _esc(value)
    if not math.isfinite(number):
        return "n/a"
    sign = "-" if number < 0 else ""
    return f"{sign}{prefix}{format(abs(number), spec)}{suffix}"


def _usd(v: Any) -> str:
    return fmt_num(v, ",.2f", prefix="$")


def _pct(v: Any, spec: str = ".2f") -> str:
    return fmt_num(v, spec, suffix="%")


def _tone(value: Any, *, good_above: float = 0.0) -> str:
    """CSS class ``pos``/``neg``/``""`` for a value against a threshold."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return ""
    if not math.isfinite(v) or v == good_above:
        return ""
    return "pos" if v > good_above else "neg"


def _flatten(d: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping) and v:
            rows.extend(_flatten(v, key + "."))
        else:
            rows.append((key, v))
    return rows


def _kv_table(rows: Iterable[tuple[str, Any]], cls: str = "kv") -> str:
    body = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(_plain(v))}</td></tr>" for k, v in rows)
    return f'<table class="{cls}"><tbody>{body}</tbody></table>'


def _columns(rows: list[tuple[str, Any]], n: int = 3) -> str:
    """Key/value rows as ``n`` tables side by side."""
    size = max(1, math.ceil(len(rows) / n))
    tables = "".join(
        f"<div>{_kv_table(rows[i : i + size])}</div>" for i in range(0, len(rows), size)
    )
    return f'<div class="cols3">{tables}</div>'


def _plain(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, (list, tuple)):
        return ", ".join(_plain(x) for x in v) if v else "-"
    if isinstance(v, Mapping):
        return json.dumps(v, default=str)
    return str(v)


# --------------------------------------------------------------------------- summary


def summary_from_result(result: BacktestResult, run_id: str | None = None) -> dict[str, Any]:
    """A summary dict (the summary.json shape) built from a result alone.

    For reports of results that were not saved (``BacktestViewer.show`` outside a notebook,
    tests); saved runs have their summary.json from :mod:`workbench.results`. The
    recommendations come from :mod:`workbench.results.recommendations` when that package is
    installed (else the list is empty).

    Parameters
    ----------
    result : BacktestResult
        The backtest.
    run_id : str, optional
        Defaults to ``{UTC time}_{strategy}_{product}``.

    Returns
    -------
    dict
    """
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    strategy = result.parameters.get("strategy", {})
    product = (result.provenance or {}).get("product") or "MCL_FUT"
    metrics = result.metrics
    return {
        "run_id": run_id
        or f"{now:%Y-%m-%d_%H%M%S}_{strategy.get('key') or strategy.get('name', 'run')}_{product}",
        "timestamp": now.isoformat().replace("+00:00", "Z"),
        "symbol": product,
        "strategy": {
            "name": strategy.get("name"),
            "class": strategy.get("class"),
            "parameters": strategy.get("parameters", {}),
        },
        "data_range": {
            k: result.data_range.get(k) for k in ("start", "end", "trading_days", "total_bars")
        },
        "performance": dict(metrics["performance"]),
        "risk_metrics": dict(metrics.get("risk_metrics", {})),
        "time_analysis": dict(metrics.get("time_analysis", {})),
        "recommendations": _recommendations_of(result),
        "provenance": dict(result.provenance or {}),
        "config": result.parameters.get("config", {}),
    }


def _recommendations_of(result: BacktestResult) -> list[str]:
    """Recommendations of :mod:`workbench.results.recommendations`, when installed."""
    import importlib

    try:
        module = importlib.import_module("workbench.results.recommendations")
    except ImportError:
        return []
    make = getattr(module, "make_recommendations", None) or getattr(module, "recommendations", None)
    if not callable(make):
        return []
    try:
        return [str(r) for r in make(result)]
    except Exception as exc:  # a failing rule must not cost the report
        logger.warning("recommendations not computed: %s", exc)
        return []


# --------------------------------------------------------------------------- figures


def figure_div(fig: go.Figure, div_id: str) -> str:
    """A figure as a ``<div>`` and the script drawing it (plotly.js not included)."""
    height = fig.layout.height or 420
    return str(
        pio.to_html(
            fig,
            full_html=False,
            include_plotlyjs=False,
            div_id=div_id,
            config=PLOTLY_CONFIG,
            default_width="100%",
            default_height=f"{height}px",
            validate=False,
        )
    )


def _chart_page(title: str, div: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_esc(title)}</title>"
        f'<script charset="utf-8" src="{PLOTLY_JS_FILE}"></script>'
        "<style>body{margin:12px;font-family:'DejaVu Sans',Helvetica,Arial,sans-serif}"
        "</style></head>\n"
        f"<body>{div}</body></html>\n"
    )


def write_chart_files(divs: Mapping[str, tuple[str, str]], charts_dir: Path) -> list[Path]:
    """Write ``charts_dir/{name}.html`` for each ``name -> (title, div)`` and one plotly.js.

    The pages load ``plotly.min.js`` from their folder (as Plotly's
    ``include_plotlyjs="directory"`` does), written once.

    Returns
    -------
    list of pathlib.Path
        The chart pages written.
    """
    charts_dir.mkdir(parents=True, exist_ok=True)
    js = charts_dir / PLOTLY_JS_FILE
    bundle = plotly_js()
    if not js.exists() or js.stat().st_size != len(bundle.encode("utf-8")):
        js.write_text(bundle, encoding="utf-8")
    paths = []
    for name, (title, div) in divs.items():
        path = charts_dir / f"{name}.html"
        path.write_text(_chart_page(title, div), encoding="utf-8")
        paths.append(path)
    return paths


# --------------------------------------------------------------------------- page parts

_CSS = """
:root{--fg:#111827;--muted:#6b7280;--line:#e5e7eb;--bg:#f3f4f6;--card:#fff;
--pos:#15803d;--neg:#b91c1c;--accent:#2c5aa0}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);
font:14px/1.45 'DejaVu Sans',Helvetica,Arial,sans-serif}
header{background:#111827;color:#f9fafb;padding:18px 28px 14px}
header h1{margin:0 0 4px;font-size:22px;font-weight:600}
header .meta{color:#cbd5e1;font-size:13px}
header .meta span{margin-right:18px}
.banner{padding:10px 28px;font-weight:700;letter-spacing:.02em;font-size:15px}
.banner.synthetic{background:#b91c1c;color:#fff}
.banner.real{background:#dcfce7;color:#14532d;font-weight:600}
.banner small{font-weight:400;opacity:.92;margin-left:8px}
nav{padding:8px 28px;background:#fff;border-bottom:1px solid var(--line);font-size:13px}
nav a{color:var(--accent);text-decoration:none;margin-right:16px}
main{padding:18px 28px 40px;max-width:1500px;margin:0 auto}
section{margin:0 0 22px}
h2{font-size:17px;margin:0 0 10px;font-weight:600}
.cards{display:grid;grid-template-columns:repeat(5,minmax(0,1fr));gap:10px}
@media (max-width:900px){.cards{grid-template-columns:repeat(2,minmax(0,1fr))}}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 14px}
.card .label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card .value{font-size:24px;font-weight:600;margin-top:2px;white-space:nowrap}
.card .sub{color:var(--muted);font-size:12px;margin-top:1px}
.pos{color:var(--pos)}.neg{color:var(--neg)}
.panel{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 14px}
.chart{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:4px;
margin-bottom:14px;break-inside:avoid}
.grid2{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:14px}
.grid2 .chart{margin-bottom:0}
@media (max-width:1000px){.grid2{grid-template-columns:1fr}}
ul.recs{margin:0;padding-left:20px}ul.recs li{margin:3px 0}
.muted{color:var(--muted)}
table{border-collapse:collapse;font-size:13px}
table.kv th{text-align:left;font-weight:500;color:var(--muted);padding:3px 14px 3px 0;
vertical-align:top;white-space:nowrap}
table.kv td{padding:3px 0;font-family:'DejaVu Sans Mono',Menlo,monospace;font-size:12px}
table.data{width:100%}
table.data th,table.data td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:right;
white-space:nowrap}
table.data th{background:#f9fafb;position:sticky;top:0;font-weight:600}
table.data td.l,table.data th.l{text-align:left}
table.sortable th{cursor:pointer;user-select:none}
table.sortable th.asc:after{content:" \\25B2";font-size:10px}
table.sortable th.desc:after{content:" \\25BC";font-size:10px}
.scroll{max-height:520px;overflow:auto;border:1px solid var(--line);border-radius:6px}
.cols3{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:14px}
@media (max-width:1000px){.cols3{grid-template-columns:1fr}}
footer{color:var(--muted);font-size:12px;padding:0 28px 24px}
.print-only{display:none}
@media print{
 @page{size:A4 landscape;margin:10mm}
 body{background:#fff}
 nav{display:none}
 main{padding:8px 0;max-width:none}
 .grid2{grid-template-columns:1fr 1fr}
 .cards{grid-template-columns:repeat(5,minmax(0,1fr))}
 .modebar-container{display:none}
 .scroll{max-height:none;overflow:visible}
 #trade-table tbody tr:nth-child(n+__PRINT_ROW__){display:none}
 .print-only{display:block}
 .chart,.panel,.card,table tr{break-inside:avoid}
 .banner,.pos,.neg,header{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
"""

_SORT_JS = """
document.querySelectorAll('table.sortable').forEach(function(table){
  var heads = table.querySelectorAll('thead th');
  heads.forEach(function(th, col){
    th.addEventListener('click', function(){
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var asc = !th.classList.contains('asc');
      heads.forEach(function(h){h.classList.remove('asc','desc');});
      th.classList.add(asc ? 'asc' : 'desc');
      var num = th.dataset.type === 'num';
      rows.sort(function(a, b){
        var x = a.cells[col].dataset.v, y = b.cells[col].dataset.v;
        if (x === undefined) { x = a.cells[col].textContent; }
        if (y === undefined) { y = b.cells[col].textContent; }
        var c = num ? (parseFloat(x) - parseFloat(y)) : (x < y ? -1 : x > y ? 1 : 0);
        return asc ? c : -c;
      });
      rows.forEach(function(r){ body.appendChild(r); });
    });
  });
});
"""


def _banner(provenance: Mapping[str, Any]) -> str:
    if provenance.get("synthetic"):
        return (
            '<div class="banner synthetic" id="synthetic-banner">SYNTHETIC DATA'
            "<small>generated sample bars, not market prices: these results say nothing "
            "about trading real MCL futures</small></div>"
        )
    sources = ", ".join(str(s) for s in provenance.get("sources") or []) or "unknown source"
    return (
        f'<div class="banner real">Real market data<small>{_esc(provenance.get("dataset"))} '
        f"({_esc(sources)})</small></div>"
    )


def _card(label: str, value: str, sub: str = "", tone: str = "") -> str:
    cls = f"value {tone}".strip()
    sub_html = f'<div class="sub">{sub}</div>' if sub else ""
    return (
        f'<div class="card"><div class="label">{_esc(label)}</div>'
        f'<div class="{cls}">{value}</div>{sub_html}</div>'
    )


def metric_cards(performance: Mapping[str, Any]) -> str:
    """The headline metric cards of a summary's ``performance`` block."""
    p = performance
    wins, losses = p.get("winning_trades"), p.get("losing_trades")
    win_rate = p.get("win_rate")
    cards = [
        _card(
            "Total return",
            _pct(p.get("total_return_pct")),
            _usd(p.get("total_return_usd")),
            _tone(p.get("total_return_pct")),
        ),
        _card(
            "Sharpe",
            fmt_num(p.get("sharpe_ratio"), ".2f"),
            "annualized, daily",
            _tone(p.get("sharpe_ratio")),
        ),
        _card(
            "Sortino",
            fmt_num(p.get("sortino_ratio"), ".2f"),
            "annualized, daily",
            _tone(p.get("sortino_ratio")),
        ),
        _card(
            "Max drawdown",
            _pct(p.get("max_drawdown_pct")),
            _usd(p.get("max_drawdown_usd")),
            "neg" if (p.get("max_drawdown_pct") or 0) > 0 else "",
        ),
        _card(
            "Calmar",
            fmt_num(p.get("calmar_ratio"), ".2f"),
            "CAGR / max DD",
            _tone(p.get("calmar_ratio")),
        ),
        _card(
            "Win rate",
            fmt_num(None if win_rate is None else win_rate * 100, ".1f", suffix="%"),
            f"{_plain(wins)} won / {_plain(losses)} lost",
        ),
        _card(
            "Profit factor",
            fmt_num(p.get("profit_factor"), ".2f"),
            "gross won / gross lost",
            _tone(p.get("profit_factor"), good_above=1.0),
        ),
        _card(
            "Trades",
            fmt_num(p.get("total_trades"), ",.0f"),
            f"avg {_usd(p.get('avg_trade_pnl'))}",
            _tone(p.get("avg_trade_pnl")),
        ),
        _card(
            "Avg winner / loser",
            f"{_usd(p.get('avg_winner'))}",
            f"loser {_usd(p.get('avg_loser'))}",
        ),
        _card(
            "Largest win / loss",
            f"{_usd(p.get('largest_winner'))}",
            f"loss {_usd(p.get('largest_loser'))}",
        ),
    ]
    return '<div class="cards" id="metric-cards">' + "".join(cards) + "</div>"


def _recommendations(recs: Iterable[Any]) -> str:
    items = [f"<li>{_esc(r)}</li>" for r in recs or []]
    if not items:
        return '<p class="muted">No recommendations.</p>'
    return '<ul class="recs">' + "".join(items) + "</ul>"


def trade_table_html(trades: pd.DataFrame, max_rows: int = C.DEFAULT_MAX_TABLE_ROWS) -> str:
    """The closed trades as an HTML table sortable by clicking a header (needs the page's
    sort script); over ``max_rows`` it keeps the largest ``|net_pnl|`` and says so."""
    shown, capped = C.select_trades(trades, max_rows)
    rows = C.trade_rows(shown)
    numeric = {"Qty", "Entry px", "Exit px", "Net P&L", "Commission", "Bars"}
    heads = "".join(
        f'<th class="{"" if h in numeric else "l"}" data-type="{"num" if h in numeric else "str"}">'
        f"{_esc(h)}</th>"
        for h in rows.columns
    )
    body: list[str] = []
    columns = [(h, rows[h].to_numpy()) for h in rows.columns]
    for i in range(len(rows)):
        cells = []
        for h, values in columns:
            v = values[i]
            if h in ("Net P&L", "Commission"):
                tone = _tone(v) if h == "Net P&L" else ""
                cells.append(f'<td class="{tone}" data-v="{float(v):.2f}">{_usd(v)}</td>')
            elif h in ("Entry px", "Exit px"):
                cells.append(f"<td>{fmt_num(v, '.2f')}</td>")
            elif h in numeric:
                cells.append(f"<td>{_esc(v)}</td>")
            else:
                cells.append(f'<td class="l">{_esc(v)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    note = (
        f"The {len(shown):,} trades with the largest |net P&amp;L| of {len(trades):,} "
        "(all of them are in trades.csv)."
        if capped
        else f"{len(trades):,} trades."
    )
    return (
        f'<p class="muted">{note} Click a column header to sort. Times are New York.</p>'
        f'<p class="muted print-only">Printed: the first {PRINT_TABLE_ROWS} rows in the '
        "current order.</p>"
        f'<div class="scroll"><table class="data sortable" id="trade-table"><thead><tr>{heads}'
        f"</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def _drawdown_table(result: BacktestResult, top: int = 5) -> str:
    dd = result.drawdowns.head(top)
    if dd.empty:
        return '<p class="muted">No drawdown.</p>'

    def when(ts: Any) -> str:
        return "not recovered" if pd.isna(ts) else C.ny_naive([ts])[0].strftime("%Y-%m-%d %H:%M")

    def span(td: Any) -> str:
        if pd.isna(td):
            return "-"
        td = pd.Timedelta(td)
        return f"{td.days}d {td.seconds // 3600}h" if td.days else f"{td.seconds // 60} min"

    rows = "".join(
        f'<tr><td class="l">{when(r.start)}</td><td class="l">{when(r.trough)}</td>'
        f'<td class="l">{when(r.end)}</td><td class="neg">{_pct(r.depth_pct)}</td>'
        f"<td>{_usd(r.depth_usd)}</td><td>{span(r.duration)}</td><td>{span(r.recovery)}</td></tr>"
        for r in dd.itertuples()
    )
    return (
        '<table class="data"><thead><tr><th class="l">Peak (NY)</th><th class="l">Trough</th>'
        '<th class="l">Recovered</th><th>Depth</th><th>Depth USD</th><th>Duration</th>'
        f"<th>Recovery</th></tr></thead><tbody>{rows}</tbody></table>"
        f'<p class="muted">The {len(dd)} deepest of {len(result.drawdowns):,} drawdowns '
        "(all of them in drawdowns.csv).</p>"
    )


def _risk_section(result: BacktestResult, summary: Mapping[str, Any]) -> str:
    risk = dict(summary.get("risk_metrics") or result.metrics.get("risk_metrics") or {})
    events = result.risk_events
    counts = ""
    if len(events):
        vc = events.groupby(["action", "reason"]).size().sort_values(ascending=False)
        counts = (
            '<table class="data"><thead><tr><th class="l">Action</th><th class="l">Reason</th>'
            "<th>Count</th></tr></thead><tbody>"
            + "".join(
                f'<tr><td class="l">{_esc(a)}</td><td class="l">{_esc(r)}</td><td>{n:,}</td></tr>'
                for (a, r), n in vc.items()
            )
            + "</tbody></table>"
        )
    return _kv_table(risk.items()) + (f"<h3>Risk decisions</h3>{counts}" if counts else "")


def _time_section(summary: Mapping[str, Any], result: BacktestResult) -> str:
    ta = dict(summary.get("time_analysis") or result.metrics.get("time_analysis") or {})
    rows = []
    for k, v in ta.items():
        if k.endswith("_hour") and v is not None:
            v = f"{int(v):02d}:00 New York"
        rows.append((k, v))
    return _kv_table(rows)


def _provenance_section(provenance: Mapping[str, Any]) -> str:
    skip = {"rolls", "contracts"}
    rows = [(k, v) for k, v in provenance.items() if k not in skip]
    contracts = provenance.get("contracts") or []
    rolls = provenance.get("rolls") or []
    parts = [_kv_table(rows)]
    parts.append(
        f"<p><b>Contracts traded ({len(contracts)}):</b> "
        f"{_esc(', '.join(map(str, contracts)) or '-')}</p>"
    )
    if rolls:
        body = "".join(
            f'<tr><td class="l">{_esc(r.get("trade_date"))}</td>'
            f'<td class="l">{_esc(r.get("from_symbol"))} &rarr; {_esc(r.get("to_symbol"))}</td>'
            f"<td>{fmt_num(r.get('from_close'))}</td><td>{fmt_num(r.get('to_close'))}</td>"
            f"<td>{fmt_num(r.get('adjustment'))}</td></tr>"
            for r in rolls
            if isinstance(r, Mapping)
        )
        parts.append(
            f"<p><b>Rolls ({len(rolls)}):</b></p>"
            '<div class="scroll" style="max-height:260px"><table class="data"><thead><tr>'
            '<th class="l">Trade date</th><th class="l">From &rarr; to</th><th>From close</th>'
            f"<th>To close</th><th>Adjustment</th></tr></thead><tbody>{body}</tbody></table></div>"
        )
    else:
        parts.append('<p class="muted">No rolls.</p>')
    return "".join(parts)


def _page(title: str, head_extra: str, body: str) -> str:
    css = _CSS.replace("__PRINT_ROW__", str(PRINT_TABLE_ROWS + 1))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_esc(title)}</title><style>{css}</style>{head_extra}</head>\n"
        f"<body>{body}<script>{_SORT_JS}</script></body></html>\n"
    )


def _plotly_head() -> str:
    # plotly.js once, inline: the page works offline and from file://
    return (
        "<script>window.PlotlyConfig = {MathJaxConfig: 'local'};</script>"
        f'<script charset="utf-8">{plotly_js()}</script>'
    )


def render_report(
    result: BacktestResult,
    summary: Mapping[str, Any],
    chart_divs: Mapping[str, tuple[str, str]],
) -> str:
    """The report page as a string (see :func:`write_report`).

    Parameters
    ----------
    result : BacktestResult
        The backtest.
    summary : mapping
        The summary.json dict of the run.
    chart_divs : mapping
        ``name -> (title, figure div)`` of the charts drawn in the report, in order.

    Returns
    -------
    str
    """
    provenance = {**(result.provenance or {}), **(summary.get("provenance") or {})}
    synthetic = bool(provenance.get("synthetic"))
    strategy = summary.get("strategy") or result.parameters.get("strategy", {})
    data_range = {**result.data_range, **(summary.get("data_range") or {})}
    perf = summary.get("performance") or result.metrics["performance"]
    name = strategy.get("name") or "Backtest"
    symbol = summary.get("symbol") or provenance.get("product") or ""
    run_id = summary.get("run_id") or ""
    title = f"{name} on {symbol}" + (" - SYNTHETIC DATA" if synthetic else "")
    meta = (
        f"<span>run <b>{_esc(run_id)}</b></span>"
        f"<span>{_esc(data_range.get('start'))} to {_esc(data_range.get('end'))}</span>"
        f"<span>{fmt_num(data_range.get('trading_days'), ',.0f')} trade dates, "
        f"{fmt_num(data_range.get('total_bars'), ',.0f')} bars ({_esc(provenance.get('schema'))})"
        "</span>"
        f"<span>class {_esc(strategy.get('class'))}</span>"
        f"<span>generated {_esc(summary.get('timestamp') or result.parameters.get('generated'))}"
        "</span>"
    )
    divs = dict(chart_divs)
    full_width = ["equity_curve", "drawdown", "monthly_returns"]
    charts_html = "".join(
        f'<div class="chart" id="chart-{n}">{divs[n][1]}</div>' for n in full_width if n in divs
    )
    rest = [n for n in divs if n not in full_width]
    charts_html += (
        '<div class="grid2">'
        + "".join(f'<div class="chart" id="chart-{n}">{divs[n][1]}</div>' for n in rest)
        + "</div>"
    )
    params = dict(strategy.get("parameters") or {})
    config = summary.get("config") or result.parameters.get("config") or {}
    body = (
        f'<header><h1>{_esc(title)}</h1><div class="meta">{meta}</div></header>'
        + _banner(provenance)
        + '<nav><a href="#metrics">Metrics</a><a href="#charts">Charts</a>'
        '<a href="#recommendations">Recommendations</a><a href="#trades">Trades</a>'
        '<a href="#drawdowns">Drawdowns</a><a href="#risk">Risk</a>'
        '<a href="#parameters">Parameters</a><a href="#provenance">Provenance</a></nav>'
        "<main>"
        f'<section id="metrics"><h2>Headline metrics</h2>{metric_cards(perf)}</section>'
        f'<section id="recommendations"><h2>Recommendations</h2><div class="panel">'
        f"{_recommendations(summary.get('recommendations') or [])}</div></section>"
        f'<section id="charts"><h2>Charts</h2>{charts_html}</section>'
        f'<section id="trades"><h2>Trades</h2><div class="panel">'
        f"{trade_table_html(result.trades)}</div></section>"
        f'<section id="drawdowns"><h2>Deepest drawdowns</h2><div class="panel">'
        f"{_drawdown_table(result)}</div></section>"
        '<section><div class="cols3">'
        f'<div class="panel" id="risk"><h2>Risk</h2>{_risk_section(result, summary)}</div>'
        f'<div class="panel" id="time"><h2>Time analysis</h2>{_time_section(summary, result)}'
        "</div>"
        '<div class="panel" id="parameters"><h2>Strategy parameters</h2>'
        f"{_kv_table(params.items())}"
        "</div></div></section>"
        f'<section><div class="panel"><h2>Backtest configuration</h2>'
        f"{_columns(_flatten(config))}</div></section>"
        f'<section id="provenance"><h2>Data provenance: '
        f"{'SYNTHETIC' if synthetic else 'real market data'}</h2>"
        f'<div class="panel">{_provenance_section(provenance)}</div></section>'
        "</main>"
        f"<footer>workbench report &middot; {_esc(run_id)} &middot; charts downsampled for "
        "display (extremes kept); metrics from the full-resolution data.</footer>"
    )
    return _page(title, _plotly_head(), body)


# --------------------------------------------------------------------------- writers


def write_report(
    result: BacktestResult,
    run_dir: Path,
    summary: dict[str, Any],
    *,
    pdf: bool = True,
    charts: bool = True,
) -> Path:
    """Write report.html, charts/*.html and (optionally) report.pdf into ``run_dir``.

    Parameters
    ----------
    result : BacktestResult
        The backtest.
    run_dir : pathlib.Path
        The run folder (created if missing).
    summary : dict
        The run's summary.json dict (headline metrics, recommendations, provenance...).
    pdf : bool, default True
        Also print report.pdf with headless Chromium (:func:`write_pdf`); skipped with a
        logged reason when no Chromium is installed. Printing takes several seconds (4-7 s
        for a two-year 1-minute backtest on a 2-core machine): pass False when speed matters.
    charts : bool, default True
        Also write one page per chart into ``run_dir/charts`` (sharing one plotly.min.js).

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


def find_chromium() -> str | None:
    """A headless-capable Chromium/Chrome binary: ``$WORKBENCH_CHROMIUM`` or one on PATH."""
    env = os.environ.get(CHROMIUM_ENV)
    if env:
        return env if os.path.exists(env) or shutil.which(env) else None
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def chromium_command(binary: str, profile_dir: str, *args: str) -> list[str]:
    """A headless Chromium command line with a throw-away profile, networking disabled."""
    return [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-background-networking",
        "--hide-scrollbars",
        "--mute-audio",
        # Everything that is not loopback goes to a dead proxy: a report needing the
        # network fails visibly instead of silently fetching.
        "--proxy-server=127.0.0.1:9",
        "--proxy-bypass-list=<-loopback>",
        f"--user-data-dir={profile_dir}",
        *args,
    ]


def write_pdf(
    report_html: Path, pdf_path: Path | None = None, *, timeout: float = 120.0
) -> Path | None:
    """Print a report page to PDF with headless Chromium.

    Parameters
    ----------
    report_html : pathlib.Path
        The page (e.g. report.html).
    pdf_path : pathlib.Path, optional
        Where to write; defaults to ``report.pdf`` next to the page.
    timeout : float, default 120
        Seconds before giving up.

    Returns
    -------
    pathlib.Path or None
        The PDF written, or None (with the reason logged) when no Chromium binary is found
        (set ``WORKBENCH_CHROMIUM`` or install ``chromium``) or printing failed.
    """
    binary = find_chromium()
    if binary is None:
        logger.warning(
            "report.pdf not written: no Chromium found (install the chromium package or set "
            "%s to a Chrome/Chromium binary)",
            CHROMIUM_ENV,
        )
        return None
    report_html = Path(report_html).resolve()
    out = Path(pdf_path) if pdf_path is not None else report_html.with_name(PDF_FILE)
    out = out.resolve()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="workbench-chromium-") as profile:
        cmd = chromium_command(
            binary,
            profile,
            "--no-pdf-header-footer",
            "--run-all-compositor-stages-before-draw",
            "--window-size=1400,1000",
            f"--print-to-pdf={out}",
            report_html.as_uri(),
        )
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            logger.warning("report.pdf not written: Chromium took more than %.0f s", timeout)
            return None
        except OSError as exc:
            logger.warning("report.pdf not written: could not run %s (%s)", binary, exc)
            return None
    if proc.returncode != 0 or not out.exists() or out.stat().st_size == 0:
        tail = (proc.stderr or "").strip().splitlines()[-3:]
        logger.warning(
            "report.pdf not written: %s exited with %s: %s",
            binary,
            proc.returncode,
            " | ".join(tail),
        )
        return None
    logger.info("report.pdf written in %.2f s (%s)", time.perf_counter() - t0, out)
    return out


# --------------------------------------------------------------------------- comparison

#: Rows of the comparison table: (performance key, label, format, higher is better).
COMPARISON_ROWS: tuple[tuple[str, str, str, bool | None], ...] = (
    ("total_return_pct", "Total return", "pct", True),
    ("total_return_usd", "Total return USD", "usd", True),
    ("sharpe_ratio", "Sharpe", "ratio", True),
    ("sortino_ratio", "Sortino", "ratio", True),
    ("max_drawdown_pct", "Max drawdown", "pct", False),
    ("max_drawdown_usd", "Max drawdown USD", "usd", False),
    ("calmar_ratio", "Calmar", "ratio", True),
    ("win_rate", "Win rate", "rate", True),
    ("profit_factor", "Profit factor", "ratio", True),
    ("avg_trade_pnl", "Avg trade", "usd", True),
    ("avg_winner", "Avg winner", "usd", True),
    ("avg_loser", "Avg loser", "usd", True),
    ("largest_winner", "Largest winner", "usd", None),
    ("largest_loser", "Largest loser", "usd", None),
    ("total_trades", "Trades", "int", None),
    ("winning_trades", "Winners", "int", None),
    ("losing_trades", "Losers", "int", None),
)


def _fmt_kind(v: Any, kind: str) -> str:
    if kind == "pct":
        return _pct(v)
    if kind == "usd":
        return _usd(v)
    if kind == "rate":
        return fmt_num(None if v is None else float(v) * 100, ".1f", suffix="%")
    if kind == "int":
        return fmt_num(v, ",.0f")
    return fmt_num(v, ".2f")


def _params_text(params: Mapping[str, Any]) -> str:
    """``name=value, ...`` of the parameters that are set."""
    return ", ".join(f"{k}={_plain(v)}" for k, v in params.items() if v is not None) or "-"


def _best_class(value: Any, best: float | None) -> str:
    if best is None or not isinstance(value, (int, float)):
        return ""
    return "best" if float(value) == best else ""


def _run_label(summary: Mapping[str, Any]) -> str:
    strategy = summary.get("strategy") or {}
    return str(summary.get("run_id") or strategy.get("name") or "run")


def comparison_figures(
    summaries: list[dict[str, Any]],
    equity: Mapping[str, pd.Series],
    *,
    target_points: int = C.DEFAULT_TARGET_POINTS,
) -> dict[str, go.Figure]:
    """Overlaid equity curves and drawdowns (percent) of several runs.

    ``equity`` is keyed by run_id; runs without a curve are left out of the charts.
    """
    synthetic = any((s.get("provenance") or {}).get("synthetic") for s in summaries)
    labels = {_run_label(s): s for s in summaries}
    eq_fig, dd_fig = go.Figure(), go.Figure()
    palette = (
        "#2c5aa0",
        "#d95f02",
        "#1b9e77",
        "#7570b3",
        "#e7298a",
        "#66a61e",
        "#a6761d",
        "#e6ab02",
        "#666666",
        "#1f78b4",
    )
    per_run = max(400, target_points // max(1, len(equity)))
    for i, (run_id, curve) in enumerate(equity.items()):
        if curve is None or len(curve) == 0:
            continue
        s = labels.get(run_id, {})
        name = f"{(s.get('strategy') or {}).get('name') or ''} {run_id}".strip()
        color = palette[i % len(palette)]
        shown = C.downsample_minmax(curve.astype(np.float64), per_run)
        eq_fig.add_trace(
            go.Scatter(
                x=C.time_axis(shown.index),
                y=shown.to_numpy(dtype=np.float64),
                mode="lines",
                name=name,
                line={"color": color, "width": 1.5},
                hovertemplate="%{x|%Y-%m-%d %H:%M} NY<br>$%{y:,.2f}<extra>"
                + _esc(run_id)
                + "</extra>",
            )
        )
        capital = ((s.get("config") or {}).get("initial_capital")) or None
        dd = C.downsample_minmax(C.drawdown_pct(curve.astype(np.float64), capital), per_run)
        dd_fig.add_trace(
            go.Scatter(
                x=C.time_axis(dd.index),
                y=dd.to_numpy(dtype=np.float64),
                mode="lines",
                name=name,
                line={"color": color, "width": 1},
                hovertemplate="%{x|%Y-%m-%d %H:%M} NY<br>%{y:.2f}%<extra>"
                + _esc(run_id)
                + "</extra>",
            )
        )
    C.style_figure(
        eq_fig,
        "Equity curves",
        synthetic=synthetic,
        subtitle=f"{len(eq_fig.data)} runs, downsampled for display",
        height=480,
    )
    eq_fig.update_yaxes(title_text="USD", tickprefix="$", tickformat=",.0f")
    eq_fig.update_xaxes(title_text="New York time")
    C.style_figure(
        dd_fig,
        "Drawdowns",
        synthetic=synthetic,
        subtitle="% below each run's running peak",
        height=340,
    )
    dd_fig.update_yaxes(title_text="% of peak", ticksuffix="%")
    dd_fig.update_xaxes(title_text="New York time")
    return {"equity_overlay": eq_fig, "drawdown_overlay": dd_fig}


def comparison_table_html(summaries: list[dict[str, Any]]) -> str:
    """Metrics of several runs side by side; the best value of each row is marked."""
    labels = [_run_label(s) for s in summaries]
    head = "".join(
        f'<th>{_esc(lab)}<br><span class="muted" style="font-weight:400">'
        f"{_esc((s.get('strategy') or {}).get('name'))}"
        f"{' &middot; SYNTHETIC' if (s.get('provenance') or {}).get('synthetic') else ''}"
        "</span></th>"
        for lab, s in zip(labels, summaries, strict=True)
    )
    rows = []
    for key, label, kind, higher in COMPARISON_ROWS:
        values = [(s.get("performance") or {}).get(key) for s in summaries]
        finite = [float(v) for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
        best = None
        if higher is not None and len(set(finite)) > 1:  # ties everywhere: no best
            best = max(finite) if higher else min(finite)
        cells = "".join(
            f'<td class="{_best_class(v, best)}">{_fmt_kind(v, kind)}</td>' for v in values
        )
        rows.append(f'<tr><th class="l">{_esc(label)}</th>{cells}</tr>')
    extra = [
        ("Strategy class", lambda s: (s.get("strategy") or {}).get("class")),
        ("Parameters", lambda s: _params_text((s.get("strategy") or {}).get("parameters") or {})),
        (
            "Data",
            lambda s: (
                f"{(s.get('data_range') or {}).get('start')} to "
                f"{(s.get('data_range') or {}).get('end')}"
            ),
        ),
        ("Synthetic", lambda s: "yes" if (s.get("provenance") or {}).get("synthetic") else "no"),
    ]
    for label, get in extra:
        cells = "".join(f'<td class="l small">{_esc(get(s))}</td>' for s in summaries)
        rows.append(f'<tr><th class="l">{_esc(label)}</th>{cells}</tr>')
    return (
        '<div class="scroll" style="max-height:none"><table class="data" id="comparison-table">'
        f'<thead><tr><th class="l">Metric</th>{head}</tr></thead><tbody>{"".join(rows)}</tbody>'
        "</table></div>"
    )


def write_comparison_report(
    summaries: list[dict[str, Any]], equity: dict[str, pd.Series], out_dir: Path
) -> Path:
    """Write ``out_dir/comparison_report.html``: metrics side by side, equity overlaid.

    Parameters
    ----------
    summaries : list of dict
        summary.json dicts of the runs, in display order.
    equity : dict of str to pandas.Series
        Equity curve of each run, keyed by ``run_id`` (bar end times, UTC).
    out_dir : pathlib.Path
        Folder to write into (created if missing).

    Returns
    -------
    pathlib.Path
        The page written. Like report.html it embeds plotly.js once and works offline.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    synthetic = any((s.get("provenance") or {}).get("synthetic") for s in summaries)
    figs = comparison_figures(summaries, equity)
    charts_html = "".join(
        f'<div class="chart" id="chart-{n}">{figure_div(f, f"chart-{n}-plot")}</div>'
        for n, f in figs.items()
    )
    banner = (
        '<div class="banner synthetic" id="synthetic-banner">SYNTHETIC DATA'
        "<small>at least one run used generated sample bars, not market prices</small></div>"
        if synthetic
        else '<div class="banner real">Real market data</div>'
    )
    title = f"Comparison of {len(summaries)} backtests" + (" - SYNTHETIC DATA" if synthetic else "")
    body = (
        f'<header><h1>{_esc(title)}</h1><div class="meta"><span>generated '
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC</span></div></header>{banner}<main>"
        f'<section id="metrics"><h2>Metrics side by side</h2><div class="panel">'
        f"{comparison_table_html(summaries)}"
        '<p class="muted">Best value of each row in bold.</p></div></section>'
        f'<section id="charts"><h2>Charts</h2>{charts_html}</section></main>'
    )
    extra_css = (
        "<style>td.best{font-weight:700;background:#ecfdf5}"
        "td.small{font-size:12px;white-space:normal;min-width:180px;max-width:420px;"
        "text-align:left}</style>"
    )
    path = out_dir / COMPARISON_FILE
    path.write_text(_page(title, extra_css + _plotly_head(), body), encoding="utf-8")
    return path
