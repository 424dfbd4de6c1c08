"""``walkforward.html``: one self-contained page of a walk-forward (the stitched
out-of-sample equity with its windows, in- vs out-of-sample objective per window, the
parameters chosen per window), plotly.js embedded once so that it opens offline."""

from __future__ import annotations

import html
import json
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from workbench.optimize.overfitting_page import _STYLE, data_heading, plotly_parts

#: At most this many equity points on the page.
MAX_POINTS = 5000


def equity_figure(equity: pd.Series, windows: pd.DataFrame) -> go.Figure:
    """The stitched out-of-sample equity, each window's out-of-sample span shaded (the
    equity where it changes, at most :data:`MAX_POINTS` points, so the page stays small)."""
    values = equity.to_numpy()
    keep = np.r_[True, values[1:] != values[:-1]]
    keep[-1] = True
    shown = equity[keep]
    if len(shown) > MAX_POINTS:
        shown = shown.iloc[np.linspace(0, len(shown) - 1, MAX_POINTS).astype(np.int64)]
    fig = go.Figure(go.Scatter(x=shown.index, y=shown.to_numpy(), mode="lines", name="equity"))
    for i, w in enumerate(windows.itertuples()):
        fig.add_vrect(
            x0=w.oos_start_time,
            x1=w.oos_end_time,
            fillcolor="steelblue" if i % 2 == 0 else "seagreen",
            opacity=0.08,
            line_width=0,
        )
    fig.update_layout(
        title="Stitched out-of-sample equity (windows shaded; flat at each window edge)",
        xaxis_title="time (UTC)",
        yaxis_title="equity (USD)",
        height=420,
    )
    return fig


def objective_figure(windows: pd.DataFrame, objective: str) -> go.Figure:
    """In-sample (chosen row) and out-of-sample objective, window by window."""
    fig = go.Figure(
        [
            go.Bar(x=windows["window"], y=windows["is_objective"], name="in sample"),
            go.Bar(x=windows["window"], y=windows["oos_objective"], name="out of sample"),
        ]
    )
    fig.update_layout(
        title=f"{objective}: in sample vs out of sample",
        xaxis_title="window",
        yaxis_title=objective,
        barmode="group",
        height=380,
    )
    return fig


def _cell(v: Any) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return "n/a"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def walkforward_page(
    summary: dict[str, Any],
    windows: pd.DataFrame,
    equity: pd.Series,
    *,
    plotly_src: str | None = None,
) -> str:
    """The HTML of ``walkforward.html``; ``plotly_src`` is where it loads plotly.js from
    (e.g. the stitched run's ``stitched_oos/plotly.min.js``; None: inline)."""
    objective = summary["objective"]
    scripts, figures = plotly_parts(
        [equity_figure(equity, windows), objective_figure(windows, objective)], plotly_src
    )
    oos = summary["out_of_sample"]
    wfe = summary.get("walk_forward_efficiency")
    head = [
        ("strategy", summary["strategy"]),
        ("objective", objective),
        ("windows (traded)", f"{summary['windows']} ({summary['windows_traded']})"),
        (
            "settings",
            json.dumps(
                {k: v for k, v in summary["settings"].items() if k not in ("options", "data")}
            ),
        ),
        ("out of sample", f"{oos['start']} to {oos['end']} ({oos['trade_dates']} trade dates)"),
        ("out-of-sample total return %", oos.get("total_return_pct")),
        ("out-of-sample Sharpe ratio", oos.get("sharpe_ratio")),
        ("out-of-sample max drawdown %", oos.get("max_drawdown_pct")),
        ("walk-forward efficiency", None if wfe is None else round(wfe, 3)),
        ("window edges", summary["edges"]),
        ("window figures", summary.get("window_figures")),
        ("efficiency", summary["wfe_definition"]),
    ]
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(_cell(v))}</td></tr>" for k, v in head
    )
    cols = [
        "window",
        "is_start_time",
        "is_end_time",
        "oos_start_time",
        "oos_end_time",
        "params",
        "is_objective",
        "oos_objective",
        "is_annual_return_pct",
        "oos_annual_return_pct",
        "wfe",
        "oos_total_trades",
        "oos_pnl_usd",
        "oos_unreliable",
    ]
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<title>Walk-forward: {html.escape(summary['strategy'])}</title>"
        f"<style>{_STYLE}</style>{scripts}</head><body>"
        f"<h1>Walk-forward: {html.escape(summary['strategy'])}</h1>"
        + data_heading(summary["settings"].get("data"))
        + f"<table>{rows}</table>"
        + "".join(figures)
        + "<h2>Windows</h2>"
        + _table(windows[cols])
        + '<p>The stitched run\'s full backtest report: <a href="stitched_oos/report.html">'
        "stitched_oos/report.html</a></p></body></html>\n"
    )
