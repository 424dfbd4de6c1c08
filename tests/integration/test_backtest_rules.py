"""Properties every backtest must hold: no look-ahead, caps, limits, breakers, real bars."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.conftest import real_data_path
from workbench.backtest import run_backtest
from workbench.data import load_bars
from workbench.errors import ConfigError, DataError
from workbench.risk import RiskConfig, StopConfig
from workbench.strategies import MeanReversionStrategy, MomentumStrategy, strategy_class


@pytest.fixture(scope="module")
def bars(small_sample: Path) -> pd.DataFrame:
    return load_bars("MCL_FUT", data_dir=small_sample)


@pytest.mark.parametrize("cut", [5_000, 20_000, 33_333])
def test_no_look_ahead(bars: pd.DataFrame, cut: int) -> None:
    """Rewriting every bar from ``cut`` on changes nothing that happened before ``cut``."""
    s = MomentumStrategy(fast_period=10, slow_period=40)
    data = bars.iloc[:40_000]
    rng = np.random.default_rng(cut)
    other = data.copy()
    noise = np.round(np.cumsum(rng.normal(0, 0.05, len(data) - cut)), 2)
    for col in ("open", "high", "low", "close"):
        other.iloc[cut:, other.columns.get_loc(col)] = other[col].to_numpy()[cut:] + noise
    other.iloc[cut:, other.columns.get_loc("high")] += 0.03
    other.iloc[cut:, other.columns.get_loc("low")] -= 0.03
    a = run_backtest(data, s)
    b = run_backtest(other, s)
    t_cut = data.index[cut]
    done_a = a.trades[a.trades["exit_time"] < t_cut]
    done_b = b.trades[b.trades["exit_time"] < t_cut]
    assert len(done_a) > 5
    pd.testing.assert_frame_equal(done_a, done_b)
    np.testing.assert_array_equal(a.equity.to_numpy()[:cut], b.equity.to_numpy()[:cut])
    np.testing.assert_array_equal(a.signals.to_numpy()[:cut], b.signals.to_numpy()[:cut])
    assert not np.array_equal(a.equity.to_numpy()[cut:], b.equity.to_numpy()[cut:])


def test_position_never_exceeds_the_cap(bars: pd.DataFrame) -> None:
    for cap in (1, 3):
        r = run_backtest(
            bars,
            MomentumStrategy(fast_period=10, slow_period=40),
            risk_per_trade=0.5,
            max_position_contracts=cap,
        )
        assert r.position.abs().max() == cap
        assert r.trades["contracts"].max() == cap


def test_daily_loss_limit_stops_entries_for_the_day(bars: pd.DataFrame) -> None:
    limit = 0.01
    r = run_backtest(
        bars,
        MeanReversionStrategy(period=10, num_std=1.0),
        daily_loss_limit=limit,
        risk=RiskConfig(
            daily_loss_limit=limit,
            max_consecutive_losses=50,
            intraday_drawdown_limit=0.5,
            max_drawdown_limit=0.9,
        ),
        stop=StopConfig(mode="fixed_usd", usd=10),
    )
    from workbench.market.calendar import trade_dates

    t = r.trades.copy()
    t["day"] = trade_dates(t["entry_time"].astype("int64").to_numpy())
    eq = r.equity
    hit_days = 0
    for day, g in t.groupby("day"):
        g = g.sort_values("exit_time")
        start_eq = (
            eq[eq.index <= g["entry_time"].iloc[0]].iloc[-1]
            if (eq.index <= g["entry_time"].iloc[0]).any()
            else r.initial_capital
        )
        realized = g["net_pnl"].cumsum().to_numpy()
        crossed = np.flatnonzero(realized <= -limit * start_eq)
        if len(crossed):
            hit_days += 1
            k = crossed[0]
            t_cross = g["exit_time"].iloc[k]
            # No entry after the crossing on the same trade date ...
            assert not (g["entry_time"] > t_cross).any(), day
            # ... one position at a time, so the crossing trade is the day's last, and the
            # day's loss exceeds the limit by at most that trade's loss.
            assert k == len(g) - 1
            assert realized[-1] >= -limit * start_eq + g["net_pnl"].iloc[k] - 1e-9
    assert hit_days > 0
    assert "daily loss limit reached" in set(r.risk_events["reason"])


def test_no_entry_while_a_circuit_breaker_is_on(bars: pd.DataFrame) -> None:
    r = run_backtest(
        bars,
        MomentumStrategy(fast_period=10, slow_period=40),
        risk=RiskConfig(
            max_consecutive_losses=2,
            intraday_drawdown_limit=0.02,
            max_drawdown_limit=0.08,
            cooloff_days=2,
        ),
    )
    from workbench.market.calendar import trade_dates

    ev = r.risk_events
    ev = ev.assign(day=trade_dates(ev["time"].astype("int64").to_numpy()))
    breakers = ev[ev["action"] == "circuit_breaker"]
    assert len(breakers) > 0
    assert r.circuit_breaker_triggered == len(breakers)
    approved = ev[ev["action"].isin(["accepted", "resized"])]
    for _, b in breakers.iterrows():
        if b["reason"] in ("halted: consecutive losses", "halted: intraday drawdown"):
            later = approved[(approved["time"] > b["time"]) & (approved["day"] == b["day"])]
            assert later.empty, b
        else:  # max drawdown: the rest of the day and two more trade dates
            days = np.unique(trade_dates(bars.index.as_unit("ns").asi8))
            idx = int(np.searchsorted(days, np.datetime64(b["day"], "D")))
            until = days[min(idx + 3, len(days) - 1)]
            appr_days = approved["day"].to_numpy().astype("datetime64[D]")
            later = approved[(approved["time"] > b["time"]).to_numpy() & (appr_days < until)]
            assert later.empty, b
    assert r.trades_rejected == int((ev["action"] == "rejected").sum())


def test_net_pnl_reconciles_with_equity(bars: pd.DataFrame) -> None:
    r = run_backtest(bars, MomentumStrategy(fast_period=10, slow_period=40))
    assert r.trades["net_pnl"].sum() == pytest.approx(r.final_equity - r.initial_capital, abs=1e-6)
    assert r.daily_pnl.sum() == pytest.approx(r.final_equity - r.initial_capital, abs=1e-6)
    t = r.trades
    np.testing.assert_allclose(t["gross_pnl"] - t["commission"], t["net_pnl"])
    assert (t["commission"] == 2 * 1.25 * t["contracts"]).all()


def test_daily_pnl_is_by_cme_trade_date(bars: pd.DataFrame) -> None:
    """Each bar's own trade date (not the engine's day boundaries): the last equity of each."""
    from workbench.market.calendar import trade_dates

    r = run_backtest(bars, MomentumStrategy(fast_period=10, slow_period=40))
    per_bar = trade_dates(bars.index.as_unit("ns").asi8)
    eod = r.equity.groupby(per_bar).last()
    np.testing.assert_array_equal(r.daily_pnl.index.to_numpy(), eod.index.to_numpy())
    want = np.diff(np.r_[r.initial_capital, eod.to_numpy()])
    np.testing.assert_allclose(r.daily_pnl.to_numpy(), want, atol=1e-9)
    assert r.data_range["trading_days"] == len(eod)


def _mcl_csv() -> pd.DataFrame:
    path = real_data_path("mcl-bars", "MCL_1m.csv")
    df = pd.read_csv(path)
    idx = pd.to_datetime(df["Date"], utc=True)  # the file carries Europe/Brussels offsets
    bars = pd.DataFrame(
        {
            "open": df["Open"].to_numpy(),
            "high": df["High"].to_numpy(),
            "low": df["Low"].to_numpy(),
            "close": df["Close"].to_numpy(),
            "volume": df["Volume"].to_numpy(),
        },
        index=pd.DatetimeIndex(idx, name="ts_event"),
    )
    bars = bars[~bars.index.duplicated()].sort_index()
    bars.attrs.update(product="MCL_FUT", schema="ohlcv-1m")
    return bars


@pytest.mark.realdata
def test_real_mcl_bars_reconcile() -> None:
    bars = _mcl_csv()
    assert len(bars) > 60_000
    r = run_backtest(bars, MomentumStrategy(fast_period=20, slow_period=50))
    t = r.trades
    assert len(t) > 20
    idx = bars.index
    for _, tr in t.iterrows():
        side = 1 if tr["side"] == "long" else -1
        i = idx.get_loc(tr["entry_time"])
        # Entered at the open of the bar after the signal, one tick of slippage against us.
        assert tr["entry_price"] == pytest.approx(bars["open"].iloc[i] + side * 0.01, abs=1e-9)
        gross = side * (tr["exit_price"] - tr["entry_price"]) * 100 * tr["contracts"]
        assert tr["gross_pnl"] == pytest.approx(gross, abs=1e-6)
        if tr["exit_reason"] != "end_of_data":
            j = idx.get_loc(tr["exit_time"])
            lo, hi = bars["low"].iloc[j] - 0.01, bars["high"].iloc[j] + 0.01
            assert lo - 1e-9 <= tr["exit_price"] <= hi + 1e-9
    assert t["net_pnl"].sum() == pytest.approx(r.final_equity - r.initial_capital, abs=1e-6)


def test_bad_input_is_explained(bars: pd.DataFrame) -> None:
    s = MomentumStrategy()
    with pytest.raises(DataError, match="no bars"):
        run_backtest(bars.iloc[:0], s)
    nan = bars.iloc[:100].copy()
    nan.iloc[10, 0] = np.nan
    with pytest.raises(DataError, match="NaN prices"):
        run_backtest(nan, s)
    inf = bars.iloc[:100].copy()
    inf.iloc[20, 1] = np.inf
    with pytest.raises(DataError, match=r"infinite prices \(first at .*column high\)"):
        run_backtest(inf, s)
    dup = pd.concat([bars.iloc[:50], bars.iloc[49:100]])
    with pytest.raises(DataError, match="duplicate timestamps"):
        run_backtest(dup, s)
    nosym = bars.iloc[:100].copy()
    nosym["symbol"] = nosym["symbol"].astype(object)
    nosym.iloc[30, nosym.columns.get_loc("symbol")] = None
    with pytest.raises(DataError, match="bars without a symbol"):
        run_backtest(nosym, s)
    with pytest.raises(DataError, match="not sorted"):
        run_backtest(bars.iloc[:100].iloc[::-1], s)
    with pytest.raises(DataError, match="missing column"):
        run_backtest(bars.iloc[:100].drop(columns=["close"]), s)
    with pytest.raises(ConfigError, match="unknown strategy"):
        strategy_class("no_such_strategy")
    with pytest.raises(ConfigError, match="unknown parameter"):
        strategy_class("ema_crossover").from_parameters({"fast": 3})
    with pytest.raises(ConfigError, match="fast_period"):
        MomentumStrategy(fast_period=50, slow_period=20)
    with pytest.raises(ConfigError, match="unknown option"):
        run_backtest(bars.iloc[:100], s, no_such_option=1)
    with pytest.raises(ConfigError, match="needs a stop distance"):
        run_backtest(bars.iloc[:100], s, stop={"mode": "none"})


def _random_bars(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    close = 70 + np.cumsum(rng.integers(-3, 4, n)) / 100
    open_ = np.r_[close[0], close[:-1]]
    index = pd.date_range("2024-03-04 00:00", periods=n, freq="1min", tz="UTC")
    bars = pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) + 0.01,
            "low": np.minimum(open_, close) - 0.01,
            "close": close,
            "volume": np.ones(n, dtype=np.int64),
        },
        index=index,
    )
    bars.attrs = {"product": "MCL_FUT", "schema": "ohlcv-1m"}
    return bars


def _final_equity_in_child(bars: pd.DataFrame, out: Any) -> None:
    out.put(run_backtest(bars, MomentumStrategy()).final_equity)


def test_results_pickle_and_backtests_run_in_forked_children() -> None:
    """Process pools pickle results and fork workers: tables not read yet are built for
    pickling, and a forked child does not inherit the parent's (dead) worker threads."""
    import multiprocessing
    import pickle

    bars = _random_bars(120_000)  # large enough for the stop distances' worker thread
    r = run_backtest(bars, MomentumStrategy())
    back = pickle.loads(pickle.dumps(r))
    pd.testing.assert_frame_equal(back.trades, r.trades)
    pd.testing.assert_series_equal(back.equity, r.equity)
    assert back.metrics == r.metrics
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_final_equity_in_child, args=(bars, queue))
    child.start()
    child.join(timeout=120)
    if child.is_alive():
        child.kill()
        pytest.fail("the backtest hung in a forked child")
    assert queue.get(timeout=5) == r.final_equity
