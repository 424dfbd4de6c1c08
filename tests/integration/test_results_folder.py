"""Run folders on disk: every file, reconciled against the backtest; atomic saves; comparisons;
the CLI.

Backtests run on the session's small synthetic catalog. report.pdf is switched off here
(``WORKBENCH_CHROMIUM`` pointing nowhere): printing takes seconds and belongs to the
visualization tests.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from workbench.backtest import BacktestResult, run_backtest
from workbench.data import load_bars
from workbench.errors import WorkbenchError
from workbench.results import (
    NotARunError,
    ResultSaver,
    compare_runs,
    list_runs,
    period_warning,
    save_results,
    validate_summary,
)
from workbench.results import saver as saver_module
from workbench.results.saver import RUN_FILES
from workbench.strategies import strategy_class
from workbench.visualization import compare_with_report, save_with_report
from workbench.visualization.report import report_writer
from workbench.visualization.report.comparison import comparison_table_html

NO_CHROMIUM = "/nonexistent/chromium-for-tests"
REPORT_CHARTS = ("equity_curve", "drawdown", "trade_distribution", "monthly_returns")
STRATEGIES = {
    "ema_crossover": {"fast_period": 10, "slow_period": 40},
    "bollinger_reversion": {},
    "donchian_breakout": {},
}


@pytest.fixture(autouse=True)
def _no_pdf(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_CHROMIUM", NO_CHROMIUM)


@pytest.fixture(scope="module")
def bars(small_sample: Path) -> pd.DataFrame:
    return load_bars("MCL_FUT", data_dir=small_sample)


@pytest.fixture(scope="module")
def results(bars: pd.DataFrame) -> dict[str, BacktestResult]:
    return {
        name: run_backtest(bars, strategy_class(name).from_parameters(params))
        for name, params in STRATEGIES.items()
    }


@pytest.fixture(scope="module")
def saved(
    results: dict[str, BacktestResult], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """Each strategy saved once, with the report."""
    root = tmp_path_factory.mktemp("runs")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WORKBENCH_CHROMIUM", NO_CHROMIUM)
        return {name: save_with_report(r, root) for name, r in results.items()}


def _csv(run: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(run / name)


def _utc(col: pd.Series) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(col, utc=True))


# --- the files of a run --------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_summary_json_validates_for_each_strategy(
    saved: dict[str, Path], results: dict[str, BacktestResult], name: str
) -> None:
    run = saved[name]
    summary = json.loads((run / "summary.json").read_text())
    validate_summary(summary)
    assert summary["run_id"] == run.name
    short = name.split("_")[0]
    assert run.name.endswith(f"_{short}_MCL_FUT")
    r = results[name]
    assert summary["performance"] == r.metrics["performance"]
    assert summary["strategy"]["class"] == r.parameters["strategy"]["class"]
    assert summary["strategy"]["parameters"] == r.parameters["strategy"]["parameters"]
    assert summary["data_range"]["total_bars"] == len(r.equity)
    assert summary["provenance"]["synthetic"] is True
    assert summary["config"] == r.parameters["config"]
    rolls = summary["provenance"]["rolls"]
    assert rolls
    assert [x["to_symbol"] for x in rolls] == [x["to_symbol"] for x in r.provenance["rolls"]]
    assert summary["recommendations"] == [s for s in summary["recommendations"] if s]
    # the JSON text itself has no NaN/Infinity tokens
    text = (run / "summary.json").read_text()
    assert "NaN" not in text
    assert "Infinity" not in text


def test_run_folder_has_every_file(saved: dict[str, Path]) -> None:
    run = saved["ema_crossover"]
    names = {p.name for p in run.iterdir()}
    assert set(RUN_FILES) <= names
    assert "report.html" in names
    for chart in REPORT_CHARTS:
        assert (run / "charts" / f"{chart}.html").is_file(), chart
    assert (run / "plotly.min.js").is_file()  # one copy, for report.html and charts/
    assert not list((run / "charts").glob("*.js"))
    assert not any(n.startswith(".") for n in names)
    html = (run / "report.html").read_text()
    assert run.name in html
    assert ".tmp-" not in html  # written in the temporary folder, but no path leaks


def test_trades_csv_reconciles_with_the_equity(
    saved: dict[str, Path], results: dict[str, BacktestResult]
) -> None:
    for name, run in saved.items():
        r = results[name]
        trades = _csv(run, "trades.csv")
        assert list(trades.columns) == [*r.trades.columns, "mae_usd", "mfe_usd"]
        assert len(trades) == len(r.trades) > 0
        np.testing.assert_allclose(trades["mae_usd"], r.excursions["mae_usd"], atol=0.005)
        assert (trades["mfe_usd"] >= 0).all()
        # dollar columns to the cent, as written (no 24.99999999999858)
        money = ["gross_pnl", "commission", "slippage_cost", "net_pnl", "mae_usd", "mfe_usd"]
        for col in money:
            assert (trades[col].round(2) == trades[col]).all(), col
        assert trades["net_pnl"].sum() == pytest.approx(
            r.final_equity - r.initial_capital, abs=1e-6
        )
        np.testing.assert_allclose(
            trades["net_pnl"], trades["gross_pnl"] - trades["commission"], atol=1e-9
        )
        assert (_utc(trades["entry_time"]) == pd.DatetimeIndex(r.trades["entry_time"])).all()
        assert (_utc(trades["exit_time"]) == pd.DatetimeIndex(r.trades["exit_time"])).all()
        assert trades["symbol"].tolist() == r.trades["symbol"].tolist()


def test_daily_pnl_csv_sums_to_the_total(
    saved: dict[str, Path], results: dict[str, BacktestResult]
) -> None:
    for name, run in saved.items():
        r = results[name]
        daily = _csv(run, "daily_pnl.csv")
        summary = json.loads((run / "summary.json").read_text())
        assert len(daily) == summary["data_range"]["trading_days"] == len(r.daily_pnl)
        total = r.final_equity - r.initial_capital
        assert daily["net_pnl"].sum() == pytest.approx(total, abs=1e-6)
        assert daily["equity"].iloc[-1] == pytest.approx(r.final_equity, abs=1e-6)
        assert summary["performance"]["total_return_usd"] == pytest.approx(total, abs=0.005)
        assert daily["trade_date"].is_monotonic_increasing


def test_equity_curve_parquet_is_full_resolution_and_exact(
    saved: dict[str, Path], results: dict[str, BacktestResult]
) -> None:
    run, r = saved["ema_crossover"], results["ema_crossover"]
    eq = pd.read_parquet(run / "equity_curve.parquet")
    assert list(eq.columns) == ["ts", "equity", "position"]
    assert len(eq) == len(r.equity)
    np.testing.assert_array_equal(eq["equity"].to_numpy(), r.equity.to_numpy())
    np.testing.assert_array_equal(eq["position"].to_numpy(), r.position.to_numpy())
    assert (pd.DatetimeIndex(eq["ts"]) == r.equity.index).all()


def test_equity_curve_csv_keeps_changes_and_daily_marks(
    saved: dict[str, Path], results: dict[str, BacktestResult]
) -> None:
    """The CSV is a small fraction of the bars, yet exact at every position change, at every
    trade date's close and wherever a flat account's equity changes."""
    run, r = saved["ema_crossover"], results["ema_crossover"]
    eq = _csv(run, "equity_curve.csv")
    assert list(eq.columns) == ["ts", "equity", "position", "mark"]
    assert len(eq) < len(r.equity) / 4
    assert eq["ts"].iloc[0].endswith("Z")
    assert eq["mark"].iloc[0] == "start"
    assert eq["mark"].iloc[-1] == "end"
    assert eq["equity"].iloc[-1] == r.final_equity
    ts = _utc(eq["ts"])
    full = r.equity.loc[ts]
    np.testing.assert_array_equal(eq["equity"].to_numpy(), full.to_numpy())
    np.testing.assert_array_equal(eq["position"].to_numpy(), r.position.loc[ts].to_numpy())
    # every position change is a row
    pos = r.position.to_numpy()
    changed = r.position.index[1:][pos[1:] != pos[:-1]]
    assert changed.isin(ts).all()
    # each trade date's closing equity is a row, and matches daily_pnl.csv
    closes = eq.loc[eq["mark"].isin(["day_close", "end"]), "equity"].to_numpy()
    daily = _csv(run, "daily_pnl.csv")
    n = min(len(closes), len(daily))
    assert n >= len(daily) - 1
    np.testing.assert_allclose(closes[-n:], daily["equity"].to_numpy()[-n:], atol=1e-6)
    # stepping the CSV forward is exact wherever the account is flat
    stepped = pd.Series(eq["equity"].to_numpy(), index=ts).reindex(r.equity.index, method="ffill")
    flat = np.r_[True, pos[:-1] == 0] & (pos == 0)
    np.testing.assert_array_equal(stepped.to_numpy()[flat], r.equity.to_numpy()[flat])


def test_signals_csv_holds_only_changes_and_reconstructs_the_series(
    saved: dict[str, Path], results: dict[str, BacktestResult]
) -> None:
    for name, run in saved.items():
        r = results[name]
        sig = _csv(run, "signals.csv")
        assert list(sig.columns) == ["ts", "signal"]
        values = sig["signal"].to_numpy()
        assert (values[1:] != values[:-1]).all()  # every row is a change
        assert len(sig) < len(r.signals) / 5
        changes = pd.Series(values, index=_utc(sig["ts"]))
        rebuilt = changes.reindex(r.signals.index, method="ffill")
        np.testing.assert_array_equal(rebuilt.to_numpy(), r.signals.to_numpy())


def test_drawdowns_and_risk_events_csv(
    saved: dict[str, Path], results: dict[str, BacktestResult]
) -> None:
    run, r = saved["ema_crossover"], results["ema_crossover"]
    dd = _csv(run, "drawdowns.csv")
    assert len(dd) == len(r.drawdowns) > 0
    summary = json.loads((run / "summary.json").read_text())
    assert dd["depth_usd"].max() == pytest.approx(summary["performance"]["max_drawdown_usd"])
    assert dd["depth_pct"].max() == pytest.approx(summary["performance"]["max_drawdown_pct"])
    recovered = dd["end"].notna()
    minutes = (_utc(dd["end"][recovered]) - _utc(dd["start"][recovered])).total_seconds() / 60
    np.testing.assert_allclose(dd["duration_minutes"][recovered], minutes)
    assert dd["recovery_minutes"][~recovered].isna().all()

    ev = _csv(run, "risk_events.csv")
    assert len(ev) == len(r.risk_events)
    assert (ev["action"] == "rejected").sum() == r.trades_rejected
    assert (ev["action"] == "circuit_breaker").sum() == r.circuit_breaker_triggered
    assert summary["risk_metrics"]["trades_rejected"] == r.trades_rejected


def test_parameters_json_repeats_the_run(
    saved: dict[str, Path], results: dict[str, BacktestResult]
) -> None:
    run, r = saved["bollinger_reversion"], results["bollinger_reversion"]
    params = json.loads((run / "parameters.json").read_text())
    assert params["run_id"] == run.name
    assert params["strategy"] == r.parameters["strategy"]
    assert params["config"] == r.parameters["config"]
    assert params["contract"] == r.parameters["contract"]
    assert params["provenance"]["rolls"][0]["from_close"] == r.provenance["rolls"][0]["from_close"]
    assert params["data_range"]["start_time"] == r.data_range["start_time"]
    # the same strategy and config again give the same backtest
    strategy = strategy_class(params["strategy"]["key"]).from_parameters(
        params["strategy"]["parameters"]
    )
    assert strategy.parameters() == r.parameters["strategy"]["parameters"]


def test_no_secret_from_the_environment_is_written(
    results: dict[str, BacktestResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = {
        "DATABENTO_API_KEY": "db-TESTSECRET-4f1c9a2b7e",
        "AWS_SECRET_ACCESS_KEY": "aws-TESTSECRET-88d0e1f2",
    }
    for k, v in secrets.items():
        monkeypatch.setenv(k, v)
    run = save_with_report(results["donchian_breakout"], tmp_path)
    files = [p for p in run.rglob("*") if p.is_file()]
    assert len(files) > len(RUN_FILES)
    for f in files:
        blob = f.read_bytes()
        for k, v in secrets.items():
            assert v.encode() not in blob, f"{k} leaked into {f}"


# --- naming and atomicity -----------------------------------------------------------------------


def test_saves_in_the_same_second_get_different_ids(
    results: dict[str, BacktestResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fixed = pd.Timestamp("2026-01-10 14:30:52", tz="UTC").to_pydatetime()
    monkeypatch.setattr(saver_module, "utc_now", lambda: fixed)
    r = results["ema_crossover"]
    out: list[Path] = []
    errors: list[BaseException] = []

    def save() -> None:
        try:
            out.append(save_results(r, tmp_path))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=save) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    base = "2026-01-10_143052_ema_MCL_FUT"
    assert sorted(p.name for p in out) == sorted([base, f"{base}_2", f"{base}_3", f"{base}_4"])
    for run in out:
        assert json.loads((run / "summary.json").read_text())["run_id"] == run.name
        assert (run / "equity_curve.csv").stat().st_size > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in out)


def test_explicit_run_id_and_result_saver(
    results: dict[str, BacktestResult], tmp_path: Path
) -> None:
    r = results["ema_crossover"]
    a = ResultSaver().save_all(r, tmp_path, run_id="baseline")
    b = save_results(r, tmp_path, run_id="baseline")
    assert (a.name, b.name) == ("baseline", "baseline_2")
    assert r.extra["run_dir"] == str(b)
    assert not (a / "report.html").exists()
    with pytest.raises(WorkbenchError, match="invalid run id"):
        save_results(r, tmp_path, run_id="../outside")


def test_results_dir_that_is_a_file_fails_clearly(
    results: dict[str, BacktestResult], tmp_path: Path
) -> None:
    blocker = tmp_path / "results"
    blocker.write_text("not a folder")
    with pytest.raises(WorkbenchError, match="is a file, not a folder"):
        save_results(results["ema_crossover"], blocker)
    with pytest.raises(WorkbenchError, match="part of that path is a file"):
        save_results(results["ema_crossover"], blocker / "backtests")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


def test_results_alone_write_no_pages(results: dict[str, BacktestResult], tmp_path: Path) -> None:
    """Without writers a run folder holds the data files (and a README listing exactly them);
    the report comes only from a writer handed in."""
    run = save_results(results["ema_crossover"], tmp_path)
    assert sorted(p.name for p in run.iterdir()) == sorted(RUN_FILES)
    readme = (run / "README.md").read_text()
    assert "report.html" not in readme
    with_report = ResultSaver([report_writer()]).save_all(results["ema_crossover"], tmp_path)
    assert {"report.html", "charts"} <= {p.name for p in with_report.iterdir()}
    readme = (with_report / "README.md").read_text()
    assert "| report.html | Human-readable report" in readme
    assert "| charts/ | Interactive charts" in readme


def test_a_failing_writer_leaves_no_run_folder(
    results: dict[str, BacktestResult], tmp_path: Path
) -> None:
    seen: list[dict[str, Any]] = []

    def failing(result: BacktestResult, folder: Path, summary: dict[str, Any]) -> None:
        seen.append(summary)
        (folder / "half.html").write_text("<html>")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        save_results(results["ema_crossover"], tmp_path / "runs", writers=[failing])
    assert len(seen) == 1
    assert seen[0]["run_id"].endswith("_ema_MCL_FUT")
    assert list((tmp_path / "runs").iterdir()) == []


def test_cli_without_the_report_module_fails_before_writing_anything(
    cli_runner: CliRunner, small_sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "workbench.visualization.report", None)
    out = tmp_path / "runs"
    with pytest.raises(WorkbenchError, match=r"workbench\.visualization\.report") as info:
        _invoke(cli_runner, "backtest", "--data-dir", str(small_sample), "--results-dir", str(out))
    assert info.value.hint is not None
    assert "--no-save-results" in info.value.hint
    assert not out.exists()


CRASH_SCRIPT = textwrap.dedent(
    """
    import resource, signal, sys
    from workbench.backtest import run_backtest
    from workbench.data import load_bars
    from workbench.results import save_results
    from workbench.strategies import MomentumStrategy

    data_dir, out, mode = sys.argv[1:4]
    result = run_backtest(
        load_bars("MCL_FUT", data_dir=data_dir), MomentumStrategy(fast_period=10, slow_period=40)
    )
    # summary.json and parameters.json fit, the CSVs of 10 weeks of trades do not
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, resource.RLIM_INFINITY))
    if mode == "kill":
        signal.signal(signal.SIGXFSZ, signal.SIG_DFL)  # the kernel kills us mid-write
    save_results(result, out)
    print("saved")
    """
)


def _run_crash(small_sample: Path, out: Path, mode: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WORKBENCH_", "DATABENTO_"))}
    return subprocess.run(
        [sys.executable, "-c", CRASH_SCRIPT, str(small_sample), str(out), mode],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )


def test_a_crash_mid_save_leaves_no_complete_looking_folder(
    small_sample: Path, tmp_path: Path, results: dict[str, BacktestResult]
) -> None:
    out = tmp_path / "runs"
    proc = _run_crash(small_sample, out, "kill")
    assert proc.returncode == -signal.SIGXFSZ, proc.stderr
    assert "saved" not in proc.stdout
    left = sorted(out.iterdir())
    visible = [p for p in left if not p.name.startswith(".")]
    assert visible == []
    assert list_runs(out) == []
    tmp_dirs = [p for p in left if p.is_dir() and ".tmp-" in p.name]
    assert len(tmp_dirs) == 1
    # the crash came in the middle: the first files were already written
    written = {p.name for p in tmp_dirs[0].iterdir()}
    assert {"summary.json", "parameters.json", "trades.csv"} <= written
    assert "README.md" not in written  # written last
    # comparing the leftover is refused with an explanation
    with pytest.raises(NotARunError, match="unfinished"):
        compare_runs([tmp_dirs[0], tmp_dirs[0]], tmp_path / "cmp")
    # an hour later, the next save cleans the leftovers up
    old = time.time() - 7200
    for p in left:
        os.utime(p, (old, old))
    run = save_results(results["ema_crossover"], out)
    assert sorted(out.iterdir()) == [run]


def test_a_failed_write_removes_the_temporary_folder(small_sample: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    proc = _run_crash(small_sample, out, "raise")
    assert proc.returncode == 1
    assert "File too large" in proc.stderr
    assert list(out.iterdir()) == []  # no run, no temporary folder, no lock


# --- comparisons ----------------------------------------------------------------------------------


def test_compare_two_runs(saved: dict[str, Path], tmp_path: Path) -> None:
    a, b = saved["ema_crossover"], saved["donchian_breakout"]
    folder = compare_with_report([a, b], tmp_path / "comparisons")
    assert folder.parent == tmp_path / "comparisons"
    assert sorted(p.name for p in folder.iterdir()) == [
        "comparison_report.html",
        "daily_return_correlation.csv",
        "plotly.min.js",  # loaded by comparison_report.html (not inlined)
        "strategy_comparison.csv",
    ]
    corr = pd.read_csv(folder / "daily_return_correlation.csv", index_col=0)
    assert list(corr.columns) == [a.name, b.name]
    np.testing.assert_allclose(np.diag(corr.to_numpy()), 1.0)
    # independent: the same correlation from each run's daily_pnl.csv
    rets = {}
    for run in (a, b):
        daily = _csv(run, "daily_pnl.csv")
        start = daily["equity"].shift(1, fill_value=5000.0)
        rets[run.name] = pd.Series((daily["net_pnl"] / start).to_numpy(), index=daily["trade_date"])
    expected = pd.Series(rets[a.name]).corr(pd.Series(rets[b.name]))
    assert corr.loc[a.name, b.name] == pytest.approx(expected, abs=1e-9)
    table = pd.read_csv(folder / "strategy_comparison.csv")
    assert table["run_id"].tolist() == [a.name, b.name]
    for run, row in zip((a, b), table.itertuples(index=False), strict=True):
        s = json.loads((run / "summary.json").read_text())
        assert row.total_return_pct == s["performance"]["total_return_pct"]
        assert row.total_trades == s["performance"]["total_trades"]
        assert row.sharpe_ratio == pytest.approx(s["performance"]["sharpe_ratio"])
        assert json.loads(row.parameters) == s["strategy"]["parameters"]
    html = (folder / "comparison_report.html").read_text()
    assert a.name in html
    assert b.name in html
    again = compare_runs([b, a], tmp_path / "comparisons")
    assert again != folder


def test_compare_over_different_periods_warns_and_ranks_no_totals(
    saved: dict[str, Path], tmp_path: Path, cli_runner: CliRunner
) -> None:
    a = saved["ema_crossover"]
    b = tmp_path / "later"
    shutil.copytree(saved["donchian_breakout"], b)
    summary = json.loads((b / "summary.json").read_text())
    summary["run_id"], summary["data_range"]["start"] = "later", "2024-02-01"
    (b / "summary.json").write_text(json.dumps(summary))
    summaries = [json.loads((d / "summary.json").read_text()) for d in (a, b)]
    assert period_warning(summaries[:1] * 2) is None
    assert "different periods" in (period_warning(summaries) or "")
    table = comparison_table_html(summaries)
    for label in ("Total return", "Max drawdown", "Trades"):
        row = table.split(f'<th class="l">{label}</th>', 1)[1].split("</tr>", 1)[0]
        assert 'class="best"' not in row, label
    same = comparison_table_html(
        [summaries[0], {**summaries[1], "data_range": summaries[0]["data_range"]}]
    )
    assert 'class="best"' in same.split('<th class="l">Total return</th>', 1)[1].split("</tr>")[0]
    res = _invoke(cli_runner, "compare", str(a), str(b), "--out-dir", str(tmp_path / "cmp"))
    assert res.exit_code == 0, res.output
    assert "warning: the runs cover different periods" in res.output
    html = next((tmp_path / "cmp").iterdir()).joinpath("comparison_report.html").read_text()
    assert 'id="period-warning"' in html


def _make_bad_runs(saved: dict[str, Path], tmp_path: Path) -> dict[str, Path]:
    broken = tmp_path / "broken"
    broken.mkdir()
    summary = json.loads((saved["ema_crossover"] / "summary.json").read_text())
    del summary["performance"]
    (broken / "summary.json").write_text(json.dumps(summary))
    not_json = tmp_path / "not_json"
    not_json.mkdir()
    (not_json / "summary.json").write_text("{oops")
    empty = tmp_path / "empty"
    empty.mkdir()
    return {"broken": broken, "not_json": not_json, "empty": empty}


@pytest.mark.parametrize(
    ("which", "message", "hint"),
    [
        ("missing", "does not exist", "results/backtests"),
        ("file", "is a file, not a run folder", "summary.json"),
        ("parent", "is a folder of 3 runs", "pass the run folders inside it"),
        ("broken", "does not match the summary schema", "run the backtest again"),
        ("not_json", "cannot read", "run the backtest again"),
        ("empty", "has no summary.json", "workbench backtest"),
    ],
)
def test_compare_explains_folders_that_are_not_runs(
    saved: dict[str, Path], tmp_path: Path, which: str, message: str, hint: str
) -> None:
    good = saved["ema_crossover"]
    bad = {
        "missing": tmp_path / "nope",
        "file": good / "summary.json",
        "parent": good.parent,
        **_make_bad_runs(saved, tmp_path),
    }[which]
    with pytest.raises(NotARunError) as info:
        compare_runs([good, bad], tmp_path / "cmp")
    assert message in info.value.message
    assert str(bad) in info.value.message
    assert info.value.hint is not None
    assert hint in info.value.hint
    assert not (tmp_path / "cmp").exists()


def test_compare_needs_two_distinct_runs(saved: dict[str, Path], tmp_path: Path) -> None:
    run = saved["ema_crossover"]
    with pytest.raises(WorkbenchError, match="at least two"):
        compare_runs([run], tmp_path / "cmp")
    with pytest.raises(WorkbenchError, match="given twice"):
        compare_runs([run, run], tmp_path / "cmp")


# --- command line ---------------------------------------------------------------------------------


@pytest.fixture
def cli_runner() -> CliRunner:
    return CliRunner()


def _invoke(runner: CliRunner, *args: str) -> Any:
    from workbench.cli.main import cli

    return runner.invoke(cli, list(args), catch_exceptions=False)


def test_cli_backtest_saves_a_complete_run(small_sample: Path, tmp_path: Path) -> None:
    """The installed `workbench` entry point, in a subprocess."""
    exe = Path(sys.executable).parent / "workbench"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WORKBENCH_", "DATABENTO_"))}
    env["WORKBENCH_CHROMIUM"] = NO_CHROMIUM
    out = tmp_path / "results" / "backtests"
    proc = subprocess.run(
        [
            str(exe),
            "backtest",
            "--data-dir",
            str(small_sample),
            "--results-dir",
            str(out),
            "--param",
            "fast_period=10",
            "--param",
            "slow_period=40",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    runs = list_runs(out)
    assert len(runs) == 1
    run = runs[0]
    assert f"results: {run}" in proc.stdout
    names = {p.name for p in run.iterdir()}
    assert set(RUN_FILES) | {"report.html", "charts"} <= names
    for chart in REPORT_CHARTS:
        assert (run / "charts" / f"{chart}.html").is_file()
    validate_summary(json.loads((run / "summary.json").read_text()))


def test_cli_no_save_results_writes_nothing(
    cli_runner: CliRunner, small_sample: Path, tmp_path: Path
) -> None:
    out = tmp_path / "runs"
    res = _invoke(
        cli_runner,
        "backtest",
        "--data-dir",
        str(small_sample),
        "--results-dir",
        str(out),
        "--no-save-results",
    )
    assert res.exit_code == 0, res.output
    assert "results:" not in res.output
    assert not out.exists()


def test_cli_json_names_the_run_dir_and_compare_uses_it(
    cli_runner: CliRunner, small_sample: Path, tmp_path: Path
) -> None:
    out = tmp_path / "runs"
    dirs = []
    for strategy in ("ema_crossover", "donchian_breakout"):
        res = _invoke(
            cli_runner,
            "backtest",
            "--data-dir",
            str(small_sample),
            "--results-dir",
            str(out),
            "--strategy",
            strategy,
            "--json",
        )
        assert res.exit_code == 0, res.output
        doc = json.loads(res.output)
        dirs.append(doc["run_dir"])
        assert Path(doc["run_dir"]).parent == out
    res = _invoke(cli_runner, "compare", *dirs, "--out-dir", str(tmp_path / "cmp"))
    assert res.exit_code == 0, res.output
    folders = list((tmp_path / "cmp").iterdir())
    assert len(folders) == 1
    assert f"comparison: {folders[0]}" in res.output
    for d in dirs:
        assert Path(d).name in res.output
    assert (folders[0] / "comparison_report.html").is_file()


def test_cli_compare_error_is_one_clear_message(
    saved: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from workbench.cli.main import main

    with pytest.raises(SystemExit) as info:
        main(["compare", str(saved["ema_crossover"]), str(tmp_path), "--out-dir", str(tmp_path)])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"error: {tmp_path} is not a backtest run folder" in err
    assert "hint:" in err
    assert "Traceback" not in err


def test_cli_show_opens_the_viewer(
    cli_runner: CliRunner, small_sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import types

    shown: list[Any] = []

    class FakeViewer:
        def show(self, result: Any) -> None:
            shown.append(result)

    fake = types.ModuleType("workbench.visualization.viewer")
    fake.BacktestViewer = FakeViewer  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "workbench.visualization.viewer", fake)
    res = _invoke(
        cli_runner, "backtest", "--data-dir", str(small_sample), "--no-save-results", "--show"
    )
    assert res.exit_code == 0, res.output
    assert len(shown) == 1
    assert isinstance(shown[0], BacktestResult)
    assert "run_dir" not in shown[0].extra
    # with a saved run, the viewer is pointed at its folder (and so at its report.html)
    out = tmp_path / "runs"
    res = _invoke(
        cli_runner, "backtest", "--data-dir", str(small_sample), "--results-dir", str(out), "--show"
    )
    assert res.exit_code == 0, res.output
    (run,) = list_runs(out)
    assert shown[1].extra["run_dir"] == str(run)


def test_cli_show_without_the_viewer_fails_clearly(
    cli_runner: CliRunner, small_sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "workbench.visualization.viewer", None)
    with pytest.raises(WorkbenchError, match=r"--show needs workbench\.visualization\.viewer"):
        _invoke(
            cli_runner, "backtest", "--data-dir", str(small_sample), "--no-save-results", "--show"
        )
