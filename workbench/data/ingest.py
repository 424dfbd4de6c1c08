"""Store decoded DBN data in the catalog, one Parquet file per product, schema and UTC date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from workbench.data.bar_columns import bar_table, can_split
from workbench.data.dbn import DecodedDBN, check_dbn_file, decode, to_arrow
from workbench.data.partition_reader import read_partition
from workbench.data.schemas import NS_PER_DAY, SchemaInfo
from workbench.data.store import DataRoot, Partition, file_metadata
from workbench.errors import UnreadableFileError

if TYPE_CHECKING:
    import databento


_THREADS = 4  # writes wait on the file system too: more threads than cores pays


@dataclass
class IngestReport:
    """What an ingest wrote."""

    records_read: int = 0
    records_written: int = 0
    spreads_dropped: int = 0
    other_products_dropped: int = 0
    files_written: list[str] = field(default_factory=list)
    #: Stored files that could not be read (corrupt, truncated) and were replaced.
    replaced_unreadable: list[str] = field(default_factory=list)
    schemas: set[str] = field(default_factory=set)
    products: set[str] = field(default_factory=set)
    first_date: dt.date | None = None
    last_date: dt.date | None = None

    def add_day(self, day: dt.date) -> None:
        """Widen the date range to include ``day``."""
        self.first_date = day if self.first_date is None else min(self.first_date, day)
        self.last_date = day if self.last_date is None else max(self.last_date, day)

    def merge(self, other: IngestReport) -> None:
        """Add another report's counts to this one."""
        self.records_read += other.records_read
        self.records_written += other.records_written
        self.spreads_dropped += other.spreads_dropped
        self.other_products_dropped += other.other_products_dropped
        self.files_written += other.files_written
        self.replaced_unreadable += other.replaced_unreadable
        self.schemas |= other.schemas
        self.products |= other.products
        for d in (other.first_date, other.last_date):
            if d is not None:
                self.add_day(d)


def _merge_existing(
    root: DataRoot, path: str, new: pa.Table, is_bars: bool
) -> tuple[pa.Table, bool]:
    """Combine a new partition with what is already stored for that day.

    Bars are keyed by (ts_event, instrument_id): the new bar wins. For tick and book data the
    new records replace the stored ones of the same instruments inside the new time span.
    A stored file that cannot be read (corrupt, truncated, wrong schema) is replaced by the
    new records; the flag returned says so.
    """

    stored = Partition.from_path(path)
    if stored is None:  # pragma: no cover - partition_path always follows the layout
        raise ValueError(f"not a catalog path: {path}")
    try:
        old = read_partition(root, stored)
    except UnreadableFileError:
        return new, True
    return _merged(old, new, is_bars), False


def _merged(old: pa.Table, new: pa.Table, is_bars: bool) -> pa.Table:
    """``new`` records over ``old`` (see :func:`_merge_existing`)."""
    # start-up: pyarrow.compute only for merges (a fresh ingest does not need it)
    import pyarrow.compute as pc

    if old.num_rows == 0:
        return new
    old = old.cast(new.schema) if old.schema != new.schema else old
    ids = pc.unique(new["instrument_id"])
    same_inst = pc.is_in(old["instrument_id"], value_set=ids)
    if is_bars:
        combined = pa.concat_tables([old, new.cast(old.schema)])
        ts = pc.cast(combined["ts_event"], pa.int64()).to_numpy()
        iid = combined["instrument_id"].to_numpy()
        src = np.r_[np.zeros(old.num_rows, np.int8), np.ones(new.num_rows, np.int8)]
        order = np.lexsort((src, iid, ts))
        ts_s, iid_s = ts[order], iid[order]
        keep_sorted = np.ones(len(order), dtype=bool)
        keep_sorted[:-1] = ~((ts_s[1:] == ts_s[:-1]) & (iid_s[1:] == iid_s[:-1]))
        return combined.take(pa.array(order[keep_sorted]))
    lo, hi = pc.min_max(new["ts_event"]).values()
    inside = pc.and_(pc.greater_equal(old["ts_event"], lo), pc.less_equal(old["ts_event"], hi))
    keep = pc.invert(pc.and_(same_inst, inside))
    combined = pa.concat_tables([old.filter(keep), new.cast(old.schema)])
    order = pc.sort_indices(
        combined, sort_keys=[("ts_event", "ascending"), ("instrument_id", "ascending")]
    )
    return combined.take(order)


def write_partitions(
    root: DataRoot,
    table: pa.Table,
    *,
    product: str,
    schema: SchemaInfo,
    dataset: str,
    source: str,
    synthetic: bool = False,
    threads: int = 4,
    progress: Callable[[int], None] | None = None,
    pool: Executor | None = None,
) -> IngestReport:
    """Write one product's records (sorted by ``ts_event``) as one file per UTC date.

    A partition that already exists is merged with the new records (see
    :func:`_merge_existing`); each file is written atomically. The files are written on
    ``pool`` when given (pyarrow releases the GIL while writing), else on a pool of
    ``threads`` threads made for the call.
    """

    report = IngestReport()
    if table.num_rows == 0:
        return report
    root.check_writable()
    # start-up: pyarrow.compute only here (a fresh native ingest does not need it)
    import pyarrow.compute as pc

    days = pc.cast(table["ts_event"], "int64").to_numpy() // NS_PER_DAY
    if np.any(np.diff(days) < 0):
        raise ValueError("write_partitions needs records sorted by ts_event")
    bounds = np.r_[0, np.flatnonzero(np.diff(days)) + 1, len(days)]

    def one(k: int) -> tuple[str, dt.date, int, bool]:
        lo, hi = int(bounds[k]), int(bounds[k + 1])
        day = dt.date(1970, 1, 1) + dt.timedelta(days=int(days[lo]))
        part = _Part(product, day, table.slice(lo, hi - lo))
        return _write_part(root, part, schema, dataset, source, synthetic)

    if pool is None:
        with ThreadPoolExecutor(max_workers=max(1, threads)) as own:
            written = list(own.map(one, range(len(bounds) - 1)))
    else:
        written = list(pool.map(one, range(len(bounds) - 1)))
    _add_written(report, written, progress)
    report.products.add(product)
    report.schemas.add(schema.name)
    return report


@dataclass(frozen=True)
class _Part:
    """One file's new records: a product's records of one UTC date."""

    product: str
    day: dt.date
    table: pa.Table


def _write_part(
    root: DataRoot, part: _Part, schema: SchemaInfo, dataset: str, source: str, synthetic: bool
) -> tuple[str, dt.date, int, bool]:
    """Write (or merge into) one partition file: ``(path, date, rows, replaced)``."""
    path = root.partition_path(part.product, schema.name, part.day)
    table, replaced = part.table, False
    if root.exists(path):
        table, replaced = _merge_existing(root, path, table, schema.is_bars)
    meta = file_metadata(
        product=part.product,
        schema=schema.name,
        date=part.day,
        source=source,
        dataset=dataset,
        price_format=schema.price_format,
        synthetic=synthetic,
    )
    root.write_parquet(path, table.replace_schema_metadata(meta))
    return path, part.day, part.table.num_rows, replaced


def _add_written(
    report: IngestReport,
    written: Iterable[tuple[str, dt.date, int, bool]],
    progress: Callable[[int], None] | None,
) -> None:
    for path, day, rows, replaced in written:
        report.files_written.append(path)
        if replaced:
            report.replaced_unreadable.append(path)
        report.records_written += rows
        report.add_day(day)
        if progress:
            progress(1)


def write_decoded(
    root: DataRoot,
    decoded: DecodedDBN,
    *,
    source: str,
    synthetic: bool = False,
    progress: Callable[[int], None] | None = None,
    pool: Executor | None = None,
) -> IngestReport:
    """Write decoded DBN records into the catalog, one file per product and UTC date
    (on ``pool`` when given, see :func:`write_partitions`)."""

    report = IngestReport(
        records_read=len(decoded.records) + decoded.spreads_dropped + decoded.unknown_dropped,
        spreads_dropped=decoded.spreads_dropped,
        other_products_dropped=decoded.unknown_dropped,
    )
    if len(decoded.records) == 0:
        return report
    if can_split(decoded):
        return _write_bars(root, decoded, report, source, synthetic, progress, pool)
    table = to_arrow(decoded)
    ts = decoded.records["ts_event"]
    for code, product in enumerate(decoded.prod_names):
        idx = np.flatnonzero(decoded.prod_codes == code)
        if len(idx) == 0:
            continue
        if np.any(np.diff(ts[idx].astype(np.int64)) < 0):
            idx = idx[np.argsort(ts[idx], kind="stable")]
        part = (
            table
            if len(idx) == table.num_rows and idx[0] == 0 and idx[-1] == len(idx) - 1
            else table.take(pa.array(idx))
        )
        report.merge(
            write_partitions(
                root,
                part,
                product=product,
                schema=decoded.schema,
                dataset=decoded.dataset,
                source=source,
                synthetic=synthetic,
                progress=progress,
                pool=pool,
            )
        )
    return report


def _write_bars(
    root: DataRoot,
    decoded: DecodedDBN,
    report: IngestReport,
    source: str,
    synthetic: bool,
    progress: Callable[[int], None] | None,
    pool: Executor | None,
) -> IngestReport:
    """:func:`write_decoded` for bars read natively: the partitions come ready from
    :func:`~workbench.data.bar_columns.bar_table`, one slice of one table each."""
    root.check_writable()
    table, partitions = bar_table(decoded)
    parts = [_Part(p.product, p.date, table.slice(p.start, p.end - p.start)) for p in partitions]

    def one(part: _Part) -> tuple[str, dt.date, int, bool]:
        return _write_part(root, part, decoded.schema, decoded.dataset, source, synthetic)

    if pool is None:
        with ThreadPoolExecutor(max_workers=_THREADS) as own:
            written = list(own.map(one, parts))
    else:
        written = list(pool.map(one, parts))
    _add_written(report, written, progress)
    report.products.update(p.product for p in parts)
    report.schemas.add(decoded.schema.name)
    return report


def ingest_files(
    paths: Iterable[str | Path | databento.DBNStore],
    root: DataRoot,
    *,
    product: str | None = None,
    keep_spreads: bool = False,
    source: str = "dbn-file",
    progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Decode DBN files (``.dbn`` or ``.dbn.zst``) and store them in the catalog.

    Every file is decoded completely before anything is written, so a corrupt or truncated
    file writes nothing. The files' headers and zstd framing are checked first (milliseconds
    per file), so a file cut short is reported before the others are decoded.
    """
    paths = list(paths)
    for p in paths:
        if isinstance(p, (str, Path)):
            check_dbn_file(Path(p))
    total = IngestReport()

    def dec(p: str | Path | databento.DBNStore) -> DecodedDBN:
        return decode(p, product=product, keep_spreads=keep_spreads)

    # zstd, the decoder and pyarrow's writer release the GIL; one pool for the whole ingest
    with ThreadPoolExecutor(max_workers=_THREADS) as pool:
        decoded = list(pool.map(dec, paths))
        for d in decoded:
            total.merge(write_decoded(root, d, source=source, progress=progress, pool=pool))
    return total
