"""``overfitting.html``: one self-contained page of a sweep's overfitting diagnostics (the
figures, the recommendations, the CSCV logit histogram and the in- vs out-of-sample scatter),
plotly.js embedded once so that it opens offline."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from workbench.analysis.overfitting import BacktestOverfitting
from workbench.visualization.report.document import plotly_head

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
td, th { padding: 0.25em 0.8em; border-bottom: 1px solid #ddd; text-align: left; }
li { margin: 0.4em 0; }
code { background: #f4f4f4; padding: 0 0.2em; }
.synthetic { background: #fff3cd; border: 1px solid #e0b000; padding: 0.5em 0.8em; }
"""


def logit_histogram(cscv: BacktestOverfitting) -> go.Figure:
    """Histogram of the CSCV logits, with PBO (the mass at or left of 0) marked."""
    fig = go.Figure(go.Histogram(x=cscv.logits, nbinsx=40, name="logit"))
    fig.add_vline(x=0.0, line_dash="dash", line_color="firebrick")
    fig.update_layout(
        title=f"Logits of the in-sample best's out-of-sample rank (PBO = {cscv.pbo:.2f})",
        xaxis_title="logit (<= 0: at or below the out-of-sample median)",
        yaxis_title="splits",
        bargap=0.05,
        height=380,
    )
    return fig


def is_oos_scatter(cscv: BacktestOverfitting) -> go.Figure:
    """Per split, the selected combination's out-of-sample Sharpe ratio against its
    in-sample one, with the degradation line."""
    fig = go.Figure(
        go.Scatter(
            x=cscv.is_sharpe,
            y=cscv.oos_sharpe,
            mode="markers",
            marker={"size": 4, "opacity": 0.4},
            name="splits",
        )
    )
    if cscv.slope is not None and cscv.intercept is not None:
        xs = np.array([cscv.is_sharpe.min(), cscv.is_sharpe.max()])
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=cscv.intercept + cscv.slope * xs,
                mode="lines",
                name=f"OOS = {cscv.intercept:.3f} + {cscv.slope:.2f} IS",
            )
        )
    fig.add_hline(y=0.0, line_dash="dot", line_color="grey")
    fig.update_layout(
        title="Performance degradation: the in-sample best, out of sample",
        xaxis_title="in-sample Sharpe ratio (per day)",
        yaxis_title="out-of-sample Sharpe ratio (per day)",
        height=420,
    )
    return fig


def _rows(pairs: list[tuple[str, Any]]) -> str:
    return "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(_text(v))}</td></tr>" for k, v in pairs
    )


def _text(v: Any) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, dict):
        return json.dumps(v)
    return str(v)


def plotly_parts(figures: Sequence[go.Figure], plotly_src: str | None) -> tuple[str, list[str]]:
    """The ``<head>`` scripts and the figures' HTML of a page.

    With ``plotly_src`` (a relative URL such as ``"plotly.min.js"``) the page loads the one
    stored plotly.js of its folder, as backtest reports do; with None plotly.js is inlined
    in the first figure (4.8 MB, a page that stands alone).
    """
    if plotly_src is None:
        return "", [
            fig.to_html(full_html=False, include_plotlyjs=i == 0) for i, fig in enumerate(figures)
        ]
    return plotly_head(plotly_src), [
        fig.to_html(full_html=False, include_plotlyjs=False) for fig in figures
    ]


def overfitting_page(
    summary: dict[str, Any],
    cscv: BacktestOverfitting | None,
    *,
    data: dict[str, Any] | None = None,
    plotly_src: str | None = None,
) -> str:
    """The HTML of ``overfitting.html`` for a diagnostics block and its CSCV splits, headed
    by the bars the sweep ran on (``data``) and a warning when they are synthetic.

    ``plotly_src``: where the page loads plotly.js from (see :func:`plotly_parts`).
    """
    dsr = summary.get("deflated_sharpe", {})
    pbo = summary.get("pbo", {})
    charts = [] if cscv is None else [logit_histogram(cscv), is_oos_scatter(cscv)]
    scripts, figures = plotly_parts(charts, plotly_src)
    recs = "".join(f"<li>{html.escape(r)}</li>" for r in summary.get("recommendations", []))
    numbers = _rows(
        [
            ("selected", (summary.get("selected") or {}).get("params")),
            ("trials (all combinations tried)", summary.get("trials")),
            ("combinations run", summary.get("combinations_run")),
            ("deflated Sharpe ratio", dsr.get("dsr")),
            ("probabilistic Sharpe ratio (vs 0)", dsr.get("psr")),
            ("Sharpe ratio, per day (annualized)", _pair(dsr, "sharpe")),
            ("expected max Sharpe of the trials", _pair(dsr, "expected_max_sharpe")),
            ("variance of the trials' Sharpe ratios", summary.get("sharpe_variance")),
            ("skewness / kurtosis (non-excess)", f"{dsr.get('skew')} / {dsr.get('kurtosis')}"),
            ("PBO", pbo.get("pbo")),
            ("CSCV blocks / splits", f"{pbo.get('blocks')} / {pbo.get('splits')}"),
            ("degradation slope / intercept / R^2", _degradation(pbo)),
            ("probability of loss", pbo.get("prob_loss")),
        ]
    )
    why = [r for r in (dsr.get("reason"), pbo.get("reason")) if r]
    conventions = _rows(list(summary.get("conventions", {}).items()))
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<title>Overfitting diagnostics</title><style>{_STYLE}</style>{scripts}</head><body>"
        "<h1>Is the best combination luck?</h1>"
        + data_heading(data)
        + f"<ul>{recs}</ul>"
        + "".join(f"<p>{html.escape(w)}</p>" for w in why)
        + f"<table>{numbers}</table>"
        + "".join(figures)
        + f"<h2>Conventions</h2><table>{conventions}</table></body></html>\n"
    )


def _pair(d: dict[str, Any], key: str) -> str | None:
    if d.get(key) is None:
        return None
    return f"{d[key]} ({d.get(key + '_annualized')})"


def _degradation(pbo: dict[str, Any]) -> str | None:
    deg = pbo.get("degradation")
    if not deg:
        return None
    return f"{deg['slope']} / {deg['intercept']} / {deg['r_squared']}"


def data_heading(data: dict[str, Any] | None) -> str:
    """A line naming the bars a sweep or walk-forward ran on, with a SYNTHETIC DATA warning
    when they are the generated sample (empty without ``data``)."""
    if not data:
        return ""
    line = (
        f"{data.get('product')} {data.get('schema')}: {data.get('bars') or 0:,} bars, "
        f"{data.get('start')} to {data.get('end')}"
    )
    out = f"<p>{html.escape(line)}</p>"
    if data.get("synthetic"):
        out += (
            '<p class="synthetic"><strong>SYNTHETIC DATA</strong>: generated sample bars, not '
            "market prices; these figures say nothing about trading real futures</p>"
        )
    return out
