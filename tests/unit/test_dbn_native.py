"""The native DBN reader behind ``workbench data ingest`` (``read_dbn``, ``dbn_symbol_codes``)."""

from __future__ import annotations

from pathlib import Path

import databento_dbn
import numpy as np
import pytest
import zstandard

from tests.fakes.databento_gateway import OhlcvBar, make_ohlcv_dbn
from workbench.native import DbnTruncatedError, dbn_symbol_codes, read_dbn

T0 = 1_762_128_000 * 10**9  # 2025-11-03T00:00Z
DAY = 86_400 * 10**9


def _bars() -> list[OhlcvBar]:
    return [
        OhlcvBar(T0 + k * 60 * 10**9, "MCLZ5", 42001, 70.0 + k / 100, 70.1, 69.9, 70.05, 1 + k)
        for k in range(50)
    ]


@pytest.fixture
def plain(tmp_path: Path) -> Path:
    path = tmp_path / "bars.dbn"
    path.write_bytes(make_ohlcv_dbn(_bars()))
    return path


def test_plain_and_zstd_give_the_files_own_records(plain: Path, tmp_path: Path) -> None:
    zst = tmp_path / "bars.dbn.zst"
    zst.write_bytes(zstandard.ZstdCompressor().compress(plain.read_bytes()))
    for path in (plain, zst):
        data, start, record_len, count = read_dbn(str(path))
        assert (record_len, count) == (56, 50)
        assert data[:start].tobytes() == plain.read_bytes()[:start]
        meta = databento_dbn.Metadata.decode(data[:start].tobytes())
        rec = np.frombuffer(data[start:], dtype=np.dtype(databento_dbn.OHLCVMsg._dtypes))
        assert rec["instrument_id"].tolist() == [42001] * 50
        assert rec["volume"].tolist() == list(range(1, 51))
        assert str(meta.schema) == "ohlcv-1m"


def test_cut_and_foreign_files_raise_typed_errors(plain: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.dbn"
    cut.write_bytes(plain.read_bytes()[:-20])
    with pytest.raises(DbnTruncatedError, match="36 stray bytes after record 49"):
        read_dbn(str(cut))
    junk = tmp_path / "junk.dbn"
    junk.write_bytes(b"PAR1 not dbn" * 10)
    with pytest.raises(ValueError, match="DBN"):
        read_dbn(str(junk))
    with pytest.raises(OSError, match="No such file"):
        read_dbn(str(tmp_path / "missing.dbn"))


def test_symbol_codes_map_ids_over_time(plain: Path) -> None:
    data, start, record_len, _ = read_dbn(str(plain))
    day = T0 // DAY
    codes, names = dbn_symbol_codes(
        data[start:], record_len, [(42001, [(day - 5, day, "MCLX5"), (day, day + 1, "MCLZ5")])]
    )
    assert names == ["", "MCLX5", "MCLZ5"]
    assert codes.dtype == np.int32
    assert set(codes.tolist()) == {2}
    codes, names = dbn_symbol_codes(data[start:], record_len, [])
    assert names == [""]
    assert not codes.any()
