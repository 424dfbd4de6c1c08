"""Strategies: signal values, warm-up, no look-ahead, reference loops, parameters, time filter."""

from __future__ import annotations

import dataclasses
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from workbench.errors import ConfigError, DataError
from workbench.strategies import (
    BreakoutStrategy,
    MeanReversionStrategy,
    MomentumStrategy,
    ParamRange,
    Strategy,
    TimeFilter,
    bar_interval,
    registered,
    strategies_from_parameters,
    strategy_class,
)
from workbench.strategies import indicators as ind
from workbench.strategies.base import _local_minute_of_day
from workbench.strategies.signals import hold_positions, latch

STRATEGIES: list[type[Strategy]] = [MomentumStrategy, MeanReversionStrategy, BreakoutStrategy]
# Small parameters, so that short random series trade a lot.
FAST_PARAMS: dict[type[Strategy], dict[str, Any]] = {
    MomentumStrategy: {"fast_period": 5, "slow_period": 21},
    MeanReversionStrategy: {"period": 15, "num_std": 1.5},
    BreakoutStrategy: {"entry_period": 30, "exit_period": 10},
}


def _bars(n: int = 4_000, seed: int = 5, start: str = "2024-03-04 14:00") -> pd.DataFrame:
    """Random-walk one-minute bars on the $0.01 tick, like load_bars returns them."""
    rng = np.random.default_rng(seed)
    close = 72 + np.cumsum(rng.integers(-4, 5, n)) / 100
    open_ = np.r_[close[0], close[:-1]]
    high = np.maximum(open_, close) + rng.integers(0, 4, n) / 100
    low = np.minimum(open_, close) - rng.integers(0, 4, n) / 100
    index = pd.date_range(start, periods=n, freq="1min", tz="UTC", name="ts_event")
    bars = pd.DataFrame(
        {
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "volume": rng.integers(1, 50, n),
            "symbol": pd.Categorical(["MCLK4"] * n),
        },
        index=index,
    )
    bars.attrs["schema"] = "ohlcv-1m"
    return bars


# -- registry ------------------------------------------------------------------------------------
def test_registry_lists_the_three_strategies() -> None:
    reg = registered()
    assert {"ema_crossover", "bollinger_reversion", "donchian_breakout"} <= set(reg)
    assert reg["ema_crossover"] is MomentumStrategy
    assert reg["bollinger_reversion"] is MeanReversionStrategy
    assert reg["donchian_breakout"] is BreakoutStrategy
    assert strategy_class("BreakoutStrategy") is BreakoutStrategy
    with pytest.raises(ConfigError, match="unknown strategy") as err:
        strategy_class("nope")
    assert "ema_crossover" in str(err.value)


# -- signal shape and values ---------------------------------------------------------------------
@pytest.mark.parametrize("cls", STRATEGIES)
def test_signals_are_minus_one_zero_one(cls: type[Strategy]) -> None:
    bars = _bars()
    sig = cls(**FAST_PARAMS[cls]).generate_signals(bars)
    assert sig.dtype == np.int8
    assert sig.shape == (len(bars),)
    assert set(np.unique(sig)) == {-1, 0, 1}
    kwargs: dict[str, Any] = {**FAST_PARAMS[cls], "allow_short": False}
    long_only = cls(**kwargs).generate_signals(bars)
    assert set(np.unique(long_only)) == {0, 1}


@pytest.mark.parametrize(
    ("cls", "warmup"),
    [(MomentumStrategy, 20), (MeanReversionStrategy, 14), (BreakoutStrategy, 30)],
)
def test_warm_up_is_flat(cls: type[Strategy], warmup: int) -> None:
    """Flat until the indicators are defined: slow_period - 1, period - 1, entry_period bars."""
    # A strong trend, so that any defined indicator produces a position right away.
    bars = _bars(300)
    trend = 72 + np.arange(300) * 0.05 * (1 if cls is not MeanReversionStrategy else -1)
    if cls is MeanReversionStrategy:
        trend[warmup] -= 5  # a close far below the lower band as soon as the bands exist
    bars["close"] = trend
    bars["high"] = trend + 0.02
    bars["low"] = trend - 0.02
    sig = cls(**FAST_PARAMS[cls]).generate_signals(bars)
    assert (sig[:warmup] == 0).all()
    assert sig[warmup] != 0


@pytest.mark.parametrize("cls", STRATEGIES)
def test_no_look_ahead(cls: type[Strategy]) -> None:
    """Changing every bar after t leaves the signals up to t unchanged (t known at bar end)."""
    bars = _bars(3_000)
    strat = cls(**FAST_PARAMS[cls], time_filter=TimeFilter("10:00", "16:00"))
    base = strat.generate_signals(bars)
    rng = np.random.default_rng(3)
    for t in (0, 25, 400, 1_500, 2_998):
        other = bars.copy()
        tail = other.index[t + 1 :]
        shock = rng.normal(0, 0.5, len(tail)).round(2)
        for col in ("open", "high", "low", "close"):
            other.loc[tail, col] = other.loc[tail, col] + shock
        got = strat.generate_signals(other)
        np.testing.assert_array_equal(got[: t + 1], base[: t + 1])
        if t < 2_000:
            assert not np.array_equal(got, base), "the perturbation changed nothing"


# -- against plain reference loops --------------------------------------------------------------
def test_momentum_matches_pandas_ewm() -> None:
    bars = _bars()
    close = bars["close"]
    fast = close.ewm(span=12, adjust=False).mean().to_numpy()
    slow = close.ewm(span=40, adjust=False).mean().to_numpy()
    ref = np.sign(fast - slow)
    ref[:39] = 0
    got = MomentumStrategy(fast_period=12, slow_period=40).generate_signals(bars)
    np.testing.assert_array_equal(got, ref)
    got = MomentumStrategy(fast_period=12, slow_period=40, allow_short=False).generate_signals(bars)
    np.testing.assert_array_equal(got, np.maximum(ref, 0))


def _state_machine(
    le: np.ndarray, lx: np.ndarray, se: np.ndarray | None, sx: np.ndarray | None
) -> np.ndarray:
    """The position loop that hold_positions replaces."""
    out = np.zeros(len(le), dtype=np.int8)
    pos = 0
    for t in range(len(le)):
        s_in = bool(se[t]) if se is not None else False
        s_out = bool(sx[t]) if sx is not None else False
        if le[t] and s_in:
            pos = 0
        elif le[t]:
            pos = 1
        elif s_in:
            pos = -1
        elif (pos == 1 and lx[t]) or (pos == -1 and s_out):
            pos = 0
        out[t] = pos
    return out


@pytest.mark.parametrize("seed", range(5))
def test_hold_positions_matches_the_loop(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 2_000
    le, lx, se, sx = (rng.random(n) < q for q in (0.03, 0.08, 0.03, 0.08))
    np.testing.assert_array_equal(hold_positions(le, lx, se, sx), _state_machine(le, lx, se, sx))
    np.testing.assert_array_equal(hold_positions(le, lx), _state_machine(le, lx, None, None))
    assert latch([False, True, False, False], [False, False, True, False]).tolist() == [
        False,
        True,
        False,
        False,
    ]
    with pytest.raises(ValueError, match="both"):
        hold_positions(le, lx, se, None)


@pytest.mark.parametrize("allow_short", [True, False])
def test_mean_reversion_matches_reference_loop(allow_short: bool) -> None:
    bars = _bars(5_000, seed=9)
    strat = MeanReversionStrategy(period=15, num_std=1.5, exit_z=0.25, allow_short=allow_short)
    close = bars["close"].to_numpy()
    roll = bars["close"].rolling(15)
    mid, sd = roll.mean().to_numpy(), roll.std(ddof=0).to_numpy()
    pos, ref = 0, np.zeros(len(close), dtype=np.int8)
    for t in range(len(close)):
        if np.isnan(mid[t]):
            continue
        z = (close[t] - mid[t]) / sd[t] if sd[t] > 1e-9 else 0.0
        if z < -1.5:
            pos = 1
        elif z > 1.5 and allow_short:
            pos = -1
        elif (pos == 1 and z >= 0.25) or (pos == -1 and z <= -0.25):
            pos = 0
        ref[t] = pos
    got = strat.generate_signals(bars)
    # The loop uses pandas' rolling std, which rounds differently: allow the odd tie.
    assert np.mean(got != ref) < 0.002
    assert (got == 1).sum() > 100
    assert ((got == -1).sum() > 100) == allow_short


@pytest.mark.parametrize("allow_short", [True, False])
def test_breakout_matches_reference_loop(allow_short: bool) -> None:
    bars = _bars(5_000, seed=4)
    high, low, close = (bars[c].to_numpy() for c in ("high", "low", "close"))
    pos, ref = 0, np.zeros(len(close), dtype=np.int8)
    for t in range(30, len(close)):
        up, down = close[t] > high[t - 30 : t].max(), close[t] < low[t - 30 : t].min()
        exit_long = close[t] < low[t - 10 : t].min()
        exit_short = close[t] > high[t - 10 : t].max()
        if up:
            pos = 1
        elif down and allow_short:
            pos = -1
        elif (pos == 1 and exit_long) or (pos == -1 and exit_short):
            pos = 0
        ref[t] = pos
    got = BreakoutStrategy(entry_period=30, exit_period=10, allow_short=allow_short)
    np.testing.assert_array_equal(got.generate_signals(bars), ref)


@pytest.mark.parametrize("cls", STRATEGIES)
def test_stop_distance_is_atr_multiple(cls: type[Strategy]) -> None:
    bars = _bars(500)
    kwargs: dict[str, Any] = {"atr_period": 10, "atr_stop_mult": 2.5}
    strat = cls(**kwargs)
    stop = strat.stop_distance(bars)
    assert stop is not None
    expected = 2.5 * ind.atr(bars["high"], bars["low"], bars["close"], 10)
    np.testing.assert_allclose(stop, expected, equal_nan=True)
    assert np.isnan(stop[:9]).all()
    assert (stop[9:] > 0).all()


# -- parameters ----------------------------------------------------------------------------------
def test_fast_must_be_below_slow() -> None:
    with pytest.raises(ConfigError) as err:
        MomentumStrategy(fast_period=50, slow_period=20)
    assert err.value.message == "EMA Crossover: fast_period (50) must be < slow_period (20)"
    assert err.value.hint
    with pytest.raises(ConfigError, match="must be < slow_period"):
        MomentumStrategy(fast_period=30, slow_period=30)


@pytest.mark.parametrize(
    ("cls", "params", "message"),
    [
        (MomentumStrategy, {"fast_period": 0}, "fast_period must be positive, got 0"),
        (MomentumStrategy, {"slow_period": 20.5}, "slow_period must be an integer"),
        (MomentumStrategy, {"atr_stop_mult": float("nan")}, "atr_stop_mult must be finite"),
        (MomentumStrategy, {"atr_stop_mult": -1.0}, "atr_stop_mult must be positive"),
        (MomentumStrategy, {"allow_short": "yes"}, "allow_short must be true or false"),
        (MeanReversionStrategy, {"period": 1}, "period must be >= 2"),
        (MeanReversionStrategy, {"num_std": 0}, "num_std must be positive"),
        (MeanReversionStrategy, {"exit_z": 2.0}, "exit_z \\(2.0\\) must lie strictly between"),
        (MeanReversionStrategy, {"exit_z": -2.5}, "exit_z"),
        (BreakoutStrategy, {"entry_period": -5}, "entry_period must be positive"),
        (BreakoutStrategy, {"exit_period": "20"}, "exit_period must be an integer"),
        (BreakoutStrategy, {"atr_period": True}, "atr_period must be an integer"),
        (BreakoutStrategy, {"time_filter": "09:00-14:30"}, "time_filter must be a TimeFilter"),
        # finite but absurd: num_std * std overflows, the stop never triggers, arrays explode
        (MeanReversionStrategy, {"num_std": 1e308}, "num_std must be between 0 and 10"),
        (MomentumStrategy, {"atr_stop_mult": 1e300}, "atr_stop_mult must be between 0 and 100"),
        (BreakoutStrategy, {"entry_period": 10**30}, "entry_period must be <= 1,000,000"),
        (MeanReversionStrategy, {"period": 2**63}, "period must be <= 1,000,000"),
    ],
)
def test_invalid_parameters(cls: type[Strategy], params: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        cls(**params)
    assert err.value.message.startswith(cls.display_name + ":")


def test_an_out_of_range_parameter_hints_at_its_typical_values() -> None:
    with pytest.raises(ConfigError) as err:
        MeanReversionStrategy(num_std=1e308)
    assert err.value.hint == "typical values of num_std: 1.0 to 3.0"


def test_negative_exit_z_and_long_only_are_valid() -> None:
    MeanReversionStrategy(exit_z=-0.5, allow_short=False)
    MeanReversionStrategy(exit_z=0.0)


@pytest.mark.parametrize("cls", STRATEGIES)
def test_from_parameters_rejects_unknown_names(cls: type[Strategy]) -> None:
    with pytest.raises(ConfigError, match="unknown parameter\\(s\\) bogus, lookback") as err:
        cls.from_parameters({"lookback": 3, "bogus": 1})
    assert err.value.hint
    assert "atr_period" in err.value.hint
    with pytest.raises(ConfigError, match="unknown time_filter field"):
        cls.from_parameters({"time_filter": {"start": "09:00", "stop": "10:00"}})


@pytest.mark.parametrize("cls", STRATEGIES)
def test_parameters_round_trip_through_json(cls: type[Strategy]) -> None:
    strat = cls(**FAST_PARAMS[cls], time_filter=TimeFilter("08:00", "13:15"))
    text = json.dumps(strat.parameters())
    back = cls.from_parameters(json.loads(text))
    assert back == strat
    assert back.parameters() == strat.parameters()
    assert strat.parameters()["time_filter"] == {
        "start": "08:00",
        "end": "13:15",
        "tz": "America/New_York",
    }
    assert cls.from_parameters(cls().parameters()) == cls()


def test_numpy_scalars_are_normalised() -> None:
    kwargs: dict[str, Any] = {"fast_period": np.int64(10), "atr_stop_mult": np.float64(1.5)}
    strat = MomentumStrategy(**kwargs)
    assert type(strat.fast_period) is int
    assert type(strat.atr_stop_mult) is float
    json.dumps(strat.parameters())


def test_param_space_values() -> None:
    assert MomentumStrategy.param_space["fast_period"].values() == list(range(5, 55, 5))
    assert MomentumStrategy.param_space["slow_period"].values() == list(range(20, 210, 10))
    assert MeanReversionStrategy.param_space["num_std"].values() == [
        1.0,
        1.25,
        1.5,
        1.75,
        2.0,
        2.25,
        2.5,
        2.75,
        3.0,
    ]
    assert MeanReversionStrategy.param_space["exit_z"].values() == [-0.5, -0.25, 0.0, 0.25, 0.5]
    assert BreakoutStrategy.param_space["entry_period"].values()[:3] == [20, 25, 30]
    assert ParamRange(choices=("a", "b")).values() == ["a", "b"]
    with pytest.raises(ConfigError, match="positive step"):
        ParamRange(1, 5).values()


@pytest.mark.parametrize("cls", STRATEGIES)
def test_param_space_fits_the_fields(cls: type[Strategy]) -> None:
    """Every swept name is a field, defaults lie on the grid, every grid point builds or is a
    ConfigError (a sweep can skip it)."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    assert cls.param_space
    for name, rng in cls.param_space.items():
        assert name in fields
        assert fields[name].default in rng.values()
        for v in rng.values():
            assert type(v) is type(fields[name].default)
    grid = {k: r.values() for k, r in cls.param_space.items() if k not in ("atr_period",)}
    built = 0
    for combo in itertools.product(*grid.values()):
        try:
            cls(**dict(zip(grid, combo, strict=True)))
            built += 1
        except ConfigError:
            pass
    assert built > 0


# -- time filter ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _AlwaysLong(Strategy):
    """A test strategy, not registered: long on every bar."""

    name: ClassVar[str] = "always_long"

    def compute_signals(self, bars: pd.DataFrame) -> np.ndarray:
        return np.ones(len(bars))


def test_time_filter_uses_bar_end() -> None:
    # 2024-03-04 is a Monday in EST (UTC-5): 08:55 NY = 13:55 UTC.
    bars = _bars(600, start="2024-03-04 13:55")
    ny = bars.index.tz_convert("America/New_York")
    sig = _AlwaysLong(time_filter=TimeFilter("09:00", "14:30")).generate_signals(bars)
    by_start = dict(zip(ny.strftime("%H:%M"), sig, strict=True))
    assert by_start["08:58"] == 0  # ends 08:59
    assert by_start["08:59"] == 1  # ends 09:00: inside
    assert by_start["14:28"] == 1  # ends 14:29
    assert by_start["14:29"] == 0  # ends 14:30: end is exclusive
    assert sig.sum() == 5 * 60 + 30
    # hourly bars: the 13:00 bar ends 14:00 (inside), the 14:00 bar ends 15:00 (outside)
    hourly = bars.iloc[::60].copy()
    hourly.attrs["schema"] = "ohlcv-1h"
    ends = hourly.index + pd.Timedelta("1h")
    sig_h = _AlwaysLong(time_filter=TimeFilter("09:00", "14:30")).generate_signals(hourly)
    expected = TimeFilter("09:00", "14:30").mask(ends)
    np.testing.assert_array_equal(sig_h.astype(bool), expected)


@pytest.mark.parametrize("cls", STRATEGIES)
def test_time_filter_forces_flat_outside_the_window(cls: type[Strategy]) -> None:
    bars = _bars()
    raw = cls(**FAST_PARAMS[cls]).generate_signals(bars)
    filt = TimeFilter("10:00", "12:00")
    got = cls(**FAST_PARAMS[cls], time_filter=filt).generate_signals(bars)
    inside = filt.mask(bars.index + pd.Timedelta("1min"))
    assert inside.any()
    assert (~inside).any()
    assert (got[~inside] == 0).all()
    np.testing.assert_array_equal(got[inside], raw[inside])


def test_time_filter_across_midnight_and_validation() -> None:
    idx = pd.DatetimeIndex(
        ["2024-07-01 21:59", "2024-07-01 22:00", "2024-07-02 03:59", "2024-07-02 04:00"], tz="UTC"
    )  # EDT: 17:59, 18:00, 23:59, 00:00 New York
    assert TimeFilter("18:00", "00:00").mask(idx).tolist() == [False, True, True, False]
    assert TimeFilter("18:00", "24:00").mask(idx).tolist() == [False, True, True, False]
    assert TimeFilter("23:00", "01:00").mask(idx).tolist() == [False, False, True, True]
    for bad in [("9", "10:00"), ("09:00", "25:00"), ("09:61", "10:00"), ("10:00", "10:00")]:
        with pytest.raises(ConfigError, match="time filter"):
            TimeFilter(*bad)
    with pytest.raises(ConfigError, match="unknown time zone"):
        TimeFilter(tz="Mars/Olympus")
    with pytest.raises(ConfigError, match="tz-aware"):
        TimeFilter().mask(pd.DatetimeIndex(["2024-01-02 14:00"]))


@pytest.mark.parametrize("tz", ["America/New_York", "America/Chicago", "Europe/London", "UTC"])
def test_local_minutes_match_tz_convert_across_dst(tz: str) -> None:
    idx = pd.date_range("2024-03-09", "2024-03-11", freq="7min", tz="UTC").append(
        pd.date_range("2024-10-26", "2024-11-04", freq="13min", tz="UTC")
    )
    local = idx.tz_convert(tz)
    np.testing.assert_array_equal(
        _local_minute_of_day(idx, tz), np.asarray(local.hour * 60 + local.minute)
    )


def test_bar_interval() -> None:
    bars = _bars(10)
    assert bar_interval(bars) == pd.Timedelta("1min")
    bars.attrs["schema"] = "ohlcv-1h"  # the schema wins over the spacing
    assert bar_interval(bars) == pd.Timedelta("1h")
    bars.attrs.clear()
    gappy = bars.iloc[[0, 1, 2, 3, 8, 9]]  # the median gap, not the mean
    assert bar_interval(gappy) == pd.Timedelta("1min")
    assert bar_interval(bars.iloc[:1]) == pd.Timedelta(0)
    seconds = bars.set_axis(bars.index.as_unit("s"))
    assert bar_interval(seconds) == pd.Timedelta("1min")


def test_bad_signal_shape_and_missing_columns() -> None:
    @dataclass(frozen=True)
    class Short(Strategy):
        name: ClassVar[str] = "short"

        def compute_signals(self, bars: pd.DataFrame) -> np.ndarray:
            return np.ones(len(bars) - 1)

    with pytest.raises(ValueError, match="expected"):
        Short().generate_signals(_bars(10))
    with pytest.raises(DataError, match="no 'high' column"):
        BreakoutStrategy().generate_signals(_bars(10).drop(columns="high"))


# -- on the synthetic sample ---------------------------------------------------------------------
@pytest.mark.parametrize("cls", STRATEGIES)
def test_trades_both_ways_on_the_sample(small_sample: Path, cls: type[Strategy]) -> None:
    from workbench.data import load_bars

    bars = load_bars("MCL_FUT", "ohlcv-1m", data_dir=small_sample)
    for strat in (cls(), cls(time_filter=TimeFilter())):
        sig = strat.generate_signals(bars)
        assert len(sig) == len(bars)
        longs, shorts = int((sig == 1).sum()), int((sig == -1).sum())
        assert longs > 0.05 * len(bars), (longs, shorts)
        assert shorts > 0.05 * len(bars), (longs, shorts)
        assert np.count_nonzero(np.diff(sig)) > 20  # it trades, not one position throughout
    stop = cls().stop_distance(bars)
    assert stop is not None
    assert np.isfinite(stop[20:]).all()
    assert (stop[20:] > 0).all()


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({}, "needs at least 2 strategies, got no strategy"),
        ({"ema_crossover": {}}, "needs at least 2 strategies, got only ema_crossover"),
        (["ema_crossover", "donchian_breakout"], "must be a dict of strategy name to parameters"),
        ({"ema_crossover": {}, "donchian_breakout": 40}, "strategies\\['donchian_breakout'\\]"),
        ({"ema_crossover": {}, "nope": {}}, "strategies\\['nope'\\]: unknown strategy 'nope'"),
        ({"ema_crossover": {"fast_period": 0}, "donchian_breakout": {}}, "fast_period"),
    ],
)
def test_strategies_parameter_errors_name_the_parameter(given: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        strategies_from_parameters(given, minimum=2)
    assert err.value.hint  # what to pass: the parameters cell, or the known names and values


def test_strategies_parameter_builds_each_in_order() -> None:
    built = strategies_from_parameters(
        {"donchian_breakout": {"entry_period": 40}, "ema_crossover": {}}, minimum=2
    )
    assert list(built) == ["donchian_breakout", "ema_crossover"]
    assert built["donchian_breakout"] == BreakoutStrategy(entry_period=40)
