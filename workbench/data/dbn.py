"""Decode DBN (Databento Binary Encoding) into Arrow tables, one per product and UTC date.

A file is read by the native decoder (:func:`workbench.native.read_dbn`: Databento's ``dbn``
crate, zstd undone, every record checked) into one buffer that NumPy views with the official
client's record dtype for the file's DBN version and schema, so the records are the same
NumPy record array ``databento.DBNStore.to_ndarray`` gives, without per-record Python work;
the raw symbol of each record comes from the metadata's symbology, also natively. A
``DBNStore`` (from ``timeseries.get_range``), a file without a schema (mixed records) or one
with ``ts_out`` goes through the official client instead. Everything after that is
vectorised.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import databento_dbn
import numpy as np
import pyarrow as pa

from workbench.data.schemas import NS_PER_DAY, PRICE_SCALE, SchemaInfo, schema_info
from workbench.data.zstd_frames import file_frame_problem, starts_like_zstd
from workbench.errors import DataError, TruncatedDataError
from workbench.market.contracts import is_spread, parse_symbol
from workbench.native import DbnMixedError, DbnTruncatedError, dbn_symbol_codes, read_dbn

if TYPE_CHECKING:
    import databento

_BAR_PRICE_FIELDS = ("open", "high", "low", "close")
_DROP_FIELDS = {"length", "_reserved", "_dummy"}
_AGAIN = "download or copy the file again; nothing was written"
_NOT_DBN_HINT = "pass a .dbn or .dbn.zst file as written by Databento (with its metadata header)"
_EPOCH = dt.date(1970, 1, 1)
#: Record class of each schema, as ``databento.common.constants.SCHEMA_STRUCT_MAP`` has it
#: (its ``_dtypes`` are the NumPy layout of the records in a file of that DBN version).
_SCHEMA_STRUCTS = {
    "definition": "InstrumentDefMsg",
    "imbalance": "ImbalanceMsg",
    "mbo": "MBOMsg",
    "mbp-1": "MBP1Msg",
    "mbp-10": "MBP10Msg",
    "ohlcv-1s": "OHLCVMsg",
    "ohlcv-1m": "OHLCVMsg",
    "ohlcv-1h": "OHLCVMsg",
    "ohlcv-1d": "OHLCVMsg",
    "statistics": "StatMsg",
    "status": "StatusMsg",
    "tbbo": "MBP1Msg",
    "trades": "TradeMsg",
    "cmbp-1": "CMBP1Msg",
    "cbbo-1s": "CBBOMsg",
    "cbbo-1m": "CBBOMsg",
    "tcbbo": "CBBOMsg",
    "bbo-1s": "BBOMsg",
    "bbo-1m": "BBOMsg",
}


@dataclass
class DecodedDBN:
    """Records of one DBN source, with a symbol and a product for each record."""

    dataset: str
    schema: SchemaInfo
    records: np.ndarray
    sym_codes: np.ndarray  # int32 index into ``sym_names`` per record
    sym_names: list[str]  # raw symbols ('' when unknown)
    prod_codes: np.ndarray  # int32 index into ``prod_names`` per record
    prod_names: list[str]
    source_name: str
    spreads_dropped: int = 0
    unknown_dropped: int = 0
    #: The records are the file's own bytes as the native decoder read them (not a
    #: ``DBNStore``'s array): :func:`workbench.data.bar_columns.bar_table` may split them.
    native: bool = False

    @property
    def symbols(self) -> np.ndarray:
        """Raw symbol of each record (object array; for tests and small data)."""
        return np.asarray(self.sym_names, dtype=object)[self.sym_codes]

    @property
    def products(self) -> np.ndarray:
        """Product of each record (object array; for tests and small data)."""
        return np.asarray(self.prod_names, dtype=object)[self.prod_codes]


def open_dbn(source: str | Path | databento.DBNStore) -> databento.DBNStore:
    """Open a DBN file (plain or zstd) with the official decoder.

    Raises
    ------
    DataError
        When the file is missing, truncated, corrupt or not DBN at all.
    """
    # start-up: databento takes ~2 s to import; only decoding needs it
    import databento as db

    if isinstance(source, db.DBNStore):
        return source
    path = Path(source)
    check_dbn_file(path)
    try:
        store = db.DBNStore.from_file(path)
        _ = store.metadata  # forces the header to be read
    except Exception as exc:
        if "UnexpectedEof" in str(exc):
            raise TruncatedDataError(
                f"{path} is truncated: it ends inside its DBN metadata header",
                hint=_AGAIN,
            ) from None
        raise DataError(
            f"{path} is not a readable DBN file ({_short(exc)})", hint=_NOT_DBN_HINT
        ) from None
    return store


def check_dbn_file(path: Path) -> None:
    """Refuse what is not a whole DBN file, reading only headers (milliseconds per file).

    Refused: a folder, a missing or unreadable file, an empty file, a file that is neither
    zstd nor plain DBN, and a zstd stream cut short or followed by stray bytes. The zstd
    decoder stops quietly where a cut stream ends, so without this check the records decoded
    before the cut (often none) would be stored as if they were the whole file. Only the
    frame and block headers are read (see :mod:`workbench.data.zstd_frames`); a record cut
    short in plain DBN and a corrupt zstd block are reported by the decoder.

    Raises
    ------
    DataError
        Naming the file and what is wrong with it (:class:`TruncatedDataError` for a cut).
    """
    if path.is_dir():
        raise DataError(
            f"{path} is a folder, not a DBN file", hint=f"pass the files: {path}/*.dbn.zst"
        )
    if not path.is_file():
        raise DataError(f"no such DBN file: {path}", hint="check the path")
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
        problem = file_frame_problem(path) if starts_like_zstd(head) else None
    except OSError as exc:
        raise DataError(
            f"cannot read {path}: {exc.strerror or exc}", hint="check the file's permissions"
        ) from None
    if not head:
        raise DataError(f"{path} is empty (0 bytes)", hint=_AGAIN)
    if problem is not None:
        raise TruncatedDataError(f"{path} is truncated or corrupt ({problem})", hint=_AGAIN)
    if not starts_like_zstd(head) and not head.startswith(b"DBN"):
        raise DataError(
            f"{path} is not a readable DBN file: it is neither zstd-compressed nor plain DBN "
            f"(it starts with bytes {head.hex(' ')})",
            hint=_NOT_DBN_HINT,
        )


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def decode(
    source: str | Path | databento.DBNStore,
    *,
    product: str | None = None,
    keep_spreads: bool = False,
    source_name: str | None = None,
) -> DecodedDBN:
    """Decode a DBN source into records with their raw symbols and products.

    Parameters
    ----------
    source : path or DBNStore
        A ``.dbn``/``.dbn.zst`` file or a store returned by ``timeseries.get_range``.
    product : str, optional
        Catalog product (``MCL_FUT``) for records whose symbol is not a futures contract or
        is unknown (e.g. ``stype_in=instrument_id`` statistics). Otherwise the product comes
        from each contract's root (``MCLZ5`` -> ``MCL_FUT``).
    keep_spreads : bool, default False
        Keep calendar spreads (``MCLZ5-MCLF6``); they are dropped by default.
    """
    native = (
        _read_native(Path(source), source_name or str(source))
        if isinstance(source, (str, Path))
        else None
    )
    if native is not None:
        name, meta, info, records, (sym_codes, sym_names) = native
    else:
        name, meta, info, records = _read_official(source, source_name)
        sym_codes, sym_names = _symbols_for(records, meta, info)
    ref_year = _reference_year(records)
    prod_names: list[str] = []
    prod_of_sym = np.full(len(sym_names), -1, dtype=np.int32)  # -1: dropped
    spread_syms: list[int] = []
    counts = np.bincount(sym_codes, minlength=len(sym_names))
    for k, sym in enumerate(sym_names):
        prod: str | None
        if counts[k] == 0:
            continue
        if sym and is_spread(sym):
            if not keep_spreads:
                spread_syms.append(k)
                continue
            try:
                prod = f"{parse_symbol(sym.split('-')[0], ref_year).root}_FUT"
            except ValueError:
                prod = None
        else:
            try:
                prod = f"{parse_symbol(sym, ref_year).root}_FUT" if sym else None
            except ValueError:
                prod = None
        if prod is None:
            if product is None:
                what = repr(sym) if sym else "instrument ids without symbols"
                raise DataError(
                    f"{name}: cannot tell which product {what} belongs to",
                    hint="pass --product (e.g. --product MCL_FUT) to file these records",
                )
            prod = product
        if product is not None and prod != product:
            continue  # an explicit product keeps only its own records
        if prod not in prod_names:
            prod_names.append(prod)
        prod_of_sym[k] = prod_names.index(prod)
    spreads = int(sum(counts[k] for k in spread_syms))
    prod_codes = prod_of_sym[sym_codes] if len(sym_names) else np.zeros(0, dtype=np.int32)
    keep = prod_codes >= 0
    unknown = int(len(records) - keep.sum()) - spreads
    if not keep.all():
        records, sym_codes, prod_codes = records[keep], sym_codes[keep], prod_codes[keep]
    return DecodedDBN(
        dataset=str(meta.dataset),
        schema=info,
        records=records,
        sym_codes=sym_codes.astype(np.int32),
        sym_names=sym_names,
        prod_codes=prod_codes.astype(np.int32),
        prod_names=prod_names,
        source_name=name,
        spreads_dropped=spreads,
        unknown_dropped=unknown,
        native=native is not None,
    )


def _read_official(
    source: str | Path | databento.DBNStore, source_name: str | None
) -> tuple[str, Any, SchemaInfo, np.ndarray]:
    """Records of a source through the official client (``DBNStore.to_ndarray``)."""
    store = open_dbn(source)
    name = source_name or (str(source) if not hasattr(source, "metadata") else "databento")
    meta = store.metadata
    try:
        info = schema_info(str(meta.schema))
    except KeyError as exc:
        raise DataError(f"{name}: {exc.args[0]}") from None
    # start-up: databento takes ~2 s to import; only decoding needs it
    from databento.common.error import BentoWarning

    try:
        with warnings.catch_warnings():
            # databento only warns about a partial last record and drops it: refuse instead.
            warnings.simplefilter("error", BentoWarning)
            records = store.to_ndarray()
    except Exception as exc:
        raise TruncatedDataError(
            f"{name} is truncated or corrupt ({_short(exc)})",
            hint=_AGAIN,
        ) from None
    if not isinstance(records, np.ndarray):  # pragma: no cover - defensive
        records = np.concatenate(list(records))
    return name, meta, info, records


def _read_native(
    path: Path, name: str
) -> tuple[str, Any, SchemaInfo, np.ndarray, tuple[np.ndarray, list[str]]] | None:
    """Records of a file through the native decoder, or None when the file needs the
    official client (no schema, ``ts_out``, mixed records, a record layout NumPy's view
    would not match)."""
    check_dbn_file(path)
    try:
        data, start, record_len, count = read_dbn(str(path))
    except DbnMixedError:
        return None
    except DbnTruncatedError as exc:
        raise TruncatedDataError(f"{name} is truncated or corrupt ({exc})", hint=_AGAIN) from None
    except ValueError as exc:
        raise DataError(
            f"{path} is not a readable DBN file ({_short(exc)})", hint=_NOT_DBN_HINT
        ) from None
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc}", hint="check the file's permissions") from None
    as_is = databento_dbn.VersionUpgradePolicy.AS_IS
    # databento_dbn's stub types the enum's members as int
    meta = databento_dbn.Metadata.decode(data[:start].tobytes(), upgrade_policy=as_is)  # type: ignore[arg-type]
    if meta.schema is None or meta.ts_out:
        return None
    try:
        info = schema_info(str(meta.schema))
    except KeyError as exc:
        raise DataError(f"{name}: {exc.args[0]}") from None
    struct = _SCHEMA_STRUCTS.get(info.name)
    module = {1: databento_dbn.v1, 2: databento_dbn.v2}.get(meta.version, databento_dbn)
    if struct is None or not hasattr(module, struct):
        return None
    dtype = np.dtype(getattr(module, struct)._dtypes)
    if count and dtype.itemsize != record_len:
        return None
    records = np.frombuffer(data[start:], dtype=dtype)
    if info.name == "definition":
        symbols = _symbols_for(records, meta, info)
    else:
        symbols = dbn_symbol_codes(data[start:], record_len, _mappings_by_id(meta))
    return name, meta, info, records, symbols


def _mappings_by_id(meta: Any) -> list[tuple[int, list[tuple[int, int, str]]]]:
    """The metadata's symbology as intervals per instrument id (days since the epoch)."""
    by_id = _intervals_by_id(meta)
    return [
        (iid, [((s - _EPOCH).days, (e - _EPOCH).days, sym) for s, e, sym in ivs])
        for iid, ivs in by_id.items()
    ]


def _intervals_by_id(meta: Any) -> dict[int, list[tuple[dt.date, dt.date, str]]]:
    """Per instrument id, its symbology intervals ``(start, end, raw symbol)`` in metadata
    order, whichever way round the mapping was requested."""
    by_id: dict[int, list[tuple[dt.date, dt.date, str]]] = {}
    stype_out = str(getattr(meta, "stype_out", "instrument_id"))
    for raw_sym, intervals in (meta.mappings or {}).items():
        for iv in intervals:
            target = iv["symbol"]
            if stype_out.endswith("instrument_id") and target.isdigit():
                iid, sym = int(target), raw_sym
            elif raw_sym.isdigit():
                iid, sym = int(raw_sym), target
            else:
                continue
            by_id.setdefault(iid, []).append((iv["start_date"], iv["end_date"], sym))
    return by_id


def _reference_year(records: np.ndarray) -> int:
    if len(records) == 0:
        return dt.date.today().year
    return (
        int(np.datetime64(int(records["ts_event"][0]), "ns").astype("datetime64[Y]").astype(int))
        + 1970
    )


def _symbols_for(records: np.ndarray, meta: Any, info: SchemaInfo) -> tuple[np.ndarray, list[str]]:
    """Raw symbol of each record, as codes into a list of names, from the metadata's
    symbology mappings (or the records' own ``raw_symbol`` for definitions)."""
    n = len(records)
    if n == 0:
        return np.zeros(0, dtype=np.int32), []
    if info.name == "definition" and "raw_symbol" in (records.dtype.names or ()):
        raw = np.char.decode(records["raw_symbol"], "ascii", errors="replace")
        uniq, inv = np.unique(raw, return_inverse=True)
        return inv.astype(np.int32), [str(s) for s in uniq]
    by_id = _intervals_by_id(meta)
    names: list[str] = [""]
    index: dict[str, int] = {"": 0}

    def code(sym: str) -> int:
        if sym not in index:
            index[sym] = len(names)
            names.append(sym)
        return index[sym]

    iids = records["instrument_id"]
    uniq, inverse = np.unique(iids, return_inverse=True)
    per_unique = np.zeros(len(uniq), dtype=np.int32)
    ambiguous: list[int] = []
    for k, iid in enumerate(uniq.tolist()):
        cands = by_id.get(iid)
        if not cands:
            continue
        if len({c[2] for c in cands}) == 1:
            per_unique[k] = code(cands[0][2])
        else:
            ambiguous.append(k)
    codes = per_unique[inverse]
    if ambiguous:
        days = (records["ts_event"].astype(np.int64) // NS_PER_DAY).astype("datetime64[D]")
        for k in ambiguous:
            idx = np.nonzero(inverse == k)[0]
            for start, end, sym in by_id[int(uniq[k])]:
                sel = idx[(days[idx] >= np.datetime64(start)) & (days[idx] < np.datetime64(end))]
                codes[sel] = code(sym)
    return codes.astype(np.int32), names


def to_arrow(decoded: DecodedDBN, sel: slice | np.ndarray | None = None) -> pa.Table:
    """Arrow table of (a selection of) decoded records in the catalog's column layout."""

    rec = decoded.records if sel is None else decoded.records[sel]
    codes = decoded.sym_codes if sel is None else decoded.sym_codes[sel]
    cols: dict[str, pa.Array] = {}
    ts_type = pa.timestamp("ns", tz="UTC")
    cols["ts_event"] = pa.array(rec["ts_event"].astype(np.int64), type=ts_type)
    cols["instrument_id"] = pa.array(rec["instrument_id"], type=pa.uint32())
    cols["symbol"] = pa.DictionaryArray.from_arrays(
        pa.array(codes, type=pa.int32()), pa.array(decoded.sym_names, type=pa.string())
    )
    if decoded.schema.is_bars:
        scale = float(PRICE_SCALE)
        for f in _BAR_PRICE_FIELDS:
            cols[f] = pa.array(rec[f].astype(np.float64) / scale, type=pa.float64())
        cols["volume"] = pa.array(rec["volume"].astype(np.int64), type=pa.int64())
        return pa.table(cols)
    for name in rec.dtype.names or ():
        if name in cols or name in _DROP_FIELDS or name == "ts_event":
            continue
        col = rec[name]
        if col.dtype.kind == "S":
            cols[name] = pa.array(np.char.decode(col, "ascii", errors="replace").astype(str))
        elif name.startswith("ts_") and col.dtype.kind == "u" and name != "ts_in_delta":
            cols[name] = pa.array(col.astype(np.int64)).cast(ts_type)
        else:
            cols[name] = pa.array(col)
    return pa.table(cols)
