"""Backtest benchmarks (issue: backtesting engine), ratios against vectorbt in the same run.

On the sample's continuous front month (two years, ~0.74M one-minute bars):

- one EMA-crossover backtest with risk management ON (workbench, warm) versus vectorbt 1.2
  ``Portfolio.from_signals`` on the same signals with risk OFF (warm): target >= 5x;
- ``workbench backtest`` in a fresh process, imports included: target < 3 s (vectorbt's first
  backtest in a fresh process, import and JIT compile included, measured the same way);
- peak memory of the workbench backtest process: target < 1 GB.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".bench" / "sample"

VBT_FRESH = """
import sys, time
t0 = time.perf_counter()
import numpy as np
from workbench.data import load_bars
from workbench.strategies import MomentumStrategy
bars = load_bars(data_dir=sys.argv[1])
sig = MomentumStrategy(fast_period=20, slow_period=50).generate_signals(bars)
import vectorbt as vbt
prev = np.r_[0, sig[:-1]]
le = np.r_[False, ((sig == 1) & (prev != 1))[:-1]]
se = np.r_[False, ((sig == -1) & (prev != -1))[:-1]]
pf = vbt.Portfolio.from_signals(close=bars["close"].to_numpy(), entries=le, exits=se,
    short_entries=se, short_exits=le, price=bars["open"].to_numpy(), size=100.0,
    fixed_fees=1.25, init_cash=1e9, freq="1min")
pf.value().iloc[-1]
print(time.perf_counter() - t0)
"""


def median_time(fn, repeat: int = 7) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    import numpy as np

    from workbench.backtest import run_backtest
    from workbench.data import build_sample, load_bars
    from workbench.strategies import MomentumStrategy

    if not any(DATA.glob("raw/MCL_FUT/*/*.parquet")):
        build_sample(str(DATA))
    bars = load_bars(data_dir=DATA)
    strat = MomentumStrategy(fast_period=20, slow_period=50)
    run_backtest(bars, strat)
    t_ours = median_time(lambda: run_backtest(bars, strat))
    t_ours_off = median_time(lambda: run_backtest(bars, strat, use_risk_manager=False))

    import vectorbt as vbt

    sig = strat.generate_signals(bars)
    prev = np.r_[0, sig[:-1]]
    le = np.r_[False, ((sig == 1) & (prev != 1))[:-1]]
    se = np.r_[False, ((sig == -1) & (prev != -1))[:-1]]
    close, open_ = bars["close"].to_numpy(), bars["open"].to_numpy()

    def peer() -> None:
        pf = vbt.Portfolio.from_signals(
            close=close,
            entries=le,
            exits=se,
            short_entries=se,
            short_exits=le,
            price=open_,
            size=100.0,
            fixed_fees=1.25,
            init_cash=1e9,
            freq="1min",
        )
        pf.value()

    peer()
    t_vbt = median_time(peer)
    n = len(bars)
    print(f"bars: {n:,} (continuous front month, synthetic sample)")
    print(f"workbench run_backtest, risk ON, signals included: {t_ours * 1e3:.1f} ms")
    print(f"workbench run_backtest, risk OFF:                  {t_ours_off * 1e3:.1f} ms")
    print(f"vectorbt from_signals, risk off, signals given:    {t_vbt * 1e3:.1f} ms")
    print(f"ratio vectorbt / workbench (risk on): {t_vbt / t_ours:.1f}x (target >= 5x)")

    exe = str(Path(sys.executable).parent / "workbench")
    cmd = [exe, "backtest", "--data-dir", str(DATA)]
    fresh = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        fresh.append(time.perf_counter() - t0)
    vfresh = []
    for _ in range(2):
        out = subprocess.run(
            [sys.executable, "-c", VBT_FRESH, str(DATA)], check=True, capture_output=True, text=True
        )
        vfresh.append(float(out.stdout.strip().splitlines()[-1]))
    print(
        f"`workbench backtest` fresh process (wall, imports included): "
        f"{statistics.median(fresh):.2f} s (target < 3 s)"
    )
    v_med, w_med = statistics.median(vfresh), statistics.median(fresh)
    print(
        f"vectorbt first backtest in a fresh process (load + import + JIT): "
        f"{v_med:.2f} s; ratio {v_med / w_med:.1f}x"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"peak memory: this process (workbench + vectorbt) {peak:.0f} MB; "
        f"largest child (a `workbench backtest` or vectorbt run) {child:.0f} MB (target < 1024 MB)"
    )


if __name__ == "__main__":
    main()
