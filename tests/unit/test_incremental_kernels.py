"""The incremental (one bar at a time) indicators and strategy signals equal the vectorized ones.

On the whole synthetic sample (the continuous front month, ~737k one-minute bars): every
indicator the three strategies use is compared bit for bit (``_same_bits``), because each
incremental kernel repeats the vectorized computation's operations in the same order (the
EMA and Wilder recursions; the pairwise window sums of the rolling mean/std; exact max/min).
The strategies' signals equal ``generate_signals`` bar by bar for several parameter sets,
through the native ``run`` (every bar through ``update`` in Rust) and through the Python
``update`` on a stretch of bars, time filter included.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

from workbench import native
from workbench.data import load_bars
from workbench.data.sample import build_sample
from workbench.errors import ConfigError
from workbench.strategies import (
    BreakoutStrategy,
    MeanReversionStrategy,
    MomentumStrategy,
    Strategy,
    TimeFilter,
)
from workbench.strategies import indicators as ind
from workbench.strategies.incremental import IncrementalSignal, incremental_signal

pytestmark = pytest.mark.slow

FloatArray = npt.NDArray[np.float64]


@pytest.fixture(scope="module")
def sample_bars(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """The whole documented synthetic sample's continuous front month (one-minute bars)."""
    root: Path = tmp_path_factory.mktemp("full_sample")
    build_sample(str(root))
    bars = load_bars("MCL_FUT", "ohlcv-1m", data_dir=root)
    assert len(bars) > 500_000
    return bars


def _hlc(bars: pd.DataFrame) -> tuple[FloatArray, FloatArray, FloatArray]:
    return tuple(bars[k].to_numpy(np.float64) for k in ("high", "low", "close"))


def _same_bits(got: FloatArray, want: FloatArray) -> None:
    """NaN at the same bars, and every other value with the same 64 bits."""
    assert got.shape == want.shape
    nan = np.isnan(want)
    np.testing.assert_array_equal(np.isnan(got), nan)
    diff = np.flatnonzero(got[~nan].view(np.int64) != want[~nan].view(np.int64))
    assert diff.size == 0, f"{diff.size} values differ, first at {np.flatnonzero(~nan)[diff[0]]}"


# -- indicators, bit for bit on the whole sample --------------------------------------------------
@pytest.mark.parametrize("span", [5, 20, 50, 200])
def test_ema_bit_for_bit(sample_bars: pd.DataFrame, span: int) -> None:
    close = _hlc(sample_bars)[2]
    _same_bits(native.IncrementalEma(span).run(close), ind.ema(close, span))
    _same_bits(
        native.IncrementalEma(span, min_periods=3).run(close), ind.ema(close, span, min_periods=3)
    )


@pytest.mark.parametrize("period", [7, 14, 28])
def test_wilder_atr_bit_for_bit_seed_included(sample_bars: pd.DataFrame, period: int) -> None:
    high, low, close = _hlc(sample_bars)
    _same_bits(
        native.IncrementalAtr(period).run(high, low, close), ind.atr(high, low, close, period)
    )
    _same_bits(
        native.IncrementalAtr(period, scale=2.5).run(high, low, close),
        ind.atr(high, low, close, period, scale=2.5),
    )


@pytest.mark.parametrize("period", [10, 20, 55, 100])
def test_rolling_mean_std_bit_for_bit(sample_bars: pd.DataFrame, period: int) -> None:
    close = _hlc(sample_bars)[2]
    mean, std = native.IncrementalMeanStd(period).run(close)
    want_mean, want_std = ind.rolling_mean_std(close, period)  # ddof=0, Bollinger's
    _same_bits(mean, want_mean)
    _same_bits(std, want_std)
    _same_bits(mean, ind.sma(close, period))
    _, std1 = native.IncrementalMeanStd(period, ddof=1).run(close)
    _same_bits(std1, ind.rolling_std(close, period, ddof=1))


@pytest.mark.parametrize("period", [5, 20, 55, 120])
def test_rolling_extremes_and_donchian_exact(sample_bars: pd.DataFrame, period: int) -> None:
    high, low, _ = _hlc(sample_bars)
    _same_bits(native.IncrementalMax(period).run(high), ind.rolling_max(high, period))
    _same_bits(native.IncrementalMin(period).run(low), ind.rolling_min(low, period))
    upper, lower = native.IncrementalDonchian(period).run(high, low)
    want_upper, want_lower = ind.donchian(high, low, period)
    _same_bits(upper, want_upper)
    _same_bits(lower, want_lower)


def test_update_and_run_are_the_same_path() -> None:
    rng = np.random.default_rng(7)
    close = 70 + np.cumsum(rng.normal(0, 0.05, 500))
    one = native.IncrementalMeanStd(20)
    by_update = np.array([one.update(float(v)) for v in close])
    mean, std = native.IncrementalMeanStd(20).run(close)
    _same_bits(by_update[:, 0], mean)
    _same_bits(by_update[:, 1], std)
    assert one.mean == mean[-1]
    assert one.std == std[-1]


def test_nan_handling_matches_or_refuses() -> None:
    x = np.array([np.nan, np.nan, 1.0, 2.0, 3.0, 4.0])
    _same_bits(native.IncrementalEma(2).run(x), ind.ema(x, 2))  # leading NaNs skipped
    ema = native.IncrementalEma(2)
    ema.run(x)
    with pytest.raises(ValueError, match="x is NaN"):
        ema.update(float("nan"))
    assert ema.value == ind.ema(x, 2)[-1]  # the refused value changed nothing
    gap = np.array([1.0, 2.0, np.nan, 4.0, 5.0, 6.0, 7.0])
    _same_bits(native.IncrementalMax(2).run(gap), ind.rolling_max(gap, 2))
    _same_bits(native.IncrementalMeanStd(2).run(gap)[0], ind.sma(gap, 2))
    with pytest.raises(ValueError, match="at index 1, high is NaN"):
        native.IncrementalAtr(3).run(np.array([2.0, np.nan]), np.ones(2), np.ones(2))
    with pytest.raises(ValueError, match="differ in length"):
        native.IncrementalDonchian(3).run(np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match="ddof < period"):
        native.IncrementalMeanStd(3, ddof=3)


# -- strategy signals, bar by bar ----------------------------------------------------------------
SIGNAL_CASES: list[Strategy] = [
    MomentumStrategy(),
    MomentumStrategy(fast_period=5, slow_period=20, allow_short=False),
    MomentumStrategy(fast_period=30, slow_period=200, atr_period=7, atr_stop_mult=3.0),
    MeanReversionStrategy(),
    MeanReversionStrategy(period=50, num_std=2.5, exit_z=0.5),
    MeanReversionStrategy(period=10, num_std=1.0, exit_z=-0.25, allow_short=False),
    BreakoutStrategy(),
    BreakoutStrategy(entry_period=20, exit_period=10, allow_short=False),
    BreakoutStrategy(entry_period=120, exit_period=60, atr_period=28),
]


@pytest.mark.parametrize("strategy", SIGNAL_CASES, ids=lambda s: f"{s.name}-{s.parameters()}")
def test_signal_equals_generate_signals_on_the_sample(
    sample_bars: pd.DataFrame, strategy: Strategy
) -> None:
    want = strategy.generate_signals(sample_bars)
    got, stop = incremental_signal(strategy).run(sample_bars)
    assert got.dtype == np.int8
    np.testing.assert_array_equal(got, want)
    expected = 3 if strategy.parameters()["allow_short"] else 2  # -1/0/+1, or 0/+1 long only
    assert len(np.unique(want)) == expected
    want_stop = strategy.stop_distance(sample_bars)
    assert want_stop is not None
    _same_bits(stop, want_stop)


@pytest.mark.parametrize(
    "strategy",
    [
        MomentumStrategy(fast_period=10, slow_period=40, time_filter=TimeFilter()),
        MeanReversionStrategy(time_filter=TimeFilter("20:00", "03:00")),  # across midnight
        BreakoutStrategy(entry_period=30, exit_period=15, time_filter=TimeFilter()),
    ],
    ids=lambda s: s.name,
)
def test_python_update_bar_by_bar_with_the_time_filter(
    sample_bars: pd.DataFrame, strategy: Strategy
) -> None:
    # Six weeks across the March 2024 daylight-saving change.
    bars = sample_bars.loc["2024-02-20":"2024-04-01"]
    want = strategy.generate_signals(bars)
    sig = incremental_signal(strategy)
    ts = bars.index.as_unit("ns").asi8
    high, low, close = _hlc(bars)
    got = np.array(
        [sig.update(high[i], low[i], close[i], int(ts[i])) for i in range(len(bars))],
        dtype=np.int8,
    )
    np.testing.assert_array_equal(got, want)
    assert (want == 0).any()
    assert (want != 0).any()
    stop = strategy.stop_distance(bars)
    assert stop is not None
    assert sig.stop_distance == stop[-1]


def test_refusals_are_clear() -> None:
    with pytest.raises(ConfigError, match="needs each bar's start time"):
        incremental_signal(MomentumStrategy(time_filter=TimeFilter())).update(1.0, 1.0, 1.0)

    class Custom(MomentumStrategy):
        def compute_signals(self, bars: pd.DataFrame) -> np.ndarray:
            return np.zeros(len(bars), dtype=np.int8)

    with pytest.raises(ConfigError, match="no incremental signal"):
        IncrementalSignal(Custom())
    sig = incremental_signal(BreakoutStrategy())
    with pytest.raises(ValueError, match="close is inf"):
        sig.update(1.0, 1.0, float("inf"))
