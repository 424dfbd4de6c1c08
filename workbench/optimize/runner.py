"""Running a sweep's combinations: in this process or on a Dask cluster, results as they
arrive, a failing combination recorded with its error instead of stopping the sweep.

On Dask, combinations go out in chunks and come back through ``as_completed``, so each
finished chunk is handed to ``on_outcome`` (the ledger, the progress bar) at once. A worker
process that dies takes its running chunk with it; the scheduler gives that chunk to another
worker (up to its ``allowed-failures``), and since outcomes are keyed by combination, a chunk
that ran twice is still counted once.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from workbench.analysis import daily_returns
from workbench.backtest import run_backtest

if TYPE_CHECKING:
    from workbench.strategies.base import Strategy

#: The figures a sweep records per combination (summary.json "performance" keys), and the
#: risk counters. Any of them can be the objective.
METRIC_COLUMNS = (
    "total_return_pct",
    "total_return_usd",
    "sharpe_ratio",
    "sortino_ratio",
    "max_drawdown_pct",
    "calmar_ratio",
    "win_rate",
    "profit_factor",
    "avg_trade_pnl",
    "total_trades",
    "trades_rejected",
    "circuit_breaker_triggered",
)


def combo_key(params: dict[str, Any]) -> str:
    """A combination's identity: its parameters as canonical JSON."""
    return json.dumps(params, sort_keys=True, default=str)


@dataclass
class Outcome:
    """What one combination gave: its sweep row and daily returns, or the error it raised.

    Attributes
    ----------
    params : dict
        The combination.
    row : dict or None
        Its parameters and :data:`METRIC_COLUMNS` (None when it failed).
    returns : pandas.Series or None
        Daily returns by CME trade date (None when it failed).
    error : str or None
        ``ExceptionType: message`` of the failure (None when it ran).
    """

    params: dict[str, Any]
    row: dict[str, Any] | None = None
    returns: pd.Series | None = None
    error: str | None = None

    @property
    def key(self) -> str:
        """:func:`combo_key` of ``params``."""
        return combo_key(self.params)


def evaluate(
    bars: pd.DataFrame,
    strategy_cls: type[Strategy],
    params: dict[str, Any],
    options: dict[str, Any],
) -> Outcome:
    """Backtest one combination; an exception becomes the outcome's ``error`` (one line)."""
    try:
        result = run_backtest(bars, strategy_cls.from_parameters(params), **options)
        perf = result.metrics["performance"]
        row = dict(params)
        for k in METRIC_COLUMNS:
            row[k] = perf.get(k)
        row["trades_rejected"] = result.trades_rejected
        row["circuit_breaker_triggered"] = result.circuit_breaker_triggered
        returns = daily_returns(result.daily_pnl, result.initial_capital)
    except Exception as exc:  # a failing combination must not stop the sweep
        return failed(params, exc)
    return Outcome(params, row=row, returns=returns)


def failed(params: dict[str, Any], exc: BaseException) -> Outcome:
    """The outcome of a combination that raised ``exc``: its error in one line."""
    last = traceback.extract_tb(exc.__traceback__)[-1:]
    where = f" (at {last[0].filename.rsplit('/', 1)[-1]}:{last[0].lineno})" if last else ""
    return Outcome(params, error=f"{type(exc).__name__}: {exc}{where}")


def evaluate_chunk(
    bars: pd.DataFrame,
    strategy_cls: type[Strategy],
    chunk: list[dict[str, Any]],
    options: dict[str, Any],
) -> list[Outcome]:
    """One Dask task: a few combinations (fewer round trips)."""
    return [evaluate(bars, strategy_cls, p, options) for p in chunk]


def run_all(
    bars: pd.DataFrame,
    strategy_cls: type[Strategy],
    combos: list[dict[str, Any]],
    options: dict[str, Any],
    *,
    client: Any = None,
    chunk_size: int = 4,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Every combination's outcome, in the order of ``combos`` (each exactly once).

    Parameters
    ----------
    bars, strategy_cls, combos, options
        What to backtest.
    client : dask.distributed.Client, optional
        Run on this cluster (the bars are sent to each worker once); default in process.
    chunk_size : int, default 4
        Combinations per Dask task.
    on_outcome : callable, optional
        Called with each outcome as soon as it is known (in completion order).
    """
    done: dict[str, Outcome] = {}

    def record(outcomes: Iterable[Outcome]) -> None:
        for o in outcomes:
            if o.key in done:  # a retried task that had already reported: count it once
                continue
            done[o.key] = o
            if on_outcome is not None:
                on_outcome(o)

    if client is None:
        for p in combos:
            record([evaluate(bars, strategy_cls, p, options)])
    elif combos:
        # start-up: dask.distributed only for a distributed sweep
        from dask.distributed import as_completed

        [shared] = client.scatter([bars], broadcast=True)
        chunks = [combos[i : i + chunk_size] for i in range(0, len(combos), chunk_size)]
        futures = [
            client.submit(evaluate_chunk, shared, strategy_cls, c, options, pure=False)
            for c in chunks
        ]
        for future in as_completed(futures):
            record(future.result())
    return [done[combo_key(p)] for p in combos]
