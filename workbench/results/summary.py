"""``summary.json``: the key facts of one backtest run, for people and for AI analysis.

The document has exactly the keys of the plan's schema (``run_id``, ``timestamp``,
``symbol``, ``strategy``, ``data_range``, ``performance``, ``risk_metrics``,
``time_analysis``, ``recommendations``) plus documented extras:

``provenance``
    Where the bars came from: ``synthetic`` (True for the embedded sample data, which must
    never be mistaken for market results), ``sources``, ``dataset``, ``product``, ``schema``,
    ``continuous``, ``roll_rule``, ``adjust``, the ``contracts`` traded and the ``rolls``
    of the continuous series (``trade_date``, ``from_symbol``, ``to_symbol``).
``statistics``
    Volatility, CAGR, skew, kurtosis, VaR/CVaR, tail ratio, Omega, Ulcer index, recovery
    factor, best/worst day and month, exposure, expectancy, SQN and MAE/MFE (see
    :mod:`workbench.analysis.distribution`); absent in runs saved before it existed.
``benchmark``
    Buy and hold of the continuous front month over the same bars, and the run's alpha,
    beta and correlation to it (:mod:`workbench.analysis.benchmark`); null without bars.
``annualization``
    How the ratios were annualized (see :mod:`workbench.analysis.metrics`).
``config``
    The complete :class:`~workbench.backtest.config.BacktestConfig` of the run.

The JSON Schema (draft 2020-12) is published as ``workbench/results/summary.schema.json``;
:func:`validate_summary` checks a document against it. Every value is a builtin JSON type:
no NaN or infinity (undefined figures are null).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import re
from importlib import resources
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.analysis import unreliable_metrics
from workbench.results.recommendations import make_recommendations

if TYPE_CHECKING:
    from workbench.backtest.result import BacktestResult

#: Name of the schema file next to this module.
SCHEMA_FILE = "summary.schema.json"
#: Top-level keys of summary.json, in the order they are written.
SUMMARY_KEYS = (
    "run_id",
    "timestamp",
    "symbol",
    "strategy",
    "data_range",
    "performance",
    "statistics",
    "benchmark",
    "risk_metrics",
    "time_analysis",
    "recommendations",
    "warnings",
    "unreliable_metrics",
    "provenance",
    "annualization",
    "config",
    "account",
)
#: Keys of the ``performance`` block.
PERFORMANCE_KEYS = (
    "total_return_pct",
    "total_return_usd",
    "sharpe_ratio",
    "sortino_ratio",
    "max_drawdown_pct",
    "max_drawdown_usd",
    "calmar_ratio",
    "win_rate",
    "profit_factor",
    "avg_trade_pnl",
    "avg_winner",
    "avg_loser",
    "largest_winner",
    "largest_loser",
    "total_trades",
    "winning_trades",
    "losing_trades",
)
RISK_METRIC_KEYS = (
    "risk_per_trade",
    "daily_loss_limit",
    "trades_rejected",
    "circuit_breaker_triggered",
)
TIME_ANALYSIS_KEYS = (
    "avg_hold_time_minutes",
    "best_hour",
    "worst_hour",
    "best_day_of_week",
    "worst_day_of_week",
)
DATA_RANGE_KEYS = ("start", "end", "trading_days", "total_bars")
PROVENANCE_KEYS = (
    "synthetic",
    "sources",
    "dataset",
    "product",
    "schema",
    "continuous",
    "roll_rule",
    "adjust",
    "contracts",
    "rolls",
)
ROLL_KEYS = ("trade_date", "from_symbol", "to_symbol")


def to_jsonable(value: Any) -> Any:
    """``value`` with builtin JSON types only.

    numpy scalars become ``int``/``float``/``bool``, NaN and infinities None, dates and
    timestamps ISO strings, paths strings, tuples and arrays lists, and dict keys strings.

    Parameters
    ----------
    value : Any
        A nested structure of dicts, lists and scalars.

    Returns
    -------
    Any
        The same structure, accepted by ``json.dumps(..., allow_nan=False)``.
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [to_jsonable(v) for v in items]
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return to_jsonable(float(value))
    if isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()]
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else pd.Timestamp(value).isoformat()
    return str(value)


def _parse_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def format_timestamp(when: dt.datetime | str) -> str:
    """``when`` as ``YYYY-MM-DDTHH:MM:SSZ`` in UTC (naive datetimes are taken as UTC).

    Parameters
    ----------
    when : datetime or str
        A datetime, or an ISO 8601 string.

    Returns
    -------
    str
        The UTC time to the second with a ``Z`` suffix.
    """
    if isinstance(when, str):
        when = _parse_time(when)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_symbol(result: BacktestResult) -> str:
    """The symbol a run traded: the product for a continuous series (``MCL_FUT``), else the
    single contract (``MCLH4``).

    Parameters
    ----------
    result : BacktestResult
        A backtest result.

    Returns
    -------
    str
        The symbol.
    """
    prov = result.provenance
    product = str(prov.get("product") or result.parameters.get("contract", {}).get("product"))
    contracts = prov.get("contracts") or []
    if not prov.get("continuous", True) and len(contracts) == 1:
        return str(contracts[0])
    return product


def _provenance(result: BacktestResult) -> dict[str, Any]:
    prov = result.provenance
    out = {k: prov.get(k) for k in PROVENANCE_KEYS}
    out["synthetic"] = bool(prov.get("synthetic", False))
    out["sources"] = [str(s) for s in prov.get("sources") or []]
    out["contracts"] = [str(c) for c in prov.get("contracts") or []]
    out["rolls"] = [{k: r.get(k) for k in ROLL_KEYS} for r in prov.get("rolls") or []]
    if out["continuous"] is not None:
        out["continuous"] = bool(out["continuous"])
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9-]+", "-", text).strip("-") or "x"


def utc_now() -> dt.datetime:
    """The current UTC time to the second: a run's timestamp and run-id time.

    Returns
    -------
    datetime
        Timezone-aware (UTC), microseconds dropped.
    """
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def make_run_id(result: BacktestResult, when: dt.datetime) -> str:
    """``{UTC date}_{HHMMSS}_{strategy short key}_{symbol}``, e.g.
    ``2026-01-10_143052_ema_MCL_FUT``.

    Parameters
    ----------
    result : BacktestResult
        The backtest (strategy key and symbol).
    when : datetime
        The save time (naive is taken as UTC).

    Returns
    -------
    str
        The base run id (before any ``_2`` collision suffix).
    """
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    strategy = result.parameters.get("strategy", {})
    key = str(strategy.get("key") or strategy.get("name") or "strategy")
    short = _slug(key.split("_", 1)[0].lower())
    symbol = re.sub(r"[^A-Za-z0-9_-]+", "-", run_symbol(result)).strip("-") or "x"
    return f"{when.astimezone(dt.UTC):%Y-%m-%d_%H%M%S}_{short}_{symbol}"


def build_summary(
    result: BacktestResult,
    run_id: str | None = None,
    timestamp: dt.datetime | str | None = None,
) -> dict[str, Any]:
    """The summary.json document of a backtest run: the one builder of that document.

    Saved runs (:func:`workbench.results.save_results`), the report and the dashboard
    (:mod:`workbench.visualization`) all take their summary from here.

    Parameters
    ----------
    result : BacktestResult
        What :func:`~workbench.backtest.run_backtest` returned.
    run_id : str, optional
        The run's identifier (its folder name, e.g. ``2026-01-10_143052_ema_MCL_FUT``);
        by default :func:`make_run_id` of ``timestamp``, as a saved run would be named.
    timestamp : datetime or str, optional
        When the run was saved (written as ``YYYY-MM-DDTHH:MM:SSZ``, UTC); by default
        :func:`utc_now`.

    Returns
    -------
    dict
        The keys of :data:`SUMMARY_KEYS`, JSON-safe (see the module docstring); it passes
        :func:`validate_summary`.
    """
    if timestamp is None:
        timestamp = utc_now()
    if run_id is None:
        when = timestamp if isinstance(timestamp, dt.datetime) else _parse_time(timestamp)
        run_id = make_run_id(result, when)
    metrics = result.metrics
    extended = result.statistics
    notes = result.reliability
    strategy = result.parameters.get("strategy", {})
    summary: dict[str, Any] = {
        "run_id": run_id,
        "timestamp": format_timestamp(timestamp),
        "symbol": run_symbol(result),
        "strategy": {
            "name": strategy.get("name"),
            "class": strategy.get("class"),
            "parameters": dict(strategy.get("parameters") or {}),
        },
        "data_range": {k: result.data_range.get(k) for k in DATA_RANGE_KEYS},
        "performance": {k: metrics["performance"].get(k) for k in PERFORMANCE_KEYS},
        "statistics": dict(extended["statistics"]),
        "benchmark": None if extended["benchmark"] is None else dict(extended["benchmark"]),
        "risk_metrics": {k: metrics["risk_metrics"].get(k) for k in RISK_METRIC_KEYS},
        "time_analysis": {k: metrics["time_analysis"].get(k) for k in TIME_ANALYSIS_KEYS},
        "recommendations": make_recommendations(result),
        "warnings": [note["message"] for note in notes],
        "unreliable_metrics": unreliable_metrics(notes),
        "provenance": _provenance(result),
        "annualization": dict(metrics["annualization"]),
        "config": dict(result.parameters.get("config") or {}),
        "account": dict(result.account),
    }
    out: dict[str, Any] = to_jsonable(summary)
    return out


def backtest_document(result: BacktestResult, run_dir: str | Path | None = None) -> dict[str, Any]:
    """What ``workbench backtest --json`` prints: the summary.json document and two extras.

    The same document as a saved run's summary.json (read back from ``run_dir`` when the run
    was saved, else :func:`build_summary`), so warnings, ``unreliable_metrics``, ``account``
    and the recommendations are never missing from one of the two; plus ``parameters`` (the
    full strategy, configuration and contract record) and ``run_dir`` (when saved).

    Parameters
    ----------
    result : BacktestResult
        The run.
    run_dir : str or Path, optional
        Its saved folder, if it was saved.

    Returns
    -------
    dict
        JSON-safe.
    """
    if run_dir is not None:
        doc: dict[str, Any] = json.loads((Path(run_dir) / "summary.json").read_text("utf-8"))
    else:
        doc = build_summary(result)
    doc["parameters"] = to_jsonable(result.parameters)
    if run_dir is not None:
        doc["run_dir"] = str(run_dir)
    return doc


@functools.cache
def summary_schema() -> dict[str, Any]:
    """The JSON Schema of summary.json (draft 2020-12), loaded from the package.

    Returns
    -------
    dict
        The parsed ``summary.schema.json``.
    """
    text = resources.files("workbench.results").joinpath(SCHEMA_FILE).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def validate_summary(summary: dict[str, Any]) -> None:
    """Check a summary.json document against :func:`summary_schema`.

    Parameters
    ----------
    summary : dict
        A parsed summary.json.

    Raises
    ------
    jsonschema.ValidationError
        The first problem found (``.path`` is where, ``.message`` what); the message of
        the exception names the offending key.
    """
    import jsonschema  # here for start-up time: its import takes seconds

    validator = jsonschema.Draft202012Validator(summary_schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(summary))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        error.message = f"summary.json at {where}: {error.message}"
        raise error
