"""Backtest metrics against figures worked out by hand or recomputed plainly in the test."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from workbench.analysis import (
    compute_metrics,
    daily_returns,
    drawdown_periods,
    rolling_sharpe,
    trade_streaks,
)
from workbench.analysis.distribution import return_statistics
from workbench.analysis.metrics import MIN_DRAWDOWN_PCT
from workbench.analysis.reliability import MIN_TRADE_DATES
from workbench.model import TRADE_COLUMNS

T0 = pd.Timestamp("2024-03-04 15:00", tz="UTC")


def _equity(values: list[float] | np.ndarray, freq: str = "1h") -> pd.Series:
    index = pd.date_range(T0, periods=len(values), freq=freq)
    return pd.Series(np.asarray(values, dtype=float), index=index, name="equity")


def _daily(pnl: list[float] | np.ndarray) -> pd.Series:
    dates = pd.bdate_range("2024-01-02", periods=len(pnl)).to_numpy().astype("datetime64[D]")
    return pd.Series(np.asarray(pnl, dtype=float), index=pd.Index(dates, name="trade_date"))


def _trades(net: list[float], entries: list[str] | None = None, hold_min: int = 30) -> pd.DataFrame:
    n = len(net)
    entry = (
        pd.DatetimeIndex(entries, tz="UTC")
        if entries is not None
        else pd.date_range(T0, periods=n, freq="2h")
    )
    return pd.DataFrame(
        {
            "entry_time": entry,
            "exit_time": entry + pd.Timedelta(minutes=hold_min),
            "side": ["long"] * n,
            "contracts": [1] * n,
            "entry_price": [75.0] * n,
            "exit_price": [75.0] * n,
            "gross_pnl": np.asarray(net, dtype=float) + 1.0,
            "commission": [0.5] * n,
            "slippage_cost": [0.5] * n,
            "net_pnl": np.asarray(net, dtype=float),
            "exit_reason": ["signal"] * n,
            "bars_held": [30] * n,
            "symbol": ["MCLJ4"] * n,
        }
    )


def _no_trades() -> pd.DataFrame:
    return _trades([]).iloc[:0]


def _metrics(equity: list[float], daily: list[float], trades: pd.DataFrame | None = None) -> dict:
    return compute_metrics(
        _equity(equity),
        _no_trades() if trades is None else trades,
        _daily(daily),
        float(equity[0]),
    )


def _returns_to_pnl(returns: np.ndarray, capital: float) -> np.ndarray:
    """Daily P&L that makes each day's return exactly ``returns`` on start-of-day equity."""
    pnl, eq = [], capital
    for r in returns:
        pnl.append(r * eq)
        eq += r * eq
    return np.array(pnl)


# --- drawdown --------------------------------------------------------------------------------


def test_max_drawdown_of_the_example_curve() -> None:
    # 100 -> 120 -> 90 -> 130: the fall from 120 to 90 is $30, 25% of the peak.
    perf = _metrics([100, 120, 90, 130], [20, -30, 40])["performance"]
    assert perf["max_drawdown_usd"] == 30.0
    assert perf["max_drawdown_pct"] == 25.0
    assert perf["total_return_usd"] == 30.0
    assert perf["total_return_pct"] == 30.0


def test_largest_usd_and_pct_drawdowns_may_differ() -> None:
    # 100 -> 50 is -50% ($50); 200 -> 140 is -30% but $60.
    perf = _metrics([100, 50, 200, 140], [-50, 150, -60])["performance"]
    assert perf["max_drawdown_usd"] == 60.0
    assert perf["max_drawdown_pct"] == 50.0


@pytest.mark.parametrize("floor", [5_000.0, 4_000.0, 0.0, -1.0])
def test_native_max_drawdown_is_bitwise_the_numpy_formula(floor: float) -> None:
    from workbench_native import max_drawdown

    rng = np.random.default_rng(3)
    values = 5_000.0 + np.cumsum(rng.normal(0.0, 25.0, 50_000)).round(2)
    peak = np.maximum(np.maximum.accumulate(values), floor)
    dd = peak - values
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(peak > 0, dd / peak, np.nan)
    got = max_drawdown(values, floor)
    assert got is not None
    assert got[0] == dd.max()
    assert got[1] == np.nanmax(frac)
    assert max_drawdown(np.array([1.0, np.nan]), 0.0) is None


def test_drawdown_counts_a_loss_on_the_first_bar_against_initial_capital() -> None:
    m = compute_metrics(_equity([95, 100, 101]), _no_trades(), _daily([1.0]), 100.0)
    assert m["performance"]["max_drawdown_usd"] == 5.0
    assert m["performance"]["max_drawdown_pct"] == 5.0


def test_drawdown_periods_of_a_hand_made_curve() -> None:
    eq = _equity([100, 120, 90, 130, 110, 125])
    t = eq.index
    dd = drawdown_periods(eq)
    assert list(dd.columns) == [
        "start",
        "trough",
        "end",
        "depth_usd",
        "depth_pct",
        "duration",
        "recovery",
    ]
    assert len(dd) == 2
    first, second = dd.iloc[0], dd.iloc[1]
    # 120 (t1) -> 90 (t2) -> back to 130 at t3: 25%.
    assert (first["start"], first["trough"], first["end"]) == (t[1], t[2], t[3])
    assert first["depth_usd"] == pytest.approx(30.0)
    assert first["depth_pct"] == pytest.approx(25.0)
    assert first["duration"] == t[3] - t[1]
    assert first["recovery"] == t[3] - t[2]
    # 130 (t3) -> 110 (t4), not recovered by the end (125 < 130).
    assert (second["start"], second["trough"]) == (t[3], t[4])
    assert pd.isna(second["end"])
    assert pd.isna(second["recovery"])
    assert second["depth_usd"] == pytest.approx(20.0)
    assert second["depth_pct"] == pytest.approx(20.0 / 130.0 * 100.0)
    assert second["duration"] == t[5] - t[3]


def test_drawdown_periods_are_sorted_by_depth_and_first_trough_wins() -> None:
    # A shallow dip (-10%), then a deep one (-40%) whose low 60 is hit twice.
    eq = _equity([100, 90, 100, 60, 70, 60, 100])
    dd = drawdown_periods(eq)
    assert dd["depth_pct"].tolist() == pytest.approx([40.0, 10.0])
    assert dd.loc[0, "trough"] == eq.index[3]
    assert dd.loc[0, "start"] == eq.index[2]
    assert dd.loc[0, "end"] == eq.index[6]


def test_drawdown_periods_without_a_drawdown() -> None:
    assert drawdown_periods(_equity([100, 100, 101, 105])).empty
    assert drawdown_periods(_equity([])).empty


def test_drawdown_periods_match_a_plain_loop() -> None:
    rng = np.random.default_rng(11)
    values = 1000 + np.cumsum(rng.normal(0, 5, 3000))
    eq = _equity(values, freq="1min")
    # Plain loop: walk the curve, open a drawdown below the peak, close it back at the peak.
    expected = []
    peak, peak_i, low, low_i, inside = values[0], 0, None, None, False
    for i, v in enumerate(values):
        if v >= peak:
            if inside:
                expected.append((peak_i, low_i, i, peak - low, (peak - low) / peak * 100))
                inside = False
            peak, peak_i = v, i
        elif not inside or v < low:
            low, low_i, inside = v, i, True
    if inside:
        expected.append((peak_i, low_i, None, peak - low, (peak - low) / peak * 100))
    expected.sort(key=lambda row: -row[4])

    dd = drawdown_periods(eq)
    assert len(dd) == len(expected)
    t = eq.index
    assert dd["start"].tolist() == [t[e[0]] for e in expected]
    assert dd["trough"].tolist() == [t[e[1]] for e in expected]
    assert [None if pd.isna(x) else x for x in dd["end"]] == [
        None if e[2] is None else t[e[2]] for e in expected
    ]
    np.testing.assert_allclose(dd["depth_usd"], [e[3] for e in expected])
    np.testing.assert_allclose(dd["depth_pct"], [e[4] for e in expected])
    perf = compute_metrics(eq, _no_trades(), _daily(np.diff(values)), values[0])["performance"]
    assert perf["max_drawdown_pct"] == pytest.approx(max(e[4] for e in expected), abs=1e-4)
    assert perf["max_drawdown_usd"] == pytest.approx(max(e[3] for e in expected), abs=0.01)


# --- returns, Sharpe, Sortino, Calmar ---------------------------------------------------------


def test_daily_returns_divide_by_start_of_day_equity() -> None:
    r = daily_returns(_daily([10, -20, 5]), 100.0)
    np.testing.assert_allclose(r.to_numpy(), [10 / 100, -20 / 110, 5 / 90])
    assert r.index.name == "trade_date"


def test_daily_returns_sort_the_dates() -> None:
    pnl = _daily([10, -20, 5]).iloc[[2, 0, 1]]
    r = daily_returns(pnl, 100.0)
    assert r.index.is_monotonic_increasing
    np.testing.assert_allclose(r.to_numpy(), [10 / 100, -20 / 110, 5 / 90])


@pytest.mark.parametrize("rf", [0.0, 0.04])
def test_sharpe_and_sortino_match_numpy(rf: float) -> None:
    rng = np.random.default_rng(5)
    r = rng.normal(0.0008, 0.01, 300)
    capital = 10_000.0
    pnl = _returns_to_pnl(r, capital)
    equity = capital + np.concatenate(([0.0], np.cumsum(pnl)))
    m = compute_metrics(_equity(equity), _no_trades(), _daily(pnl), capital, risk_free_rate=rf)
    ex = r - rf / 252
    sharpe = ex.mean() / ex.std(ddof=1) * math.sqrt(252)
    downside = math.sqrt(np.mean(np.where(ex < 0, ex, 0.0) ** 2))
    sortino = ex.mean() / downside * math.sqrt(252)
    assert m["performance"]["sharpe_ratio"] == pytest.approx(sharpe, abs=1e-4)
    assert m["performance"]["sortino_ratio"] == pytest.approx(sortino, abs=1e-4)
    assert m["annualization"] == {
        "periods_per_year": 252,
        "basis": "daily returns by CME trade date",
        "risk_free_rate": rf,
    }


def test_sharpe_of_a_three_day_series_by_hand() -> None:
    # Returns +10%, -10%, +20% on start-of-day equity 100, 110, 99.
    mean = 0.2 / 3
    std = math.sqrt(((0.1 - mean) ** 2 + (-0.1 - mean) ** 2 + (0.2 - mean) ** 2) / 2)
    perf = _metrics([100, 110, 99, 118.8], [10, -11, 19.8])["performance"]
    assert perf["sharpe_ratio"] == pytest.approx(mean / std * math.sqrt(252), abs=1e-4)
    assert perf["sortino_ratio"] == pytest.approx(
        mean / math.sqrt(0.01 / 3) * math.sqrt(252), abs=1e-4
    )


def test_periods_per_year_changes_the_annualization() -> None:
    pnl = [10, -11, 19.8]
    eq = _equity([100, 110, 99, 118.8])
    base = compute_metrics(eq, _no_trades(), _daily(pnl), 100.0)["performance"]
    weekly = compute_metrics(eq, _no_trades(), _daily(pnl), 100.0, periods_per_year=52)
    assert weekly["performance"]["sharpe_ratio"] == pytest.approx(
        base["sharpe_ratio"] * math.sqrt(52 / 252), abs=1e-3
    )
    assert weekly["annualization"]["periods_per_year"] == 52


@pytest.mark.parametrize(("n_days", "annual_pct"), [(252, 10.0), (126, 21.0)])
def test_calmar_is_annualized_return_over_max_drawdown(n_days: int, annual_pct: float) -> None:
    # Lose $50 of $1000 on day one (5% drawdown), then climb to $1100 (+10% in total).
    pnl = np.r_[-50.0, np.full(n_days - 1, 150.0 / (n_days - 1))]
    equity = 1000.0 + np.concatenate(([0.0], np.cumsum(pnl)))
    perf = compute_metrics(_equity(equity), _no_trades(), _daily(pnl), 1000.0)["performance"]
    assert perf["max_drawdown_pct"] == pytest.approx(5.0)
    assert perf["total_return_pct"] == pytest.approx(10.0)
    # (1.1) ** (252 / n_days) - 1: 10% over a year, 21% when it took half a year.
    assert perf["calmar_ratio"] == pytest.approx(annual_pct / 5.0, abs=1e-4)


def test_rolling_sharpe_matches_a_loop() -> None:
    rng = np.random.default_rng(8)
    r = pd.Series(rng.normal(0.001, 0.01, 100), index=_daily(np.zeros(100)).index)
    got = rolling_sharpe(r, window=20)
    assert got.iloc[:19].isna().all()
    x = r.to_numpy()
    for end in (19, 50, 99):
        w = x[end - 19 : end + 1]
        assert got.iloc[end] == pytest.approx(w.mean() / w.std(ddof=1) * math.sqrt(252))
    assert got.index.equals(r.index)


def test_rolling_sharpe_of_a_flat_window_is_nan() -> None:
    r = pd.Series(np.r_[np.zeros(10), [0.01, -0.02, 0.005]])
    got = rolling_sharpe(r, window=5)
    assert got.iloc[4:10].isna().all()
    assert not np.isnan(got.iloc[12])


def test_rolling_sharpe_needs_two_days() -> None:
    with pytest.raises(ValueError, match="window"):
        rolling_sharpe(pd.Series([0.01, 0.02]), window=1)


# --- trades -----------------------------------------------------------------------------------


def test_trade_figures_by_hand() -> None:
    trades = _trades([50, -20, 0, 30, -10])
    perf = _metrics([100, 150], [50], trades)["performance"]
    assert perf["total_trades"] == 5
    assert perf["winning_trades"] == 2
    assert perf["losing_trades"] == 2
    assert perf["win_rate"] == 0.4  # the scratch trade counts as a trade, not a win
    assert perf["profit_factor"] == pytest.approx(80 / 30, abs=1e-4)
    assert perf["avg_trade_pnl"] == 10.0
    assert perf["avg_winner"] == 40.0
    assert perf["avg_loser"] == -15.0
    assert perf["largest_winner"] == 50.0
    assert perf["largest_loser"] == -20.0


def test_profit_factor_without_losers_is_none() -> None:
    perf = _metrics([100, 130], [30], _trades([10, 20]))["performance"]
    assert perf["profit_factor"] is None
    assert perf["win_rate"] == 1.0
    assert perf["avg_loser"] is None
    assert perf["largest_loser"] is None


def test_time_analysis_sums_pnl_by_new_york_entry_hour_and_day() -> None:
    entries = [
        "2024-03-05 14:10",  # Tue 09:10 EST, +40
        "2024-03-05 14:40",  # Tue 09:40 EST, -50  -> 09h sums to -10
        "2024-07-10 14:30",  # Wed 10:30 EDT, +25
        "2024-07-11 18:05",  # Thu 14:05 EDT, +30
        "2024-07-12 18:15",  # Fri 14:15 EDT, -1   -> 14h sums to +29 (best)
        "2024-03-10 23:00",  # Sun 19:00 EDT (DST began that morning), -15 (worst hour)
    ]
    trades = _trades([40, -50, 25, 30, -1, -15], entries)
    trades["exit_time"] = trades["entry_time"] + pd.to_timedelta(
        [30, 60, 90, 30, 60, 90], unit="min"
    )
    ta = _metrics([100, 129], [29], trades)["time_analysis"]
    assert ta["avg_hold_time_minutes"] == 60.0
    assert ta["best_hour"] == 14  # not 9, where the largest single winner was
    assert ta["worst_hour"] == 19  # not 9, where the largest single loser was
    assert ta["best_day_of_week"] == "Thursday"
    assert ta["worst_day_of_week"] == "Sunday"


def test_trade_streaks_follow_exit_order() -> None:
    net = [1, 2, -1, -1, -1, 0, 3, 4, 5, 6, -2]
    trades = _trades(net)
    assert trade_streaks(trades) == {"max_win_streak": 4, "max_loss_streak": 3}
    shuffled = trades.sample(frac=1.0, random_state=3)
    assert trade_streaks(shuffled) == {"max_win_streak": 4, "max_loss_streak": 3}
    assert trade_streaks(_no_trades()) == {"max_win_streak": 0, "max_loss_streak": 0}


# --- edge cases ---------------------------------------------------------------------------------


def test_no_trades() -> None:
    m = _metrics([100, 101, 99, 102], [1, -2, 3])
    perf, ta = m["performance"], m["time_analysis"]
    assert (perf["total_trades"], perf["winning_trades"], perf["losing_trades"]) == (0, 0, 0)
    for key in (
        "win_rate",
        "profit_factor",
        "avg_trade_pnl",
        "avg_winner",
        "avg_loser",
        "largest_winner",
        "largest_loser",
    ):
        assert perf[key] is None, key
    assert all(v is None for v in ta.values())
    assert perf["total_return_usd"] == 2.0
    assert perf["sharpe_ratio"] is not None
    json.dumps(m, allow_nan=False)


def test_flat_equity_has_no_sharpe_sortino_or_calmar() -> None:
    m = _metrics([100.0] * 5, [0.0] * 4)
    perf = m["performance"]
    assert perf["sharpe_ratio"] is None
    assert perf["sortino_ratio"] is None
    assert perf["calmar_ratio"] is None
    assert perf["max_drawdown_pct"] == 0.0
    assert perf["max_drawdown_usd"] == 0.0
    assert perf["total_return_pct"] == 0.0
    json.dumps(m, allow_nan=False)


def test_only_winning_days_have_no_sortino() -> None:
    perf = _metrics([100, 101, 103, 104], [1, 2, 1])["performance"]
    assert perf["sortino_ratio"] is None
    assert perf["sharpe_ratio"] is not None


def test_single_day() -> None:
    trades = _trades([-3.0])
    m = compute_metrics(_equity([100, 97, 101]), trades, _daily([1.0]), 100.0)
    perf = m["performance"]
    assert perf["sharpe_ratio"] is None
    assert perf["sortino_ratio"] is None
    assert perf["total_return_usd"] == 1.0
    assert perf["max_drawdown_usd"] == 3.0
    # One day of +1% would compound to 1.01 ** 252 - 1 a year: no Calmar ratio from it.
    assert perf["calmar_ratio"] is None
    json.dumps(m, allow_nan=False)


def test_ruined_account_is_json_safe() -> None:
    m = _metrics([100, 40, -20, -10], [-60, -60, 10])
    perf = m["performance"]
    assert perf["total_return_pct"] == -110.0
    assert perf["max_drawdown_pct"] == 120.0
    assert perf["sharpe_ratio"] is None  # day three starts below zero: no return
    assert perf["sortino_ratio"] is None
    assert perf["calmar_ratio"] is None  # three trade dates: too few to annualise
    json.dumps(m, allow_nan=False)


def test_ratios_to_about_zero_or_over_too_short_a_period_are_none() -> None:
    # 30 days: the last one ends a cent below the peak (a drawdown of 0.0002%).
    pnl = np.r_[np.full(29, 10.0), -0.01]
    equity = 5000.0 + np.concatenate(([0.0], np.cumsum(pnl)))
    perf = compute_metrics(_equity(equity), _trades([50.0, -1e-9]), _daily(pnl), 5000.0)
    assert perf["performance"]["max_drawdown_pct"] < MIN_DRAWDOWN_PCT
    assert perf["performance"]["calmar_ratio"] is None
    assert perf["performance"]["profit_factor"] is None  # losers lost 1e-9 dollars
    assert perf["performance"]["total_trades"] == 2
    # a 1% drawdown over 19 then 20 trade dates: the Calmar ratio needs MIN_TRADE_DATES
    for days, defined in ((MIN_TRADE_DATES - 1, False), (MIN_TRADE_DATES, True)):
        pnl = np.r_[-50.0, np.full(days - 1, 10.0)]
        equity = 5000.0 + np.concatenate(([0.0], np.cumsum(pnl)))
        got = compute_metrics(_equity(equity), _no_trades(), _daily(pnl), 5000.0)
        assert (got["performance"]["calmar_ratio"] is not None) is defined


def test_tail_omega_and_recovery_to_about_zero_are_none() -> None:
    days = pd.Index(pd.date_range("2024-01-01", periods=40).date, name="trade_date")
    returns = pd.Series(np.r_[np.full(37, 0.001), np.full(3, -1e-9)], index=days)
    stats = return_statistics(returns, 5000.0, final_equity=5200.0, max_drawdown_usd=1e-6)
    assert stats["omega_ratio"] is None
    assert stats["tail_ratio"] is None
    assert stats["recovery_factor"] is None
    real = return_statistics(returns, 5000.0, final_equity=5200.0, max_drawdown_usd=100.0)
    assert real["recovery_factor"] == pytest.approx(2.0)


def test_values_are_builtin_and_keys_match_the_schema() -> None:
    rng = np.random.default_rng(2)
    pnl = rng.normal(1, 10, 40)
    equity = 1000 + np.concatenate(([0.0], np.cumsum(pnl)))
    m = compute_metrics(_equity(equity), _trades(list(pnl[:12])), _daily(pnl), 1000.0)
    assert list(m["performance"]) == [
        "total_return_pct",
        "total_return_usd",
        "sharpe_ratio",
        "sortino_ratio",
        "max_drawdown_pct",
        "max_drawdown_usd",
        "calmar_ratio",
        "win_rate",
        "profit_factor",
        "avg_trade_pnl",
        "avg_winner",
        "avg_loser",
        "largest_winner",
        "largest_loser",
        "total_trades",
        "winning_trades",
        "losing_trades",
    ]
    assert list(m["time_analysis"]) == [
        "avg_hold_time_minutes",
        "best_hour",
        "worst_hour",
        "best_day_of_week",
        "worst_day_of_week",
    ]
    assert set(m) == {"performance", "time_analysis", "annualization"}
    for block in m.values():
        for key, value in block.items():
            assert value is None or type(value) in (int, float, str), (key, type(value))
    assert m["performance"]["total_return_usd"] == round(float(pnl.sum()), 2)
    assert list(_trades([1.0]).columns) == list(TRADE_COLUMNS)


@pytest.mark.parametrize(
    ("equity", "capital", "match"),
    [([100, np.nan], 100.0, "NaN"), ([100, 101], 0.0, "initial_capital")],
)
def test_bad_input_raises(equity: list[float], capital: float, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        compute_metrics(_equity(equity), _no_trades(), _daily([1.0]), capital)


def test_missing_trade_column_raises() -> None:
    with pytest.raises(ValueError, match="net_pnl"):
        compute_metrics(
            _equity([100, 101]), _no_trades().drop(columns="net_pnl"), _daily([1.0]), 100.0
        )


# --- vectorbt agrees on the conventions ----------------------------------------------------------


@pytest.mark.slow
def test_conventions_agree_with_vectorbt() -> None:
    vbt = pytest.importorskip("vectorbt")  # noqa: F841 -- registers the .vbt accessor
    rng = np.random.default_rng(21)
    r = rng.normal(0.0005, 0.012, 400)
    capital = 5_000.0
    pnl = _returns_to_pnl(r, capital)
    equity = capital + np.concatenate(([0.0], np.cumsum(pnl)))
    m = compute_metrics(_equity(equity, freq="1D"), _no_trades(), _daily(pnl), capital)
    rets = pd.Series(r, index=pd.date_range("2024-01-01", periods=len(r), freq="D"))
    acc = rets.vbt.returns(freq="1D", year_freq="252D")
    perf = m["performance"]
    assert perf["sharpe_ratio"] == pytest.approx(acc.sharpe_ratio(), abs=1e-4)
    assert perf["sortino_ratio"] == pytest.approx(acc.sortino_ratio(), abs=1e-4)
    assert perf["max_drawdown_pct"] == pytest.approx(-acc.max_drawdown() * 100, abs=1e-4)
    assert perf["calmar_ratio"] == pytest.approx(acc.calmar_ratio(), abs=1e-4)
