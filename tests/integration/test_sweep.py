"""Parameter sweeps: grids, one backtest per combination (in process and on a real Dask
cluster), saved folders, sensitivity and suggested next experiments, the CLI."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.integration.subprocesses import EXE, child_env
from workbench.analysis import daily_returns
from workbench.analysis.overfitting import (
    deflated_sharpe_ratio,
    probability_of_backtest_overfitting,
    psr_of_returns,
    return_moments,
)
from workbench.backtest import run_backtest
from workbench.data import load_bars
from workbench.errors import ConfigError
from workbench.optimize import METRIC_COLUMNS, ParameterGrid, StrategyOptimizer, sweep
from workbench.strategies import MeanReversionStrategy, MomentumStrategy, ParamRange

GRID = {"fast_period": [5, 10, 20], "slow_period": [10, 20, 60]}


@pytest.fixture(scope="module")
def bars(small_sample: Path) -> pd.DataFrame:
    return load_bars("MCL_FUT", data_dir=small_sample)


@pytest.fixture(scope="module")
def swept(bars: pd.DataFrame) -> object:
    return sweep(bars, ParameterGrid(MomentumStrategy, GRID))


def test_grid_combinations_and_refusals() -> None:
    grid = ParameterGrid(MomentumStrategy, {**GRID, "atr_period": 20})
    assert len(grid) == 9
    valid = grid.valid()
    assert [(p["fast_period"], p["slow_period"]) for p in valid] == [
        (5, 10),
        (5, 20),
        (5, 60),
        (10, 20),
        (10, 60),
        (20, 60),
    ]
    assert all(p["atr_period"] == 20 for p in valid)  # a single value holds a parameter fixed
    refused = grid.skipped()
    assert len(refused) == 3
    assert all("must be < slow_period" in why for _, why in refused)
    default = ParameterGrid(MeanReversionStrategy)  # the strategy's declared ranges
    assert set(default.ranges) == set(MeanReversionStrategy.param_space)
    space = MeanReversionStrategy.param_space
    assert len(default) == int(np.prod([len(r.values()) for r in space.values()]))
    ranged = ParameterGrid(MomentumStrategy, {"slow_period": ParamRange(50, 200, 50)})
    assert ranged.ranges["slow_period"] == (50, 100, 150, 200)


@pytest.mark.parametrize(
    ("ranges", "message"),
    [
        ({"fast": [1]}, "unknown parameter"),
        ({"fast_period": []}, "no values"),
        ({"fast_period": [5, 5]}, "twice"),
        ({}, "sweeps no parameter"),
    ],
)
def test_bad_grids_are_explained(ranges: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ParameterGrid(MomentumStrategy, ranges)


def test_each_row_is_the_backtest_of_its_combination(bars: pd.DataFrame, swept) -> None:
    table = swept.table
    assert len(table) == 6
    assert list(table.columns) == [*GRID, *METRIC_COLUMNS, "psr"]
    assert swept.returns.shape[1] == 6
    for i, row in enumerate(table.to_dict("records")):
        params = {k: row[k] for k in GRID}
        r = run_backtest(bars, MomentumStrategy(**params))
        perf = r.metrics["performance"]
        # the returns kept for row i are that backtest's daily returns, by trade date
        want = daily_returns(r.daily_pnl, r.initial_capital).fillna(0.0)
        got = swept.returns[i]
        np.testing.assert_array_equal(got.loc[want.index].to_numpy(), want.to_numpy())
        assert (got.drop(want.index) == 0).all()
        assert row["psr"] == pytest.approx(psr_of_returns(want), abs=0)
        for k in ("total_return_usd", "sharpe_ratio", "max_drawdown_pct", "total_trades"):
            assert (
                row[k] == perf[k]
                or (row[k] is None and perf[k] is None)
                or (pd.isna(row[k]) and perf[k] is None)
            ), (params, k)
        assert row["trades_rejected"] == r.trades_rejected
    sharpe = table["sharpe_ratio"].dropna().to_numpy()
    assert (np.diff(sharpe) <= 0).all()  # best first
    assert swept.best == {k: table.iloc[0][k] for k in GRID}
    assert isinstance(swept.best["fast_period"], int)


def test_backtest_options_apply_to_every_combination(bars: pd.DataFrame) -> None:
    from workbench.backtest import BacktestConfig

    cfg = BacktestConfig(initial_capital=20_000.0, slippage_ticks=2)
    grid = ParameterGrid(MomentumStrategy, {"fast_period": [10], "slow_period": [40]})
    r = sweep(bars, grid, config=cfg, use_risk_manager=False)
    want = run_backtest(
        bars, MomentumStrategy(fast_period=10, slow_period=40), config=cfg, use_risk_manager=False
    )
    assert r.table.loc[0, "total_return_usd"] == want.metrics["performance"]["total_return_usd"]
    assert r.options["config"]["initial_capital"] == 20_000.0
    assert r.options["use_risk_manager"] is False


def test_minimized_objectives_rank_smallest_first(bars: pd.DataFrame) -> None:
    r = sweep(bars, ParameterGrid(MomentumStrategy, GRID), objective="max_drawdown_pct")
    dd = r.table["max_drawdown_pct"].to_numpy()
    assert (np.diff(dd) >= 0).all()
    with pytest.raises(ConfigError, match="unknown objective"):
        sweep(bars, ParameterGrid(MomentumStrategy, GRID), objective="luck")
    with pytest.raises(ConfigError, match="unknown option"):
        sweep(bars, ParameterGrid(MomentumStrategy, GRID), no_such_option=1)
    with pytest.raises(ConfigError, match="no valid combination"):
        sweep(bars, ParameterGrid(MomentumStrategy, {"fast_period": [50], "slow_period": [20]}))


def test_a_dask_cluster_gives_the_same_table(bars: pd.DataFrame, swept) -> None:
    from dask.distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as cluster,
        Client(cluster) as client,
    ):
        distributed = sweep(
            bars, ParameterGrid(MomentumStrategy, GRID), client=client, chunk_size=2
        )
    pd.testing.assert_frame_equal(distributed.table, swept.table)
    pd.testing.assert_frame_equal(distributed.returns, swept.returns)
    assert distributed.diagnostics() == swept.diagnostics()


def test_saved_folder_and_analysis(tmp_path: Path, swept) -> None:
    folder = swept.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [folder.name]  # no temporary leftovers
    assert sorted(p.name for p in folder.iterdir()) == [
        "best_params.json",
        "cscv_splits.csv",
        "daily_returns.parquet",
        "overfitting.html",
        "parameter_sweep.csv",
        "plotly.min.js",  # loaded by overfitting.html, as a run's report.html loads its copy
        "sensitivity.csv",
    ]
    meta = json.loads((folder / "best_params.json").read_text())
    assert meta["diagnostics"] == swept.diagnostics()
    assert meta["trials"] == 9  # the 3 combinations the strategy refused count as tried
    kept = pd.read_parquet(folder / "daily_returns.parquet")
    np.testing.assert_array_equal(kept.to_numpy(), swept.returns.to_numpy())
    splits = pd.read_csv(folder / "cscv_splits.csv")
    assert len(splits) == meta["diagnostics"]["pbo"]["splits"]
    assert (splits["logit"] <= 0).mean() == pytest.approx(
        meta["diagnostics"]["pbo"]["pbo"], abs=1e-4
    )
    page = (folder / "overfitting.html").read_text()
    assert "plotly.js v" not in page  # not inlined: the folder's one copy (opens offline)
    assert page.count('src="plotly.min.js"') == 1
    assert page.count("Plotly.newPlot") == 2  # the logit histogram and the IS/OOS scatter
    assert meta["best_params"] == swept.best
    assert meta["combinations"] == 6
    assert len(meta["skipped"]) == 3
    table = pd.read_csv(folder / "parameter_sweep.csv")
    np.testing.assert_allclose(table["total_return_usd"], swept.table["total_return_usd"])
    sens = pd.read_csv(folder / "sensitivity.csv")
    fast = sens[sens["parameter"] == "fast_period"].set_index("value")
    by_hand = swept.table.groupby("fast_period")["sharpe_ratio"].mean()
    np.testing.assert_allclose(fast["mean"].to_numpy(), by_hand.to_numpy())

    loaded = StrategyOptimizer().analyze_results(folder)
    fresh = StrategyOptimizer(swept).analyze_results()
    assert loaded["best_params"] == fresh["best_params"] == swept.best
    spread = {p: by_hand.max() - by_hand.min() for p in ["fast_period"]}
    assert loaded["sensitivity"]["fast_period"]["spread"] == pytest.approx(spread["fast_period"])
    assert loaded["most_sensitive"] in GRID
    assert loaded["diagnostics"] == fresh["diagnostics"] == swept.diagnostics()
    assert loaded["recommendations"] == fresh["recommendations"]
    assert fresh["recommendations"] == swept.diagnostics()["recommendations"]


def test_diagnostics_are_the_statistics_of_the_sweep(swept) -> None:
    """DSR of the best row with every combination tried (refused ones too) and the variance
    of the rows' per-day Sharpe ratios; PBO of the kept returns; recommendations that cite
    the numbers."""
    d = swept.diagnostics()
    assert d["available"]
    assert d["trials"] == 9
    assert d["combinations_run"] == 6
    best = swept.table[swept.table["sharpe_ratio"].notna()].index[0]
    moments = [return_moments(swept.returns[c]) for c in swept.returns.columns]
    sharpes = np.array([m.sharpe for m in moments if m is not None])
    want = deflated_sharpe_ratio(moments[best], 9, float(sharpes.var(ddof=1)))
    dsr = d["deflated_sharpe"]
    assert dsr["dsr"] == pytest.approx(want.dsr, abs=1e-4)
    assert dsr["expected_max_sharpe"] == pytest.approx(want.expected_max_sharpe, abs=1e-4)
    assert dsr["sharpe"] == pytest.approx(want.sharpe, abs=1e-4)
    # per day in the statistics; the annualized figure is the annualized sharpe_ratio column
    assert dsr["sharpe_annualized"] == pytest.approx(swept.table["sharpe_ratio"][best], abs=1e-3)
    assert dsr["kurtosis"] == pytest.approx(want.kurtosis, abs=1e-4)
    assert d["selected"]["params"] == swept.best
    pbo = probability_of_backtest_overfitting(swept.returns.to_numpy(), 16)
    assert d["pbo"]["pbo"] == pytest.approx(pbo.pbo, abs=1e-4)
    assert d["pbo"]["splits"] == 12870
    assert d["pbo"]["prob_loss"] == pytest.approx(pbo.prob_loss, abs=1e-4)
    text = " ".join(d["recommendations"])
    assert f"Deflated Sharpe ratio {dsr['dsr']:.2f}" in text
    assert f"Probability of backtest overfitting {d['pbo']['pbo']:.2f}" in text
    if dsr["dsr"] < 0.95:
        assert "below 0.95" in text
        assert "unproven" in text


def test_diagnostics_when_the_period_is_too_short_for_the_blocks(
    bars: pd.DataFrame, small_sample: Path, tmp_path: Path
) -> None:
    grid = ParameterGrid(MomentumStrategy, GRID)
    short = load_bars("MCL_FUT", data_dir=small_sample, start="2024-01-08", end="2024-02-02")
    r = sweep(short, grid)  # 16 blocks need 32 trade dates
    assert r.returns is not None
    n_days = len(r.returns)
    assert n_days < 32
    d = r.diagnostics()
    assert d["pbo"]["pbo"] is None
    assert (
        f"CSCV with 16 blocks needs at least 32 returns (2 per block), got {n_days}"
        in (d["pbo"]["reason"])
    )
    assert d["deflated_sharpe"]["dsr"] is not None  # the rest is still there
    assert any("No probability of backtest overfitting" in x for x in d["recommendations"])
    folder = r.save(tmp_path)  # the folder is still written, without the CSCV splits
    assert not (folder / "cscv_splits.csv").exists()
    assert (folder / "overfitting.html").is_file()
    one = sweep(bars, ParameterGrid(MomentumStrategy, {"fast_period": [10], "slow_period": [40]}))
    assert one.diagnostics()["deflated_sharpe"]["expected_max_sharpe"] == 0.0  # 1 trial
    assert "one combination ran" in one.diagnostics()["pbo"]["reason"]
    with pytest.raises(ConfigError, match="even number"):
        sweep(bars, grid, blocks=7)
    with pytest.raises(ConfigError, match="at most 22 blocks"):
        sweep(bars, grid, blocks=40)


def test_next_experiments_are_new_valid_and_near_the_best(swept) -> None:
    opt = StrategyOptimizer(swept)
    nxt = opt.generate_next_experiments(n=6)
    assert nxt
    rows = swept.table.to_dict("records")
    tested = {(r["fast_period"], r["slow_period"]) for r in rows}
    top = [{k: r[k] for k in GRID} for r in rows[:3]]
    for p in nxt:
        assert (p["fast_period"], p["slow_period"]) not in tested
        MomentumStrategy(**p)  # valid
        # one parameter moved from one of the three best combinations
        assert any(sum(p[k] != base[k] for k in GRID) == 1 for base in top)
    assert opt.parameter_sensitivity("slow_period")["count"].sum() == 6
    with pytest.raises(ConfigError, match="was not swept"):
        opt.parameter_sensitivity("atr_period")
    with pytest.raises(ConfigError, match="no sweep"):
        StrategyOptimizer().generate_next_experiments()


def test_cli_sweep(small_sample: Path, tmp_path: Path) -> None:
    out = subprocess.run(
        [
            EXE,
            "sweep",
            "--data-dir",
            str(small_sample),
            "--grid",
            "fast_period=5,10",
            "--grid",
            "slow_period=20:60:40",
            "--results-dir",
            str(tmp_path),
            "--json",
        ],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["combinations"] == 4
    assert Path(doc["folder"]).parent == tmp_path
    assert doc["diagnostics"]["trials"] == 4
    assert doc["diagnostics"]["pbo"]["blocks"] == 16
    assert doc["recommendations"] == doc["diagnostics"]["recommendations"]
    assert doc["engine"] == {"name": "compiled", "note": None}
    text = subprocess.run(
        [
            EXE,
            "sweep",
            "--data-dir",
            str(small_sample),
            "--grid",
            "fast_period=5,10",
            "--grid",
            "slow_period=40",
            "--blocks",
            "8",
            "--no-save",
        ],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert text.returncode == 0, text.stderr
    line = next(x for x in text.stdout.splitlines() if x.startswith("  overfitting:"))
    assert "deflated Sharpe" in line
    assert "over 2 trials" in line
    assert "PBO" in line
    assert "(8 blocks, 70 splits" in line
    assert "  engine: compiled" in text.stdout.splitlines()
    odd = subprocess.run(
        [EXE, "sweep", "--data-dir", str(small_sample), "--blocks", "5", "--no-save"],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert odd.returncode == 2
    assert odd.stderr.startswith("error: CSCV blocks must be an even number >= 2, got 5")
    bad = subprocess.run(
        [EXE, "sweep", "--data-dir", str(small_sample), "--grid", "fast_period=1:x:2"],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: --grid 'fast_period=1:x:2': ema_crossover: fast_period=")
    assert "Traceback" not in bad.stderr


def test_heatmap_is_the_objective_by_two_parameters(swept) -> None:
    from workbench.visualization import sweep_heatmap

    fig = sweep_heatmap(
        swept.table, swept.objective, "fast_period", "slow_period", values=swept.grid.ranges
    )
    z = np.asarray(fig.data[0].z, dtype=float)
    assert list(fig.data[0].x) == ["5", "10", "20"]  # fast_period
    assert list(fig.data[0].y) == ["10", "20", "60"]  # slow_period
    for row in swept.table.to_dict("records"):
        i = [10, 20, 60].index(row["slow_period"])
        j = [5, 10, 20].index(row["fast_period"])
        assert z[i, j] == pytest.approx(row["sharpe_ratio"])
    assert np.isnan(z[0, 1])  # fast 10 >= slow 10: refused, an empty cell
    with pytest.raises(ConfigError, match="'atr_period' is not a column of the sweep table"):
        sweep_heatmap(swept.table, swept.objective, "atr_period")


def test_papermill_batch_on_dask_matches_the_in_process_sweep(
    small_sample: Path, tmp_path: Path
) -> None:
    """Each combination as an executed backtest notebook (02) on a 2-worker Dask cluster: the
    table read back from the runs' summary.json files is the in-process sweep's."""
    from dask.distributed import Client, LocalCluster

    from workbench.optimize import run_notebook_sweep

    grid = ParameterGrid(MomentumStrategy, {"fast_period": [10, 20], "slow_period": [40]})
    window: dict[str, Any] = {"start": "2024-01-08", "end": "2024-02-09"}
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as cluster,
        Client(cluster) as client,
    ):
        result, folder = run_notebook_sweep(
            grid,
            parameters={"data_dir": str(small_sample), **window},
            results_dir=tmp_path,
            client=client,
        )
    bars = load_bars("MCL_FUT", data_dir=small_sample, **window)
    in_process = sweep(bars, grid)
    pd.testing.assert_frame_equal(result.table, in_process.table, check_dtype=False)
    # the daily returns read back from the runs' daily_pnl.csv are the in-process ones
    pd.testing.assert_frame_equal(result.returns, in_process.returns, check_exact=True)
    assert (folder / "cscv_splits.csv").is_file() or result.diagnostics()["pbo"]["reason"]
    assert sorted(p.name for p in (folder / "notebooks").iterdir()) == ["0000.ipynb", "0001.ipynb"]
    assert len(list(folder.glob("runs/*/*/report.html"))) == 2
    assert (folder / "parameter_sweep.csv").is_file()
    assert json.loads((folder / "best_params.json").read_text())["options"]["notebook"].endswith(
        "02_backtest.ipynb"
    )
    # A run whose notebook fails is reported, not lost, and the others' folder still lands.
    failed, folder2 = run_notebook_sweep(
        ParameterGrid(MomentumStrategy, {"fast_period": [10], "slow_period": [40]}),
        parameters={"data_dir": str(small_sample), "start": "2031-01-01", "end": "2031-01-31"},
        results_dir=tmp_path,
    )
    assert failed.table.empty
    assert failed.diagnostics()["available"] is False
    assert failed.diagnostics()["reason"] == "no combination ran"
    assert "notebook 0000 failed" in failed.skipped[0][1]
    assert folder2.is_dir()
    with pytest.raises(ConfigError, match="set per run"):
        run_notebook_sweep(grid, parameters={"strategy": "x"}, results_dir=tmp_path)


def test_a_large_sweep_says_what_it_will_do_and_asks_for_yes(small_sample: Path) -> None:
    out = subprocess.run(
        [EXE, "sweep", "--data-dir", str(small_sample), "--strategy", "bollinger_reversion"],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 2
    assert "Bollinger Mean Reversion: 12,600 combinations, grid search, data 2024-01-01" in (
        out.stderr
    )
    assert "estimated" in out.stderr
    assert "error: 12,600 combinations, about" in out.stderr
    assert "pass --yes" in out.stderr
    assert "--search random --trials" in out.stderr  # the way to sample instead
    assert "Traceback" not in out.stderr
    assert out.stdout == ""


def test_notebook_and_in_process_sweeps_run_on_the_same_data(
    small_sample: Path, tmp_path: Path
) -> None:
    """Same flags, same answer: without --start/--end both modes use the whole catalog and
    both print it (the notebook's own default dates do not leak in)."""
    args = [EXE, "sweep", "--data-dir", str(small_sample), "--grid", "fast_period=10"]
    args += ["--grid", "slow_period=40", "--results-dir", str(tmp_path), "--json"]
    runs = {}
    for mode in ([], ["--notebooks"]):
        out = subprocess.run(
            args + mode, env=child_env(), capture_output=True, text=True, timeout=600
        )
        assert out.returncode == 0, out.stderr
        assert "data 2024-01-01 23:00 to 2024-03-15 20:59 UTC (74,220 ohlcv-1m bars)" in out.stderr
        assert "Passed unknown parameter" not in out.stderr
        assert "Unable to parse" not in out.stderr
        runs[bool(mode)] = json.loads(out.stdout)
    assert runs[True]["data"] == runs[False]["data"]
    assert runs[True]["best"]["sharpe_ratio"] == runs[False]["best"]["sharpe_ratio"]
    assert runs[True]["best"]["total_trades"] == runs[False]["best"]["total_trades"]
    [summary] = Path(runs[True]["folder"]).glob("runs/0000/*/summary.json")
    data = json.loads(summary.read_text())["data_range"]
    assert (data["start"], data["end"]) == ("2024-01-02", "2024-03-15")  # trade dates
