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
