"""Compare saved backtest runs side by side.

:func:`compare_runs` reads each run folder's ``summary.json`` and equity curve
(``equity_curve.parquet``, or ``equity_curve.csv`` of older runs) and writes
``{out_root}/{UTC timestamp}/``::

    strategy_comparison.csv        one row per run: identity, data range, parameters, metrics
    daily_return_correlation.csv   correlation of the runs' daily returns, run by run

plus the files of the page writers handed in (``writers=[...]``):
``workbench.visualization.compare_with_report`` (and ``workbench compare``) add
comparison_report.html and the plotly.min.js it loads. The comparison folder is published
atomically like a run folder (:mod:`workbench.results.folders`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from workbench.analysis import equity_daily_returns
from workbench.errors import WorkbenchError
from workbench.results.folders import (
    SUMMARY_FILE,
    atomic_folder,
    clean_stale,
    is_run_dir,
    list_runs,
    prepare_parent,
)
from workbench.results.summary import (
    PERFORMANCE_KEYS,
    RISK_METRIC_KEYS,
    TIME_ANALYSIS_KEYS,
    validate_summary,
)

#: Default folder of the comparisons.
DEFAULT_COMPARISONS_DIR = "results/comparisons"
COMPARISON_CSV = "strategy_comparison.csv"
#: Correlation of the runs' daily returns (run_id by run_id).
CORRELATION_CSV = "daily_return_correlation.csv"
EQUITY_FILE = "equity_curve.csv"
#: The full-resolution equity curve; runs saved before it existed have only the CSV.
EQUITY_PARQUET = "equity_curve.parquet"

#: A writer of pages about a comparison, handed to :func:`compare_runs`: called as
#: ``writer(summaries, equity, folder)`` with the runs' summary.json dicts (in the order
#: given), their equity curves keyed by run_id, and the comparison folder being written.
ComparisonWriter = Callable[[list[dict[str, Any]], dict[str, pd.Series], Path], object]


class NotARunError(WorkbenchError):
    """A folder given as a run that is not a complete, valid run folder."""


def _not_a_run(path: Path) -> NotARunError:
    """Explain why ``path`` is not a run folder, and what to pass instead."""
    if not path.exists():
        return NotARunError(
            f"run folder {path} does not exist",
            hint="pass folders like results/backtests/2026-01-10_143052_ema_MCL_FUT "
            "(ls results/backtests)",
        )
    if not path.is_dir():
        return NotARunError(
            f"{path} is a file, not a run folder",
            hint="pass the run's folder (the one holding summary.json), not a file inside it",
        )
    if path.name.startswith(".") and ".tmp-" in path.name:
        return NotARunError(
            f"{path} is the temporary folder of an unfinished (or crashed) save",
            hint="run the backtest again; leftovers older than an hour are removed automatically",
        )
    runs = list_runs(path)
    if runs:
        shown = ", ".join(p.name for p in runs[-3:])
        return NotARunError(
            f"{path} is a folder of {len(runs)} runs, not a run folder",
            hint=f"pass the run folders inside it, e.g. {path / runs[-1].name} (latest: {shown})",
        )
    return NotARunError(
        f"{path} is not a backtest run folder: it has no {SUMMARY_FILE}",
        hint="save runs with `workbench backtest` (results go to results/backtests/)",
    )


def load_summary(run_dir: str | Path) -> dict[str, Any]:
    """Read and validate a run's summary.json.

    Parameters
    ----------
    run_dir : str or Path
        A run folder.

    Returns
    -------
    dict
        The summary.

    Raises
    ------
    NotARunError
        If ``run_dir`` is not a complete run folder, or its summary.json is not valid JSON
        or does not match the schema.
    """
    import jsonschema  # here for start-up time: its import takes seconds

    path = Path(run_dir)
    if not is_run_dir(path):
        raise _not_a_run(path)
    file = path / SUMMARY_FILE
    try:
        summary = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NotARunError(
            f"cannot read {file}: {exc}", hint="the run is damaged; run the backtest again"
        ) from None
    if not isinstance(summary, dict):
        raise NotARunError(f"{file} does not hold a JSON object", hint="run the backtest again")
    try:
        validate_summary(summary)
    except jsonschema.ValidationError as exc:
        raise NotARunError(
            f"{file} does not match the summary schema: {exc.message}",
            hint="it was written by another version or edited by hand; run the backtest again",
        ) from None
    return summary


def load_equity(run_dir: str | Path) -> pd.Series:
    """A run's equity curve: every bar from equity_curve.parquet, or equity_curve.csv in a
    run saved before the Parquet file existed.

    Parameters
    ----------
    run_dir : str or Path
        A run folder.

    Returns
    -------
    pandas.Series
        Equity (USD) named ``equity`` on a UTC DatetimeIndex of bar end times (``ts``).

    Raises
    ------
    NotARunError
        If both files are missing, unreadable or lack the ``ts``/``equity`` columns.
    """
    parquet = Path(run_dir) / EQUITY_PARQUET
    file = parquet if parquet.is_file() else Path(run_dir) / EQUITY_FILE
    if not file.is_file():
        raise NotARunError(
            f"{Path(run_dir)} has no {EQUITY_PARQUET} or {EQUITY_FILE}",
            hint="the run is damaged; run it again",
        )
    try:
        if file == parquet:
            frame = pd.read_parquet(file, columns=["ts", "equity"])
        else:
            frame = pd.read_csv(file, usecols=["ts", "equity"], engine="pyarrow")
    except (ValueError, OSError, pa.ArrowException) as exc:
        raise NotARunError(
            f"{file} cannot be read or lacks the ts/equity columns ({exc})",
            hint="the run is damaged; run it again",
        ) from None
    index = pd.DatetimeIndex(pd.to_datetime(frame["ts"], utc=True), name="ts")
    return pd.Series(frame["equity"].to_numpy(dtype="float64"), index=index, name="equity")


#: Figures that grow with the length of the period (totals, counts, extremes): across runs
#: over different periods they are not ranked (no "best").
PERIOD_DEPENDENT = frozenset(
    {
        "total_return_pct",
        "total_return_usd",
        "max_drawdown_pct",
        "max_drawdown_usd",
        "total_trades",
        "winning_trades",
        "losing_trades",
        "largest_winner",
        "largest_loser",
    }
)


def run_period(summary: dict[str, Any]) -> tuple[Any, Any]:
    """A run's data period: ``(start, end)`` of its summary's ``data_range``."""
    dr = summary.get("data_range") or {}
    return dr.get("start"), dr.get("end")


def period_warning(summaries: Sequence[dict[str, Any]]) -> str | None:
    """A sentence when the runs cover different periods, else None.

    Totals, counts and drawdowns (:data:`PERIOD_DEPENDENT`) then say as much about the
    periods as about the strategies; the comparison does not rank them.

    Parameters
    ----------
    summaries : sequence of dict
        The runs' summary.json dicts.

    Returns
    -------
    str or None
    """
    periods = [run_period(s) for s in summaries]
    if len(set(periods)) <= 1:
        return None
    spans = "; ".join(
        f"{s['run_id']} {start} to {end}"
        for s, (start, end) in zip(summaries, periods, strict=True)
    )
    return (
        f"the runs cover different periods ({spans}): totals, trade counts and drawdowns "
        "depend on the period and are not ranked; compare annualised ratios and per-trade "
        "figures, or rerun over the same dates (--start/--end)"
    )


def comparison_row(summary: dict[str, Any]) -> dict[str, Any]:
    """One row of strategy_comparison.csv.

    Parameters
    ----------
    summary : dict
        A run's summary.json.

    Returns
    -------
    dict
        run_id, strategy, class, symbol, data range, synthetic flag, parameters (JSON text),
        initial capital, then every performance, risk and time-analysis figure, and the
        number of recommendations.
    """
    dr = summary["data_range"]
    row: dict[str, Any] = {
        "run_id": summary["run_id"],
        "timestamp": summary["timestamp"],
        "strategy": summary["strategy"]["name"],
        "class": summary["strategy"]["class"],
        "symbol": summary["symbol"],
        "start": dr["start"],
        "end": dr["end"],
        "trading_days": dr["trading_days"],
        "total_bars": dr["total_bars"],
        "synthetic": summary["provenance"]["synthetic"],
        "parameters": json.dumps(summary["strategy"]["parameters"], sort_keys=True),
        "initial_capital": summary["config"].get("initial_capital"),
        "wiped_out_on": (summary.get("account") or {}).get("wiped_out_on"),
    }
    for key in PERFORMANCE_KEYS:
        row[key] = summary["performance"][key]
    for key in RISK_METRIC_KEYS:
        row[key] = summary["risk_metrics"][key]
    for key in TIME_ANALYSIS_KEYS:
        row[key] = summary["time_analysis"][key]
    row["recommendations"] = len(summary["recommendations"])
    return row


def _flat(d: Any, prefix: str) -> dict[str, Any]:
    if isinstance(d, dict) and d:
        out: dict[str, Any] = {}
        for k, v in d.items():
            out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: d}


def config_differences(summaries: Sequence[dict[str, Any]]) -> list[tuple[str, list[Any]]]:
    """The settings in which the runs differ: strategy, its parameters, the data range and
    symbol, and every field of the backtest configuration.

    Parameters
    ----------
    summaries : sequence of dict
        The runs' summary.json dicts.

    Returns
    -------
    list of (str, list)
        ``(dotted key, value of each run)`` for each key whose values are not all equal (a
        key a run lacks counts as None), in the order strategy, parameters, data, config.
    """
    flats = []
    for s in summaries:
        strategy = s.get("strategy") or {}
        flat = {
            "strategy": strategy.get("name"),
            "strategy.class": strategy.get("class"),
            **_flat(strategy.get("parameters") or {}, "parameters"),
            "symbol": s.get("symbol"),
            "data.start": (s.get("data_range") or {}).get("start"),
            "data.end": (s.get("data_range") or {}).get("end"),
            "data.synthetic": (s.get("provenance") or {}).get("synthetic"),
            **_flat(s.get("config") or {}, "config"),
        }
        flats.append(flat)
    keys: list[str] = []
    for flat in flats:
        keys.extend(k for k in flat if k not in keys)
    out = []
    for key in keys:
        values = [f.get(key) for f in flats]
        texts = {json.dumps(v, sort_keys=True, default=str) for v in values}
        if len(texts) > 1:
            out.append((key, values))
    return out


def daily_return_correlation(
    summaries: Sequence[dict[str, Any]], equity: dict[str, pd.Series]
) -> pd.DataFrame:
    """Pearson correlation of the runs' daily returns by CME trade date, pairwise over the
    dates both runs have.

    Parameters
    ----------
    summaries : sequence of dict
        The runs' summary.json dicts (their ``config.initial_capital``).
    equity : dict of str to pandas.Series
        Each run's equity curve, keyed by run_id.

    Returns
    -------
    pandas.DataFrame
        Square, indexed and labelled by run_id; NaN for a pair without two common dates or
        with a run whose returns do not vary.
    """
    columns = {}
    for s in summaries:
        run_id = s["run_id"]
        curve = equity.get(run_id)
        capital = (s.get("config") or {}).get("initial_capital")
        if curve is None or not capital:
            continue
        columns[run_id] = equity_daily_returns(curve, float(capital))
    frame = pd.DataFrame(columns)
    return frame.corr(min_periods=2)


def compare_runs(
    run_dirs: list[Path] | list[str] | list[str | Path],
    out_root: str | Path = DEFAULT_COMPARISONS_DIR,
    *,
    writers: Sequence[ComparisonWriter] = (),
) -> Path:
    """Write a side-by-side comparison of saved runs.

    Parameters
    ----------
    run_dirs : list of Path
        Two or more run folders (``results/backtests/{run_id}``), each once.
    out_root : str or Path, default "results/comparisons"
        Where the comparison folder ``{YYYY-MM-DD_HHMMSS}`` (UTC; ``_2`` ... on a collision)
        is created.
    writers : sequence of ComparisonWriter, default ()
        Writers of pages about the comparison (see :data:`ComparisonWriter`), called inside
        the atomic save; ``workbench.visualization.report.write_comparison_report`` writes
        comparison_report.html.

    Returns
    -------
    Path
        The comparison folder.

    Raises
    ------
    NotARunError
        If a folder is not a complete, valid run (the message says which and why).
    WorkbenchError
        With fewer than two runs, the same run twice, or an unwritable ``out_root``.
    """
    dirs = [Path(d) for d in run_dirs]
    if len(dirs) < 2:
        raise WorkbenchError(
            f"compare needs at least two run folders, got {len(dirs)}",
            hint="e.g. workbench compare results/backtests/RUN_A results/backtests/RUN_B",
        )
    summaries = [load_summary(d) for d in dirs]
    seen: dict[str, Path] = {}
    for d, s in zip(dirs, summaries, strict=True):
        if s["run_id"] in seen:
            raise WorkbenchError(
                f"run {s['run_id']} is given twice ({seen[s['run_id']]} and {d})",
                hint="pass each run folder once",
            )
        seen[s["run_id"]] = d
    equity = {s["run_id"]: load_equity(d) for d, s in zip(dirs, summaries, strict=True)}
    table = pd.DataFrame([comparison_row(s) for s in summaries])

    parent = prepare_parent(out_root)
    clean_stale(parent)
    base = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d_%H%M%S")
    with atomic_folder(parent, base) as (name, tmp):
        table.to_csv(tmp / COMPARISON_CSV, index=False)
        daily_return_correlation(summaries, equity).to_csv(tmp / CORRELATION_CSV)
        for write in writers:
            write(summaries, equity, tmp)
    return parent / name
