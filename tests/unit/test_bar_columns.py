"""Bars split natively (``dbn_bar_columns``) give the table and files of the NumPy path."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from tests.fakes.databento_gateway import OhlcvBar, make_ohlcv_dbn
from workbench.data import DataRoot
from workbench.data.bar_columns import bar_table, can_split
from workbench.data.dbn import DecodedDBN, decode, to_arrow
from workbench.data.ingest import write_decoded
from workbench.native import dbn_bar_columns

T0 = 1_762_128_000 * 10**9  # 2025-11-03T00:00Z
MIN = 60 * 10**9


def _bars() -> list[OhlcvBar]:
    """Two products and a spread over three UTC days."""
    out = []
    for k in range(0, 3 * 24 * 60, 97):
        ts = T0 + k * MIN
        out.append(OhlcvBar(ts, "MCLZ5", 42001, 70 + k / 1e4, 70.5, 69.25, 70.123456789, k))
        out.append(OhlcvBar(ts, "ESZ5", 7, 6000.25, 6001.0, 5999.75, 6000.5, 2 * k))
        out.append(OhlcvBar(ts, "MCLZ5-MCLF6", 9, 0.1, 0.2, 0.05, 0.15, 1))
    return out


def _decoded_out_of_order(path: Path) -> DecodedDBN:
    """The file's records with two bars of one product swapped (files are in time order)."""
    decoded = decode(path)
    perm = np.arange(len(decoded.records))
    first = np.flatnonzero(decoded.prod_codes == 0)
    perm[first[1]], perm[first[3]] = first[3], first[1]
    return replace(
        decoded,
        records=decoded.records[perm],
        sym_codes=decoded.sym_codes[perm],
        prod_codes=decoded.prod_codes[perm],
    )


@pytest.fixture
def path(tmp_path: Path) -> Path:
    p = tmp_path / "bars.dbn"
    p.write_bytes(make_ohlcv_dbn(_bars()))
    return p


def test_the_native_split_equals_to_arrow_sliced_per_product_and_day(path: Path) -> None:
    decoded = _decoded_out_of_order(path)
    assert can_split(decoded)
    assert decoded.spreads_dropped > 0
    table, parts = bar_table(decoded)
    reference = to_arrow(decoded)
    ts = decoded.records["ts_event"].astype(np.int64)
    assert np.any(np.diff(ts) < 0)  # the file is not in time order
    assert [p.product for p in parts] == [decoded.prod_names[0]] * 3 + [decoded.prod_names[1]] * 3
    assert set(decoded.prod_names) == {"MCL_FUT", "ES_FUT"}
    assert parts[-1].end == table.num_rows == reference.num_rows
    for p in parts:
        code = decoded.prod_names.index(p.product)
        idx = np.flatnonzero(decoded.prod_codes == code)
        idx = idx[np.argsort(ts[idx], kind="stable")]
        idx = idx[ts[idx] // (86_400 * 10**9) == (p.date - type(p.date)(1970, 1, 1)).days]
        expected = reference.take(pa.array(idx))
        got = table.slice(p.start, p.end - p.start)
        assert got.schema.equals(expected.schema, check_metadata=True)
        assert got.equals(expected), p


def test_the_catalog_files_are_byte_identical(path: Path, tmp_path: Path) -> None:
    decoded = _decoded_out_of_order(path)
    native, numpy_path = tmp_path / "native", tmp_path / "numpy"
    a = write_decoded(DataRoot(str(native)), decoded, source="dbn-file")
    b = write_decoded(DataRoot(str(numpy_path)), replace(decoded, native=False), source="dbn-file")
    assert [Path(f).relative_to(native) for f in a.files_written] == [
        Path(f).relative_to(numpy_path) for f in b.files_written
    ]
    assert (a.records_written, a.products, a.schemas) == (
        b.records_written,
        b.products,
        b.schemas,
    )
    assert len(a.files_written) == 6
    for fa, fb in zip(a.files_written, b.files_written, strict=True):
        assert Path(fa).read_bytes() == Path(fb).read_bytes(), fa


def test_records_that_are_not_whole_ohlcv_bars_are_refused() -> None:
    codes = np.zeros(1, dtype=np.int32)
    with pytest.raises(ValueError, match="not an OHLCV record"):
        dbn_bar_columns(np.zeros(48, dtype=np.uint8), 48, codes, codes, 1)
    with pytest.raises(ValueError, match="symbol codes"):
        dbn_bar_columns(np.zeros(56, dtype=np.uint8), 56, codes[:0], codes, 1)
