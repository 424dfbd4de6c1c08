"""Small HTML parts shared by the report pages and the notebook dashboard: number formats,
key/value tables, the data banner, the metric cards."""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Mapping
from typing import Any


def esc(value: Any) -> str:
    """``value`` as escaped HTML text (None as the empty string)."""
    return html.escape("" if value is None else str(value))


def fmt_num(value: Any, spec: str = ",.2f", *, prefix: str = "", suffix: str = "") -> str:
    """A number formatted with ``spec`` (``n/a`` for None/NaN), sign before the prefix.

    Parameters
    ----------
    value : Any
        A number (anything else is shown escaped as it is).
    spec : str, default ",.2f"
        A :func:`format` spec for the absolute value.
    prefix, suffix : str
        Put around the number (``$``, ``%``).

    Returns
    -------
    str
    """
    if value is None:
        return "n/a"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return esc(value)
    if not math.isfinite(number):
        return "n/a"
    sign = "-" if number < 0 else ""
    return f"{sign}{prefix}{format(abs(number), spec)}{suffix}"


def usd(value: Any) -> str:
    """``$1,234.56`` (``-$12.00`` below zero)."""
    return fmt_num(value, ",.2f", prefix="$")


def pct(value: Any, spec: str = ".2f") -> str:
    """``12.34%``."""
    return fmt_num(value, spec, suffix="%")


def tone(value: Any, *, good_above: float = 0.0) -> str:
    """CSS class ``pos``/``neg``/``""`` for a value against a threshold."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return ""
    if not math.isfinite(v) or v == good_above:
        return ""
    return "pos" if v > good_above else "neg"


def plain(value: Any) -> str:
    """A value as short plain text: ``-`` for None, floats with ``g``, lists joined."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(plain(x) for x in value) if value else "-"
    if isinstance(value, Mapping):
        return json.dumps(value, default=str)
    return str(value)


def flatten(d: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Nested mappings as ``(dotted.key, value)`` rows."""
    rows: list[tuple[str, Any]] = []
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping) and v:
            rows.extend(flatten(v, key + "."))
        else:
            rows.append((key, v))
    return rows


def kv_table(rows: Iterable[tuple[str, Any]], cls: str = "kv") -> str:
    """Key/value rows as a two-column table."""
    body = "".join(f"<tr><th>{esc(k)}</th><td>{esc(plain(v))}</td></tr>" for k, v in rows)
    return f'<table class="{cls}"><tbody>{body}</tbody></table>'


def columns(rows: list[tuple[str, Any]], n: int = 3) -> str:
    """Key/value rows as ``n`` tables side by side."""
    size = max(1, math.ceil(len(rows) / n))
    tables = "".join(
        f"<div>{kv_table(rows[i : i + size])}</div>" for i in range(0, len(rows), size)
    )
    return f'<div class="cols3">{tables}</div>'


def banner(provenance: Mapping[str, Any]) -> str:
    """The red SYNTHETIC DATA banner, or the green real-data line naming the sources."""
    if provenance.get("synthetic"):
        return (
            '<div class="banner synthetic" id="synthetic-banner">SYNTHETIC DATA'
            "<small>generated sample bars, not market prices: these results say nothing "
            "about trading real MCL futures</small></div>"
        )
    sources = ", ".join(str(s) for s in provenance.get("sources") or []) or "unknown source"
    return (
        f'<div class="banner real">Real market data<small>{esc(provenance.get("dataset"))} '
        f"({esc(sources)})</small></div>"
    )


def card(label: str, value: str, sub: str = "", tone_class: str = "") -> str:
    """One metric card: label, value (HTML), optional sub-line, optional tone class."""
    cls = f"value {tone_class}".strip()
    sub_html = f'<div class="sub">{sub}</div>' if sub else ""
    return (
        f'<div class="card"><div class="label">{esc(label)}</div>'
        f'<div class="{cls}">{value}</div>{sub_html}</div>'
    )


def reliability_banner(summary: Mapping[str, Any]) -> str:
    """A caution line when the run is too short for its statistics (summary ``warnings``)."""
    warnings = summary.get("warnings") or []
    if not warnings:
        return ""
    items = "".join(f"<li>{esc(w)}</li>" for w in warnings)
    return (
        '<div class="banner caution" id="reliability-banner">Too short for its statistics'
        f"<small>figures marked unreliable below rest on too little data</small><ul>{items}</ul>"
        "</div>"
    )


def account_banner(summary: Mapping[str, Any]) -> str:
    """A warning when the account was wiped out (margin call), the risk layer blocked most
    entries, or the account could no longer trade (summary ``account.notes``)."""
    account = summary.get("account") or {}
    notes = account.get("notes") or []
    if not notes:
        return ""
    title = (
        "Account wiped out" if account.get("wiped_out") else "The account could not trade freely"
    )
    items = "".join(f"<li>{esc(n)}</li>" for n in notes)
    return (
        f'<div class="banner caution" id="account-banner">{esc(title)}'
        "<small>read the figures below with this in mind</small>"
        f"<ul>{items}</ul></div>"
    )


def metric_cards(performance: Mapping[str, Any], unreliable: Iterable[str] = ()) -> str:
    """The headline metric cards of a summary's ``performance`` block; the figures named in
    ``unreliable`` (a summary's ``unreliable_metrics``) say so on their card."""
    p = performance
    doubtful = set(unreliable)

    def sub(key: str, text: str) -> str:
        return f"{text} · unreliable" if key in doubtful else text

    wins, losses = p.get("winning_trades"), p.get("losing_trades")
    win_rate = p.get("win_rate")
    cards = [
        card(
            "Total return",
            pct(p.get("total_return_pct")),
            usd(p.get("total_return_usd")),
            tone(p.get("total_return_pct")),
        ),
        card(
            "Sharpe",
            fmt_num(p.get("sharpe_ratio"), ".2f"),
            sub("sharpe_ratio", "annualized, daily"),
            tone(p.get("sharpe_ratio")),
        ),
        card(
            "Sortino",
            fmt_num(p.get("sortino_ratio"), ".2f"),
            sub("sortino_ratio", "annualized, daily"),
            tone(p.get("sortino_ratio")),
        ),
        card(
            "Max drawdown",
            pct(p.get("max_drawdown_pct")),
            usd(p.get("max_drawdown_usd")),
            "neg" if (p.get("max_drawdown_pct") or 0) > 0 else "",
        ),
        card(
            "Calmar",
            fmt_num(p.get("calmar_ratio"), ".2f"),
            sub("calmar_ratio", "CAGR / max DD"),
            tone(p.get("calmar_ratio")),
        ),
        card(
            "Win rate",
            fmt_num(None if win_rate is None else win_rate * 100, ".1f", suffix="%"),
            sub("win_rate", f"{plain(wins)} won / {plain(losses)} lost"),
        ),
        card(
            "Profit factor",
            fmt_num(p.get("profit_factor"), ".2f"),
            sub("profit_factor", "gross won / gross lost"),
            tone(p.get("profit_factor"), good_above=1.0),
        ),
        card(
            "Trades",
            fmt_num(p.get("total_trades"), ",.0f"),
            sub("avg_trade_pnl", f"avg {usd(p.get('avg_trade_pnl'))}"),
            tone(p.get("avg_trade_pnl")),
        ),
        card(
            "Avg winner / loser",
            f"{usd(p.get('avg_winner'))}",
            f"loser {usd(p.get('avg_loser'))}",
        ),
        card(
            "Largest win / loss",
            f"{usd(p.get('largest_winner'))}",
            f"loss {usd(p.get('largest_loser'))}",
        ),
    ]
    return '<div class="cards" id="metric-cards">' + "".join(cards) + "</div>"


def recommendations_list(recs: Iterable[Any]) -> str:
    """The recommendations as a list (or a muted "No recommendations.")."""
    items = [f"<li>{esc(r)}</li>" for r in recs or []]
    if not items:
        return '<p class="muted">No recommendations.</p>'
    return '<ul class="recs">' + "".join(items) + "</ul>"
