"""Run every benchmark script in this folder (``make bench``): bench_backtest, bench_book,
bench_data, bench_paper and bench_sweep (the compiled sweep against vectorbt's broadcast).
Not part of the tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    status = 0
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"\n=== {script.name} ===", flush=True)
        status |= subprocess.call([sys.executable, str(script), *sys.argv[1:]])
    sys.exit(status)
