"""What is in the catalog: a summary read from Parquet footers only (no data pages)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace

from workbench.data.store import DataRoot, Partition, read_error_reason, read_file_metadata
from workbench.errors import UnreadableFileError, WorkbenchError


@dataclass
class CatalogEntry:
    """One product and schema in the catalog."""

    product: str
    schema: str
    first_date: dt.date
    last_date: dt.date
    files: int = 0
    rows: int = 0
    bytes: int = 0
    sources: set[str] = field(default_factory=set)
    synthetic: bool = False
    #: Files whose footer cannot be read, or whose columns are not this schema's (not counted
    #: in ``files``, ``rows`` and ``bytes``).
    unreadable: list[UnreadableFileError] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict."""
        d = asdict(replace(self, unreadable=[]))
        d["first_date"] = self.first_date.isoformat()
        d["last_date"] = self.last_date.isoformat()
        d["sources"] = sorted(self.sources)
        d["unreadable"] = [{"path": e.path, "error": e.message} for e in self.unreadable]
        return d


Footer = tuple[int, int, dict[str, object]]


def _footer(root: DataRoot, part: Partition) -> Footer | UnreadableFileError:
    """Rows, size and workbench metadata of ``part`` from its footer, or why it is unreadable."""
    # start-up: `workbench data info` reads cached footers without pyarrow
    import pyarrow as pa
    import pyarrow.parquet as pq

    # start-up: partition_reader imports pyarrow, which cached footers do not need
    from workbench.data.partition_reader import schema_problem

    try:
        if root.is_local:
            meta = pq.read_metadata(part.path)
        else:
            with root.fs.open(part.path, "rb") as fh:
                meta = pq.read_metadata(fh)
        size = root.size(part.path)
        problem = schema_problem(part, meta.schema.to_arrow_schema())
    except (OSError, ValueError, IndexError, pa.ArrowException) as exc:
        return part.unreadable(read_error_reason(exc))
    if problem is not None:
        return part.unreadable(problem)
    return meta.num_rows, size, read_file_metadata(meta.metadata)


_FOOTER_CACHE = ("cache", "footers.json")


def _footers(root: DataRoot, parts: list[Partition]) -> list[Footer | UnreadableFileError]:
    """Footers of ``parts``, or the error of each unreadable one; on a local root, reuse those
    of files unchanged since last time (same size and mtime), kept in ``cache/footers.json``.
    Unreadable files are never cached: they are read again every time until fixed."""
    if not root.is_local:
        with ThreadPoolExecutor(max_workers=8) as pool:
            return list(pool.map(lambda p: _footer(root, p), parts))
    cache_path = root.join(*_FOOTER_CACHE)
    try:
        with open(cache_path, encoding="utf-8") as fh:
            cache: dict[str, list[object]] = json.load(fh)
    except (OSError, ValueError):
        cache = {}
    stats = [os.stat(p.path) for p in parts]
    out: list[Footer | UnreadableFileError | None] = []
    missing: list[int] = []
    for p, st in zip(parts, stats, strict=True):
        hit = cache.get(p.path) if isinstance(cache, dict) else None
        if (
            isinstance(hit, list)
            and len(hit) == 4
            and hit[0] == st.st_size
            and hit[1] == st.st_mtime_ns
            and isinstance(hit[3], dict)
        ):
            out.append((int(hit[2]), st.st_size, hit[3]))  # type: ignore[call-overload]
        else:
            out.append(None)
            missing.append(len(out) - 1)
    if missing:
        with ThreadPoolExecutor(max_workers=8) as pool:
            fresh = list(pool.map(lambda i: _footer(root, parts[i]), missing))
        for i, f in zip(missing, fresh, strict=True):
            out[i] = f
        keep = {"source", "synthetic", "dataset"}
        new_cache = {
            p.path: [st.st_size, st.st_mtime_ns, f[0], {k: v for k, v in f[2].items() if k in keep}]
            for p, st, f in zip(parts, stats, out, strict=True)
            if isinstance(f, tuple)
        }
        with contextlib.suppress(WorkbenchError):  # read-only root: no cache, still correct
            root.write_text(cache_path, json.dumps(new_cache))
    return [f for f in out if f is not None]


def catalog(root: DataRoot, product: str | None = None) -> list[CatalogEntry]:
    """Summarise the stored partitions by product and schema.

    Reads only each file's footer (row count, columns and workbench metadata) and its size;
    footers of unchanged files are remembered in ``cache/footers.json``. A file whose footer
    cannot be read (truncated, not Parquet) or whose columns are not its schema's is listed
    in its entry's ``unreadable``; corruption inside data pages is only found by reading them
    (:func:`workbench.data.quality.validate`, or loading the bars).
    """
    parts = root.partitions(product)
    entries: dict[tuple[str, str], CatalogEntry] = {}
    footers = _footers(root, parts)
    for part, footer in zip(parts, footers, strict=True):
        key = (part.product, part.schema)
        e = entries.get(key)
        if e is None:
            e = entries[key] = CatalogEntry(part.product, part.schema, part.date, part.date)
        e.first_date = min(e.first_date, part.date)
        e.last_date = max(e.last_date, part.date)
        if isinstance(footer, UnreadableFileError):
            e.unreadable.append(footer)
            continue
        rows, size, meta = footer
        e.files += 1
        e.rows += rows
        e.bytes += size
        e.sources.add(str(meta.get("source", "unknown")))
        e.synthetic = e.synthetic or bool(meta.get("synthetic"))
    return [entries[k] for k in sorted(entries)]


def human_size(n: int) -> str:
    """``1536`` -> ``1.5 KB``."""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"  # pragma: no cover
