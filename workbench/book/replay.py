"""Replay a DBN file through the native L3/L2 books into an MBP-10 shaped DataFrame.

The Rust replayer (``native/src/book``) decodes the file with Databento's ``dbn`` crate,
applies every record and hands back one NumPy structured array over its ``#[repr(C)]``
snapshot rows (no per-row Python work, no copy). The frame is built from that array with
three vectorised gathers, one per column dtype, handed to pandas as its blocks.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from typing import Literal

import databento_dbn as dbn
import numpy as np
import numpy.typing as npt
import pandas as pd
import zstandard

from workbench import native
from workbench.book.errors import BookFileError, TruncatedBookFileError
from workbench.errors import ConfigError

try:  # pandas >= 3: a frame from ready-made blocks, without the consolidation copy
    from pandas.api.internals import create_dataframe_from_blocks as _from_blocks
except ImportError:  # pragma: no cover - older pandas
    _from_blocks = None

Every = Literal["event", "record"]

PRICE_SCALE = 1_000_000_000
"""DBN fixed point: 1 price unit = 1e-9 dollars."""

UNDEF_PRICE: int = native.UNDEF_PRICE
"""DBN's "no price" (``i64::MAX``): an empty level in a snapshot."""

_UTC_NS = pd.DatetimeTZDtype("ns", "UTC")
_TS_WORD = 0  # ts_event is the first int64 of a snapshot row
_UNDEF_DOLLARS = UNDEF_PRICE / PRICE_SCALE

_LEVEL_FIELDS = ("bid_px", "ask_px", "bid_sz", "ask_sz", "bid_ct", "ask_ct")

# Decoder messages that mean the file stops in the middle of something.
_TRUNCATION_MARKERS = ("unexpected end", "incomplete", "eof", "truncated")

#: The schemas the native replayer builds books from (MBO: L3 books; MBP-10: L2 books).
BOOK_SCHEMAS = ("mbo", "mbp-10")
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_DBN_PREFIX = 8  # b"DBN", the version byte, the metadata length (u32 little endian)


def level_columns(depth: int = 10) -> list[str]:
    """The MBP-10 level column names for ``depth`` levels, in Databento's order.

    Parameters
    ----------
    depth : int, default 10
        Levels per side.

    Returns
    -------
    list of str
        ``bid_px_00, ask_px_00, bid_sz_00, ask_sz_00, bid_ct_00, ask_ct_00, bid_px_01, ...``.
    """
    return [f"{f}_{i:02d}" for i in range(depth) for f in _LEVEL_FIELDS]


@functools.cache
def _block_plan(depth: int) -> _BlockPlan:
    """Where each frame column sits in a snapshot row and in the frame, per dtype block."""
    fields = native.BOOK_SNAPSHOT_DTYPE.fields
    assert fields is not None
    names = ["instrument_id", "sequence", "flags", *level_columns(depth)]
    px_words, px_at, int_halves, int_at = [], [], [], []
    for at, name in enumerate(names):
        if name == "flags":
            continue
        offset = fields[name][1]
        if "_px_" in name:
            px_words.append(offset // 8)
            px_at.append(at)
        else:
            int_halves.append(offset // 4)
            int_at.append(at)
    base = fields["bid_px_00"][1]
    levels = np.arange(depth)
    # The Rust layout (``BOOK_SNAPSHOT_DTYPE``): 32-byte level pairs of bid_px, ask_px
    # (int64), then bid_sz, ask_sz, bid_ct, ask_ct (uint32), in the frame's column order.
    pairs = (
        base % 32 == 0
        and px_words == (base // 8 + 4 * levels[:, None] + np.arange(2)).ravel().tolist()
        and int_halves[2:] == (base // 4 + 8 * levels[:, None] + 4 + np.arange(4)).ravel().tolist()
    )
    return _BlockPlan(
        columns=pd.Index(names),
        levels_at=base if pairs else -1,
        px_words=np.array(px_words, dtype=np.intp),
        px_at=np.array(px_at, dtype=np.intp),
        int_halves=np.array(int_halves, dtype=np.intp),
        int_at=np.array(int_at, dtype=np.intp),
        flags_at=np.array([names.index("flags")], dtype=np.intp),
    )


@dataclass(frozen=True)
class _BlockPlan:
    columns: pd.Index
    levels_at: int  # byte offset of the level pairs in a row; -1: gather field by field
    px_words: npt.NDArray[np.intp]  # int64 word of each price column in a row
    px_at: npt.NDArray[np.intp]  # their positions among the frame's columns
    int_halves: npt.NDArray[np.intp]  # uint32 half-word of each id/size/count column
    int_at: npt.NDArray[np.intp]
    flags_at: npt.NDArray[np.intp]


def snapshots_to_frame(rows: npt.NDArray[np.void], depth: int = 10) -> pd.DataFrame:
    """An MBP-10 shaped DataFrame from snapshot rows (``BOOK_SNAPSHOT_DTYPE``).

    The frame is assembled from three 2-D blocks (float64 prices, uint32 ids, sizes and
    counts, uint8 flags), each written column-major from the rows in one transposing pass
    and handed to pandas as its block as it is (no consolidation copy); the index is the
    ``ts_event`` nanoseconds as UTC, without conversion.

    Parameters
    ----------
    rows : numpy.ndarray
        Structured array of ``workbench_native.BOOK_SNAPSHOT_DTYPE``, C-contiguous.
    depth : int, default 10
        Levels per side to keep (1..10).

    Returns
    -------
    pandas.DataFrame
        See :func:`replay`.
    """
    n = len(rows)
    plan = _block_plan(depth)
    raw = np.ascontiguousarray(rows).view(np.uint8).reshape(n, rows.dtype.itemsize)
    if plan.levels_at >= 0:
        # One transposing pass per block over (n, depth, k) views of the level pairs.
        pairs = raw[:, plan.levels_at : plan.levels_at + 32 * depth]
        by_level = np.empty((depth, 2, n))
        px = pairs.view(np.int64).reshape(n, depth, 4)[:, :, :2].transpose(1, 2, 0)
        np.divide(px, PRICE_SCALE, out=by_level)
        prices = by_level.reshape(2 * depth, n)
        # only UNDEF_PRICE (i64::MAX, $9.2e9) maps to this float
        np.putmask(prices, prices == _UNDEF_DOLLARS, np.nan)
        ints = np.empty((2 + 4 * depth, n), dtype=np.uint32)
        halves = raw.view(np.uint32)
        ints[:2] = halves[:, plan.int_halves[:2]].T
        ints[2:].reshape(depth, 4, n)[...] = (
            pairs.view(np.uint32).reshape(n, depth, 8)[:, :, 4:].transpose(1, 2, 0)
        )
    else:  # pragma: no cover - another snapshot layout: gather column by column
        fixed = raw.view(np.int64).T[plan.px_words]
        prices = np.divide(fixed, PRICE_SCALE)
        np.putmask(prices, fixed == UNDEF_PRICE, np.nan)
        ints = raw.view(np.uint32).T[plan.int_halves]
    flags = rows["flags"].reshape(1, n).copy()
    ts = raw.view(np.int64)[:, _TS_WORD].view("datetime64[ns]").copy()
    index = pd.DatetimeIndex(
        pd.arrays.DatetimeArray._simple_new(ts, dtype=_UTC_NS), name="ts_event"
    )
    if _from_blocks is None:  # pragma: no cover - pandas without the internals API
        data = dict(zip(plan.columns[plan.px_at], prices, strict=True))
        data |= dict(zip(plan.columns[plan.int_at], ints, strict=True))
        data["flags"] = flags[0]
        return pd.DataFrame(data, index=index, columns=plan.columns)
    blocks = [(prices, plan.px_at), (ints, plan.int_at), (flags, plan.flags_at)]
    return _from_blocks(blocks, index=index, columns=plan.columns)


def replay(
    path: str | os.PathLike[str],
    depth: int = 10,
    every: Every = "event",
    instrument_id: int | None = None,
    *,
    strict: bool = False,
) -> pd.DataFrame:
    """Replay a DBN file (MBO into L3 books, MBP-10 into L2 books) and return the book states.

    Parameters
    ----------
    path : str or os.PathLike
        A DBN file, plain (``.dbn``) or zstd-compressed (``.dbn.zst``), of schema ``mbo`` or
        ``mbp-10`` (in a file of mixed records, the records of other schemas are counted and
        ignored).
    depth : int, default 10
        Levels per side in the frame (1..10).
    every : {"event", "record"}, default "event"
        ``"event"``: one row per event boundary (a record with the ``F_LAST`` flag), where the
        venue's book is consistent. ``"record"``: one row after every record.
    instrument_id : int, optional
        Only this instrument (a file may hold several); by default every instrument, each
        row naming its own.
    strict : bool, default False
        Stop at the first record a book refuses (:class:`BookFileError`) instead of counting
        and skipping it (see ``frame.attrs["replay"]["refused"]``).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``ts_event`` (UTC ``DatetimeIndex``), with ``instrument_id``,
        ``sequence``, ``flags`` and Databento's MBP-10 level columns ``bid_px_00,
        ask_px_00, bid_sz_00, ask_sz_00, bid_ct_00, ask_ct_00, ..., ask_ct_09``: prices in
        dollars as float64 (NaN where the side has no such level), sizes and order counts
        as uint32 (0 where no level). ``attrs["replay"]`` holds the replay's counts (records,
        actions, event boundaries, refusals) and ``attrs["replay"]["integrity"]`` the books'
        integrity counters (unknown cancels of a mid-session feed, crossed boundaries, ...).

    Raises
    ------
    BookFileError
        The file is missing, is not DBN, is corrupt, holds another schema than ``mbo`` or
        ``mbp-10`` (OHLCV bars, trades, ...), or, with ``strict``, a record was refused.
    TruncatedBookFileError
        The file ends in the middle of a record or of a zstd frame.
    workbench.errors.ConfigError
        ``depth`` or ``every`` is out of range.

    Examples
    --------
    >>> book = replay("esh4-glbx-mdp3-20231225.mbo.dbn.zst")  # doctest: +SKIP
    >>> book[["bid_px_00", "ask_px_00"]].tail(1)  # doctest: +SKIP
    """
    if every not in ("event", "record"):
        raise ConfigError(f"replay: every must be 'event' or 'record', got {every!r}")
    if not 1 <= depth <= 10:
        raise ConfigError(f"replay: depth must be between 1 and 10, got {depth}")
    name = os.fspath(path)
    if not os.path.isfile(name):
        raise BookFileError(
            name,
            f"no DBN file at {name}",
            hint="check the path (a .dbn or .dbn.zst file of schema mbo or mbp-10)",
        )
    schema = _dbn_schema(name)
    if schema is not None and schema not in BOOK_SCHEMAS:
        raise _not_a_book_file(name, f"holds {schema} records")
    try:
        rows, stats = native.replay_book(
            name, depth=depth, every=every, instrument_id=instrument_id, strict=strict
        )
    except OSError as exc:
        raise BookFileError(name, f"cannot read {name}: {exc}") from exc
    except ValueError as exc:
        raise _file_error(name, exc) from exc
    # (with instrument_id the counts are that instrument's: none of it is an empty frame)
    no_book = not stats["mbo_records"] and not stats["mbp10_records"]
    if instrument_id is None and stats["records"] and no_book:
        raise _not_a_book_file(name, f"holds {stats['records']:,} records, none mbo or mbp-10")
    frame = snapshots_to_frame(rows, depth)
    frame.attrs["replay"] = stats
    return frame


def _not_a_book_file(name: str, what: str) -> BookFileError:
    """The error for a readable DBN file without order-book records."""
    return BookFileError(
        name,
        f"{name} {what}: replay builds books from {' or '.join(BOOK_SCHEMAS)} records only",
        hint="pass a DBN file of schema mbo (L3 books) or mbp-10 (L2 books); bars are "
        "read with workbench.data.load_bars after `workbench data ingest`",
    )


def _dbn_schema(name: str) -> str | None:
    """The schema named in a DBN file's metadata (``"ohlcv-1m"``), read from its first bytes;
    None for a file of mixed records, or one whose header cannot be read (the replay then
    says what is wrong with it)."""
    try:
        with open(name, "rb") as fh:
            head = fh.read(4)
            fh.seek(0)
            reader = zstandard.ZstdDecompressor().stream_reader(fh) if head == _ZSTD_MAGIC else fh
            prefix = reader.read(_DBN_PREFIX)
            if len(prefix) < _DBN_PREFIX or prefix[:3] != b"DBN":
                return None
            rest = reader.read(int.from_bytes(prefix[4:8], "little"))
        meta = dbn.Metadata.decode(prefix + rest)
    except (OSError, ValueError, zstandard.ZstdError):
        return None
    return None if meta.schema is None else str(meta.schema)


def _file_error(name: str, exc: ValueError) -> BookFileError:
    """The user-facing error for a native replay failure (``(kind, message)`` args)."""
    kind, message = exc.args if len(exc.args) == 2 else ("decode", str(exc))
    if kind == "refused":
        return BookFileError(
            name,
            f"{name}: {message}",
            hint="replay without strict=True to count and skip refused records",
        )
    if any(m in message.lower() for m in _TRUNCATION_MARKERS):
        return TruncatedBookFileError(
            name,
            f"{name} ends in the middle of a record: {message}",
            hint="the file is incomplete; download it again",
        )
    return BookFileError(
        name,
        f"{name} is not a readable DBN file: {message}",
        hint="pass a Databento DBN file (.dbn or .dbn.zst) of schema mbo or mbp-10",
    )
