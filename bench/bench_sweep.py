"""The compiled sweep (issue: sweeps and optimization, "Speed: the compiled sweep").

On the sample's continuous front month (~0.74M one-minute bars), 100 EMA-crossover
combinations (fast 5..50 x slow 60..200) with risk management ON:

- ``workbench.optimize.sweep`` (the compiled path: the table, the daily returns matrix and
  the PSR column included), median wall of warm runs: target < 0.5 s;
- vectorbt 1.2's broadcast ``Portfolio.from_signals`` over the same 100 signal columns (risk
  off: vectorbt has no such rules), tz-naive index (its fastest form), with the per-column
  figures of a sweep row (total return, max drawdown, Sharpe, trade count), measured in the
  same run: target ratio >= 100x;
- peak memory of each, measured in its own fresh process (``resource.getrusage`` in the child;
  this parent imports nothing heavy, so no inherited pages): target < 1 GB for the sweep;
- notebook mode (``workbench sweep --notebooks --workers 2``) on a few combinations, in
  runs per minute.

Options: ``--vbt-bars N`` runs vectorbt on the first N bars only and scales its time linearly
to the full series (the output says so); the default runs it on every bar (about 10 GB).
``--rounds R`` (default 7) warm sweeps; ``--notebook-combos K`` (default 4; 0 skips it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".bench" / "sample"
FAST = [5, 8, 10, 12, 15, 20, 25, 30, 40, 50]
SLOW = [60, 70, 80, 90, 100, 120, 140, 160, 180, 200]

# Each child prints one JSON line last; they run in fresh processes for their peak memory.
OURS = """
import json, resource, statistics, sys, time
from workbench.data import load_bars
from workbench.optimize import ParameterGrid, sweep
from workbench.strategies import MomentumStrategy
data, rounds = sys.argv[1], int(sys.argv[2])
fast, slow = json.loads(sys.argv[3]), json.loads(sys.argv[4])
bars = load_bars(data_dir=data)
grid = ParameterGrid(MomentumStrategy, {"fast_period": fast, "slow_period": slow})
sweep(bars, grid)  # warm: first-call costs (imports, page faults of the bars)
times, cpu = [], []
for _ in range(rounds):
    t0, c0 = time.perf_counter(), time.process_time()
    result = sweep(bars, grid)
    times.append(time.perf_counter() - t0)
    cpu.append(time.process_time() - c0)
best = result.table.iloc[0]
print(json.dumps({
    "times": times, "cpu": statistics.median(cpu),
    "combos": len(result.table), "bars": len(bars), "engine": result.engine,
    "best": {k: (v.item() if hasattr(v, "item") else v) for k, v in best.items()},
    "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""

VBT = """
import json, resource, sys, time
import numpy as np
import pandas as pd
from workbench.data import load_bars
from workbench.strategies import MomentumStrategy
data, n_bars = sys.argv[1], int(sys.argv[2])
fast, slow = json.loads(sys.argv[3]), json.loads(sys.argv[4])
bars = load_bars(data_dir=data)
if n_bars > 0:
    bars = bars.iloc[:n_bars]
combos = [(f, s) for f in fast for s in slow if f < s]
sig = np.column_stack([
    MomentumStrategy(fast_period=f, slow_period=s).generate_signals(bars) for f, s in combos
])
prev = np.vstack([np.zeros((1, sig.shape[1]), np.int8), sig[:-1]])
long_in = (sig == 1) & (prev != 1)
short_in = (sig == -1) & (prev != -1)
# Act at the next bar's open, as the workbench does.
le = np.vstack([np.zeros((1, sig.shape[1]), bool), long_in[:-1]])
se = np.vstack([np.zeros((1, sig.shape[1]), bool), short_in[:-1]])
index = bars.index.tz_localize(None)  # tz-naive: vectorbt's fastest form
cols = pd.MultiIndex.from_tuples(combos, names=["fast", "slow"])
close = pd.Series(bars["close"].to_numpy(), index=index)
open_ = pd.Series(bars["open"].to_numpy(), index=index)
le_df = pd.DataFrame(le, index=index, columns=cols)
se_df = pd.DataFrame(se, index=index, columns=cols)
del sig, prev, long_in, short_in, le, se
import vectorbt as vbt


def run(k):
    pf = vbt.Portfolio.from_signals(
        close=close.iloc[:k], entries=le_df.iloc[:k], exits=se_df.iloc[:k],
        short_entries=se_df.iloc[:k], short_exits=le_df.iloc[:k], price=open_.iloc[:k],
        size=100.0, fixed_fees=1.25, init_cash=1e9, freq="1min",
    )
    # The figures of a sweep row, per column.
    return pd.DataFrame({
        "total_return": pf.total_return(), "max_drawdown": pf.max_drawdown(),
        "sharpe": pf.sharpe_ratio(), "trades": pf.trades.count(),
    })


run(2000)  # numba JIT compile of every function used, outside the timing
t0, c0 = time.perf_counter(), time.process_time()
figures = run(len(close))
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
print(json.dumps({
    "wall": wall, "cpu": cpu, "bars": len(bars), "columns": len(combos),
    "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def child(code: str, *args: str) -> dict:
    """Run ``code`` in a fresh interpreter; its last stdout line as JSON."""
    out = subprocess.run(
        [sys.executable, "-c", code, *args], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def notebook_rate(n_combos: int) -> tuple[int, float] | None:
    """(runs, runs per minute) of ``workbench sweep --notebooks --workers 2``, or None."""
    exe = Path(sys.executable).parent / "workbench"
    if n_combos <= 0 or not exe.exists():
        return None
    fast = ",".join(str(f) for f in FAST[:n_combos])
    out = Path(tempfile.mkdtemp(prefix="bench-nb-"))
    cmd = [
        str(exe), "sweep", "--notebooks", "--workers", "2", "--data-dir", str(DATA),
        "--grid", f"fast_period={fast}", "--grid", "slow_period=100",
        "--results-dir", str(out), "--no-progress", "--yes",
    ]  # fmt: skip
    try:
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - t0
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return n_combos, n_combos / wall * 60.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vbt-bars", type=int, default=0, help="vectorbt on the first N bars only")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--notebook-combos", type=int, default=4)
    args, _ = ap.parse_known_args()  # run_all.py passes its own arguments to every script
    if not any(DATA.glob("raw/MCL_FUT/*/*.parquet")):
        code = f"from workbench.data import build_sample; build_sample({str(DATA)!r})"
        subprocess.run([sys.executable, "-c", code], check=True)
    grid = (json.dumps(FAST), json.dumps(SLOW))
    load = os.getloadavg()[0]
    # Ours before and after vectorbt (a slow spell on a shared machine hits both).
    before = child(OURS, str(DATA), str(args.rounds), *grid)
    vbt = child(VBT, str(DATA), str(args.vbt_bars), *grid)
    after = child(OURS, str(DATA), str(args.rounds), *grid)
    times = before["times"] + after["times"]
    median = statistics.median(times)
    scale = before["bars"] / vbt["bars"]
    vbt_full, vbt_cpu = vbt["wall"] * scale, vbt["cpu"] * scale
    print(f"bars: {before['bars']:,} (continuous front month, synthetic sample)")
    print(f"load average at the start: {load:.1f} on {os.cpu_count()} cores")
    print(
        f"compiled sweep, {before['combos']} EMA combinations, risk ON "
        f"(workbench.optimize.sweep, engine={before['engine']}): median {median:.3f} s wall "
        f"(min {min(times):.3f}, max {max(times):.3f}; {len(times)} warm runs, half before and "
        f"half after vectorbt; target < 0.5 s)"
    )
    print(
        f"  CPU time (all threads) {statistics.median([before['cpu'], after['cpu']]):.3f} s; "
        f"{before['combos'] / median:.0f} combinations/s"
    )
    print(
        f"  peak RSS of its process: {max(before['maxrss_mb'], after['maxrss_mb']):.0f} MB "
        "(target < 1024 MB)"
    )
    if scale != 1.0:
        print(
            f"vectorbt broadcast from_signals, {vbt['columns']} columns, risk off: "
            f"{vbt['wall']:.2f} s on the first {vbt['bars']:,} bars ONLY, scaled linearly "
            f"x{scale:.2f} to {vbt_full:.1f} s for all bars (an estimate, not a measurement)"
        )
        print(f"  peak RSS of its process ({vbt['bars']:,} bars): {vbt['maxrss_mb']:.0f} MB")
    else:
        print(
            f"vectorbt broadcast from_signals + per-column return, drawdown, Sharpe, trades, "
            f"{vbt['columns']} columns, risk off, all bars: {vbt['wall']:.2f} s wall, "
            f"{vbt['cpu']:.2f} s CPU (one run)"
        )
        print(f"  peak RSS of its process: {vbt['maxrss_mb']:.0f} MB")
    scaled = " (vectorbt time scaled)" if scale != 1.0 else ""
    print(
        f"ratio vectorbt / compiled sweep, wall: {vbt_full / median:.0f}x (target >= 100x)" + scaled
    )
    ours_cpu = statistics.median([before["cpu"], after["cpu"]])
    print(f"ratio vectorbt / compiled sweep, CPU time: {vbt_cpu / ours_cpu:.0f}x{scaled}")
    rate = notebook_rate(args.notebook_combos)
    if rate is not None:
        n, per_min = rate
        print(
            f"notebook mode (`workbench sweep --notebooks --workers 2`, {n} runs, "
            f"fresh process): {per_min:.1f} runs/min"
        )


if __name__ == "__main__":
    main()
