"""Load bars from the catalog: one contract, all contracts, or a continuous front month."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import uuid
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbench.data.continuous import (
    Roll,
    contract_expiries,
    front_contracts,
    validate_roll_options,
)
from workbench.data.partition_reader import read_partitions
from workbench.data.schemas import NS_PER_DAY, schema_info
from workbench.data.store import DataRoot, Partition, read_file_metadata
from workbench.data.trade_dates import parse_trade_date, trade_date_bounds
from workbench.errors import ConfigError, DataError, DataWarning, UnreadableFileError
from workbench.market.calendar import trade_dates
from workbench.market.contracts import contract_spec, is_spread, parse_symbol

_NS_PER_HOUR = 3_600_000_000_000
#: Arrow schema metadata key of the column cache: fingerprint, row count, file metadata.
_CACHE_META = b"workbench_cache"


def _parse_bound(value: Any, name: str, *, is_end: bool) -> int | None:
    """A start/end bound as UTC ns. A bare date as ``end`` includes that whole day."""
    if value is None:
        return None

    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise ConfigError(
            f"{name}={value!r} is not a date or timestamp", hint="use e.g. 2024-03-01"
        ) from None
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    ns = int(ts.value)
    date_only = isinstance(value, dt.date) and not isinstance(value, dt.datetime)
    if isinstance(value, str) and len(value.strip()) <= 10:
        date_only = True
    if is_end and date_only:
        ns += NS_PER_DAY
    return ns


def _trade_date_bounds_ns(start: Any, end: Any) -> tuple[int | None, int | None]:
    """UTC ns bounds (start inclusive, end exclusive) of the trade dates ``start``..``end``."""

    def day(value: Any, name: str) -> dt.date | None:
        if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
            return value
        return parse_trade_date(str(value), name)

    bounds = trade_date_bounds(day(start, "start"), day(end, "end"))
    lo, hi = (None if b is None else int(pd.Timestamp(b).value) for b in bounds)
    return lo, hi


def _read_partitions(
    root: DataRoot, parts: list[Partition], needed: list[Partition]
) -> tuple[pa.Table, list[dict[str, Any]], list[UnreadableFileError]]:
    """The readable ``parts`` as one table, their metadata, and the unreadable files.

    Raises
    ------
    UnreadableFileError
        When a file of ``needed`` cannot be read (naming the first one).
    """
    good, bad = read_partitions(root, parts)
    needed_paths = {p.path for p in needed}
    bad_needed = [e for e in bad if e.path in needed_paths]
    if bad_needed:
        first = Partition.from_path(bad_needed[0].path)
        if first is None:  # pragma: no cover - every catalog path follows the layout
            raise bad_needed[0]
        reason = bad_needed[0].message.removeprefix(f"cannot read {first.path}: ")
        raise first.unreadable(reason, others=len(bad_needed) - 1)
    tables = [t.replace_schema_metadata(None) for _, t in good]
    metas = [read_file_metadata(t.schema.metadata) for _, t in good]
    if not tables:
        raise DataError("no readable files")  # pragma: no cover - callers pass needed files
    try:
        table = pa.concat_tables(tables, promote_options="permissive")
    except pa.ArrowInvalid as exc:
        raise DataError(f"stored files disagree on their columns: {exc}") from None
    return table, metas, bad


def _cache_path(root: DataRoot, product: str, schema: str) -> str:
    return root.join("cache", product, f"{schema}.arrow")


def _fingerprint(parts: list[Partition]) -> str:
    h = hashlib.sha256()
    for p in parts:
        st = os.stat(p.path)
        h.update(f"{p.path}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _read_cache(path: str, key: str) -> tuple[pa.Table, list[dict[str, Any]]] | None:
    """The cached table when its fingerprint is ``key`` and it is whole, else None."""
    try:
        with pa.memory_map(path, "r") as source:
            reader = pa.ipc.open_file(source)
            info = json.loads((reader.schema.metadata or {})[_CACHE_META])
            if info["fingerprint"] != key:
                return None
            table = reader.read_all()
        if table.num_rows != info["rows"]:
            return None
        return table.replace_schema_metadata(None), info["metas"]
    except (OSError, ValueError, KeyError, TypeError, pa.ArrowException):
        return None  # absent, stale, cut short or rewritten by hand: read the partitions


def _write_cache(path: str, key: str, table: pa.Table, metas: list[dict[str, Any]]) -> None:
    """Write the column cache atomically; the fingerprint travels inside the file."""
    unique = {json.dumps(m, sort_keys=True) for m in metas}
    info = {"fingerprint": key, "rows": table.num_rows, "metas": [json.loads(m) for m in unique]}
    table = table.replace_schema_metadata({_CACHE_META: json.dumps(info).encode()})
    tmp = f"{path}.{uuid.uuid4().hex}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with pa.OSFile(tmp, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)  # a read-only data root still loads, just without the cache


def _read_catalog(
    root: DataRoot, product: str, schema: str, parts: list[Partition], needed: list[Partition]
) -> tuple[pa.Table, list[dict[str, Any]]]:
    """Bars of ``parts`` as one table, through a local column cache; every file of ``needed``
    (a subset of ``parts``) must be readable.

    The cache (``{root}/cache/{product}/{schema}.arrow``, Arrow IPC, memory-mapped) holds
    the name, size and mtime of every partition in its own metadata, so any new, deleted or
    rewritten file invalidates it. It is written only when every partition could be read: an
    unreadable file never enters it, and a file corrupted since is read again (its size or
    mtime changed). An unreadable file outside ``needed`` is left out with a
    :class:`~workbench.errors.DataWarning`. Object-store roots read the partitions directly.
    """

    if not root.is_local:
        table, metas, bad = _read_partitions(root, parts, needed)
    else:
        path = _cache_path(root, product, schema)
        key = _fingerprint(parts)
        hit = _read_cache(path, key)
        if hit is not None:
            return hit
        table, metas, bad = _read_partitions(root, parts, needed)
        table = table.combine_chunks()
        if not bad:
            _write_cache(path, key, table, metas)
    for err in bad:
        warnings.warn(f"{err.message} (not needed here, left out)", DataWarning, stacklevel=3)
    return table, metas


def _bar_trade_dates(ts_ns: np.ndarray) -> np.ndarray:
    """CME trade dates of sorted timestamps, converting each distinct UTC hour once
    (time zone offsets change on the hour)."""
    hours = ts_ns // _NS_PER_HOUR
    starts = np.r_[0, np.flatnonzero(np.diff(hours)) + 1]
    per_hour = trade_dates(hours[starts] * _NS_PER_HOUR)
    return np.repeat(per_hour, np.diff(np.r_[starts, len(hours)]))


def load_bars(
    symbol: str = "MCL_FUT",
    schema: str = "ohlcv-1m",
    start: Any = None,
    end: Any = None,
    data_dir: str | Path | None = None,
    *,
    continuous: bool = True,
    roll: str = "volume",
    roll_days: int = 5,
    adjust: str = "none",
    storage_options: dict[str, Any] | None = None,
    dates: str = "utc",
) -> pd.DataFrame:
    """Load OHLCV bars from the catalog.

    Parameters
    ----------
    symbol : str, default "MCL_FUT"
        A product (``MCL_FUT``, ``ES_FUT``, ``CL_FUT``; ``MCL.FUT`` also works) for a
        continuous front-month series, or one contract (``MCLZ5``) for that contract alone.
    schema : str, default "ohlcv-1m"
        ``ohlcv-1s``, ``ohlcv-1m``, ``ohlcv-1h`` or ``ohlcv-1d``.
    start, end : date, str or Timestamp, optional
        UTC bounds on the bar start. ``start`` is inclusive; ``end`` is exclusive, except that
        a bare date (``"2024-06-30"``) includes that whole day. With ``dates="trade"``: CME
        trade dates (``YYYY-MM-DD`` or dates), both inclusive.
    data_dir : str or Path, optional
        Data root (folder or fsspec URL); default ``$WORKBENCH_DATA_DIR`` or ``./data``.
    continuous : bool, default True
        For a product: the front-month series. False returns every outright contract.
    roll : {"volume", "calendar"}
        Volume crossover, or ``roll_days`` business days before expiry.
    roll_days : int, default 5
        Business days before the last trade date for ``roll="calendar"``.
    adjust : {"none", "difference", "ratio"}
        Back-adjustment of prices before each roll.
    dates : {"utc", "trade"}, default "utc"
        What ``start`` and ``end`` are: UTC bounds, or CME trade dates (a trade date's
        session opens 18:00 New York the evening before; the CLI's ``--start``/``--end``).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``ts_event`` (UTC bar start, as Databento labels it) with columns
        ``open high low close volume symbol``. ``df.attrs`` holds ``product``, ``schema``,
        ``rolls`` (list of dicts), ``roll_rule``, ``adjust``, ``synthetic`` and ``sources``.

    Raises
    ------
    DataError
        No data for the request, or inconsistent files.
    ConfigError
        Unknown product, schema, roll rule, or bad dates.
    """

    info = _bar_schema(schema)
    validate_roll_options(roll, adjust, roll_days)
    product, contract = _resolve_symbol(symbol)
    spec = contract_spec(product)
    if dates == "trade":
        lo, hi = _trade_date_bounds_ns(start, end)
    elif dates == "utc":
        lo = _parse_bound(start, "start", is_end=False)
        hi = _parse_bound(end, "end", is_end=True)
    else:
        raise ConfigError(f"dates={dates!r}: use 'utc' or 'trade'")
    if lo is not None and hi is not None and hi <= lo:
        raise ConfigError(f"empty date range: start={start} is not before end={end}")
    root = DataRoot(data_dir, storage_options)
    # Partitions are UTC dates; a bar belongs to its start's date.
    d_lo = None if lo is None else (np.datetime64(lo, "ns").astype("datetime64[D]").item())
    d_hi = None if hi is None else (np.datetime64(hi - 1, "ns").astype("datetime64[D]").item())
    parts = root.partitions(product, info.name, d_lo, d_hi)
    if not parts:
        raise _no_data(root, product, info.name, start, end)
    # Locally the whole product goes through the column cache; remotely only the needed days.
    whole = d_lo is None and d_hi is None
    all_parts = parts if (whole or not root.is_local) else root.partitions(product, info.name)
    table, metas = _read_catalog(root, product, info.name, all_parts, parts)
    ts = table["ts_event"].cast("int64").to_numpy()
    keep = np.ones(len(ts), dtype=bool)
    if lo is not None:
        keep &= ts >= lo
    if hi is not None:
        keep &= ts < hi
    sym_col = table["symbol"].combine_chunks()
    if hasattr(sym_col, "dictionary"):
        names = [str(s) for s in sym_col.dictionary.to_pylist()]
        codes = sym_col.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    else:
        enc = pc.dictionary_encode(sym_col).combine_chunks()
        names = [str(s) for s in enc.dictionary.to_pylist()]
        codes = enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    outright = np.array([bool(s) and not is_spread(s) for s in names] + [False])
    keep &= outright[codes]
    if contract is not None:
        keep &= np.array([s == contract for s in names] + [False])[codes]
    if not keep.any():
        raise DataError(f"no {info.name} bars for {symbol} in the requested range")
    cols = {c: table[c].to_numpy() for c in ("open", "high", "low", "close", "volume")}
    idx = np.nonzero(keep)[0]
    ts, codes = ts[idx], codes[idx]
    cols = {c: v[idx] for c, v in cols.items()}
    # Bars of one partition are time-ordered; partitions were read in date order.
    order = np.argsort(ts, kind="stable") if np.any(np.diff(ts) < 0) else None
    if order is not None:
        ts, codes = ts[order], codes[order]
        cols = {c: v[order] for c, v in cols.items()}

    rolls: list[Roll] = []
    if contract is None and continuous:
        ts, codes, cols, rolls = _continuous(ts, codes, cols, names, spec, roll, roll_days, adjust)

    sym_cat = pd.Categorical.from_codes(codes, categories=pd.Index([*names, "?"]).unique())
    df = pd.DataFrame(
        {**cols, "symbol": sym_cat.remove_unused_categories()},
        index=pd.DatetimeIndex(ts.view("datetime64[ns]"), name="ts_event").tz_localize("UTC"),
    )
    sources = sorted({m.get("source", "unknown") for m in metas})
    df.attrs.update(
        product=product,
        schema=info.name,
        contract=contract,
        continuous=contract is None and continuous,
        roll_rule=roll,
        roll_days=roll_days,
        adjust=adjust,
        rolls=[r.to_dict() for r in rolls],
        synthetic=any(m.get("synthetic") for m in metas),
        sources=sources,
        dataset=next((m.get("dataset") for m in metas if m.get("dataset")), None),
    )
    return df


def _requested_range(start: Any, end: Any) -> str:
    """``from 2030-01-01``, ``until 2020-01-01`` or ``between A and B``."""
    if start is not None and end is not None:
        return f"between {start} and {end}"
    return f"from {start}" if start is not None else f"until {end}"


def _no_data(root: DataRoot, product: str, schema: str, start: Any, end: Any) -> DataError:
    """The error for a request that matches no partition: what is stored instead."""
    stored = root.partitions(product, schema)
    if stored and (start is not None or end is not None):
        return DataError(
            f"no {schema} data for {product} {_requested_range(start, end)}: the catalog "
            f"holds {stored[0].date} to {stored[-1].date}",
            hint=f"choose dates within {stored[0].date} to {stored[-1].date}, or download "
            "the missing days with `workbench data download`",
        )
    have = sorted({p.schema for p in root.partitions(product)})
    return DataError(
        f"no {schema} data for {product} in {root.path}",
        hint=(
            f"stored schemas for {product}: {', '.join(have)}"
            if have
            else "run `workbench data sample` (synthetic) or `workbench data download`"
        ),
    )


def _bar_schema(schema: str) -> Any:
    try:
        info = schema_info(schema)
    except KeyError as exc:
        raise ConfigError(exc.args[0]) from None
    if not info.is_bars:
        raise ConfigError(
            f"load_bars reads bar schemas, not {schema!r}",
            hint="use ohlcv-1s, ohlcv-1m, ohlcv-1h or ohlcv-1d",
        )
    return info


def _resolve_symbol(symbol: str) -> tuple[str, str | None]:
    """(product, contract or None) from ``MCL_FUT``/``MCL.FUT``/``MCL`` or ``MCLZ5``."""
    s = symbol.strip().upper()
    try:
        return contract_spec(s).product, None
    except KeyError:
        pass
    try:
        parsed = parse_symbol(s)
        return contract_spec(parsed.root).product, s
    except (ValueError, KeyError):
        try:
            contract_spec(s)
        except KeyError as exc:
            raise ConfigError(
                exc.args[0], hint="pass a product like MCL_FUT or a contract like MCLZ5"
            ) from None
        raise


def _continuous(
    ts: np.ndarray,
    codes: np.ndarray,
    cols: dict[str, np.ndarray],
    names: list[str],
    spec: Any,
    rule: str,
    roll_days: int,
    adjust: str,
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray], list[Roll]]:
    """Select the front contract's bars (``ts`` sorted) and apply the adjustment."""
    tdates = _bar_trade_dates(ts)
    day_starts = np.r_[0, np.flatnonzero(tdates[1:] != tdates[:-1]) + 1]
    dates = tdates[day_starts]
    day_idx = np.repeat(np.arange(len(dates)), np.diff(np.r_[day_starts, len(ts)]))
    n_codes = len(names) + 1
    counts = np.bincount(codes, minlength=n_codes)
    used = np.flatnonzero(counts)
    local = np.full(n_codes, -1, dtype=np.int64)
    local[used] = np.arange(len(used))
    first = np.empty(n_codes, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes))[::-1]  # first bar of each contract
    syms = [names[c] for c in used]
    expiries = contract_expiries(spec, syms, [int(str(tdates[first[c]])[:4]) for c in used])
    lcodes = local[codes]
    front = front_contracts(dates, day_idx, lcodes, cols["volume"], syms, expiries, rule, roll_days)
    out_idx = np.flatnonzero(lcodes == front[day_idx])
    f_ts, f_codes = ts[out_idx], codes[out_idx]
    f_cols = {c: v[out_idx] for c, v in cols.items()}
    rolls: list[Roll] = []
    change = np.flatnonzero(f_codes[1:] != f_codes[:-1]) + 1
    for k in change[::-1]:  # latest roll first, so adjustments accumulate backwards
        old_c, new_c = int(f_codes[k - 1]), int(f_codes[k])
        t_roll = int(f_ts[k])
        old_close = float(f_cols["close"][k - 1])
        new_close = float(f_cols["open"][k])
        # Closes of both contracts at the last bar before the roll where both traded.
        lo = int(np.searchsorted(ts, t_roll - 4 * NS_PER_DAY))
        hi = int(np.searchsorted(ts, t_roll))
        w_codes = codes[lo:hi]
        new_rows = np.flatnonzero(w_codes == new_c)
        if len(new_rows):
            j = lo + int(new_rows[-1])
            new_close = float(cols["close"][j])
            old_rows = np.flatnonzero(codes[lo : j + 1] == old_c)
            if len(old_rows):
                old_close = float(cols["close"][lo + int(old_rows[-1])])
        if adjust == "difference":
            amount = round(new_close - old_close, 9)
            for c in ("open", "high", "low", "close"):
                f_cols[c][:k] = np.round(f_cols[c][:k] + amount, 9)
        elif adjust == "ratio":
            amount = new_close / old_close if old_close else 1.0
            for c in ("open", "high", "low", "close"):
                f_cols[c][:k] = f_cols[c][:k] * amount
        else:
            amount = 0.0
        rolls.append(
            Roll(
                trade_date=str(dates[day_idx[out_idx[k]]]),
                ts=str(np.datetime64(t_roll, "ns")) + "Z",
                from_symbol=names[old_c],
                to_symbol=names[new_c],
                from_close=old_close,
                to_close=new_close,
                adjustment=amount,
            )
        )
    rolls.reverse()
    return f_ts, f_codes, f_cols, rolls
