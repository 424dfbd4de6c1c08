"""The on-disk catalog: where partitions live and how they are written.

Layout (from the plan), under a data root that is a local folder or any fsspec URL::

    {root}/raw/{PRODUCT}/{year}/{YYYY-MM-DD}_{schema}.parquet
    e.g. data/raw/MCL_FUT/2024/2024-03-01_ohlcv-1m.parquet

One file holds every contract of the product for one UTC date (Databento's day boundary).
Every file is written to a temporary name and renamed into place, so a crash never leaves a
half-written partition that looks complete.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.errors import DataError, UnreadableFileError

if TYPE_CHECKING:
    import fsspec
    import pyarrow as pa

#: Environment variable naming the data root.
DATA_DIR_ENV = "WORKBENCH_DATA_DIR"
#: Parquet key-value metadata key holding workbench's JSON description of a file.
META_KEY = b"workbench"

_PARTITION_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})_([a-z0-9-]+)\.parquet$")


@dataclass(frozen=True)
class Partition:
    """One stored file: a product, a schema and a UTC date."""

    product: str
    schema: str
    date: dt.date
    path: str

    @classmethod
    def from_path(cls, path: str) -> Partition | None:
        """The partition stored at ``path`` (``.../{PRODUCT}/{year}/{date}_{schema}.parquet``),
        None when the name does not follow the layout."""
        parts = path.replace("\\", "/").rsplit("/", 3)
        m = _PARTITION_RE.match(parts[-1])
        if m is None or len(parts) < 3:
            return None
        return cls(parts[-3], m[2], dt.date.fromisoformat(m[1]), path)

    def repair_hint(self) -> str:
        """What to do about this file when it cannot be read."""
        day = self.date.isoformat()
        symbols = self.product.replace("_FUT", ".FUT")
        return (
            f"delete it and download the day again (`workbench data download --symbols "
            f"{symbols} --schema {self.schema} --start {day} --end {day}`), or re-ingest its DBN "
            "file with `workbench data ingest` (synthetic data: `workbench data sample`)"
        )

    def unreadable(self, reason: str, *, others: int = 0) -> UnreadableFileError:
        """The error for this file when it cannot be read: ``reason`` says why;
        ``others`` counts further unreadable files in the same request."""
        more = (
            f" (and {others} more unreadable file{'s' if others > 1 else ''}: "
            "`workbench data validate` lists them)"
            if others
            else ""
        )
        return UnreadableFileError(
            self.path, f"cannot read {self.path}: {reason}{more}", hint=self.repair_hint()
        )


def read_error_reason(exc: BaseException) -> str:
    """A short description of why Parquet could not read a file (from pyarrow's error)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "magic bytes not found" in text or "file size of 0" in text:
        return "truncated or not a Parquet file (no Parquet footer)"
    if "deserialize thrift" in text or "Thrift" in text:
        return "corrupt Parquet file (unreadable page or footer metadata)"
    if "decompression failed" in text or "Corrupt" in text or "corrupt" in text:
        return f"corrupt Parquet file ({text})"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return f"unreadable Parquet file ({text[:200]})"


def project_root(start: str | Path | None = None) -> Path | None:
    """The workbench checkout containing ``start`` (default: the working directory): the
    nearest folder upwards holding both ``pyproject.toml`` and ``workbench/``."""
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "workbench").is_dir():
            return folder
    return None


def default_data_dir() -> str:
    """``$WORKBENCH_DATA_DIR`` if set; else the project's ``data/`` folder when working
    inside the checkout (so notebooks in ``notebooks/`` find it); else ``./data``."""
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return env
    root = project_root()
    return str(root / "data") if root is not None else "data"


class DataRoot:
    """A data root on a local disk or an fsspec filesystem (``s3://bucket/prefix``).

    Parameters
    ----------
    data_dir : str or Path, optional
        Local folder or fsspec URL. Defaults to :func:`default_data_dir`.
    storage_options : dict, optional
        Passed to fsspec (e.g. ``{"client_kwargs": {"endpoint_url": ...}}`` for S3).
    """

    def __init__(
        self, data_dir: str | Path | None = None, storage_options: dict[str, Any] | None = None
    ) -> None:
        url = str(data_dir) if data_dir is not None else default_data_dir()
        self.url = url
        self.is_local = "://" not in url or url.startswith("file://")
        self._storage_options = storage_options or {}
        if self.is_local:
            self.path = str(Path(url.removeprefix("file://")).expanduser().resolve())
            self._fs: fsspec.AbstractFileSystem | None = None
        else:
            # start-up: fsspec only for remote roots; keeps `workbench data info` light
            import fsspec

            fs, path = fsspec.core.url_to_fs(url, **self._storage_options)
            self._fs = fs
            self.path = path.rstrip("/")

    def __repr__(self) -> str:
        return f"DataRoot({self.url!r})"

    # -- paths -------------------------------------------------------------------------------
    @property
    def fs(self) -> fsspec.AbstractFileSystem:
        """The fsspec filesystem (a local one for local roots)."""
        if self._fs is None:
            # start-up: fsspec only when a filesystem is needed (`workbench data info` stays light)
            from fsspec.implementations.local import LocalFileSystem

            self._fs = LocalFileSystem()
        return self._fs

    def join(self, *parts: str) -> str:
        """Path under the root."""
        return "/".join([self.path, *parts])

    def product_dir(self, product: str) -> str:
        """``{root}/raw/{product}``."""
        return self.join("raw", product)

    def partition_path(self, product: str, schema: str, date: dt.date) -> str:
        """Where the partition for ``product``/``schema``/``date`` lives."""
        return self.join("raw", product, f"{date.year:04d}", f"{date.isoformat()}_{schema}.parquet")

    # -- listing -----------------------------------------------------------------------------
    def products(self) -> list[str]:
        """Products present under ``raw/``, sorted."""
        raw = self.join("raw")
        if self.is_local:
            if not os.path.isdir(raw):
                return []
            return sorted(
                e.name for e in os.scandir(raw) if e.is_dir() and not e.name.startswith(".")
            )
        if not self.fs.exists(raw):
            return []
        return sorted(p.rstrip("/").rsplit("/", 1)[-1] for p in self.fs.ls(raw, detail=False))

    def partitions(
        self,
        product: str | None = None,
        schema: str | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
    ) -> list[Partition]:
        """Stored partitions, sorted by product, schema and date.

        ``start``/``end`` are inclusive UTC dates; a filter left as None matches everything.
        """
        products = [product] if product else self.products()
        out: list[Partition] = []
        for prod in products:
            for name, path in self._files_of(prod, start, end):
                m = _PARTITION_RE.match(name)
                if m is None:
                    continue
                day = dt.date.fromisoformat(m[1])
                if schema is not None and m[2] != schema:
                    continue
                if (start and day < start) or (end and day > end):
                    continue
                out.append(Partition(prod, m[2], day, path))
        out.sort(key=lambda p: (p.product, p.schema, p.date))
        return out

    def _files_of(
        self, product: str, start: dt.date | None, end: dt.date | None
    ) -> Iterable[tuple[str, str]]:
        base = self.product_dir(product)
        if self.is_local:
            if not os.path.isdir(base):
                return
            for year_entry in os.scandir(base):
                if not year_entry.is_dir() or not year_entry.name.isdigit():
                    continue
                year = int(year_entry.name)
                if (start and year < start.year) or (end and year > end.year):
                    continue
                for f in os.scandir(year_entry.path):
                    yield f.name, f.path
        else:
            if not self.fs.exists(base):
                return
            for path in self.fs.find(base):
                yield path.rsplit("/", 1)[-1], path

    def is_present(self) -> bool:
        """Whether the root folder itself exists (a remote root: anything is stored under it)."""
        return os.path.isdir(self.path) if self.is_local else bool(self.fs.exists(self.path))

    def exists(self, path: str) -> bool:
        """Whether a file exists under the root."""
        return os.path.exists(path) if self.is_local else bool(self.fs.exists(path))

    def size(self, path: str) -> int:
        """File size in bytes."""
        return os.path.getsize(path) if self.is_local else int(self.fs.size(path))

    # -- writing -----------------------------------------------------------------------------
    def write_parquet(self, path: str, table: pa.Table) -> None:
        """Write ``table`` to ``path`` atomically (temp file, then rename).

        On an object store a single PUT is already atomic: the object appears only when
        the upload completes.

        Raises
        ------
        DataError
            If the data root cannot be written (read-only, permission denied, disk full).
        """
        # start-up: pyarrow only when writing; keeps `workbench data info` light
        import pyarrow.parquet as pq

        kwargs: dict[str, Any] = {"compression": "zstd", "compression_level": 1}
        try:
            if self.is_local:
                folder = os.path.dirname(path)
                os.makedirs(folder, exist_ok=True)
                tmp = os.path.join(folder, f".{os.path.basename(path)}.{uuid.uuid4().hex}.tmp")
                try:
                    pq.write_table(table, tmp, **kwargs)
                    os.replace(tmp, path)
                except BaseException:
                    if os.path.exists(tmp):
                        os.unlink(tmp)
                    raise
            else:
                with self.fs.open(path, "wb") as fh:
                    pq.write_table(table, fh, **kwargs)
        except OSError as exc:
            raise DataError(
                f"cannot write {path}: {exc.strerror or exc}",
                hint=f"make the data folder writable or choose another with --data-dir "
                f"(or ${DATA_DIR_ENV})",
            ) from None

    def write_text(self, path: str, text: str) -> None:
        """Write a small text file atomically."""
        try:
            if self.is_local:
                folder = os.path.dirname(path)
                os.makedirs(folder, exist_ok=True)
                tmp = os.path.join(folder, f".{os.path.basename(path)}.{uuid.uuid4().hex}.tmp")
                with open(tmp, "w", encoding="utf-8") as fh:
                    fh.write(text)
                os.replace(tmp, path)
            else:
                with self.fs.open(path, "w") as fh:
                    fh.write(text)
        except OSError as exc:
            raise DataError(
                f"cannot write {path}: {exc.strerror or exc}",
                hint="make the data folder writable or choose another with --data-dir",
            ) from None

    def read_text(self, path: str) -> str | None:
        """Read a small text file, None when absent."""
        try:
            if self.is_local:
                with open(path, encoding="utf-8") as fh:
                    return fh.read()
            with self.fs.open(path, "r") as fh:
                text: str = fh.read()
                return text
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None

    def check_writable(self) -> None:
        """Fail early, with a clear message, when the root cannot be written."""
        if not self.is_local:
            return
        probe_dir = self.path
        while not os.path.exists(probe_dir):
            parent = os.path.dirname(probe_dir)
            if parent == probe_dir:
                break
            probe_dir = parent
        if not os.path.isdir(probe_dir):
            raise DataError(
                f"the data folder {self.path} cannot be created: {probe_dir} is a file",
                hint="choose a folder with --data-dir or $WORKBENCH_DATA_DIR",
            )
        if not os.access(probe_dir, os.W_OK):
            raise DataError(
                f"the data folder {self.path} is not writable ({probe_dir} is read-only)",
                hint="choose a writable folder with --data-dir or $WORKBENCH_DATA_DIR",
            )


def file_metadata(
    *,
    product: str,
    schema: str,
    date: dt.date,
    source: str,
    dataset: str,
    price_format: str,
    synthetic: bool = False,
    extra: dict[str, Any] | None = None,
) -> dict[bytes, bytes]:
    """The key-value metadata stored in every Parquet file's footer."""
    meta: dict[str, Any] = {
        "product": product,
        "schema": schema,
        "date": date.isoformat(),
        "dataset": dataset,
        "source": source,
        "synthetic": synthetic,
        "price_format": price_format,
        "price_scale": 1_000_000_000 if price_format.startswith("int64") else None,
        "ts_event": "UTC nanoseconds; bars are labelled with the START of their interval",
    }
    if extra:
        meta.update(extra)
    return {META_KEY: json.dumps(meta, sort_keys=True).encode()}


def read_file_metadata(meta: dict[bytes, bytes] | None) -> dict[str, Any]:
    """Decode workbench's footer metadata (empty dict when absent)."""
    if not meta or META_KEY not in meta:
        return {}
    decoded: dict[str, Any] = json.loads(meta[META_KEY])
    return decoded
