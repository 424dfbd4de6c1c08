"""DBN files cut short or corrupt are refused by name, for every compression ingest accepts.

Ingest accepts plain DBN and zstd-compressed DBN (one frame or several, as Databento and
``databento_dbn`` write them). The fixtures are real DBN written by ``databento_dbn`` and
compressed by ``zstandard``; a few cases also cut the real files in ../shared/data/real
(skipped when absent). The CLI cases run the ``workbench`` executable in parallel, once.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import zstandard

from tests.conftest import REAL_DATA
from tests.fakes.databento_gateway import OhlcvBar, make_ohlcv_dbn
from tests.integration.subprocesses import EXE, child_env, warm_bytecode
from workbench.data.ingest import ingest_files
from workbench.data.store import DataRoot
from workbench.errors import DataError, TruncatedDataError

RECORD_SIZE = 56  # an OHLCV record in DBN
N_BARS = 24 * 60 * 15  # 15 days of 1-minute bars: ~1.2 MB of DBN, many zstd blocks


def _bars() -> list[OhlcvBar]:
    t0 = 1_762_128_000 * 10**9  # 2025-11-03T00:00Z
    bars = []
    for k in range(N_BARS):
        price = 70 + ((k * 7919) % 500) / 100  # varied, so the stream does not compress to nothing
        bars.append(
            OhlcvBar(
                t0 + k * 60 * 10**9,
                "MCLZ5",
                42001,
                price,
                price + 0.05,
                price - 0.04,
                price + 0.01,
                1 + k % 37,
            )
        )
    return bars


@pytest.fixture(scope="module")
def plain() -> bytes:
    return make_ohlcv_dbn(_bars())


def _header_size(data: bytes) -> int:
    import databento_dbn as dbn

    return len(dbn.Metadata.decode(data).encode())


def _streamed(data: bytes) -> bytes:
    """zstd as a streaming writer (Databento's) makes it: checksum, no content size."""
    cobj = zstandard.ZstdCompressor(write_checksum=True).compressobj()
    step = 1 << 16
    return b"".join(cobj.compress(data[k : k + step]) for k in range(0, len(data), step)) + (
        cobj.flush()
    )


def _databento_layout(data: bytes) -> bytes:
    """zstd as Databento's API files are: the metadata in a frame of its own, then the
    records in a second frame (both with content size and checksum)."""
    header = _header_size(data)
    cctx = zstandard.ZstdCompressor(write_checksum=True)
    return cctx.compress(data[:header]) + cctx.compress(data[header:])


def _frames(data: bytes, size: int) -> bytes:
    """Several independent zstd frames, one per ``size`` bytes (read across frames)."""
    return b"".join(zstandard.compress(data[k : k + size]) for k in range(0, len(data), size))


def _flip(data: bytes, at: int) -> bytes:
    out = bytearray(data)
    for k in range(at, at + 16):
        out[k] ^= 0x5A
    return bytes(out)


@pytest.fixture(scope="module")
def bad_files(plain: bytes) -> dict[str, tuple[bytes, str]]:
    """name -> (file content, a phrase the error must contain)."""
    streamed = _streamed(plain)
    databento = _databento_layout(plain)
    one_shot = zstandard.compress(plain)
    frames = _frames(plain, 200_000)
    header = _header_size(plain)
    return {
        # what `head -c 300` of a download leaves: the metadata frame and a bit of the records
        "cut-300.dbn.zst": (databento[:300], "cut short"),
        "cut-records-frame.dbn.zst": (databento[: len(databento) * 2 // 3], "cut short"),
        "cut-databento-checksum.dbn.zst": (databento[:-3], "cut short"),
        "cut-streamed-300.dbn.zst": (streamed[:300], "cut short"),
        "cut-half.dbn.zst": (streamed[: len(streamed) // 2], "cut short"),
        "cut-checksum.dbn.zst": (streamed[:-2], "cut short"),
        "cut-one-shot.dbn.zst": (one_shot[: len(one_shot) - 1000], "cut short"),
        "cut-frame-header.dbn.zst": (streamed[:6], "cut short"),
        "cut-second-frame.dbn.zst": (frames[: len(frames) // 2], "cut short"),
        "stray-bytes.dbn.zst": (streamed + b"\x00" * 7, "no zstd frame"),
        "corrupt-block.dbn.zst": (_flip(databento, len(databento) // 2), "truncated or corrupt"),
        "cut-mid-record.dbn": (plain[: header + 1000 * RECORD_SIZE + 20], "truncated"),
        "cut-in-header.dbn": (plain[: header // 2], "truncated"),
        "zeros.dbn.zst": (bytes(4096), "neither zstd-compressed nor plain DBN"),
        "zeros.dbn": (bytes(4096), "neither zstd-compressed nor plain DBN"),
        "empty.dbn.zst": (b"", "is empty"),
    }


def _written(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.suffix in (".parquet", ".tmp")] if root.exists() else []


# --------------------------------------------------------------------------------------------
# In process: every case, and every good compression is read whole
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "compress",
    [lambda d: d, _databento_layout, _streamed, zstandard.compress, lambda d: _frames(d, 200_000)],
    ids=["plain", "databento-zstd", "streamed-zstd", "one-shot-zstd", "multi-frame-zstd"],
)
def test_every_accepted_compression_is_read_whole(
    plain: bytes, compress: Callable[[bytes], bytes], tmp_path: Path
) -> None:
    src = tmp_path / "good.dbn.zst"
    src.write_bytes(compress(plain))
    report = ingest_files([src], DataRoot(tmp_path / "data"))
    assert report.records_read == N_BARS
    assert report.records_written == N_BARS


def test_every_bad_file_is_refused_by_name(
    plain: bytes, bad_files: dict[str, tuple[bytes, str]], tmp_path: Path
) -> None:
    for name, (content, phrase) in bad_files.items():
        src = tmp_path / name
        src.write_bytes(content)
        # a good file first: a bad one among good ones still writes nothing
        good = tmp_path / "good.dbn"
        good.write_bytes(plain)
        data = tmp_path / f"data-{name}"
        with pytest.raises(DataError) as info:
            ingest_files([good, src], DataRoot(data))
        assert str(src) in info.value.message, name
        assert phrase in info.value.message, (name, info.value.message)
        assert info.value.hint, name
        assert _written(data) == [], name


def test_cut_streams_are_truncated_data_errors(
    bad_files: dict[str, tuple[bytes, str]], tmp_path: Path
) -> None:
    for name, (content, _phrase) in bad_files.items():
        if "cut" not in name:
            continue
        src = tmp_path / name
        src.write_bytes(content)
        with pytest.raises(TruncatedDataError):
            ingest_files([src], DataRoot(tmp_path / "data"))


# --------------------------------------------------------------------------------------------
# The `workbench data ingest` command, in parallel processes
# --------------------------------------------------------------------------------------------
@dataclass
class Run:
    """One ``workbench data ingest`` of one file into its own data folder."""

    src: Path
    data_dir: Path
    out: subprocess.CompletedProcess[str] | None = None


CLI_CASES = [
    "cut-300.dbn.zst",
    "cut-databento-checksum.dbn.zst",
    "cut-mid-record.dbn",
    "zeros.dbn.zst",
    "corrupt-block.dbn.zst",
]
REAL_CUTS = {
    # real Databento zstd, cut as an interrupted copy would cut it (`head -c 300`)
    "real-mbo-cut-300.dbn.zst": ("nautilus/esh4-glbx-mdp3-20231225.mbo.dbn.zst", 300),
    "real-bars-cut-half.dbn.zst": (
        "es-nq-ohlcv-1m/glbx-mdp3-20240829-20240831.ohlcv-1m.dbn.zst",
        None,
    ),
    "real-plain-mbo-cut.dbn": ("clx5-mbo/CLX5_mbo.dbn", 100_000),
}


@pytest.fixture(scope="module")
def cli(
    plain: bytes, bad_files: dict[str, tuple[bytes, str]], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Run]:
    base = tmp_path_factory.mktemp("ingest-corrupt")
    warm_bytecode("databento")
    runs: dict[str, Run] = {}
    for name in CLI_CASES:
        runs[name] = Run(base / name, base / f"data-{name}")
        runs[name].src.write_bytes(bad_files[name][0])
    runs["good.dbn.zst"] = Run(base / "good.dbn.zst", base / "data-good")
    runs["good.dbn.zst"].src.write_bytes(_databento_layout(plain))
    for name, (rel, cut) in REAL_CUTS.items():
        real = REAL_DATA / rel
        if real.exists():
            content = real.read_bytes()
            runs[name] = Run(base / name, base / f"data-{name}")
            runs[name].src.write_bytes(content[: cut or len(content) // 2])

    def run(r: Run) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [EXE, "data", "ingest", str(r.src), "--data-dir", str(r.data_dir)],
            env=child_env(),
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )

    with ThreadPoolExecutor(max_workers=4) as pool:
        for r, out in zip(runs.values(), pool.map(run, runs.values()), strict=True):
            r.out = out
    return runs


def _refused(r: Run, phrase: str) -> None:
    out = r.out
    assert out is not None
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "Traceback" not in out.stdout + out.stderr
    lines = out.stderr.splitlines()
    assert lines[0].startswith(f"error: {r.src}"), out.stderr  # one line naming the file
    assert phrase in lines[0], out.stderr
    assert [ln for ln in lines[1:] if not ln.startswith("  hint: ")] == [], out.stderr
    assert "Ingested" not in out.stdout
    assert _written(r.data_dir) == []


def test_cli_ingests_the_good_file(cli: dict[str, Run]) -> None:
    out = cli["good.dbn.zst"].out
    assert out is not None
    assert out.returncode == 0, out.stderr
    assert f"Ingested {N_BARS:,} records" in out.stdout


@pytest.mark.parametrize("name", CLI_CASES)
def test_cli_refuses(
    cli: dict[str, Run], bad_files: dict[str, tuple[bytes, str]], name: str
) -> None:
    _refused(cli[name], bad_files[name][1])


@pytest.mark.realdata
@pytest.mark.parametrize("name", list(REAL_CUTS))
def test_cli_refuses_a_cut_real_file(cli: dict[str, Run], name: str) -> None:
    if name not in cli:
        pytest.skip(f"real data not available: {REAL_DATA} (a fresh clone has no ../shared)")
    _refused(cli[name], "truncated")
