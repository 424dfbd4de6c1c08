"""comparison_report.html: saved runs' metrics side by side, their equity curves overlaid."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from workbench.results import (
    PERIOD_DEPENDENT,
    config_differences,
    daily_return_correlation,
    period_warning,
)
from workbench.visualization import charts as C
from workbench.visualization.assets import asset
from workbench.visualization.html_parts import esc, fmt_num, pct, plain, usd
from workbench.visualization.report.document import (
    figure_div,
    page,
    plotly_head,
    write_plotly_js,
)

#: File name written by :func:`write_comparison_report`.
COMPARISON_FILE = "comparison_report.html"
#: Rows of the comparison table: (performance key, label, format, higher is better).
COMPARISON_ROWS: tuple[tuple[str, str, str, bool | None], ...] = (
    ("total_return_pct", "Total return", "pct", True),
    ("total_return_usd", "Total return USD", "usd", True),
    ("sharpe_ratio", "Sharpe", "ratio", True),
    ("sortino_ratio", "Sortino", "ratio", True),
    ("max_drawdown_pct", "Max drawdown", "dd", False),
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


def _fmt_kind(v: Any, kind: str, performance: Mapping[str, Any] | None = None) -> str:
    if kind == "dd":  # percent with the dollars beside it
        dollars = (performance or {}).get("max_drawdown_usd")
        return f'{pct(v)} <span class="muted">({usd(dollars)})</span>'
    if kind == "pct":
        return pct(v)
    if kind == "usd":
        return usd(v)
    if kind == "rate":
        return fmt_num(None if v is None else float(v) * 100, ".1f", suffix="%")
    if kind == "int":
        return fmt_num(v, ",.0f")
    return fmt_num(v, ".2f")


def _params_text(params: Mapping[str, Any]) -> str:
    """``name=value, ...`` of the parameters that are set."""
    return ", ".join(f"{k}={plain(v)}" for k, v in params.items() if v is not None) or "-"


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
    """Overlaid equity curves and drawdowns (percent, and dollars) of several runs.

    ``equity`` is keyed by run_id; runs without a curve are left out of the charts.
    """
    synthetic = any((s.get("provenance") or {}).get("synthetic") for s in summaries)
    labels = {_run_label(s): s for s in summaries}
    eq_fig, dd_fig, usd_fig = go.Figure(), go.Figure(), go.Figure()
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
                + esc(run_id)
                + "</extra>",
            )
        )
        capital = ((s.get("config") or {}).get("initial_capital")) or None
        values = curve.astype(np.float64)
        peak = values.cummax()
        if capital:
            peak = peak.clip(lower=capital)
        dd_usd = values - peak
        dd = C.drawdown_pct(values, capital)
        # one selection of points for both units, so each hover shows the same moment
        keep = C.downsample_minmax(dd.reset_index(drop=True), per_run).index
        dd_shown, usd_shown = dd.iloc[keep], dd_usd.iloc[keep]
        dd_fig.add_trace(
            go.Scatter(
                x=C.time_axis(dd_shown.index),
                y=dd_shown.to_numpy(dtype=np.float64),
                mode="lines",
                name=name,
                line={"color": color, "width": 1},
                customdata=usd_shown.to_numpy(dtype=np.float64),
                hovertemplate="%{x|%Y-%m-%d %H:%M} NY<br>%{y:.2f}% ($%{customdata:,.2f})<extra>"
                + esc(run_id)
                + "</extra>",
            )
        )
        usd_fig.add_trace(
            go.Scatter(
                x=C.time_axis(usd_shown.index),
                y=usd_shown.to_numpy(dtype=np.float64),
                mode="lines",
                name=name,
                line={"color": color, "width": 1},
                customdata=dd_shown.to_numpy(dtype=np.float64),
                hovertemplate="%{x|%Y-%m-%d %H:%M} NY<br>$%{y:,.2f} (%{customdata:.2f}%)<extra>"
                + esc(run_id)
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
    C.style_figure(
        usd_fig,
        "Drawdowns in dollars",
        synthetic=synthetic,
        subtitle="USD below each run's running peak (the same drop is a larger share of a "
        "smaller account)",
        height=340,
    )
    usd_fig.update_yaxes(title_text="USD below peak", tickprefix="$", tickformat=",.0f")
    usd_fig.update_xaxes(title_text="New York time")
    return {"equity_overlay": eq_fig, "drawdown_overlay": dd_fig, "drawdown_usd_overlay": usd_fig}


def wiped_out_on(summary: dict[str, Any]) -> str | None:
    """The date a run's account was wiped out (margin call), else None."""
    account = summary.get("account") or {}
    return str(account["wiped_out_on"]) if account.get("wiped_out") else None


def comparison_table_html(summaries: list[dict[str, Any]]) -> str:
    """Metrics of several runs side by side; the best value of each row is marked, never
    in a run whose account was wiped out (a margin call), which says so in its header, and
    not for totals, counts and drawdowns (``PERIOD_DEPENDENT``) of runs over different
    periods."""
    labels = [_run_label(s) for s in summaries]
    wiped = [wiped_out_on(s) for s in summaries]
    head = "".join(
        f'<th>{esc(lab)}<br><span class="muted" style="font-weight:400">'
        f"{esc((s.get('strategy') or {}).get('name'))}"
        f"{' &middot; SYNTHETIC' if (s.get('provenance') or {}).get('synthetic') else ''}"
        "</span>"
        + (f'<br><span class="wiped">account wiped out on {esc(w)}</span>' if w else "")
        + "</th>"
        for lab, s, w in zip(labels, summaries, wiped, strict=True)
    )
    rows = []
    periods_differ = period_warning(summaries) is not None
    for key, label, kind, higher in COMPARISON_ROWS:
        if periods_differ and key in PERIOD_DEPENDENT:
            higher = None  # a total over a longer period is not a better strategy
        perfs = [s.get("performance") or {} for s in summaries]
        values = [p.get(key) for p in perfs]
        finite = [
            float(v)
            for v, w in zip(values, wiped, strict=True)
            if not w and isinstance(v, (int, float)) and math.isfinite(v)
        ]
        best = None
        if higher is not None and len(set(finite)) > 1:  # ties everywhere: no best
            best = max(finite) if higher else min(finite)
        cells = "".join(
            f'<td class="{"" if w else _best_class(v, best)}">{_fmt_kind(v, kind, p)}</td>'
            for v, p, w in zip(values, perfs, wiped, strict=True)
        )
        rows.append(f'<tr><th class="l">{esc(label)}</th>{cells}</tr>')
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
        cells = "".join(f'<td class="l small">{esc(get(s))}</td>' for s in summaries)
        rows.append(f'<tr><th class="l">{esc(label)}</th>{cells}</tr>')
    return (
        '<div class="scroll" style="max-height:none"><table class="data" id="comparison-table">'
        f'<thead><tr><th class="l">Metric</th>{head}</tr></thead><tbody>{"".join(rows)}</tbody>'
        "</table></div>"
    )


def differences_html(summaries: list[dict[str, Any]]) -> str:
    """The settings in which the runs differ, one row per setting, a column per run."""
    diffs = config_differences(summaries)
    if not diffs:
        return '<p class="muted" id="config-differences">The runs have the same settings.</p>'
    head = "".join(f"<th>{esc(_run_label(s))}</th>" for s in summaries)
    rows = "".join(
        f'<tr><th class="l">{esc(key)}</th>'
        + "".join(f'<td class="l small">{esc(plain(v))}</td>' for v in values)
        + "</tr>"
        for key, values in diffs
    )
    return (
        '<div class="scroll" style="max-height:none"><table class="data" id="config-differences">'
        f'<thead><tr><th class="l">Setting</th>{head}</tr></thead><tbody>{rows}</tbody>'
        "</table></div>"
    )


def correlation_html(summaries: list[dict[str, Any]], equity: Mapping[str, pd.Series]) -> str:
    """The correlation matrix of the runs' daily returns as a table."""
    corr = daily_return_correlation(summaries, dict(equity))
    if corr.empty:
        return '<p class="muted">No daily returns to correlate.</p>'
    ids = list(corr.columns)
    head = "".join(f"<th>{esc(i)}</th>" for i in ids)

    def cell(v: float) -> str:
        if not math.isfinite(v):
            return '<td class="muted">-</td>'
        alpha = min(abs(v), 1.0) * 0.45
        color = f"rgba(44,90,160,{alpha:.2f})" if v >= 0 else f"rgba(215,48,39,{alpha:.2f})"
        return f'<td style="background:{color}">{v:+.2f}</td>'

    rows = "".join(
        f'<tr><th class="l">{esc(i)}</th>'
        + "".join(cell(float(corr.loc[i, j])) for j in ids)
        + "</tr>"
        for i in ids
    )
    return (
        '<div class="scroll" style="max-height:none"><table class="data" id="return-correlation">'
        f'<thead><tr><th class="l"></th>{head}</tr></thead><tbody>{rows}</tbody></table></div>'
        '<p class="muted">Pearson correlation of daily returns by CME trade date, over the '
        "dates both runs have (also in daily_return_correlation.csv). Near +1: the runs win "
        "and lose together, so running both adds little diversification.</p>"
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
        The page written. Like report.html it loads plotly.js from ``plotly.min.js``
        beside it (written unless there: :func:`write_plotly_js`), not 4.8 MB inline, and
        works offline, moved or zipped with its folder.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    synthetic = any((s.get("provenance") or {}).get("synthetic") for s in summaries)
    figs = comparison_figures(summaries, equity)
    warning = period_warning(summaries)
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
        f'<header><h1>{esc(title)}</h1><div class="meta"><span>generated '
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC</span></div></header>{banner}<main>"
        f'<section id="metrics"><h2>Metrics side by side</h2><div class="panel">'
        f"{comparison_table_html(summaries)}"
        + (f'<p class="wiped" id="period-warning">Warning: {esc(warning)}.</p>' if warning else "")
        + '<p class="muted">Best value of each row in bold.</p></div></section>'
        '<section id="differences"><h2>How the runs differ</h2><div class="panel">'
        f"{differences_html(summaries)}</div></section>"
        '<section id="correlation"><h2>Correlation of daily returns</h2><div class="panel">'
        f"{correlation_html(summaries, equity)}</div></section>"
        f'<section id="charts"><h2>Charts</h2>{charts_html}</section></main>'
    )
    extra_css = f"<style>{asset('comparison.css')}</style>"
    js = write_plotly_js(out_dir)
    path = out_dir / COMPARISON_FILE
    path.write_text(page(title, extra_css + plotly_head(js.name), body), encoding="utf-8")
    return path
