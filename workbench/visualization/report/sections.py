"""The tables of report.html: trades, deepest drawdowns, risk, time analysis, provenance."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from workbench.market.contracts import parse_symbol
from workbench.visualization import charts as C
from workbench.visualization.html_parts import esc, fmt_num, kv_table, pct, tone, usd
from workbench.visualization.report.document import PRINT_TABLE_ROWS

if TYPE_CHECKING:
    from workbench.backtest.result import BacktestResult


def trade_table_html(trades: pd.DataFrame, max_rows: int = C.DEFAULT_MAX_TABLE_ROWS) -> str:
    """The closed trades as an HTML table sortable by clicking a header (needs the page's
    sort script); over ``max_rows`` it keeps the largest ``|net_pnl|`` and says so.

    Parameters
    ----------
    trades : pandas.DataFrame
        ``BacktestResult.trades``.
    max_rows : int
        Most rows shown.

    Returns
    -------
    str
    """
    shown, capped = C.select_trades(trades, max_rows)
    rows = C.trade_rows(shown)
    numeric = {"Qty", "Entry px", "Exit px", "Net P&L", "Commission", "Bars"}
    heads = "".join(
        f'<th class="{"" if h in numeric else "l"}" data-type="{"num" if h in numeric else "str"}">'
        f"{esc(h)}</th>"
        for h in rows.columns
    )
    body: list[str] = []
    columns = [(h, rows[h].to_numpy()) for h in rows.columns]
    for i in range(len(rows)):
        cells = []
        for h, values in columns:
            v = values[i]
            if h in ("Net P&L", "Commission"):
                cls = tone(v) if h == "Net P&L" else ""
                cells.append(f'<td class="{cls}" data-v="{float(v):.2f}">{usd(v)}</td>')
            elif h in ("Entry px", "Exit px"):
                cells.append(f"<td>{fmt_num(v, '.2f')}</td>")
            elif h in numeric:
                cells.append(f"<td>{esc(v)}</td>")
            else:
                cells.append(f'<td class="l">{esc(v)}</td>')
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


def drawdown_table(result: BacktestResult, top: int = 5) -> str:
    """The ``top`` deepest drawdowns: peak, trough, recovery, depth, durations."""
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
        f'<td class="l">{when(r.end)}</td><td class="neg">{pct(r.depth_pct)}</td>'
        f"<td>{usd(r.depth_usd)}</td><td>{span(r.duration)}</td><td>{span(r.recovery)}</td></tr>"
        for r in dd.itertuples()
    )
    return (
        '<table class="data"><thead><tr><th class="l">Peak (NY)</th><th class="l">Trough</th>'
        '<th class="l">Recovered</th><th>Depth</th><th>Depth USD</th><th>Duration</th>'
        f"<th>Recovery</th></tr></thead><tbody>{rows}</tbody></table>"
        f'<p class="muted">The {len(dd)} deepest of {len(result.drawdowns):,} drawdowns '
        "(all of them in drawdowns.csv).</p>"
    )


def risk_section(result: BacktestResult, summary: Mapping[str, Any]) -> str:
    """The summary's risk figures and the count of each risk decision."""
    risk = dict(summary.get("risk_metrics") or result.metrics.get("risk_metrics") or {})
    events = result.risk_events
    counts = ""
    if len(events):
        vc = events.groupby(["action", "reason"]).size().sort_values(ascending=False)
        counts = (
            '<table class="data"><thead><tr><th class="l">Action</th><th class="l">Reason</th>'
            "<th>Count</th></tr></thead><tbody>"
            + "".join(
                f'<tr><td class="l">{esc(a)}</td><td class="l">{esc(r)}</td><td>{n:,}</td></tr>'
                for (a, r), n in vc.items()
            )
            + "</tbody></table>"
        )
    return kv_table(risk.items()) + (f"<h3>Risk decisions</h3>{counts}" if counts else "")


def time_section(summary: Mapping[str, Any], result: BacktestResult) -> str:
    """The summary's time analysis (hours shown as New York clock times)."""
    ta = dict(summary.get("time_analysis") or result.metrics.get("time_analysis") or {})
    rows = []
    for k, v in ta.items():
        if k.endswith("_hour") and v is not None:
            v = f"{int(v):02d}:00 New York"
        rows.append((k, v))
    return kv_table(rows)


def contract_order(symbols: Iterable[Any], reference_year: int | None = None) -> list[str]:
    """Contract symbols in expiry order (``MCLZ4`` before ``MCLF5``); others last, by name.

    Parameters
    ----------
    symbols : iterable
        Contract symbols such as ``MCLZ5``.
    reference_year : int, optional
        A year of the data, to resolve one-digit years (see
        :func:`workbench.market.contracts.parse_symbol`).

    Returns
    -------
    list of str
        Each symbol once.
    """

    def key(symbol: str) -> tuple[int, int, int, str]:
        try:
            p = parse_symbol(symbol, reference_year)
        except ValueError:
            return (1, 0, 0, symbol)
        return (0, p.year, p.month, symbol)

    return sorted({str(s) for s in symbols}, key=key)


def _year(value: Any) -> int | None:
    try:
        return int(str(value)[:4])
    except ValueError:
        return None


def provenance_section(
    provenance: Mapping[str, Any],
    *,
    traded: Iterable[Any] = (),
    reference_date: Any = None,
) -> str:
    """Where the bars came from: sources, the contracts in the data and those traded, the rolls.

    Parameters
    ----------
    provenance : mapping
        ``BacktestResult.provenance`` (rolls with their closes and adjustment) or a summary's.
    traded : iterable, default ()
        The contracts the trades were in (``trades["symbol"]``).
    reference_date : optional
        A date of the data (``YYYY-...``), to read one-digit contract years.

    Returns
    -------
    str
    """
    skip = {"rolls", "contracts"}
    rows = [(k, v) for k, v in provenance.items() if k not in skip]
    year = _year(reference_date)
    contracts = contract_order(provenance.get("contracts") or [], year)
    traded_list = contract_order(traded, year)
    rolls = provenance.get("rolls") or []
    parts = [kv_table(rows)]
    parts.append(
        f'<p id="contracts-in-data"><b>Contracts in the data ({len(contracts)}):</b> '
        f"{esc(', '.join(contracts) or '-')}</p>"
        f'<p id="contracts-traded"><b>Contracts traded ({len(traded_list)}):</b> '
        f"{esc(', '.join(traded_list) or 'none: no trades')}</p>"
    )
    rolls = [r for r in rolls if isinstance(r, Mapping)]
    if rolls:
        detail = any(r.get("from_close") is not None for r in rolls)
        heads = "<th>From close</th><th>To close</th><th>Adjustment</th>" if detail else ""

        def cells(r: Mapping[str, Any]) -> str:
            if not detail:
                return ""
            return (
                f"<td>{fmt_num(r.get('from_close'))}</td><td>{fmt_num(r.get('to_close'))}</td>"
                f"<td>{fmt_num(r.get('adjustment'))}</td>"
            )

        body = "".join(
            f'<tr><td class="l">{esc(r.get("trade_date"))}</td>'
            f'<td class="l">{esc(r.get("from_symbol"))} &rarr; {esc(r.get("to_symbol"))}</td>'
            f"{cells(r)}</tr>"
            for r in rolls
        )
        parts.append(
            f"<p><b>Rolls ({len(rolls)}):</b></p>"
            '<div class="scroll" style="max-height:260px"><table class="data" id="rolls-table">'
            '<thead><tr><th class="l">Trade date</th><th class="l">From &rarr; to</th>'
            f"{heads}</tr></thead><tbody>{body}</tbody></table></div>"
        )
    else:
        parts.append('<p class="muted">No rolls.</p>')
    return "".join(parts)


#: How the report labels and formats each figure of summary.json's ``statistics`` block:
#: key -> (label, kind); kinds: "pct", "ratio", "usd", "text".
STATISTIC_LABELS: dict[str, tuple[str, str]] = {
    "cagr_pct": ("CAGR", "pct"),
    "volatility_pct": ("Volatility (annualized)", "pct"),
    "skew": ("Skew", "ratio"),
    "kurtosis": ("Excess kurtosis", "ratio"),
    "var_95_pct": ("Daily VaR 95%", "pct"),
    "cvar_95_pct": ("Daily CVaR 95%", "pct"),
    "tail_ratio": ("Tail ratio", "ratio"),
    "omega_ratio": ("Omega ratio", "ratio"),
    "ulcer_index": ("Ulcer index", "ratio"),
    "recovery_factor": ("Recovery factor", "ratio"),
    "best_day_pct": ("Best day", "pct"),
    "worst_day_pct": ("Worst day", "pct"),
    "best_month_pct": ("Best month", "pct"),
    "worst_month_pct": ("Worst month", "pct"),
    "exposure_pct": ("Exposure (time in market)", "pct"),
    "expectancy_usd": ("Expectancy per trade", "usd"),
    "expectancy_r": ("Expectancy (avg losses)", "ratio"),
    "sqn": ("SQN", "ratio"),
    "avg_mae_usd": ("Avg MAE per trade", "usd"),
    "max_mae_usd": ("Worst MAE", "usd"),
    "avg_mfe_usd": ("Avg MFE per trade", "usd"),
    "max_mfe_usd": ("Best MFE", "usd"),
}
#: Rows of the benchmark table: (label, strategy figure, benchmark key, kind).
BENCHMARK_ROWS = (
    ("Total return", ("performance", "total_return_pct"), "total_return_pct", "pct"),
    ("CAGR", ("statistics", "cagr_pct"), "cagr_pct", "pct"),
    ("Volatility", ("statistics", "volatility_pct"), "volatility_pct", "pct"),
    ("Sharpe ratio", ("performance", "sharpe_ratio"), "sharpe_ratio", "ratio"),
    ("Max drawdown", ("performance", "max_drawdown_pct"), "max_drawdown_pct", "pct"),
)


def _figure(value: Any, kind: str) -> str:
    if kind == "pct":
        return pct(value)
    if kind == "usd":
        return usd(value)
    if kind == "ratio":
        return fmt_num(value, ".2f")
    return esc(value if value is not None else "-")


def statistics_section(summary: Mapping[str, Any], result: BacktestResult) -> str:
    """The return statistics beside the buy-and-hold benchmark, alpha, beta, correlation.

    Parameters
    ----------
    summary : mapping
        The run's summary.json dict (its ``statistics``, ``benchmark`` and ``performance``).
    result : BacktestResult
        The backtest (its statistics when the summary has none).

    Returns
    -------
    str
    """
    stats = summary.get("statistics") or result.statistics["statistics"]
    bench = summary.get("benchmark") or result.statistics["benchmark"]
    perf = summary.get("performance") or result.metrics["performance"]
    when = {
        "best_day_pct": stats.get("best_day"),
        "worst_day_pct": stats.get("worst_day"),
        "best_month_pct": stats.get("best_month"),
        "worst_month_pct": stats.get("worst_month"),
    }
    rows = "".join(
        f"<tr><th>{esc(label)}</th><td>{_figure(stats.get(key), kind)}"
        + (f' <span class="muted">{esc(when[key])}</span>' if when.get(key) else "")
        + "</td></tr>"
        for key, (label, kind) in STATISTIC_LABELS.items()
        if key in stats
    )
    left = f'<table class="kv" id="statistics-table"><tbody>{rows}</tbody></table>'
    if not bench:
        right = '<p class="muted">No benchmark: the bars were not kept with the result.</p>'
    else:
        blocks = {"performance": perf, "statistics": stats}
        body = "".join(
            f'<tr><td class="l">{esc(label)}</td><td>{_figure(blocks[b][k], kind)}</td>'
            f"<td>{_figure(bench.get(key), kind)}</td></tr>"
            for label, (b, k), key, kind in BENCHMARK_ROWS
        )
        right = (
            f'<p class="muted">{esc(bench.get("name"))}: daily returns by CME trade date.</p>'
            '<table class="data" id="benchmark-table"><thead><tr><th class="l"></th>'
            f"<th>Strategy</th><th>Buy &amp; hold</th></tr></thead><tbody>{body}</tbody></table>"
            + kv_table(
                [
                    ("Alpha (annualized)", pct(bench.get("alpha_pct"))),
                    ("Beta", fmt_num(bench.get("beta"), ".3f")),
                    ("Correlation of daily returns", fmt_num(bench.get("correlation"), ".3f")),
                ]
            )
        )
    note = (
        '<p class="muted">From the daily returns by CME trade date (P&amp;L over the '
        "start-of-day equity), annualized with 252; VaR/CVaR are historical one-day figures; "
        "conventions as empyrical (workbench.analysis.distribution).</p>"
    )
    return f'<div class="grid2"><div>{left}</div><div>{right}</div></div>{note}'
