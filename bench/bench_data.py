"""Data pipeline benchmarks (issue: foundation and data pipeline).

Targets, measured here as medians on this machine (it is noisy; compare ratios):

- ingest >= 1M DBN records/s into Parquet (the real ES/NQ set, 1,097,005 records) in process,
  split into the native decode and the Parquet writes, and the whole ``workbench data ingest``
  process (issue 10's target: >= 5M/s, start-up included); the peer in the same run is the
  official client's own decode to pandas (``DBNStore.to_df``), which writes nothing;
- load the whole sample as a continuous 1-minute series < 0.3 s warm; the peer is a plain
  ``pandas.read_parquet`` of the same files (no roll logic);
- ``workbench data info`` over the whole sample < 1 s (a fresh process, start-up included).
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import databento as db
from pandas.errors import Pandas4Warning

# The peer, databento's DBNStore.to_df, calls DataFrame.set_index(inplace=True), which pandas
# 3.1 deprecates with a Pandas4Warning on every call: dozens of lines that are not ours.
# Silenced for this bench process only, for that warning from databento only. After the
# import of databento: it puts simplefilter("always", DeprecationWarning) first on import.
warnings.filterwarnings(
    "ignore", message="The inplace keyword", category=Pandas4Warning, module=r"databento\."
)

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "data" / "real" / "es-nq-ohlcv-1m"


def median_time(fn: Callable[[], object], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_ingest() -> None:
    from workbench.data import DataRoot, ingest_files
    from workbench.data.bar_columns import bar_table
    from workbench.data.dbn import decode

    files = sorted(REAL.glob("*.dbn.zst"))
    if not files:
        print("ingest: skipped (../shared/data/real/es-nq-ohlcv-1m is absent)")
        return
    n = 1_097_005

    def ours() -> None:
        tmp = tempfile.mkdtemp(prefix="wb-ingest-")
        try:
            ingest_files(files, DataRoot(tmp))
        finally:
            shutil.rmtree(tmp)

    def peer() -> None:
        for f in files:
            db.DBNStore.from_file(f).to_df()

    def decode_only() -> None:
        for f in files:
            decode(f)

    t_ours, t_peer = median_time(ours, 3), median_time(peer, 3)
    t_decode = median_time(decode_only, 3)
    decoded = [decode(f) for f in files]
    t_build = median_time(lambda: [bar_table(d) for d in decoded], 3)
    print(
        f"ingest ES/NQ: {t_ours:.2f} s = {n / t_ours / 1e6:.2f} M records/s into Parquet "
        f"(target >= 1.0); of which native decode {t_decode:.3f} s "
        f"({n / t_decode / 1e6:.1f} M/s), the rest columns and Parquet writes; "
        f"DBNStore.to_df alone {t_peer:.2f} s = {n / t_peer / 1e6:.2f} M/s; "
        f"ratio ours/peer time {t_ours / t_peer:.2f}"
    )
    print(
        f"ingest split, each part alone on one thread: decode {t_decode:.3f} s, columns by "
        f"partition (dbn_bar_columns) {t_build:.3f} s; the 624 Parquet writes take the rest "
        f"of the {t_ours:.2f} s (on the ingest's thread pool)"
    )
    exe = str(Path(sys.executable).parent / "workbench")

    def cli() -> None:
        tmp = tempfile.mkdtemp(prefix="wb-ingest-")
        try:
            cmd = [exe, "data", "ingest", "--data-dir", tmp, *map(str, files)]
            subprocess.run(cmd, capture_output=True, check=True)
        finally:
            shutil.rmtree(tmp)

    def start_up() -> None:
        subprocess.run([exe, "data", "ingest", "--help"], capture_output=True, check=True)

    t_cli, t_start = median_time(cli, 3), median_time(start_up, 3)
    print(
        f"workbench data ingest ES/NQ, whole process: {t_cli:.2f} s = {n / t_cli / 1e6:.2f} M "
        f"records/s (issue 10 target >= 5); CLI start-up alone {t_start:.2f} s"
    )


def bench_load_and_info(data_dir: Path) -> None:
    import pandas as pd

    from workbench.data import load_bars

    load_bars(data_dir=data_dir)  # warm: builds the column cache once
    t_load = median_time(lambda: load_bars(data_dir=data_dir), 7)
    df = load_bars(data_dir=data_dir)
    files = sorted(str(p) for p in data_dir.glob("raw/MCL_FUT/*/*_ohlcv-1m.parquet"))
    t_pd = median_time(lambda: pd.concat([pd.read_parquet(f) for f in files]), 3)
    print(
        f"load continuous 1m ({len(df):,} front-month bars): {t_load:.3f} s warm "
        f"(target < 0.3); plain pandas.read_parquet of the files {t_pd:.3f} s; "
        f"ratio {t_pd / t_load:.1f}x"
    )
    exe = str(Path(sys.executable).parent / "workbench")
    cmd = [exe, "data", "info", "--data-dir", str(data_dir)]
    subprocess.run(cmd, capture_output=True, check=True)  # footers cached after the first run
    t_info = median_time(lambda: subprocess.run(cmd, capture_output=True, check=True), 5)
    print(
        f"workbench data info (fresh process, {len(files) * 3 + 3} files): "
        f"{t_info:.3f} s (target < 1)"
    )


def main() -> None:
    from workbench.data import build_sample

    bench_ingest()
    data_dir = ROOT / ".bench" / "sample"
    if not any(data_dir.glob("raw/MCL_FUT/*/*.parquet")):
        t0 = time.perf_counter()
        build_sample(str(data_dir))
        print(f"sample: built in {time.perf_counter() - t0:.1f} s")
    bench_load_and_info(data_dir)


if __name__ == "__main__":
    main()
