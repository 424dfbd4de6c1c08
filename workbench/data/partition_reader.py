"""Read one catalog file, or say by name why it cannot be read.

A partition is unreadable when Parquet cannot decode it (bytes corrupted in the middle, a
file cut short, something else under a ``.parquet`` name) or when it does not hold what its
name says: a ``*_ohlcv-1m.parquet`` without the bar columns, or with the wrong types. Every
such file raises :class:`~workbench.errors.UnreadableFileError` naming the file and what to do
(:meth:`~workbench.data.store.Partition.repair_hint`), never a bare pyarrow error.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa
import pyarrow.parquet as pq

from workbench.data.schemas import SCHEMAS
from workbench.data.store import DataRoot, Partition, read_error_reason
from workbench.errors import UnreadableFileError

#: Columns every bar partition holds, with a test of the type and its description.
BAR_COLUMNS: dict[str, tuple[str, object]] = {
    "ts_event": ("a timestamp", lambda t: pa.types.is_timestamp(t) or pa.types.is_int64(t)),
    "instrument_id": ("an integer", pa.types.is_integer),
    "symbol": (
        "a string",
        lambda t: (
            pa.types.is_string(t)
            or pa.types.is_large_string(t)
            or (pa.types.is_dictionary(t) and pa.types.is_string(t.value_type))
        ),
    ),
    "open": ("a number", lambda t: pa.types.is_floating(t) or pa.types.is_integer(t)),
    "high": ("a number", lambda t: pa.types.is_floating(t) or pa.types.is_integer(t)),
    "low": ("a number", lambda t: pa.types.is_floating(t) or pa.types.is_integer(t)),
    "close": ("a number", lambda t: pa.types.is_floating(t) or pa.types.is_integer(t)),
    "volume": ("an integer", pa.types.is_integer),
}

# Errors pyarrow raises for a file it cannot decode (ArrowException covers ArrowInvalid,
# ArrowIOError is an OSError).
_READ_ERRORS = (OSError, pa.ArrowException, ValueError, IndexError)


def schema_problem(part: Partition, schema: pa.Schema) -> str | None:
    """Why ``schema`` is not what ``part``'s name promises, or None when it is."""
    info = SCHEMAS.get(part.schema)
    if info is None or not info.is_bars:
        return None
    missing = [c for c in BAR_COLUMNS if schema.get_field_index(c) < 0]
    if missing:
        return f"not {part.schema} bars: missing column{'s' if len(missing) > 1 else ''} " + (
            ", ".join(missing)
        )
    for name, (wanted, ok) in BAR_COLUMNS.items():
        typ = schema.field(name).type
        if not ok(typ):  # type: ignore[operator]
            return f"not {part.schema} bars: column {name} is {typ}, not {wanted}"
    return None


def read_partition(root: DataRoot, part: Partition, *, use_threads: bool = False) -> pa.Table:
    """The table stored in ``part``, its schema checked against the partition's name.

    Raises
    ------
    UnreadableFileError
        The file cannot be decoded or is not the schema its name says.
    """
    try:
        if root.is_local:
            table = pq.read_table(part.path, use_threads=use_threads)
        else:
            with root.fs.open(part.path, "rb") as fh:
                table = pq.read_table(fh, use_threads=use_threads)
    except FileNotFoundError:
        raise UnreadableFileError(
            part.path,
            f"{part.path} disappeared while it was being read",
            hint="run the command again (was the catalog being rewritten?)",
        ) from None
    except _READ_ERRORS as exc:
        raise part.unreadable(read_error_reason(exc)) from None
    problem = schema_problem(part, table.schema)
    if problem is not None:
        raise part.unreadable(problem)
    return table


def read_partitions(
    root: DataRoot, parts: list[Partition], threads: int = 4
) -> tuple[list[tuple[Partition, pa.Table]], list[UnreadableFileError]]:
    """Read ``parts`` in a thread pool: the readable ones with their tables (in order),
    and an error for each unreadable one."""

    def one(p: Partition) -> pa.Table | UnreadableFileError:
        try:
            return read_partition(root, p)
        except UnreadableFileError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        results = list(pool.map(one, parts))
    good = [(p, t) for p, t in zip(parts, results, strict=True) if isinstance(t, pa.Table)]
    bad = [e for e in results if isinstance(e, UnreadableFileError)]
    return good, bad
