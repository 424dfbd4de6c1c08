"""The quant figures of summary.json held to independent implementations on the same returns.

empyrical (``empyrical-reloaded``, the statistics behind pyfolio) computes volatility, CAGR,
VaR, CVaR, tail ratio, Omega, monthly aggregation, alpha and beta; scipy the skew and
kurtosis; plain pandas the Ulcer index, exposure, SQN, MAE/MFE and the benchmark. Each is
fed the daily returns by CME trade date that ``workbench.analysis`` computes from the run's
daily P&L (:func:`workbench.analysis.daily_returns`): the conventions are in
:mod:`workbench.analysis.distribution` and :mod:`workbench.analysis.benchmark`.
"""

from __future__ import annotations

import math
from pathlib import Path

import empyrical as ep
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from workbench.analysis import daily_returns, front_month_returns, trade_excursions
from workbench.analysis.distribution import STATISTICS_KEYS
from workbench.backtest.result import BacktestResult
from workbench.results import build_summary, validate_summary

REL = 1e-3  # figures are rounded to 4 decimals (percent) in summary.json


@pytest.fixture(scope="module")
def result(small_sample: Path) -> BacktestResult:
    from workbench.backtest import run_backtest
    from workbench.data import load_bars
    from workbench.strategies import strategy_class

    bars = load_bars(data_dir=str(small_sample))
    out = run_backtest(bars, strategy_class("bollinger_reversion")())
    assert len(out.trades) > 20
    return out


@pytest.fixture(scope="module")
def returns(result: BacktestResult) -> pd.Series:
    rets = daily_returns(result.daily_pnl, result.initial_capital)
    rets.index = pd.DatetimeIndex(pd.to_datetime(rets.index))
    assert rets.notna().all()
    return rets


def _close(ours: float | None, theirs: float, rel: float = REL, abs_: float = 1e-4) -> bool:
    assert ours is not None
    return math.isclose(ours, theirs, rel_tol=rel, abs_tol=abs_)


def test_return_distribution_matches_empyrical_and_scipy(
    result: BacktestResult, returns: pd.Series
) -> None:
    s = result.statistics["statistics"]
    r = returns.to_numpy()
    assert _close(s["volatility_pct"], ep.annual_volatility(r, period="daily") * 100)
    assert _close(s["cagr_pct"], ep.annual_return(r, period="daily") * 100)
    assert _close(s["skew"], stats.skew(r, bias=False))
    assert _close(s["kurtosis"], stats.kurtosis(r, fisher=True, bias=False))
    assert _close(s["var_95_pct"], ep.value_at_risk(r, cutoff=0.05) * 100)
    assert _close(s["cvar_95_pct"], ep.conditional_value_at_risk(r, cutoff=0.05) * 100)
    assert _close(s["tail_ratio"], ep.tail_ratio(r))
    assert _close(s["omega_ratio"], ep.omega_ratio(r, risk_free=0.0, required_return=0.0))
    assert s["var_95_pct"] >= s["cvar_95_pct"]  # the shortfall is beyond the VaR


def test_best_and_worst_day_and_month_match_empyrical(
    result: BacktestResult, returns: pd.Series
) -> None:
    s = result.statistics["statistics"]
    assert _close(s["best_day_pct"], returns.max() * 100)
    assert s["best_day"] == returns.idxmax().strftime("%Y-%m-%d")
    assert _close(s["worst_day_pct"], returns.min() * 100)
    assert s["worst_day"] == returns.idxmin().strftime("%Y-%m-%d")
    monthly = ep.aggregate_returns(returns, "monthly")  # indexed by (year, month)
    best, worst = monthly.idxmax(), monthly.idxmin()
    assert _close(s["best_month_pct"], monthly.max() * 100)
    assert s["best_month"] == f"{best[0]}-{best[1]:02d}"
    assert _close(s["worst_month_pct"], monthly.min() * 100)
    assert s["worst_month"] == f"{worst[0]}-{worst[1]:02d}"


def test_path_figures_match_plain_formulas(result: BacktestResult, returns: pd.Series) -> None:
    s = result.statistics["statistics"]
    p = result.metrics["performance"]
    assert "statistics" not in result.metrics  # a sweep reading metrics does not pay for them
    closes = result.initial_capital + result.daily_pnl.cumsum()
    peak = closes.cummax().clip(lower=result.initial_capital)
    ulcer = math.sqrt((((closes - peak) / peak * 100) ** 2).mean())
    assert _close(s["ulcer_index"], ulcer)
    assert _close(s["recovery_factor"], p["total_return_usd"] / p["max_drawdown_usd"])
    assert _close(s["exposure_pct"], float((result.position != 0).mean() * 100))
    assert 0 < s["exposure_pct"] < 100


def test_expectancy_and_sqn(result: BacktestResult) -> None:
    s = result.statistics["statistics"]
    net = result.trades["net_pnl"]
    assert _close(s["expectancy_usd"], net.mean(), abs_=0.005)
    assert _close(s["expectancy_r"], net.mean() / abs(net[net < 0].mean()))
    assert _close(s["sqn"], math.sqrt(len(net)) * net.mean() / net.std())  # pandas: ddof=1


def test_mae_and_mfe_per_trade_from_the_bars(result: BacktestResult) -> None:
    bars = result.bars
    assert bars is not None
    exc = result.excursions
    assert len(exc) == len(result.trades)
    assert (exc >= 0).all().all()
    for i, t in enumerate(result.trades.itertuples()):
        held = bars.loc[t.entry_time : t.exit_time]
        held = held[held["symbol"] == t.symbol]
        size = t.contracts * 100.0
        if t.side == "long":
            mae, mfe = t.entry_price - held["low"].min(), held["high"].max() - t.entry_price
        else:
            mae, mfe = held["high"].max() - t.entry_price, t.entry_price - held["low"].min()
        assert exc["mae_usd"].iloc[i] == pytest.approx(max(mae, 0) * size, abs=1e-6)
        assert exc["mfe_usd"].iloc[i] == pytest.approx(max(mfe, 0) * size, abs=1e-6)
        # a trade's result lies within its excursions (net of costs, so below the MFE)
        assert t.gross_pnl <= exc["mfe_usd"].iloc[i] + 1e-6
    s = result.statistics["statistics"]
    assert _close(s["avg_mae_usd"], exc["mae_usd"].mean(), abs_=0.005)
    assert _close(s["max_mfe_usd"], exc["mfe_usd"].max(), abs_=0.005)


def test_benchmark_is_buy_and_hold_of_the_front_month(result: BacktestResult) -> None:
    bars = result.bars
    assert bars is not None
    bench = front_month_returns(bars)
    # independent: per contract held, last close over first open, compounded
    segments = (bars["symbol"] != bars["symbol"].shift()).cumsum()
    by_segment = bars.groupby(segments).agg(first=("open", "first"), last=("close", "last"))
    total = float((by_segment["last"] / by_segment["first"]).prod())
    assert float((1 + bench).prod()) == pytest.approx(total, rel=1e-9)
    assert len(bench) == len(result.daily_pnl)
    assert (bench.index == pd.DatetimeIndex(pd.to_datetime(result.daily_pnl.index))).all()
    b = result.statistics["benchmark"]
    assert _close(b["total_return_pct"], (total - 1) * 100)
    assert _close(b["volatility_pct"], ep.annual_volatility(bench.to_numpy()) * 100)
    assert _close(b["max_drawdown_pct"], -ep.max_drawdown(bench.to_numpy()) * 100)


def test_alpha_beta_and_correlation_match_empyrical(
    result: BacktestResult, returns: pd.Series
) -> None:
    bench = front_month_returns(result.bars)
    alpha, beta = ep.alpha_beta(returns, bench, risk_free=0.0, period="daily")
    b = result.statistics["benchmark"]
    assert _close(b["beta"], beta)
    assert _close(b["alpha_pct"], alpha * 100)
    assert _close(b["correlation"], returns.corr(bench))
    assert -1 <= b["correlation"] <= 1


def test_statistics_on_random_returns_match_empyrical() -> None:
    """Beyond one backtest: fat-tailed random daily P&L over three years."""
    from workbench.analysis.distribution import return_statistics

    rng = np.random.default_rng(11)
    pnl = pd.Series(
        rng.standard_t(3, 756) * 40 + 3,
        index=pd.bdate_range("2023-01-02", periods=756, name="trade_date"),
    )
    rets = daily_returns(pnl, 10_000.0)
    r = rets.to_numpy()
    s = return_statistics(rets, 10_000.0, final_equity=10_000 + pnl.sum(), max_drawdown_usd=1.0)
    assert _close(s["volatility_pct"], ep.annual_volatility(r) * 100)
    assert _close(s["cagr_pct"], ep.annual_return(r) * 100)
    assert _close(s["cvar_95_pct"], ep.conditional_value_at_risk(r) * 100)
    assert _close(s["var_95_pct"], ep.value_at_risk(r) * 100)
    assert _close(s["omega_ratio"], ep.omega_ratio(r))
    assert _close(s["tail_ratio"], ep.tail_ratio(r))
    assert _close(s["kurtosis"], stats.kurtosis(r, bias=False))


def test_undefined_figures_are_none_and_the_summary_is_valid(result: BacktestResult) -> None:
    from workbench.analysis.distribution import return_statistics

    flat = pd.Series([0.0, 0.0, 0.0], index=pd.bdate_range("2024-01-02", periods=3))
    s = return_statistics(flat, 1000.0, final_equity=1000.0, max_drawdown_usd=0.0)
    assert set(s) == set(STATISTICS_KEYS)
    assert s["omega_ratio"] is None  # no losing day
    assert s["recovery_factor"] is None  # no drawdown
    assert s["tail_ratio"] is None
    summary = build_summary(result, "quant_run")
    validate_summary(summary)
    assert summary["benchmark"]["beta"] is not None
    assert set(summary["statistics"]) >= set(STATISTICS_KEYS)
    trades = result.trades.iloc[:0]
    assert trade_excursions(trades, result.bars, 100.0).empty
