"""Loaders against real CME files in ../shared/data/real (skipped when absent)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from tests.conftest import REAL_DATA, real_data_path
from workbench.data import DataRoot, ingest_files, load_bars
from workbench.data.dbn import decode
from workbench.errors import DataError
from workbench.market import contract_spec

pytestmark = pytest.mark.realdata


def _stored(root: Path, product: str, schema: str) -> pd.DataFrame:
    files = sorted(root.glob(f"raw/{product}/*/*_{schema}.parquet"))
    assert files, f"nothing stored for {product} {schema}"
    return pd.concat([pq.read_table(f).to_pandas() for f in files], ignore_index=True)


def test_golden_ohlcv_1m(tmp_path: Path) -> None:
    f = real_data_path("databento-python", "GLBX.MDP3", "test_data.ohlcv-1m.dbn.zst")
    report = ingest_files([f], DataRoot(tmp_path))
    assert report.records_written == 4
    bars = load_bars("ESH1", data_dir=tmp_path)
    first, second = bars.iloc[0], bars.iloc[1]
    assert bars.index[0] == pd.Timestamp("2020-12-28 00:00", tz="UTC")
    assert (first.open, first.high, first.low, first.close, first.volume) == (
        3702.75,
        3704.75,
        3702.50,
        3704.75,
        306,
    )
    assert (second.open, second.high, second.low, second.close, second.volume) == (
        3704.75,
        3705.00,
        3704.00,
        3704.00,
        214,
    )
    stored = _stored(tmp_path, "ES_FUT", "ohlcv-1m")
    assert stored["instrument_id"].iloc[0] == 5482
    assert stored["symbol"].astype(str).iloc[0] == "ESH1"


def test_golden_ohlcv_1d(tmp_path: Path) -> None:
    f = real_data_path("databento-python", "GLBX.MDP3", "test_data.ohlcv-1d.dbn.zst")
    ingest_files([f], DataRoot(tmp_path))
    bar = load_bars("ESH1", "ohlcv-1d", data_dir=tmp_path).iloc[0]
    assert (bar.open, bar.high, bar.low, bar.close, bar.volume) == (
        3702.75,
        3735,
        3697.25,
        3735,
        718174,
    )


def _all_dbn_files() -> list[Path]:
    if not REAL_DATA.exists():
        return []
    return sorted((REAL_DATA / "dbn").glob("*.dbn*")) + sorted(
        (REAL_DATA / "databento-python" / "GLBX.MDP3").glob("*.dbn*")
    )


@pytest.mark.parametrize("path", _all_dbn_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_schema_and_dbn_version(path: Path, tmp_path: Path) -> None:
    """Each file is stored with every record, or refused with a clear error (fragments
    without a metadata header)."""
    if ".frag." in path.name:
        with pytest.raises(DataError, match="not a readable DBN file"):
            ingest_files([path], DataRoot(tmp_path))
        assert not list(tmp_path.rglob("*.parquet"))
        return
    d = decode(path, product="TEST_FUT")
    report = ingest_files([path], DataRoot(tmp_path), product="TEST_FUT")
    n = len(d.records)
    assert report.records_written == n
    stored = list(tmp_path.rglob("*.parquet"))
    if n == 0:
        assert not stored
        return
    table = pq.read_table(stored[0])
    assert sum(pq.read_metadata(p).num_rows for p in stored) == n
    assert str(table.schema.field("ts_event").type) == "timestamp[ns, tz=UTC]"
    if "price" in table.column_names and d.schema.name not in ("statistics",):
        # Non-bar schemas keep DBN's exact int64 fixed-point prices.
        assert table.schema.field("price").type == "int64"
        assert (table["price"].to_numpy() == d.records["price"]).all()


def test_dbn_versions_decode_to_the_same_bars(tmp_path: Path) -> None:
    base = real_data_path("dbn")
    frames = []
    for name in (
        "test_data.ohlcv-1m.v1.dbn.zst",
        "test_data.ohlcv-1m.v2.dbn.zst",
        "test_data.ohlcv-1m.v3.dbn.zst",
        "test_data.ohlcv-1m.dbn",
    ):
        root = tmp_path / name
        ingest_files([base / name], DataRoot(root))
        frames.append(load_bars("ESH1", data_dir=root))
    for f in frames[1:]:
        pd.testing.assert_frame_equal(frames[0], f)


def test_clx5_mbo_first_record(tmp_path: Path) -> None:
    f = real_data_path("clx5-mbo", "CLX5_mbo.dbn")
    report = ingest_files([f], DataRoot(tmp_path))
    assert report.records_written == 38_212
    mbo = _stored(tmp_path, "CL_FUT", "mbo")
    first = mbo.iloc[0]
    assert first["ts_event"] == pd.Timestamp("2025-09-24T19:30:00.000860311Z")
    assert first["action"] == "A"
    assert first["side"] == "A"
    assert first["price"] == 64_830_000_000  # $64.83 in 1e-9 fixed point
    assert first["size"] == 1
    assert first["order_id"] == 8_058_566_314_544


def test_esh4_mbo_action_counts(tmp_path: Path) -> None:
    f = real_data_path("nautilus", "esh4-glbx-mdp3-20231225.mbo.dbn.zst")
    ingest_files([f], DataRoot(tmp_path))
    mbo = _stored(tmp_path, "ES_FUT", "mbo")
    counts = Counter(mbo["action"])
    for action, n in {"A": 29_216, "C": 17_999, "M": 12_233, "F": 6_371, "T": 2_973}.items():
        assert counts[action] == n


@pytest.fixture(scope="module")
def es_nq_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = real_data_path("es-nq-ohlcv-1m")
    root = tmp_path_factory.mktemp("esnq")
    report = ingest_files(sorted(folder.glob("*.dbn.zst")), DataRoot(root))
    assert report.records_read == 1_097_005
    assert report.records_written == 946_457
    assert report.spreads_dropped == 150_548
    assert report.products == {"ES_FUT", "NQ_FUT"}
    return root


def test_es_nq_golden_first_bar(es_nq_root: Path) -> None:
    bars = load_bars("ESU4", data_dir=es_nq_root)
    b = bars.iloc[0]
    assert bars.index[0] == pd.Timestamp("2024-08-29 00:00", tz="UTC")
    assert (b.open, b.high, b.low, b.close, b.volume) == (5572, 5573, 5572, 5572.75, 275)
    day = bars[bars.index < "2024-08-30"]
    assert len(day) > 0
    first_file = sorted(es_nq_root.glob("raw/*/2024/2024-08-29_ohlcv-1m.parquet"))
    assert len(first_file) == 2  # ES and NQ


@pytest.mark.parametrize("product", ["ES_FUT", "NQ_FUT"])
def test_es_nq_continuous_front_month(es_nq_root: Path, product: str) -> None:
    df = load_bars(product, data_dir=es_nq_root)
    root = product[:2]
    rolls = df.attrs["rolls"]
    assert [r["to_symbol"] for r in rolls] == [f"{root}Z4", f"{root}H5", f"{root}M5", f"{root}U5"]
    spec = contract_spec(product)
    for r in rolls:
        expiry = spec.expiry_of(r["from_symbol"], int(r["trade_date"][:4]))
        days_before = np.busday_count(r["trade_date"], expiry.isoformat())
        assert 0 < days_before <= 12, f"{r} rolled {days_before} business days before expiry"
    # The series holds one contract at a time and is time-ordered without duplicates.
    assert df.index.is_monotonic_increasing
    assert df.index.is_unique
    sym = df["symbol"].astype(str)
    assert sym.ne(sym.shift()).sum() == len(rolls) + 1
    # Difference back-adjustment: only prices before the last roll move, by tick multiples.
    adj = load_bars(product, data_dir=es_nq_root, adjust="difference")
    moved = (adj["close"] - df["close"]).to_numpy()
    assert np.allclose(moved / spec.tick_size, np.round(moved / spec.tick_size))
    assert (moved[df.index >= pd.Timestamp(rolls[-1]["ts"])] == 0).all()
