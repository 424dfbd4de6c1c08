"""Save a backtest to ``results/backtests/{run_id}/``: JSON, CSVs and the HTML report.

Layout (the plan's, plus ``risk_events.csv`` and ``README.md``)::

    results/backtests/2026-01-10_143052_ema_MCL_FUT/
        summary.json        key metrics, recommendations, provenance (summary.schema.json)
        parameters.json     strategy, backtest config, contract, full data provenance
        trades.csv          one row per closed trade
        equity_curve.csv    equity and position at the first bar, every position change,
                            each trade date's last bar and the last bar (compact)
        equity_curve.parquet  equity and position at every bar close (full resolution, zstd)
        daily_pnl.csv       net P&L and closing equity per CME trade date
        drawdowns.csv       drawdown periods, deepest first
        signals.csv         the strategy signal, only at the bars where it changes
        risk_events.csv     every risk decision and circuit breaker
        README.md           what each file holds

Pages about the run (``report.html``, ``charts/``, ``report.pdf``) come from writers handed in
(``writers=[...]``): this package does not draw. :mod:`workbench.visualization` hands in its
report writer (``workbench.visualization.save_with_report``, and ``workbench backtest``).

Run ids are ``{UTC date}_{HHMMSS}_{strategy short key}_{symbol}``; the short key is the
strategy's registry name up to its first underscore (``ema_crossover`` -> ``ema``). A name
already taken gets ``_2``, ``_3`` ... The folder is written under a hidden temporary name and
renamed into place at the end (:mod:`workbench.results.folders`), so a crash never leaves a
folder that looks complete.

CSV conventions: UTC timestamps as ``YYYY-MM-DDTHH:MM:SSZ`` (sub-second times keep their
fraction), money in USD (trades.csv's dollar columns rounded to the cent, which every amount
is a whole number of; equity with full float precision, so sums reconcile to the cent), empty
cells for missing values.

``signals.csv`` holds the first bar and every bar whose signal differs from the previous
bar's: ``ts`` is the bar's START time (the signal is known at that bar's end). The signal of
any bar is the value of the last row with ``ts`` at or before the bar's start, e.g.
``pd.merge_asof(bars, signals, on="ts")``. Bar starts are the ``equity_curve.parquet`` times
minus the bar interval (``data_range`` in parameters.json has the schema).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from workbench.market.calendar import trade_dates
from workbench.results.folders import atomic_folder, check_name, clean_stale, prepare_parent
from workbench.results.summary import build_summary, make_run_id, to_jsonable, utc_now

if TYPE_CHECKING:
    from workbench.backtest.result import BacktestResult

__all__ = [
    "DEFAULT_RESULTS_DIR",
    "RUN_FILES",
    "ResultSaver",
    "RunWriter",
    "build_parameters",
    "equity_marks",
    "make_run_id",
    "save_results",
    "signal_changes",
    "utc_now",
    "write_daily_pnl",
    "write_drawdowns",
    "write_equity_curve",
    "write_equity_parquet",
    "write_risk_events",
    "write_signals",
    "write_trades",
]

#: A writer of pages about a run, handed to :func:`save_results`: called as
#: ``writer(result, folder, summary)`` inside the save, with the run folder being written
#: (under its temporary name) and the run's summary.json dict; it adds its files to the folder.
RunWriter = Callable[["BacktestResult", Path, dict[str, Any]], object]

#: Default folder of the runs.
DEFAULT_RESULTS_DIR = "results/backtests"
#: Files every run folder holds (the writers' files come on top).
RUN_FILES = (
    "summary.json",
    "parameters.json",
    "trades.csv",
    "equity_curve.csv",
    "equity_curve.parquet",
    "daily_pnl.csv",
    "drawdowns.csv",
    "signals.csv",
    "risk_events.csv",
    "README.md",
)
#: trades.csv's dollar columns, written rounded to the cent.
TRADE_MONEY_COLUMNS = ("gross_pnl", "commission", "slippage_cost", "net_pnl", "mae_usd", "mfe_usd")
_NS_PER_S = 1_000_000_000
_S_PER_DAY = 86_400
_ISO_LEN = 20  # YYYY-MM-DDTHH:MM:SSZ

README = """\
# Backtest run {run_id}

{strategy} on {symbol}, {start} to {end} ({bars:,} bars){synthetic}.

| File | Contents |
|------|----------|
| summary.json | Key metrics, risk figures, time analysis, recommendations, data provenance \
(JSON Schema: workbench/results/summary.schema.json) |
| parameters.json | Strategy parameters, backtest config, contract specs, full data provenance \
(rolls) |
| trades.csv | One row per closed trade; times UTC; net_pnl = gross_pnl - commission; \
gross_pnl is at fill prices (slippage_cost already taken out); mae_usd/mfe_usd: maximum \
adverse/favourable excursion in USD over the bars the trade was open; dollar columns to the \
cent |
| equity_curve.csv | Equity (USD) and signed position (`ts` = bar end, UTC) at the first bar, \
every bar where the position changes (fills, rolls) or a flat account's equity does, \
the last bar of each CME trade date and the last bar; `mark` says which. Between two rows \
a flat account's equity does not change |
| equity_curve.parquet | The same columns at EVERY bar close (full resolution, zstd): \
`pd.read_parquet("equity_curve.parquet")` |
| daily_pnl.csv | Net P&L and closing equity per CME trade date |
| drawdowns.csv | Drawdown periods, deepest first (`end` empty: not recovered) |
| signals.csv | Strategy signal (-1/0/+1) ONLY at the first bar and the bars where it \
changes; `ts` = bar START, UTC. A bar's signal is the last row at or before its start \
(`pd.merge_asof`) |
| risk_events.csv | Every risk decision (accepted, resized, rejected + reason) and circuit \
breaker; one entry attempt per bar with an entry signal |
{pages}
Timestamps are `YYYY-MM-DDTHH:MM:SSZ` (UTC); money is USD at full precision.
"""


def _iso_utc(ts_ns: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """UTC nanosecond timestamps as ``YYYY-MM-DDTHH:MM:SSZ`` strings (null where not
    ``valid``), built with array arithmetic: ~30x faster than strftime on 700k rows."""
    ts_ns = np.asarray(ts_ns, dtype=np.int64)
    n = len(ts_ns)
    if valid is None:
        valid = np.ones(n, dtype=bool)
    if np.any(ts_ns[valid] % _NS_PER_S):  # sub-second times: let Arrow format the fraction
        arr = pa.array(ts_ns, pa.timestamp("ns", tz="UTC"), mask=~valid)
        return arr.cast(pa.string())
    sec = np.where(valid, ts_ns // _NS_PER_S, 0)
    day = sec // _S_PER_DAY
    sod = sec - day * _S_PER_DAY
    udays, inv = np.unique(day, return_inverse=True)
    dates = np.datetime_as_string(udays.astype("datetime64[D]"), unit="D").astype("S10")
    if dates.dtype.itemsize != 10 or any(len(d) != 10 for d in dates):
        # years outside 0000-9999: never in market data, but stay correct
        arr = pa.array(ts_ns, pa.timestamp("ns", tz="UTC"), mask=~valid)
        return arr.cast(pa.string())
    out = np.empty((n, _ISO_LEN), dtype=np.uint8)
    out[:, :10] = dates.view(np.uint8).reshape(-1, 10)[inv.reshape(-1)]
    hh, mm, ss = sod // 3600, (sod // 60) % 60, sod % 60
    zero = ord("0")
    for col, value in ((11, hh), (14, mm), (17, ss)):
        out[:, col] = zero + value // 10
        out[:, col + 1] = zero + value % 10
    out[:, 10] = ord("T")
    out[:, 13] = out[:, 16] = ord(":")
    out[:, 19] = ord("Z")
    offsets = np.arange(0, _ISO_LEN * (n + 1), _ISO_LEN, dtype=np.int32)
    validity = None if valid.all() else pa.array(valid).buffers()[1]
    return pa.StringArray.from_buffers(
        n,
        pa.py_buffer(offsets),
        pa.py_buffer(out.tobytes()),
        null_bitmap=validity,
        null_count=int((~valid).sum()),
    )


def _time_column(values: Any) -> pa.Array:
    """A datetime-like column (tz-aware or naive UTC, may hold NaT) as ISO strings."""
    idx = pd.DatetimeIndex(values)
    if idx.tz is None:
        idx = idx.tz_localize("UTC")
    valid = ~np.asarray(idx.isna())
    ns = idx.as_unit("ns").asi8
    return _iso_utc(np.where(valid, ns, 0), valid)


def _write_csv(path: Path, columns: dict[str, Any]) -> None:
    """Write named columns (Arrow arrays or numpy/pandas data) as CSV with Arrow."""
    arrays = [c if isinstance(c, pa.Array) else pa.array(np.asarray(c)) for c in columns.values()]
    table = pa.table(arrays, names=list(columns))
    pcsv.write_csv(table, str(path), pcsv.WriteOptions(batch_size=65_536))


def _strings(values: Any) -> pa.Array:
    return pa.array([None if v is None else str(v) for v in values], pa.string())


def _write_frame(path: Path, frame: pd.DataFrame, *, time_columns: tuple[str, ...]) -> None:
    """Write ``frame`` as CSV: ``time_columns`` as ISO UTC, numbers as they are, the rest
    as text."""
    cols: dict[str, Any] = {}
    for name in frame.columns:
        col = frame[name]
        if name in time_columns:
            cols[name] = _time_column(col)
        elif col.dtype.kind in "biuf":
            cols[name] = col.to_numpy()
        else:
            cols[name] = _strings(col)
    _write_csv(path, cols)


def write_trades(result: BacktestResult, path: Path) -> None:
    """``trades.csv``: the closed trades (columns of ``TRADE_COLUMNS``), times as ISO UTC,
    then ``mae_usd`` and ``mfe_usd`` (:mod:`workbench.analysis.excursions`) when the result
    kept its bars. The dollar columns (:data:`TRADE_MONEY_COLUMNS`) are rounded to the cent:
    prices times the multiplier leave float noise (24.99999999999858); every amount is a
    whole number of cents, so the sums still reconcile (``result.trades`` and
    ``result.excursions`` keep the full floats).

    Parameters
    ----------
    result : BacktestResult
        The backtest.
    path : Path
        The file to write.
    """
    trades = result.trades
    if result.bars is not None:
        trades = trades.join(result.excursions)
    money = [c for c in TRADE_MONEY_COLUMNS if c in trades.columns]
    trades = trades.assign(**{c: trades[c].astype(np.float64).round(2) for c in money})
    _write_frame(path, trades, time_columns=("entry_time", "exit_time"))


def equity_marks(result: BacktestResult) -> np.ndarray:
    """Which bars equity_curve.csv keeps: a label per bar, "" for the bars left out.

    Parameters
    ----------
    result : BacktestResult
        The backtest.

    Returns
    -------
    numpy.ndarray of str
        Per bar of ``result.equity``: ``"start"`` (first bar), ``"fill"`` (the position
        differs from the previous bar's, or the equity does while the account was flat: a
        trade within one bar), ``"day_close"`` (last bar of a CME trade date),
        ``"end"`` (last bar) or ``""``. A bar that is several of these gets the first.
    """
    eq = result.equity
    n = len(eq)
    marks = np.full(n, "", dtype=object)
    if n == 0:
        return marks
    ns = pd.DatetimeIndex(eq.index).as_unit("ns").asi8
    dates = trade_dates(ns)
    day_close = np.ones(n, dtype=bool)
    day_close[:-1] = dates[1:] != dates[:-1]
    marks[day_close] = "day_close"
    if len(result.position) == n:
        pos = result.position.to_numpy()
        values = eq.to_numpy(dtype=np.float64)
        fill = np.zeros(n, dtype=bool)
        # the position changed, or a flat account's equity moved (a trade opened and closed
        # within the bar)
        fill[1:] = (pos[1:] != pos[:-1]) | ((pos[:-1] == 0) & (values[1:] != values[:-1]))
        marks[fill] = "fill"
    marks[-1] = "end"
    marks[0] = "start"
    return marks


def write_equity_curve(result: BacktestResult, path: Path) -> None:
    """``equity_curve.csv``: ``ts`` (bar end, UTC), ``equity`` (USD), ``position`` (signed
    contracts) and ``mark`` at the bars :func:`equity_marks` keeps (the full series is in
    equity_curve.parquet, :func:`write_equity_parquet`).

    Parameters
    ----------
    result : BacktestResult
        The backtest.
    path : Path
        The file to write.
    """
    eq = result.equity
    marks = equity_marks(result)
    keep = marks != ""
    cols: dict[str, Any] = {
        "ts": _time_column(eq.index[keep]),
        "equity": eq.to_numpy(dtype=np.float64)[keep],
    }
    if len(result.position) == len(eq):
        cols["position"] = result.position.to_numpy()[keep]
    cols["mark"] = pa.array(marks[keep].astype(str), pa.string())
    _write_csv(path, cols)


def write_equity_parquet(result: BacktestResult, path: Path) -> None:
    """``equity_curve.parquet``: ``ts`` (bar end, UTC timestamp), ``equity`` (USD) and
    ``position`` at every bar, zstd-compressed.

    Parameters
    ----------
    result : BacktestResult
        The backtest.
    path : Path
        The file to write.
    """
    eq = result.equity
    index = pd.DatetimeIndex(eq.index)
    if index.tz is None:
        index = index.tz_localize("UTC")
    arrays = [
        pa.array(index.as_unit("ns").asi8, pa.timestamp("ns", tz="UTC")),
        pa.array(eq.to_numpy(dtype=np.float64)),
    ]
    names = ["ts", "equity"]
    if len(result.position) == len(eq):
        arrays.append(pa.array(result.position.to_numpy()))
        names.append("position")
    # Delta-encoded times (bars are evenly spaced) and byte-split floats: ~40 kB for two
    # years of 1-minute bars, where dictionary encoding of the times alone takes 5 MB.
    encoding = {"ts": "DELTA_BINARY_PACKED", "equity": "BYTE_STREAM_SPLIT"}
    if "position" in names:
        encoding["position"] = "DELTA_BINARY_PACKED"
    pq.write_table(
        pa.table(arrays, names=names),
        str(path),
        compression="zstd",
        use_dictionary=False,
        column_encoding=encoding,
    )


def write_daily_pnl(result: BacktestResult, path: Path) -> None:
    """``daily_pnl.csv``: ``trade_date``, ``net_pnl`` and ``equity`` (at the day's close).

    Parameters
    ----------
    result : BacktestResult
        The backtest.
    path : Path
        The file to write.
    """
    pnl = result.daily_pnl.to_numpy(dtype=np.float64)
    dates = pd.DatetimeIndex(np.asarray(result.daily_pnl.index, dtype="datetime64[ns]"))
    _write_csv(
        path,
        {
            "trade_date": _strings(dates.strftime("%Y-%m-%d")),
            "net_pnl": pnl,
            "equity": result.initial_capital + np.cumsum(pnl),
        },
    )


def _minutes(values: pd.Series) -> np.ndarray:
    td = pd.TimedeltaIndex(values)
    return np.where(td.isna(), np.nan, td.as_unit("ns").asi8 / 60e9)


def write_drawdowns(result: BacktestResult, path: Path) -> None:
    """``drawdowns.csv``: ``start``, ``trough``, ``end`` (empty: not recovered),
    ``depth_usd``, ``depth_pct``, ``duration_minutes``, ``recovery_minutes``.

    Parameters
    ----------
    result : BacktestResult
        The backtest.
    path : Path
        The file to write.
    """
    d = result.drawdowns
    duration, recovery = _minutes(d["duration"]), _minutes(d["recovery"])
    _write_csv(
        path,
        {
            "start": _time_column(d["start"]),
            "trough": _time_column(d["trough"]),
            "end": _time_column(d["end"]),
            "depth_usd": d["depth_usd"].to_numpy(dtype=np.float64),
            "depth_pct": d["depth_pct"].to_numpy(dtype=np.float64),
            "duration_minutes": pa.array(duration, mask=np.isnan(duration)),
            "recovery_minutes": pa.array(recovery, mask=np.isnan(recovery)),
        },
    )


def signal_changes(signals: pd.Series) -> pd.Series:
    """The first value of ``signals`` and every value that differs from its predecessor.

    Parameters
    ----------
    signals : pandas.Series
        The per-bar signal.

    Returns
    -------
    pandas.Series
        The change points; forward-filling them over the original index gives ``signals``
        back.
    """
    values = signals.to_numpy()
    keep = np.ones(len(values), dtype=bool)
    keep[1:] = values[1:] != values[:-1]
    return signals[keep]


def write_signals(result: BacktestResult, path: Path) -> None:
    """``signals.csv``: ``ts`` (bar start, UTC) and ``signal``, only where it changes.

    Parameters
    ----------
    result : BacktestResult
        The backtest.
    path : Path
        The file to write.
    """
    changes = signal_changes(result.signals)
    _write_csv(
        path,
        {"ts": _time_column(changes.index), "signal": changes.to_numpy().astype(np.int64)},
    )


def write_risk_events(result: BacktestResult, path: Path) -> None:
    """``risk_events.csv``: ``time`` (UTC), ``action``, ``reason``, ``requested``,
    ``approved`` (contracts).

    Parameters
    ----------
    result : BacktestResult
        The backtest.
    path : Path
        The file to write.
    """
    _write_frame(path, result.risk_events, time_columns=("time",))


def build_parameters(result: BacktestResult, run_id: str) -> dict[str, Any]:
    """The parameters.json document: everything needed to repeat the run.

    Parameters
    ----------
    result : BacktestResult
        The backtest.
    run_id : str
        The run's id.

    Returns
    -------
    dict
        ``run_id``, ``strategy`` (name, key, class, parameters), ``config``, ``contract``,
        ``data_range`` (with exact start/end times), ``provenance`` (complete, with every
        roll's details) and ``generated``; JSON-safe.
    """
    p = result.parameters
    doc = {
        "run_id": run_id,
        "strategy": p.get("strategy"),
        "config": p.get("config"),
        "contract": p.get("contract"),
        "data_range": result.data_range,
        "provenance": result.provenance,
        "generated": p.get("generated"),
    }
    out: dict[str, Any] = to_jsonable(doc)
    return out


def _dump_json(doc: Any, path: Path) -> None:
    text = json.dumps(doc, indent=2, allow_nan=False, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")


#: README.md notes of the files page writers usually add; other added files are listed bare.
PAGE_FILE_NOTES = {
    "report.html": "Human-readable report (opens offline; needs plotly.min.js beside it)",
    "plotly.min.js": "plotly.js, loaded by report.html and charts/ (one copy per run)",
    "charts": "Interactive charts, one page each",
    "report.pdf": "The report, printed",
}


def _page_rows(folder: Path) -> str:
    """README rows of the files the writers added to ``folder``."""
    known = {*RUN_FILES}
    added = sorted(p.name for p in folder.iterdir() if p.name not in known)
    return "".join(
        f"| {name}{'/' if (folder / name).is_dir() else ''} | {PAGE_FILE_NOTES.get(name, '')} |\n"
        for name in added
    )


def _readme(summary: dict[str, Any], pages: str) -> str:
    dr = summary["data_range"]
    return README.format(
        run_id=summary["run_id"],
        strategy=summary["strategy"]["name"],
        symbol=summary["symbol"],
        start=dr["start"],
        end=dr["end"],
        bars=dr["total_bars"],
        synthetic=" - SYNTHETIC sample data, not market prices"
        if summary["provenance"]["synthetic"]
        else "",
        pages=pages,
    )


def save_results(
    result: BacktestResult,
    results_dir: str | Path = DEFAULT_RESULTS_DIR,
    *,
    run_id: str | None = None,
    writers: Sequence[RunWriter] = (),
) -> Path:
    """Save a backtest into a new run folder under ``results_dir``.

    Parameters
    ----------
    result : BacktestResult
        What :func:`~workbench.backtest.run_backtest` returned.
    results_dir : str or Path, default "results/backtests"
        The folder of runs (created if missing).
    run_id : str, optional
        The folder name; by default :func:`make_run_id` of the current UTC time. Either way,
        a name already taken gets ``_2``, ``_3`` ...
    writers : sequence of RunWriter, default ()
        Writers of pages about the run (see :data:`RunWriter`), called in order once the
        data files are written, inside the atomic save: a writer that raises leaves no run
        folder. ``workbench.visualization.report.report_writer()`` writes report.html and
        charts/; ``workbench.visualization.save_with_report`` saves with it.

    Returns
    -------
    Path
        The run folder (it appears only once complete; see the module docstring). It is
        also recorded as ``result.extra["run_dir"]``, where
        ``workbench.visualization.viewer.BacktestViewer`` finds the saved report.

    Raises
    ------
    WorkbenchError
        If ``results_dir`` is a file or not writable, or ``run_id`` is not a plain folder
        name.
    """
    if run_id is not None:
        check_name(run_id)
    parent = prepare_parent(results_dir)
    clean_stale(parent)
    now = utc_now()
    base = run_id or make_run_id(result, now)
    with atomic_folder(parent, base) as (name, tmp):
        summary = build_summary(result, name, now)
        _dump_json(summary, tmp / "summary.json")
        _dump_json(build_parameters(result, name), tmp / "parameters.json")
        write_trades(result, tmp / "trades.csv")
        write_equity_curve(result, tmp / "equity_curve.csv")
        write_equity_parquet(result, tmp / "equity_curve.parquet")
        write_daily_pnl(result, tmp / "daily_pnl.csv")
        write_drawdowns(result, tmp / "drawdowns.csv")
        write_signals(result, tmp / "signals.csv")
        write_risk_events(result, tmp / "risk_events.csv")
        for write in writers:
            write(result, tmp, summary)
        (tmp / "README.md").write_text(_readme(summary, _page_rows(tmp)), encoding="utf-8")
    run_dir = parent / name
    result.extra["run_dir"] = str(run_dir)
    return run_dir


class ResultSaver:
    """The plan's saver object: ``ResultSaver().save_all(result, results_dir)``.

    Parameters
    ----------
    writers : sequence of RunWriter, default ()
        Writers of pages about each run (see :func:`save_results`), e.g.
        ``[workbench.visualization.report.report_writer()]`` for report.html and charts/.
    """

    def __init__(self, writers: Sequence[RunWriter] = ()) -> None:
        self.writers = tuple(writers)

    def save_all(
        self,
        result: BacktestResult,
        results_dir: str | Path = DEFAULT_RESULTS_DIR,
        run_id: str | None = None,
    ) -> Path:
        """Save every file of a run; see :func:`save_results`.

        Parameters
        ----------
        result : BacktestResult
            The backtest.
        results_dir : str or Path, default "results/backtests"
            The folder of runs.
        run_id : str, optional
            The folder name (default: generated).

        Returns
        -------
        Path
            The run folder.
        """
        return save_results(result, results_dir, run_id=run_id, writers=self.writers)
