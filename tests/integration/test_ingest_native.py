"""The native DBN decoder writes the same catalog as the official client's decoder.

``workbench data ingest`` reads files with the Rust decoder (``workbench.native.read_dbn``);
a ``databento.DBNStore`` goes through the official client. Both paths ingest the same files
here and every Parquet file they write must hold the same table, schema and footer metadata:
Databento's own DBN test files (every schema, DBN versions 1-3, plain and zstd) and the real
ES/NQ 1-minute set. Both are skipped when ../shared/data/real is absent.
"""

from __future__ import annotations

from pathlib import Path

import databento
import pyarrow.parquet as pq
import pytest

from workbench.data import DataRoot
from workbench.data.ingest import IngestReport, ingest_files
from workbench.errors import DataError

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "real"
FIXTURES = REAL / "dbn"
ES_NQ = REAL / "es-nq-ohlcv-1m"


def _fixture_files() -> list[Path]:
    files = sorted(p for p in FIXTURES.glob("test_data.*.dbn*") if ".frag" not in p.name)
    return files


def _ingest(
    files: list[Path], root: Path, *, official: bool, product: str | None
) -> IngestReport | str:
    """What an ingest wrote, or the error it refused with (its class and message)."""
    sources: list[str | Path | databento.DBNStore]
    sources = [databento.DBNStore.from_file(f) for f in files] if official else list(files)
    try:
        return ingest_files(sources, DataRoot(str(root)), product=product)
    except DataError as exc:
        return f"{type(exc).__name__}"


def _same_catalog(a: Path, b: Path) -> int:
    files_a = sorted(p.relative_to(a) for p in a.rglob("*.parquet"))
    files_b = sorted(p.relative_to(b) for p in b.rglob("*.parquet"))
    assert files_a == files_b
    for rel in files_a:
        ta, tb = pq.read_table(a / rel), pq.read_table(b / rel)
        assert ta.schema.equals(tb.schema, check_metadata=True), rel
        assert ta.equals(tb, check_metadata=True), rel
        fa, fb = pq.ParquetFile(a / rel), pq.ParquetFile(b / rel)
        assert fa.metadata.metadata == fb.metadata.metadata, rel
        assert fa.metadata.num_rows == fb.metadata.num_rows
    return len(files_a)


@pytest.mark.skipif(not FIXTURES.is_dir(), reason="../shared/data/real/dbn is absent")
@pytest.mark.parametrize("path", _fixture_files(), ids=lambda p: p.name)
def test_databento_test_files_store_the_same(path: Path, tmp_path: Path) -> None:
    native = _ingest([path], tmp_path / "native", official=False, product="ES_FUT")
    official = _ingest([path], tmp_path / "official", official=True, product="ES_FUT")
    if isinstance(official, str) or isinstance(native, str):
        assert native == official
        return
    assert native.records_read == official.records_read
    assert native.records_written == official.records_written
    assert bool(native.files_written) == (native.records_written > 0)
    _same_catalog(tmp_path / "native", tmp_path / "official")


@pytest.mark.skipif(not ES_NQ.is_dir(), reason="../shared/data/real/es-nq-ohlcv-1m is absent")
def test_real_es_nq_set_stores_the_same(tmp_path: Path) -> None:
    files = sorted(ES_NQ.glob("*.dbn.zst"))
    native = _ingest(files, tmp_path / "native", official=False, product=None)
    official = _ingest(files, tmp_path / "official", official=True, product=None)
    assert isinstance(native, IngestReport)
    assert isinstance(official, IngestReport)
    assert native.records_read == official.records_read == 1_097_005
    assert native.spreads_dropped == official.spreads_dropped > 0
    assert native.records_written == official.records_written
    assert _same_catalog(tmp_path / "native", tmp_path / "official") == 624
