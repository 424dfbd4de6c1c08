"""When a run is too short for its statistics: which figures to distrust, and why.

A few days of 1-second bars can show a Sharpe ratio of -95: annualised figures rest on the
number of daily returns, per-trade figures on the number of trades. :func:`reliability_notes`
names the figures that rest on too little, so the CLI, summary.json and the report can say so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Fewer trade dates than this and annualised statistics (Sharpe, Sortino, Calmar, CAGR,
#: volatility) rest on too few daily returns to mean anything: they are marked unreliable.
MIN_TRADE_DATES = 20
#: Fewer closed trades than this and per-trade statistics (win rate, profit factor, average
#: trade) are marked as resting on few trades.
MIN_TRADES = 10
#: Substrings naming the annualised figures among a run's ``performance`` figures.
ANNUALISED = ("sharpe", "sortino", "calmar", "cagr", "annual", "volatility")
#: Annualised figures not computed at all (None) below :data:`MIN_TRADE_DATES` trade dates:
#: the Calmar ratio's compound growth rate turns one good day into billions.
NOT_COMPUTED_WHEN_SHORT = ("calmar_ratio",)
#: The per-trade figures among a run's ``performance`` figures.
PER_TRADE = ("win_rate", "profit_factor", "avg_trade_pnl")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def reliability_notes(
    performance: Mapping[str, Any], data_range: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Notes for a run too short for its statistics.

    Too short means fewer than :data:`MIN_TRADE_DATES` trade dates in the data or fewer than
    :data:`MIN_TRADES` closed trades.

    Parameters
    ----------
    performance : mapping
        The run's ``performance`` figures (``total_trades`` and the ratios).
    data_range : mapping
        ``start``, ``end`` and ``trading_days`` of the run's data.

    Returns
    -------
    list of dict
        Each with ``message`` (one line), ``why`` (short) and ``metrics`` (the names in
        ``performance`` it makes unreliable); empty for a run long enough.
    """
    days = int(data_range.get("trading_days") or 0)
    trades = int(performance.get("total_trades") or 0)
    notes: list[dict[str, Any]] = []
    if days < MIN_TRADE_DATES:
        annualised = [k for k in performance if any(a in k for a in ANNUALISED)]
        left_out = [k for k in NOT_COMPUTED_WHEN_SHORT if k in performance]
        shown = [k for k in annualised if k not in left_out]
        why_na = (
            f"; {', '.join(left_out)} n/a (a growth rate compounded from so few days means nothing)"
            if left_out
            else ""
        )
        notes.append(
            {
                "message": f"only {_plural(days, 'trade date')} "
                f"({data_range.get('start')} to {data_range.get('end')}): "
                f"annualised figures ({', '.join(shown) or 'none'}) are unreliable "
                f"below {MIN_TRADE_DATES} trade dates{why_na}",
                "why": f"{_plural(days, 'trade date')} < {MIN_TRADE_DATES}",
                "metrics": annualised,
            }
        )
    if trades < MIN_TRADES:
        per_trade = [k for k in PER_TRADE if performance.get(k) is not None]
        notes.append(
            {
                "message": f"only {_plural(trades, 'closed trade')}: per-trade statistics "
                f"({', '.join(per_trade) or 'none'}) rest on too few trades "
                f"(fewer than {MIN_TRADES})",
                "why": f"{_plural(trades, 'trade')} < {MIN_TRADES}",
                "metrics": per_trade,
            }
        )
    return [n for n in notes if n["metrics"]]


def unreliable_metrics(notes: list[dict[str, Any]]) -> list[str]:
    """The figures named by ``notes``, sorted, each once."""
    return sorted({m for n in notes for m in n["metrics"]})
