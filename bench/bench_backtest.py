"""Backtest benchmarks (issue: backtesting engine), ratios against vectorbt in the same run.

On the sample's continuous front month (two years, ~0.74M one-minute bars):

- one EMA-crossover backtest with risk management ON (workbench, warm) versus vectorbt 1.2
  ``Portfolio.from_signals`` on the same signals with risk OFF (warm): target >= 5x;
- ``workbench backtest`` in a fresh process, imports included: target < 3 s (vectorbt's first
  backtest in a fresh process, import and JIT compile included, measured the same way);
- peak memory of the workbench backtest process: target < 1 GB.
"""

from __future__ import annotations

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


def peak_rss_mb(cmd: list[str]) -> float | None:
    """Peak resident memory of ``cmd``, measured by GNU time around it.

    (A child forked from this process would count this process's own memory, vectorbt and the
    bars included, in its ``ru_maxrss``: GNU time forks from a small process.)
    """
    gnu_time = Path("/usr/bin/time")
    if not gnu_time.exists():
        return None
    out = subprocess.run(
        [str(gnu_time), "-f", "%M", *cmd], check=True, capture_output=True, text=True
    )
    return int(out.stderr.strip().splitlines()[-1]) / 1024


def main(rounds: int = 9) -> None:
    import numpy as np

    from workbench.backtest import run_backtest
    from workbench.data import build_sample, load_bars
    from workbench.strategies import MomentumStrategy

    if not any(DATA.glob("raw/MCL_FUT/*/*.parquet")):
        build_sample(str(DATA))
    bars = load_bars(data_dir=DATA)
    strat = MomentumStrategy(fast_period=20, slow_period=50)

    def ours() -> None:
        # The equity curve as a pandas Series, as vectorbt's ``value()`` below returns one.
        run_backtest(bars, strat).equity  # noqa: B018

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

    ours()
    peer()
    # Interleaved rounds (ours, then vectorbt), so a slow spell on this noisy machine hits
    # both: the ratio is the median of the per-round ratios.
    t_ours, t_vbt, ratios = [], [], []
    for _ in range(rounds):
        a, b = median_time(ours, 3), median_time(peer, 3)
        t_ours.append(a)
        t_vbt.append(b)
        ratios.append(b / a)
    t_off = median_time(lambda: run_backtest(bars, strat, use_risk_manager=False).equity)
    n = len(bars)
    print(f"bars: {n:,} (continuous front month, synthetic sample)")
    print(
        f"workbench run_backtest, risk ON, signals included: "
        f"{statistics.median(t_ours) * 1e3:.1f} ms (median of {rounds} rounds)"
    )
    print(f"workbench run_backtest, risk OFF:                  {t_off * 1e3:.1f} ms")
    print(
        f"vectorbt from_signals, risk off, signals given:    "
        f"{statistics.median(t_vbt) * 1e3:.1f} ms"
    )
    print(
        f"ratio vectorbt / workbench (risk on): {statistics.median(ratios):.1f}x "
        f"(rounds: {min(ratios):.1f}x to {max(ratios):.1f}x; target >= 5x)"
    )

    exe = str(Path(sys.executable).parent / "workbench")
    cmd = [exe, "backtest", "--data-dir", str(DATA)]
    fresh = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        fresh.append(time.perf_counter() - t0)
    ours_rss = peak_rss_mb(cmd)
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
    if ours_rss is None:
        print("peak memory: not measured (needs GNU time at /usr/bin/time)")
    else:
        print(
            f"peak memory of a `workbench backtest` process: {ours_rss:.0f} MB (target < 1024 MB)"
        )


if __name__ == "__main__":
    main()
