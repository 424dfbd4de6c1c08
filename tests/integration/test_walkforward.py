"""Walk-forward: windows that never leak, a planted future that is not used, flat window edges,
the saved folder with its page and the stitched run's report, the CLI."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from tests.integration.subprocesses import EXE, child_env
from workbench.cli.main import main
from workbench.data import load_bars
from workbench.errors import ConfigError
from workbench.optimize import ParameterGrid, walk_forward, walk_forward_windows
from workbench.strategies import MomentumStrategy, ParamRange
from workbench.strategies.base import Strategy


@dataclass(frozen=True)
class Side(Strategy):
    """Always long (side=1) or always short (side=-1): its best parameter is whichever way
    the market went, so choosing it with the out-of-sample bars in view would pay."""

    name: ClassVar[str] = "side"
    display_name: ClassVar[str] = "Side"
    param_space: ClassVar[dict[str, ParamRange]] = {"side": ParamRange(choices=(-1, 1))}

    side: int = 1

    def compute_signals(self, bars: pd.DataFrame) -> np.ndarray:
        return np.full(len(bars), self.side, dtype=np.int8)


@pytest.fixture(scope="module")
def bars(small_sample: Path) -> pd.DataFrame:
    return load_bars("MCL_FUT", data_dir=small_sample)


@pytest.mark.parametrize("anchored", [False, True])
@pytest.mark.parametrize(
    ("is_len", "oos_len", "step", "gap"), [(100, 30, None, 0), (50, 20, 35, 7)]
)
def test_in_sample_always_ends_gap_bars_before_its_out_of_sample(
    anchored: bool, is_len: int, oos_len: int, step: int | None, gap: int
) -> None:
    n = 400
    windows = walk_forward_windows(n, is_len, oos_len, step=step, gap=gap, anchored=anchored)
    assert len(windows) >= 3
    for k, w in enumerate(windows):
        assert w.index == k
        assert w.is_start < w.is_end
        assert w.is_end + gap == w.oos_start  # the purge gap, used by neither side
        assert w.oos_start < w.oos_end <= n
        assert w.is_start == 0 if anchored else w.is_start == k * (step or oos_len)
        assert w.is_end - w.is_start == is_len + (k * (step or oos_len) if anchored else 0)
    for a, b in itertools.pairwise(windows):
        assert b.oos_start >= a.oos_end  # out-of-sample parts never overlap
    # One more window would start its out-of-sample part at or past the last bar.
    nxt = len(windows) * (step or oos_len)
    assert (is_len + nxt if anchored else nxt + is_len) + gap >= n


def test_windows_that_do_not_fit_are_refused() -> None:
    with pytest.raises(ConfigError, match="no window fits"):
        walk_forward_windows(100, 90, 10, gap=10)
    with pytest.raises(ConfigError, match="gap must be an integer >= 0"):
        walk_forward_windows(100, 10, 10, gap=-1)


def _mirror_from(bars: pd.DataFrame, start: int) -> pd.DataFrame:
    """``bars`` with every price from bar ``start`` on mirrored around the close before it:
    the future's trend reversed, the past untouched."""
    out = bars.copy()
    pivot = float(bars["close"].iloc[start - 1])
    tail = out.iloc[start:]
    mirrored = {c: 2 * pivot - tail[c] for c in ("open", "close")}
    mirrored["high"] = 2 * pivot - tail["low"]
    mirrored["low"] = 2 * pivot - tail["high"]
    for c, v in mirrored.items():
        out.iloc[start:, out.columns.get_loc(c)] = v.to_numpy()
    return out


def test_a_planted_future_is_not_used(bars: pd.DataFrame) -> None:
    grid = ParameterGrid(Side, {"side": [-1, 1]})
    kw: dict[str, Any] = {
        "in_sample": 12_000,
        "out_of_sample": 6_000,
        "gap": 120,
        "use_risk_manager": False,
    }
    plain = walk_forward(bars, grid, **kw)
    w0 = walk_forward_windows(len(bars), 12_000, 6_000, gap=120)[0]
    # Reverse everything after window 0's in-sample part: the side that wins out of sample flips.
    flipped = walk_forward(_mirror_from(bars, w0.is_end), grid, **kw)
    a, b = plain.windows.iloc[0], flipped.windows.iloc[0]
    assert a["params"] == b["params"]  # chosen from the in-sample bars alone
    assert a["is_objective"] == b["is_objective"]
    assert a["oos_total_return_pct"] != b["oos_total_return_pct"]
    # The planted information is real: in one of the two, the other side won out of sample,
    # and a walk-forward that looked ahead would have picked it.
    oos_best = []
    for frame in (bars, _mirror_from(bars, w0.is_end)):
        oos = frame.iloc[w0.oos_start : w0.oos_end]
        oos_best.append(1 if oos["close"].iloc[-1] > oos["open"].iloc[0] else -1)
    assert oos_best[0] != oos_best[1]
    chosen = json.loads(a["params"])["side"]
    assert chosen != oos_best[0] or chosen != oos_best[1]
    # Later windows, whose in-sample part saw the change, may choose differently: the point
    # is only that no window chose by data after its own in-sample end.
    for k in range(1, len(plain.windows)):
        w = walk_forward_windows(len(bars), 12_000, 6_000, gap=120)[k]
        assert plain.windows.iloc[k]["is_end_time"] < bars.index[w.oos_start]


@pytest.fixture(scope="module")
def momentum_wf(bars: pd.DataFrame):
    grid = ParameterGrid(MomentumStrategy, {"fast_period": [5, 10], "slow_period": [30, 60]})
    return walk_forward(bars, grid, in_sample=15_000, out_of_sample=8_000, gap=60)


def test_positions_are_flat_at_every_window_edge(bars: pd.DataFrame, momentum_wf) -> None:
    w = momentum_wf.windows
    starts = pd.DatetimeIndex(w["oos_start_time"])
    trades = momentum_wf.stitched.trades
    assert len(trades) > 10
    entry_window = starts.searchsorted(trades["entry_time"], side="right") - 1
    # An exit at the open of the next window's first bar still belongs to the window it closed.
    exit_window = starts.searchsorted(trades["exit_time"] - pd.Timedelta(1, "ns"), side="right") - 1
    assert (entry_window == exit_window).all()
    assert momentum_wf.stitched.equity.index[0] >= starts[0]
    # Each window's out-of-sample figures come from its own chosen parameters.
    assert w["traded"].all()
    assert set(w["param.fast_period"]) <= {5, 10}


def test_window_rows_are_slices_of_the_stitched_run(momentum_wf) -> None:
    w, stitched = momentum_wf.windows, momentum_wf.stitched
    # One account: the windows' out-of-sample trades and P&L add up to the stitched run's.
    assert w["oos_total_trades"].sum() == len(stitched.trades)
    pnl = stitched.final_equity - stitched.initial_capital
    assert w["oos_pnl_usd"].sum() == pytest.approx(pnl, abs=0.01)
    returns = (1 + w["oos_total_return_pct"] / 100).prod() - 1
    assert returns * 100 == pytest.approx(
        stitched.metrics["performance"]["total_return_pct"], abs=0.01
    )
    starts = pd.DatetimeIndex(w["oos_start_time"])
    entry_window = starts.searchsorted(stitched.trades["entry_time"], side="right") - 1
    per_window = stitched.trades.groupby(entry_window)["net_pnl"].sum()
    for k, row in w.iterrows():
        assert row["oos_total_trades"] == int((entry_window == k).sum())
        assert row["oos_pnl_usd"] == pytest.approx(per_window.get(k, 0.0), abs=0.01)


def test_a_short_last_window_is_flagged_unreliable(bars: pd.DataFrame) -> None:
    grid = ParameterGrid(MomentumStrategy, {"fast_period": [5, 10], "slow_period": [30, 60]})
    n = 15_000 + 2 * 8_000 + 600  # the last window: 600 one-minute bars, about one trade date
    wf = walk_forward(bars.iloc[:n], grid, in_sample=15_000, out_of_sample=8_000)
    last = wf.windows.iloc[-1]
    assert last["oos_end"] - last["oos_start"] == 600
    assert "sharpe_ratio" in last["oos_unreliable"]


def test_saved_folder_has_its_page_and_the_stitched_report(momentum_wf, tmp_path: Path) -> None:
    folder = momentum_wf.save(tmp_path)
    doc = json.loads((folder / "walkforward.json").read_text())
    assert doc["windows"] == len(momentum_wf.windows)
    assert doc["edges"].startswith("flattened")
    assert doc["settings"]["gap_bars"] == 60
    assert "walk_forward_efficiency" in doc
    windows = pd.read_csv(folder / "windows.csv")
    assert list(windows["window"]) == list(range(doc["windows"]))
    page = (folder / "walkforward.html").read_text()
    assert "Stitched out-of-sample equity" in page
    assert "stitched_oos/report.html" in page
    summary = json.loads((folder / "stitched_oos" / "summary.json").read_text())
    assert summary["performance"]["total_trades"] == doc["out_of_sample"]["total_trades"]
    assert (folder / "stitched_oos" / "report.html").is_file()
    params = json.loads((folder / "stitched_oos" / "parameters.json").read_text())
    assert len(params["strategy"]["parameters"]["windows"]) == doc["windows"]


def test_cli_walkforward(small_sample: Path, tmp_path: Path) -> None:
    args = [EXE, "walkforward", "--data-dir", str(small_sample), "--grid", "fast_period=5,10"]
    args += ["--grid", "slow_period=30,60", "--in-sample", "20000", "--out-of-sample", "20000"]
    out = subprocess.run(
        [*args, "--gap", "30", "--results-dir", str(tmp_path), "--json"],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["windows"] == 3
    assert Path(doc["folder"]).parent == tmp_path
    assert "3 windows x 4 combinations" in out.stderr
    lhs = subprocess.run(
        [*args, "--search", "lhs", "--trials", "3", "--seed", "1", "--no-save", "--json"],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert lhs.returncode == 0, lhs.stderr
    assert "3 windows x 3 lhs trials" in lhs.stderr
    bad = subprocess.run(
        [
            EXE,
            "walkforward",
            "--data-dir",
            str(small_sample),
            "--in-sample",
            "9000000",
            "--out-of-sample",
            "10",
            "--no-save",
        ],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert bad.returncode != 0
    assert "no window fits" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_cli_walkforward_lines_read_like_the_backtest_ones(
    small_sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(
        [
            *("walkforward", "--data-dir", str(small_sample), "--grid", "fast_period=10"),
            *("--grid", "slow_period=50", "--in-sample", "20000", "--out-of-sample", "20000"),
            *("--no-save", "--no-progress"),
        ]
    )
    out = capsys.readouterr()
    assert re.search(r"EMA Crossover: 3 windows x 1 combination, data \d{4}-\d\d-\d\d", out.err)
    text = out.out + out.err
    assert "+00:00" not in text
    assert re.search(r"\d\.\d{3,}", text) is None, text  # figures to 2 decimals, as backtest
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d \d{4}-\d\d-\d\d \d\d:\d\d", out.out)
    assert re.search(r"out of sample \S+ \S+ to \S+ \S+ UTC: return -?\d+\.\d\d%", out.out)
    assert re.search(r"-?\$[\d,]+\.\d\d", out.out)  # the window P&L in dollars


def test_cli_walkforward_refuses_an_all_refused_grid_before_loading_bars(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as info:
        main(
            [
                *("walkforward", "--data-dir", str(tmp_path / "none"), "--grid"),
                *("atr_stop_mult=1e300", "--in-sample", "100", "--out-of-sample", "100"),
            ]
        )
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "no valid combination in the grid" in err
    assert "atr_stop_mult must be between 0 and 100" in err
