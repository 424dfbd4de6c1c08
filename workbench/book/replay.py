"""Replay a DBN file through the native L3/L2 books into an MBP-10 shaped DataFrame.

The Rust replayer (``native/src/book``) decodes the file with Databento's ``dbn`` crate,
applies every record and hands back one NumPy structured array over its ``#[repr(C)]``
snapshot rows (no per-row Python work, no copy). The frame is built from that array with
a handful of vectorised gathers.
"""

from __future__ import annotations

import functools
import os
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from workbench import native
from workbench.book.errors import BookFileError, TruncatedBookFileError
from workbench.errors import ConfigError

Every = Literal["event", "record"]

PRICE_SCALE = 1_000_000_000
"""DBN fixed point: 1 price unit = 1e-9 dollars."""

UNDEF_PRICE: int = native.UNDEF_PRICE
"""DBN's "no price" (``i64::MAX``): an empty level in a snapshot."""

_LEVEL_FIELDS = ("bid_px", "ask_px", "bid_sz", "ask_sz", "bid_ct", "ask_ct")

# Decoder messages that mean the file stops in the middle of something.
_TRUNCATION_MARKERS = ("unexpected end", "incomplete", "eof", "truncated")


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
def _gather_plan(depth: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], list[str]]:
    """Word indices of the price fields (int64 words) and size/count fields (uint32 words)."""
    fields = native.BOOK_SNAPSHOT_DTYPE.fields
    assert fields is not None
    px_idx, int_idx, names = [], [], []
    for name in level_columns(depth):
        offset = fields[name][1]
        names.append(name)
        if "_px_" in name:
            px_idx.append(offset // 8)
        else:
            int_idx.append(offset // 4)
    return np.array(px_idx, dtype=np.intp), np.array(int_idx, dtype=np.intp), names


def snapshots_to_frame(rows: npt.NDArray[np.void], depth: int = 10) -> pd.DataFrame:
    """An MBP-10 shaped DataFrame from snapshot rows (``BOOK_SNAPSHOT_DTYPE``).

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
    item = rows.dtype.itemsize
    raw = np.ascontiguousarray(rows).view(np.uint8).reshape(n, item)
    words = raw.view(np.int64)  # (n, 44)
    halves = raw.view(np.uint32)  # (n, 88)
    px_idx, int_idx, _ = _gather_plan(depth)
    # Gathered column-major ((levels, n), each column contiguous): pandas then stacks its
    # blocks with plain copies instead of strided gathers.
    fixed = np.ascontiguousarray(words[:, px_idx].T)
    prices = fixed / PRICE_SCALE
    prices[fixed == UNDEF_PRICE] = np.nan
    counts = np.ascontiguousarray(halves[:, int_idx].T)
    columns: dict[str, npt.NDArray[np.generic]] = {
        "instrument_id": rows["instrument_id"].copy(),
        "sequence": rows["sequence"].copy(),
        "flags": rows["flags"].copy(),
    }
    ip = ii = 0
    for name in level_columns(depth):
        if "_px_" in name:
            columns[name] = prices[ip]
            ip += 1
        else:
            columns[name] = counts[ii]
            ii += 1
    index = pd.DatetimeIndex(
        rows["ts_event"].astype("datetime64[ns]"), name="ts_event"
    ).tz_localize("UTC")
    return pd.DataFrame(columns, index=index)


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
        ``mbp-10`` (records of other schemas are counted and ignored).
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
        The file is missing, is not DBN, or is corrupt (or, with ``strict``, a record was
        refused).
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
    try:
        rows, stats = native.replay_book(
            name, depth=depth, every=every, instrument_id=instrument_id, strict=strict
        )
    except OSError as exc:
        raise BookFileError(name, f"cannot read {name}: {exc}") from exc
    except ValueError as exc:
        raise _file_error(name, exc) from exc
    frame = snapshots_to_frame(rows, depth)
    frame.attrs["replay"] = stats
    return frame


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
