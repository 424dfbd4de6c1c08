"""Decoded OHLCV records as one Arrow table grouped by partition, built natively.

The native decoder's records go to :func:`workbench.native.dbn_bar_columns`, which splits
them by product and UTC day and builds the catalog's columns in one pass; pyarrow gets the
ready buffers (``Array.from_buffers``), so there is no per-record Python work and no
conversion through pandas (which ``pa.array``/``pa.table`` would import). The table is the
one :func:`workbench.data.dbn.to_arrow` gives, rows grouped as
:func:`workbench.data.ingest.write_decoded` slices them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from workbench.data.dbn import DecodedDBN
from workbench.native import dbn_bar_columns

_EPOCH = dt.date(1970, 1, 1)
#: The catalog's bar columns, as ``to_arrow`` types them.
BAR_SCHEMA = pa.schema(
    [
        ("ts_event", pa.timestamp("ns", tz="UTC")),
        ("instrument_id", pa.uint32()),
        ("symbol", pa.dictionary(pa.int32(), pa.string())),
        ("open", pa.float64()),
        ("high", pa.float64()),
        ("low", pa.float64()),
        ("close", pa.float64()),
        ("volume", pa.int64()),
    ]
)


@dataclass(frozen=True)
class BarPartition:
    """Rows ``start:end`` of a :func:`bar_table`: one product's bars of one UTC date."""

    product: str
    date: dt.date
    start: int
    end: int


def _numeric(kind: pa.DataType, values: np.ndarray) -> pa.Array:
    return pa.Array.from_buffers(kind, len(values), [None, pa.py_buffer(values)])


def _strings(names: list[str]) -> pa.Array:
    encoded = [n.encode() for n in names]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    data = pa.py_buffer(b"".join(encoded))
    return pa.Array.from_buffers(pa.string(), len(encoded), [None, pa.py_buffer(offsets), data])


def can_split(decoded: DecodedDBN) -> bool:
    """Whether :func:`bar_table` takes these records (bars read by the native decoder)."""
    return decoded.native and decoded.schema.is_bars and decoded.records.dtype.itemsize == 56


def bar_table(decoded: DecodedDBN) -> tuple[pa.Table, list[BarPartition]]:
    """The records' catalog table, rows grouped by partition, and the partitions in order
    (products in ``decoded.prod_names`` order, dates ascending).

    Parameters
    ----------
    decoded : DecodedDBN
        Bars read by the native decoder (see :func:`can_split`).
    """
    rec = np.ascontiguousarray(decoded.records)
    ts, iid, sym, op, hi, lo, cl, vol, parts = dbn_bar_columns(
        rec.view(np.uint8),
        rec.dtype.itemsize,
        np.ascontiguousarray(decoded.sym_codes, dtype=np.int32),
        np.ascontiguousarray(decoded.prod_codes, dtype=np.int32),
        len(decoded.prod_names),
    )
    symbol = pa.DictionaryArray.from_arrays(_numeric(pa.int32(), sym), _strings(decoded.sym_names))
    arrays = [
        _numeric(BAR_SCHEMA.field("ts_event").type, ts),
        _numeric(pa.uint32(), iid),
        symbol,
        *(_numeric(pa.float64(), c) for c in (op, hi, lo, cl)),
        _numeric(pa.int64(), vol),
    ]
    table = pa.Table.from_batches([pa.RecordBatch.from_arrays(arrays, schema=BAR_SCHEMA)])
    partitions = [
        BarPartition(decoded.prod_names[p], _EPOCH + dt.timedelta(days=day), start, end)
        for p, day, start, end in parts.tolist()
    ]
    return table, partitions
