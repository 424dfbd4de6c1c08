"""summary.json (keys, JSON safety, schema), the recommendation rules and run-folder naming.

The rules are checked on small hand-made results whose numbers are worked out in the test,
each once where it must fire (and cite those numbers) and once where it must stay silent.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import os
import time
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pandas as pd
import pytest

from workbench.backtest.result import BacktestResult
from workbench.errors import WorkbenchError
from workbench.model import TRADE_COLUMNS
from workbench.results import recommendations as R
from workbench.results.folders import atomic_folder, check_name, clean_stale, list_runs
from workbench.results.saver import _iso_utc, make_run_id, signal_changes
from workbench.results.summary import (
    PERFORMANCE_KEYS,
    SUMMARY_KEYS,
    build_summary,
    format_timestamp,
    summary_schema,
    to_jsonable,
    validate_summary,
)

NY = "America/New_York"
CAPITAL = 5_000.0
MONDAY_10_NY = pd.Timestamp("2024-03-04 10:00", tz=NY)


# --- hand-made results -----------------------------------------------------------------------


def _trades(
    net: list[float],
    entries: list[pd.Timestamp] | None = None,
    *,
    gross: list[float] | None = None,
    commission: float = 2.5,
    slippage: float = 2.0,
) -> pd.DataFrame:
    n = len(net)
    if entries is None:
        # one trade a day, Monday to Friday in turn, entered at 10:00 New York
        days = pd.bdate_range("2024-03-04", periods=n)
        entries = [pd.Timestamp(f"{d.date()} 10:00", tz=NY) for d in days]
    entry = pd.DatetimeIndex(entries).tz_convert("UTC") if n else pd.DatetimeIndex([], tz="UTC")
    net_a = np.asarray(net, dtype=float)
    gross_a = net_a + commission if gross is None else np.asarray(gross, dtype=float)
    return pd.DataFrame(
        {
            "entry_time": entry,
            "exit_time": entry + pd.Timedelta(minutes=30),
            "side": ["long"] * n,
            "contracts": [1] * n,
            "entry_price": [75.0] * n,
            "exit_price": [75.0] * n,
            "gross_pnl": gross_a,
            "commission": [commission] * n,
            "slippage_cost": [slippage] * n,
            "net_pnl": gross_a - commission,
            "exit_reason": ["signal"] * n,
            "bars_held": [30] * n,
            "symbol": ["MCLJ4"] * n,
        },
        columns=list(TRADE_COLUMNS),
    )


def _events(rows: list[tuple[str, str]]) -> pd.DataFrame:
    times = pd.date_range("2024-03-04 15:00", periods=len(rows), freq="1min", tz="UTC")
    return pd.DataFrame(
        {
            "time": times,
            "action": [a for a, _ in rows],
            "reason": [r for _, r in rows],
            "requested": [1] * len(rows),
            "approved": [1 if a in ("accepted", "resized") else 0 for a, _ in rows],
        }
    )


def make_result(
    trades: pd.DataFrame | None = None,
    *,
    daily: list[float] | None = None,
    events: pd.DataFrame | None = None,
    breakers: int = 0,
    risk_per_trade: float = 0.02,
    daily_loss_limit: float = 0.05,
    equity: pd.Series | None = None,
) -> BacktestResult:
    """A BacktestResult around ``trades``: equity steps at each exit, daily P&L per trade
    (unless given), one trade date per trade."""
    trades = _trades([]) if trades is None else trades
    net = trades["net_pnl"].to_numpy(dtype=float)
    if equity is None:
        if len(trades):
            idx = pd.DatetimeIndex(trades["exit_time"])
            start = idx[:1] - pd.Timedelta(hours=1)
            equity = pd.Series(
                np.r_[CAPITAL, CAPITAL + np.cumsum(net)], index=start.append(idx), name="equity"
            )
        else:
            equity = pd.Series(
                [CAPITAL], index=pd.DatetimeIndex([MONDAY_10_NY.tz_convert("UTC")]), name="equity"
            )
    pnl = list(net) if daily is None else daily
    pnl = pnl or [0.0]
    dates = pd.bdate_range("2024-03-04", periods=len(pnl)).to_numpy().astype("datetime64[D]")
    daily_s = pd.Series(pnl, index=pd.Index(dates, name="trade_date"), name="net_pnl", dtype=float)
    ev = _events([]) if events is None else events
    return BacktestResult(
        trades=trades,
        equity=equity,
        signals=pd.Series(np.zeros(len(equity), dtype=np.int8), index=equity.index),
        position=pd.Series(np.zeros(len(equity), dtype=np.int64), index=equity.index),
        daily_pnl=daily_s,
        risk_events=ev,
        parameters={
            "strategy": {
                "name": "EMA Crossover",
                "key": "ema_crossover",
                "class": "MomentumStrategy",
                "parameters": {"fast_period": 10, "slow_period": 40, "time_filter": None},
            },
            "config": {
                "initial_capital": CAPITAL,
                "commission_per_contract": 1.25,
                "slippage_ticks": 1,
                "use_risk_manager": True,
                "risk": {"risk_per_trade": risk_per_trade, "daily_loss_limit": daily_loss_limit},
                "sizing": {"method": "fixed_fractional"},
                "stop": {"mode": "atr"},
            },
            "contract": {"product": "MCL_FUT"},
        },
        data_range={
            "start": "2024-03-04",
            "end": "2024-06-28",
            "trading_days": len(pnl),
            "total_bars": 1000,
        },
        provenance={
            "product": "MCL_FUT",
            "schema": "ohlcv-1m",
            "synthetic": True,
            "sources": ["synthetic"],
            "dataset": "GLBX.MDP3",
            "continuous": True,
            "roll_rule": "volume",
            "adjust": "none",
            "rolls": [
                {
                    "trade_date": "2024-03-19",
                    "ts": "2024-03-18T22:00:00Z",
                    "from_symbol": "MCLJ4",
                    "to_symbol": "MCLK4",
                    "from_close": 80.0,
                    "to_close": 80.1,
                    "adjustment": 0.0,
                }
            ],
            "contracts": ["MCLJ4", "MCLK4"],
        },
        trades_rejected=int((ev["action"] == "rejected").sum()) if len(ev) else 0,
        circuit_breaker_triggered=breakers,
        initial_capital=CAPITAL,
    )


def healthy_trades(n: int = 40) -> pd.DataFrame:
    """Profitable, cheap trades whose P&L does not depend on the hour or weekday."""
    base = pd.Timestamp("2024-03-04 09:00", tz=NY)
    entries = [base + pd.Timedelta(days=i // 8 * 7 + i % 5, hours=i % 8) for i in range(n)]
    net = [30.0 if (i // 8) % 2 == 0 else -10.0 for i in range(n)]
    return _trades(net, entries)


# --- summary.json ------------------------------------------------------------------------------


def test_summary_has_exactly_the_plan_keys_plus_documented_extras() -> None:
    s = build_summary(
        make_result(healthy_trades()), "2024-07-01_120000_ema_MCL_FUT", "2024-07-01T12:00:00Z"
    )
    assert tuple(s) == SUMMARY_KEYS
    assert set(s["strategy"]) == {"name", "class", "parameters"}
    assert set(s["data_range"]) == {"start", "end", "trading_days", "total_bars"}
    assert tuple(s["performance"]) == PERFORMANCE_KEYS
    assert len(PERFORMANCE_KEYS) == 17
    assert set(s["risk_metrics"]) == {
        "risk_per_trade",
        "daily_loss_limit",
        "trades_rejected",
        "circuit_breaker_triggered",
    }
    assert set(s["time_analysis"]) == {
        "avg_hold_time_minutes",
        "best_hour",
        "worst_hour",
        "best_day_of_week",
        "worst_day_of_week",
    }
    # the rolls keep only the three documented fields; the full records go to parameters.json
    assert s["provenance"]["rolls"] == [
        {"trade_date": "2024-03-19", "from_symbol": "MCLJ4", "to_symbol": "MCLK4"}
    ]
    assert s["provenance"]["synthetic"] is True
    assert s["performance"]["total_trades"] == 40
    assert s["performance"]["total_return_usd"] == pytest.approx(3 * 8 * 30 - 2 * 8 * 10)
    validate_summary(s)
    json.dumps(s, allow_nan=False)


def test_summary_of_a_run_without_trades_is_valid_and_has_nulls() -> None:
    s = build_summary(make_result(), "run", dt.datetime(2024, 7, 1, 12, 0, 5))
    assert s["timestamp"] == "2024-07-01T12:00:05Z"
    assert s["performance"]["win_rate"] is None
    assert s["time_analysis"]["best_hour"] is None
    assert any(r.startswith("no trades") for r in s["recommendations"])
    validate_summary(s)


def test_timestamps_are_utc_with_z() -> None:
    ny = dt.datetime(2024, 7, 1, 8, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=-4)))
    assert format_timestamp(ny) == "2024-07-01T12:00:00Z"
    assert format_timestamp("2024-07-01T12:00:00+02:00") == "2024-07-01T10:00:00Z"


def test_to_jsonable_removes_numpy_nan_and_inf() -> None:
    doc = to_jsonable(
        {
            "a": np.float64("nan"),
            "b": np.int64(3),
            "c": [math.inf, np.bool_(True), np.float32(1.5)],
            "d": pd.Timestamp("2024-01-02", tz="UTC"),
            "e": dt.date(2024, 1, 2),
            "f": (1, 2),
            "g": Path("/x"),
        }
    )
    assert doc == {
        "a": None,
        "b": 3,
        "c": [None, True, 1.5],
        "d": "2024-01-02T00:00:00+00:00",
        "e": "2024-01-02",
        "f": [1, 2],
        "g": "/x",
    }
    assert type(doc["b"]) is int
    json.dumps(doc, allow_nan=False)


@pytest.fixture
def valid_summary() -> dict[str, Any]:
    return build_summary(
        make_result(healthy_trades()), "2024-07-01_120000_ema_MCL_FUT", "2024-07-01T12:00:00Z"
    )


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda s: s.pop("performance"), "performance"),
        (lambda s: s.update(extra_key=1), "extra_key"),
        (lambda s: s["performance"].update(win_rate=1.5), "win_rate"),
        (lambda s: s["performance"].update(total_trades="40"), "total_trades"),
        (lambda s: s["performance"].pop("sharpe_ratio"), "sharpe_ratio"),
        (lambda s: s["performance"].update(sharpe=1.0), "sharpe"),
        (lambda s: s.update(timestamp="2024-07-01 12:00:00"), "timestamp"),
        (lambda s: s["time_analysis"].update(best_hour=24), "best_hour"),
        (lambda s: s["time_analysis"].update(worst_day_of_week="Funday"), "worst_day_of_week"),
        (lambda s: s["provenance"].update(synthetic="yes"), "synthetic"),
        (lambda s: s["provenance"]["rolls"][0].pop("to_symbol"), "to_symbol"),
        (lambda s: s["data_range"].update(start="March 4"), "start"),
        (lambda s: s.update(recommendations="none"), "recommendations"),
        (lambda s: s["strategy"].pop("class"), "class"),
        (lambda s: s["config"].pop("initial_capital"), "initial_capital"),
        (lambda s: s.update(run_id="../escape"), "run_id"),
    ],
)
def test_invalid_summaries_fail_validation(
    valid_summary: dict[str, Any], change: Any, where: str
) -> None:
    validate_summary(valid_summary)
    bad = copy.deepcopy(valid_summary)
    change(bad)
    with pytest.raises(jsonschema.ValidationError, match=where):
        validate_summary(bad)


def test_schema_file_is_a_valid_draft_2020_12_schema() -> None:
    schema = summary_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False
    # these came later: runs saved before them stay valid
    optional = {"statistics", "benchmark", "warnings", "unreliable_metrics", "account"}
    assert tuple(schema["required"]) == tuple(k for k in SUMMARY_KEYS if k not in optional)
    assert list(schema["properties"]) == list(SUMMARY_KEYS)
    assert tuple(schema["properties"]["performance"]["required"]) == PERFORMANCE_KEYS


# --- recommendation rules ----------------------------------------------------------------------


def test_healthy_result_gets_no_recommendation() -> None:
    assert R.make_recommendations(make_result(healthy_trades())) == []


def test_too_few_trades() -> None:
    text = R.too_few_trades(make_result(_trades([20.0, -10.0] * 5)))
    assert text is not None
    assert "only 10 trades" in text
    assert "win rate of 50%" in text
    assert "profit factor 2.00" in text
    none = R.too_few_trades(make_result())
    assert none is not None
    assert none.startswith("no trades in 1,000 bars")
    assert R.too_few_trades(make_result(_trades([20.0, -10.0] * 15))) is None


def test_costs_eat_the_edge() -> None:
    # before costs each trade makes gross 2.0 + slippage 1.0 = 3.0; costs 2.5 + 1.0 = 3.5
    t = _trades([0.0] * 10, gross=[2.0] * 10, commission=2.5, slippage=1.0)
    text = R.costs_eat_edge(make_result(t))
    assert text is not None
    assert "costs of $35.00 (commissions $25.00 + slippage $10.00" in text
    assert "exceed the $30.00 the trades made before costs" in text
    assert "turning it into $-5.00" in text
    # costs 60% of before-costs profit: still fires, with the share
    t2 = _trades([0.0] * 10, gross=[5.0] * 10, commission=2.0, slippage=1.0)
    text2 = R.costs_eat_edge(make_result(t2))
    assert text2 is not None
    assert "take 50% of the $60.00" in text2
    # cheap: costs 3.0 of 21.0 before costs
    t3 = _trades([0.0] * 10, gross=[20.0] * 10, commission=2.0, slippage=1.0)
    assert R.costs_eat_edge(make_result(t3)) is None
    # no edge before costs: nothing for costs to eat
    t4 = _trades([0.0] * 10, gross=[-5.0] * 10, commission=2.0, slippage=1.0)
    assert R.costs_eat_edge(make_result(t4)) is None


def test_win_rate_vs_payoff_high_win_rate_small_winners() -> None:
    # 8 winners of +10, 4 losers of -30: profit factor 80/120 = 0.67, break-even payoff 4/8
    text = R.win_rate_vs_payoff(make_result(_trades([10.0, 10.0, -30.0] * 4)))
    assert text is not None
    assert "win rate 67% with profit factor 0.67" in text
    assert "(0.33x)" in text
    assert "must reach 0.50x losers" in text
    assert "cut too early" in text


def test_win_rate_vs_payoff_low_win_rate() -> None:
    # 3 winners of +50, 9 losers of -20: PF 150/180 = 0.83; break-even payoff 9/3 = 3.00
    text = R.win_rate_vs_payoff(make_result(_trades([50.0, -20.0, -20.0, -20.0] * 3)))
    assert text is not None
    assert "win rate 25% with profit factor 0.83" in text
    assert "(2.50x)" in text
    assert "3.00x losers" in text
    assert "hit rate" in text
    assert R.win_rate_vs_payoff(make_result(_trades([50.0, -20.0] * 6))) is None  # PF 2.5
    assert R.win_rate_vs_payoff(make_result(_trades([10.0, -30.0] * 2))) is None  # 4 trades


def test_stops_vs_risk_budget() -> None:
    # Flat equity at $5,000 before every entry: budget 2% = $100. Losers of -$200 are 2.0x.
    flat = pd.Series([CAPITAL], index=pd.DatetimeIndex(["2024-01-01"], tz="UTC"), name="equity")
    wide = _trades([-200.0] * 5 + [300.0] * 5)
    text = R.stops_vs_risk_budget(make_result(wide, equity=flat))
    assert text is not None
    assert "avg loser $-200.00 is 2.0x the average risk budget of $100.00" in text
    assert "n=5 losers" in text
    tight = _trades([-100.0] * 5 + [300.0] * 5)
    assert R.stops_vs_risk_budget(make_result(tight, equity=flat)) is None
    # the budget follows equity: at $20,000 the same -$200 losers are only 0.5x
    rich = flat + 15_000.0
    assert R.stops_vs_risk_budget(make_result(wide, equity=rich)) is None
    # fewer than MIN_LOSERS losers: silent
    assert R.stops_vs_risk_budget(make_result(_trades([-200.0] * 4), equity=flat)) is None


def test_time_of_day_filter() -> None:
    rng = np.random.default_rng(3)
    days = pd.date_range("2024-03-04", periods=40)  # wall clock, across the DST change

    def at(i: int, hour: int) -> pd.Timestamp:
        return (days[i] + pd.Timedelta(hours=hour, minutes=5)).tz_localize(NY)

    net = list(10 + rng.normal(0, 2, 30)) + list(-30 + rng.normal(0, 2, 10))
    t = _trades(net, [at(i, 10 if i < 30 else 15) for i in range(40)])
    text = R.time_of_day_filter(make_result(t))
    assert text is not None
    lost = sum(net[30:])
    assert f"15:00-15:59 New York lost ${-lost:,.2f} in total (n=10" in text
    assert f"the other 30 trades made ${sum(net[:30]):,.2f} (avg $+" in text
    # the other hours losing too: "lost $3.00", never "lost $-3.00"
    losing = [x - 12 for x in net[:30]] + net[30:]
    text = R.time_of_day_filter(make_result(_trades(losing, t["entry_time"].tolist())))
    assert text is not None
    assert f"the other 30 trades lost ${-sum(losing[:30]):,.2f} (avg $-" in text
    assert "lost $-" not in text
    # the same P&L spread evenly over the two hours: no hour stands out
    mixed = [at(i, 10 if i % 2 else 15) for i in range(40)]
    assert R.time_of_day_filter(make_result(_trades(net, mixed))) is None


def test_day_of_week_filter() -> None:
    days = pd.bdate_range("2024-03-04", periods=50)
    entries = [pd.Timestamp(f"{d.date()} 10:00", tz=NY) for d in days]
    net = [
        -25.0 + (i % 3) if d.day_name() == "Friday" else 12.0 + (i % 3) for i, d in enumerate(days)
    ]
    text = R.day_of_week_filter(make_result(_trades(net, entries)))
    assert text is not None
    fridays = [n for n, d in zip(net, days, strict=True) if d.day_name() == "Friday"]
    assert f"on Fridays (New York) lost ${-sum(fridays):,.2f} in total (n={len(fridays)}" in text
    flat = [12.0 + (i % 3) for i in range(50)]
    assert R.day_of_week_filter(make_result(_trades(flat, entries))) is None


def test_circuit_breakers_often() -> None:
    ev = _events(
        [("circuit_breaker", "halted: intraday drawdown")] * 3
        + [("circuit_breaker", "halted: consecutive losses")] * 2
        + [("rejected", "halted: intraday drawdown")] * 7
        + [("accepted", "ok")] * 4
    )
    t = healthy_trades()
    text = R.circuit_breakers_often(make_result(t, events=ev, breakers=5, daily=[1.0] * 20))
    assert text is not None
    assert (
        "fired 5 times in 20 trade dates (25%: 3 intraday drawdown, 2 consecutive losses)" in text
    )
    assert "refused 7 entry attempts" in text
    assert R.circuit_breakers_often(make_result(t, events=ev, breakers=5, daily=[1.0] * 60)) is None
    assert R.circuit_breakers_often(make_result(t, events=ev, breakers=2, daily=[1.0] * 5)) is None


def test_risk_budget_too_small() -> None:
    ev = _events(
        [("rejected", R.SIZE_BELOW_ONE)] * 20 + [("accepted", "ok")] * 8 + [("resized", "x")] * 2
    )
    text = R.risk_budget_too_small(make_result(healthy_trades(), events=ev))
    assert text is not None
    assert "20 of 30 entry attempts that reached sizing (67%)" in text
    assert "2.0% of equity" in text
    few = _events([("rejected", R.SIZE_BELOW_ONE)] * 9 + [("accepted", "ok")])
    assert R.risk_budget_too_small(make_result(healthy_trades(), events=few)) is None
    rare = _events([("rejected", R.SIZE_BELOW_ONE)] * 10 + [("accepted", "ok")] * 40)
    assert R.risk_budget_too_small(make_result(healthy_trades(), events=rare)) is None


def test_daily_loss_limit_often() -> None:
    # 5% of ~$5,000 is ~$250: four days of -$300 in 10
    daily = [100.0, -300.0, 50.0, -300.0, 80.0, -300.0, 40.0, -300.0, 60.0, 90.0]
    ev = _events([("rejected", "daily loss limit reached")] * 6)
    text = R.daily_loss_limit_often(make_result(healthy_trades(), daily=daily, events=ev))
    assert text is not None
    assert "4 of 10 trade dates (40%) lost at least the daily loss limit (5%" in text
    assert "worst day $-300.00, 6 entry attempts refused" in text
    mild = [100.0, -200.0] * 5
    assert R.daily_loss_limit_often(make_result(healthy_trades(), daily=mild)) is None


def test_every_rule_is_listed_and_ordered() -> None:
    rules = {
        name
        for name, fn in vars(R).items()
        if callable(fn)
        and getattr(fn, "__module__", "") == R.__name__
        and not name.startswith("_")
        and name != "make_recommendations"
    }
    assert rules == {fn.__name__ for fn in R.RULES}
    assert len(R.RULES) == 9


# --- run ids and folders --------------------------------------------------------------------------


def test_run_id_format() -> None:
    rid = make_run_id(make_result(), dt.datetime(2026, 1, 10, 14, 30, 52, tzinfo=dt.UTC))
    assert rid == "2026-01-10_143052_ema_MCL_FUT"
    ny = dt.datetime(2026, 1, 10, 9, 30, 52, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert make_run_id(make_result(), ny) == rid


def test_run_id_of_a_single_contract() -> None:
    r = make_result()
    r.provenance["continuous"] = False
    r.provenance["contracts"] = ["MCLZ5"]
    assert make_run_id(r, dt.datetime(2026, 1, 10, 14, 30, 52)).endswith("_ema_MCLZ5")


@pytest.mark.parametrize("name", ["", ".hidden", "a/b", "..", "a b", "x\\y"])
def test_bad_run_names_are_refused(name: str) -> None:
    with pytest.raises(WorkbenchError, match="invalid run id"):
        check_name(name)


def test_atomic_folder_suffixes_taken_names_and_cleans_up_on_error(tmp_path: Path) -> None:
    with atomic_folder(tmp_path, "run") as (name, tmp):
        assert name == "run"
        assert tmp.name.startswith(".run.tmp-")
        (tmp / "summary.json").write_text("{}")
        assert not (tmp_path / "run").exists()  # nothing visible before the end
    assert (tmp_path / "run" / "summary.json").is_file()
    with atomic_folder(tmp_path, "run") as (name2, _):
        assert name2 == "run_2"
    seen: list[str] = []

    def failing_save() -> None:
        with atomic_folder(tmp_path, "run") as (name3, tmp3):
            seen.append(name3)
            (tmp3 / "summary.json").write_text("{}")
            raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        failing_save()
    assert seen == ["run_3"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "run_2"]


def test_a_held_reservation_is_skipped(tmp_path: Path) -> None:
    (tmp_path / ".run.lock").touch()  # another save holds "run"
    with atomic_folder(tmp_path, "run") as (name, _):
        assert name == "run_2"
    assert (tmp_path / ".run.lock").exists()  # not ours: left alone


def test_clean_stale_removes_only_old_leftovers(tmp_path: Path) -> None:
    old_tmp = tmp_path / ".a.tmp-0123abcd"
    new_tmp = tmp_path / ".b.tmp-4567ef01"
    old_lock = tmp_path / ".a.lock"
    for d in (old_tmp, new_tmp):
        d.mkdir()
        (d / "summary.json").write_text("{}")
    old_lock.touch()
    (tmp_path / "run").mkdir()
    two_hours_ago = time.time() - 7200
    for p in (old_tmp, old_lock, tmp_path / "run"):
        os.utime(p, (two_hours_ago, two_hours_ago))
    removed = clean_stale(tmp_path)
    assert sorted(p.name for p in removed) == [".a.lock", ".a.tmp-0123abcd"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".b.tmp-4567ef01", "run"]


def test_list_runs_ignores_temporary_and_incomplete_folders(tmp_path: Path) -> None:
    for name in ("2024-01-02_000000_ema_MCL_FUT", "2024-01-01_000000_ema_MCL_FUT"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "summary.json").write_text("{}")
    (tmp_path / ".2024-01-03_000000_ema_MCL_FUT.tmp-abc123").mkdir()
    (tmp_path / ".2024-01-03_000000_ema_MCL_FUT.tmp-abc123" / "summary.json").write_text("{}")
    (tmp_path / "empty").mkdir()
    assert [p.name for p in list_runs(tmp_path)] == [
        "2024-01-01_000000_ema_MCL_FUT",
        "2024-01-02_000000_ema_MCL_FUT",
    ]
    assert list_runs(tmp_path / "missing") == []


# --- CSV helpers ----------------------------------------------------------------------------------


def test_iso_timestamps_match_pandas_formatting() -> None:
    rng = np.random.default_rng(0)
    secs = rng.integers(0, 2_000_000_000, 5_000) * 1_000_000_000
    got = _iso_utc(secs).to_pylist()
    want = pd.DatetimeIndex(secs, tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ").tolist()
    assert got == want


def test_iso_timestamps_keep_nulls_and_fractions() -> None:
    ns = np.array([0, 1_500_000_000, 3_000_000_000], dtype=np.int64)
    valid = np.array([True, True, False])
    got = _iso_utc(ns, valid).to_pylist()
    assert got[0].startswith("1970-01-01")
    assert "00:00:01.5" in got[1]
    assert got[2] is None
    whole = _iso_utc(np.array([0, 60_000_000_000]), np.array([False, True])).to_pylist()
    assert whole == [None, "1970-01-01T00:01:00Z"]


def test_signal_changes_reconstruct_the_series() -> None:
    idx = pd.date_range("2024-01-01", periods=12, freq="1min", tz="UTC")
    sig = pd.Series([0, 0, 1, 1, 1, -1, -1, 0, 0, 0, 1, 1], index=idx, dtype=np.int8)
    ch = signal_changes(sig)
    assert ch.tolist() == [0, 1, -1, 0, 1]
    assert list(ch.index) == [idx[0], idx[2], idx[5], idx[7], idx[10]]
    back = ch.reindex(idx, method="ffill")
    pd.testing.assert_series_equal(back, sig)


def test_config_differences_lists_only_what_differs() -> None:
    from workbench.results import config_differences

    a = {
        "strategy": {"name": "EMA", "class": "M", "parameters": {"fast": 20, "slow": 50}},
        "symbol": "MCL_FUT",
        "data_range": {"start": "2024-01-01", "end": "2024-03-01"},
        "provenance": {"synthetic": True},
        "config": {"initial_capital": 5000.0, "risk": {"risk_per_trade": 0.02}},
    }
    b = copy.deepcopy(a)
    b["strategy"]["parameters"]["fast"] = 10
    b["config"]["risk"]["risk_per_trade"] = 0.01
    del b["config"]["initial_capital"]
    assert config_differences([a, b]) == [
        ("parameters.fast", [20, 10]),
        ("config.initial_capital", [5000.0, None]),
        ("config.risk.risk_per_trade", [0.02, 0.01]),
    ]
    assert config_differences([a, copy.deepcopy(a)]) == []
