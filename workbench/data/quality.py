"""Data-quality checks over stored bars.

Per contract and partition (each finding names its file): duplicate bars, unsorted
timestamps, prices that are not finite numbers (NaN, inf), prices at or below zero (possible in
a real market only in an event like CL's negative prices of April 2020), OHLC inconsistencies
(``high < max(open, close)``, ``low > min(open, close)``, ``high < low``), prices off the tick
grid, negative volume and zero volume (Databento bars exist only for minutes with trades).
Over the continuous front month: gaps in trading time longer
than ``max_gap`` that are not explained by the daily halt, weekends or CME holidays.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.data.loader import load_bars
from workbench.data.partition_reader import read_partition
from workbench.data.schemas import BAR_SCHEMAS, SCHEMAS
from workbench.data.store import DataRoot, Partition
from workbench.errors import (
    ConfigError,
    DataError,
    DataWarning,
    UnreadableFileError,
    WorkbenchError,
)
from workbench.market.calendar import session_schedule
from workbench.market.contracts import contract_spec

_NS_PER_MIN = 60_000_000_000


@dataclass
class Issue:
    """One kind of problem with a count and a few examples."""

    check: str
    product: str
    schema: str
    count: int
    examples: list[str] = field(default_factory=list)
    #: The file the rows are in (None for findings over several files, such as gaps).
    file: str | None = None


@dataclass
class ValidationReport:
    """All issues found, plus what was checked."""

    files: int = 0
    rows: int = 0
    issues: list[Issue] = field(default_factory=list)
    #: Files that could not be read (also listed in ``issues`` as "unreadable file").
    unreadable: list[UnreadableFileError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No issue found."""
        return not self.issues

    def add(
        self,
        check: str,
        product: str,
        schema: str,
        mask: np.ndarray,
        label: Callable[[int], str],
        file: str | None = None,
    ) -> None:
        """Record the rows flagged by ``mask``; ``label(i)`` describes row ``i``."""
        n = int(np.count_nonzero(mask))
        if n:
            ex = [label(int(i)) for i in np.flatnonzero(mask)[:5]]
            self.issues.append(Issue(check, product, schema, n, ex, file))


def _session_open_ns(start: dt.date, end: dt.date, calendar: str) -> tuple[np.ndarray, np.ndarray]:

    sched = session_schedule(start - dt.timedelta(days=3), end + dt.timedelta(days=3), calendar)
    return (
        pd.DatetimeIndex(sched["market_open"]).as_unit("ns").asi8,
        pd.DatetimeIndex(sched["market_close"]).as_unit("ns").asi8,
    )


def open_time_between(
    t0: np.ndarray, t1: np.ndarray, opens: np.ndarray, closes: np.ndarray
) -> np.ndarray:
    """Nanoseconds the market was open in each interval ``[t0, t1)``.

    Sessions are disjoint and sorted; the open time is the cumulative open time at ``t1``
    minus that at ``t0``.
    """
    cum = np.r_[0, np.cumsum(closes - opens)]

    def open_until(t: np.ndarray) -> np.ndarray:
        i = np.searchsorted(opens, t, side="right")  # sessions starting at or before t
        j = np.maximum(i - 1, 0)
        partial = np.clip(t - opens[j], 0, closes[j] - opens[j])
        return np.where(i > 0, cum[j] + partial, 0)

    return open_until(t1) - open_until(t0)


def _selection(
    root: DataRoot,
    product: str | None,
    schema: str | None,
    start: dt.date | None,
    end: dt.date | None,
) -> list[Partition]:
    """The bar partitions to check; an unknown name or an empty selection is an error that
    says what the catalog holds."""
    if schema is not None and schema not in SCHEMAS:
        raise ConfigError(
            f"unknown schema {schema!r}; known schemas: {', '.join(SCHEMAS)}",
            hint=f"validate checks bar schemas: {', '.join(BAR_SCHEMAS)}",
        )
    if schema is not None and not SCHEMAS[schema].is_bars:
        raise ConfigError(
            f"validate checks bar schemas, not {schema!r}",
            hint=f"use one of {', '.join(BAR_SCHEMAS)}",
        )
    products = root.products()
    if not products:
        raise DataError(
            f"no data in {root.url}",
            hint="run `workbench data sample` (synthetic) or `workbench data download`, "
            "or point --data-dir at your catalog",
        )
    if product is not None and product not in products:
        raise ConfigError(
            f"no product {product!r} in {root.url}; the catalog holds: {', '.join(products)}",
            hint="pass one of those to --product, e.g. --product " + products[0],
        )
    if start is not None and end is not None and end < start:
        raise ConfigError(f"empty date range: --start {start} is after --end {end}")
    parts = [
        p for p in root.partitions(product, schema, start, end) if p.schema.startswith("ohlcv-")
    ]
    if parts:
        return parts
    stored = [p for p in root.partitions(product, schema) if p.schema.startswith("ohlcv-")]
    what = " ".join(x for x in (product, schema) if x) or "bar"
    if not stored:
        raise DataError(
            f"no {what} files in {root.url} to check",
            hint="stored: " + _describe(root.partitions(product)),
        )
    span = "between {} and {}".format(start or "the first day", end or "the last day")
    raise DataError(
        f"no {what} files {span} in {root.url}",
        hint="stored: " + _describe(stored),
    )


def _describe(parts: list[Partition]) -> str:
    """``MCL_FUT ohlcv-1m 2024-01-02 to 2024-03-15 (52 files); ...``"""
    groups: dict[tuple[str, str], list[dt.date]] = {}
    for p in parts:
        groups.setdefault((p.product, p.schema), []).append(p.date)
    if not groups:
        return "nothing"
    return "; ".join(
        f"{prod} {sch} {min(ds)} to {max(ds)} ({len(ds)} file{'s' if len(ds) > 1 else ''})"
        for (prod, sch), ds in sorted(groups.items())
    )


def validate(
    data_dir: str | None = None,
    product: str | None = None,
    schema: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    max_gap_minutes: int = 30,
    storage_options: dict[str, Any] | None = None,
) -> ValidationReport:
    """Check stored bar data; see the module docstring for the checks.

    A file that cannot be read (corrupt, truncated, not the schema its name says) is a
    finding ("unreadable file", also in ``report.unreadable``); the other files are checked,
    and gaps are looked for between the unreadable days. Files are always read from disk,
    never from the column cache. ``storage_options`` are fsspec options for a remote root.

    Raises
    ------
    ConfigError
        An unknown or non-bar ``schema``, a ``product`` the catalog does not hold, or
        ``end`` before ``start``.
    DataError
        Nothing stored matches the selection (the message says what is stored).
    """

    root = DataRoot(data_dir, storage_options)
    report = ValidationReport()
    parts = _selection(root, product, schema, start, end)
    bad_dates: dict[tuple[str, str], list[dt.date]] = {}
    for p in parts:
        try:
            t = read_partition(root, p, use_threads=True)
        except UnreadableFileError as exc:
            report.files += 1
            report.unreadable.append(exc)
            report.issues.append(
                Issue("unreadable file", p.product, p.schema, 1, [exc.message], p.path)
            )
            bad_dates.setdefault((p.product, p.schema), []).append(p.date)
            continue
        report.files += 1
        report.rows += t.num_rows
        if t.num_rows == 0:
            continue
        _check_file(report, p, t)
    # Gaps in the continuous front month, in trading time only.
    for prod in sorted({p.product for p in parts}):
        for sch in sorted({p.schema for p in parts if p.product == prod}):
            if sch == "ohlcv-1d":
                continue
            for seg_start, seg_end in _readable_spans(
                [p.date for p in parts if (p.product, p.schema) == (prod, sch)],
                bad_dates.get((prod, sch), []),
            ):
                _check_gaps(
                    report, root, storage_options, prod, sch, seg_start, seg_end, max_gap_minutes
                )
    return report


def _check_file(report: ValidationReport, p: Partition, t: Any) -> None:
    """The row checks of one readable file ``p`` (its Arrow table ``t``)."""
    ts = t["ts_event"].cast("int64").to_numpy()
    iid = t["instrument_id"].to_numpy()
    sym = t["symbol"]
    prices = {k: t[k].to_numpy() for k in ("open", "high", "low", "close")}
    o, h, lo, c = prices.values()
    vol = t["volume"].to_numpy()

    def label(i: int) -> str:
        return f"{sym[i].as_py()} {np.datetime64(int(ts[i]), 'ns')}Z"

    def add(check: str, mask: np.ndarray, lab: Callable[[int], str] = label) -> None:
        report.add(check, p.product, p.schema, mask, lab, p.path)

    order = np.lexsort((ts, iid))
    same = (iid[order][1:] == iid[order][:-1]) & (ts[order][1:] == ts[order][:-1])
    dup = np.zeros(len(ts), dtype=bool)
    dup[order[1:][same]] = True
    add("duplicate bar", dup)
    # Out of order: a bar earlier than the previous bar of the same instrument.
    stable = np.lexsort((np.arange(len(ts)), iid))  # file order within each instrument
    back = np.zeros(len(ts), dtype=bool)
    same_inst = iid[stable][1:] == iid[stable][:-1]
    back[stable[1:][same_inst & (ts[stable][1:] < ts[stable][:-1])]] = True
    add("unsorted timestamps", back)
    finite = {k: np.isfinite(v) for k, v in prices.items()}
    add(
        "price not a finite number",
        ~np.logical_and.reduce(list(finite.values())),
        _price_label(label, prices, {k: ~v for k, v in finite.items()}),
    )
    add(
        "price <= 0",
        np.logical_or.reduce([v <= 0 for v in prices.values()]),
        _price_label(label, prices, {k: v <= 0 for k, v in prices.items()}),
    )
    add("high < max(open, close)", h < np.maximum(o, c))
    add("low > min(open, close)", lo > np.minimum(o, c))
    add("high < low", h < lo)
    try:
        tick = contract_spec(p.product).tick_size
    except KeyError:
        tick = None
    if tick:
        px = np.stack([o, h, lo, c]) / tick
        with np.errstate(invalid="ignore"):  # inf - inf: reported as not finite above
            off = (np.abs(px - np.round(px)) > 1e-6).any(axis=0)
        add(f"price off the {tick:g} tick", np.asarray(off))
    add("volume < 0", vol < 0)
    add("volume = 0", vol == 0)


def _price_label(
    label: Callable[[int], str],
    prices: dict[str, np.ndarray],
    bad: dict[str, np.ndarray],
) -> Callable[[int], str]:
    """``label`` of a row followed by its offending prices (``bad``: a mask per column):
    ``MCLZ5 2024-03-01T14:30:00.000000000Z close=nan``."""

    def describe(i: int) -> str:
        cols = " ".join(f"{k}={prices[k][i]:g}" for k in prices if bad[k][i])
        return f"{label(i)} {cols}"

    return describe


def _readable_spans(dates: list[dt.date], bad: list[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Runs of consecutive stored ``dates`` (sorted) between the unreadable ones."""
    spans: list[tuple[dt.date, dt.date]] = []
    run: list[dt.date] = []
    for d in [*dates, None]:
        if d is None or d in bad:
            if run:
                spans.append((run[0], run[-1]))
            run = []
        else:
            run.append(d)
    return spans


def _check_gaps(
    report: ValidationReport,
    root: DataRoot,
    storage_options: dict[str, Any] | None,
    prod: str,
    sch: str,
    start: dt.date,
    end: dt.date,
    max_gap_minutes: int,
) -> None:
    """Gaps in the continuous front month of ``prod``/``sch`` from ``start`` to ``end``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)  # unreadable files are findings already
        try:
            df = load_bars(
                prod, sch, start, end, data_dir=root.url, storage_options=storage_options
            )
        except WorkbenchError:
            return  # only spreads on those days, or a product without a contract spec
    ts = df.index.as_unit("ns").asi8
    if len(ts) < 2:
        return
    interval = {"ohlcv-1s": 1, "ohlcv-1m": 60, "ohlcv-1h": 3600}[sch] * 1_000_000_000
    cal = contract_spec(prod).calendar
    opens, closes = _session_open_ns(df.index[0].date(), df.index[-1].date(), cal)
    gap = open_time_between(ts[:-1] + interval, ts[1:], opens, closes)
    flag = gap > max(max_gap_minutes * _NS_PER_MIN, interval)

    def gap_label(i: int, idx: Any = df.index, gap: np.ndarray = gap) -> str:
        return f"{idx[i]} -> {idx[i + 1]} ({gap[i] / _NS_PER_MIN:.0f} min open)"

    report.add(
        f"gap > {max_gap_minutes} min of trading time",
        prod,
        sch,
        np.asarray(flag),
        gap_label,
    )
