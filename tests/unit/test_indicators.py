"""Indicators against independent computations: pandas, plain loops and worked examples."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from workbench.errors import ConfigError
from workbench.strategies import indicators as ind


def _prices(n: int = 3_000, seed: int = 7) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random-walk tick prices: (high, low, close) with high >= close >= low."""
    rng = np.random.default_rng(seed)
    close = 72 + np.cumsum(rng.integers(-3, 4, n)) / 100
    high = close + rng.integers(0, 5, n) / 100
    low = close - rng.integers(0, 5, n) / 100
    return high, low, close


def _wilder_loop(x: np.ndarray, p: int) -> np.ndarray:
    """Wilder smoothing written out: seed with the mean of the first p, then recurse."""
    out = np.full(len(x), np.nan)
    if len(x) < p:
        return out
    out[p - 1] = sum(x[:p]) / p
    for t in range(p, len(x)):
        out[t] = out[t - 1] + (x[t] - out[t - 1]) / p
    return out


# -- EMA -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("span", [1, 2, 5, 20, 200])
def test_ema_matches_pandas_ewm(span: int) -> None:
    _, _, close = _prices()
    got = ind.ema(close, span)
    ref = pd.Series(close).ewm(span=span, adjust=False).mean().to_numpy()
    assert np.isnan(got[: span - 1]).all()
    np.testing.assert_allclose(got[span - 1 :], ref[span - 1 :], rtol=0, atol=1e-12)


def test_ema_hand_example() -> None:
    # span 3 -> alpha 0.5, seeded with the first value
    got = ind.ema([1.0, 2.0, 3.0, 3.0], 3, min_periods=1)
    np.testing.assert_allclose(got, [1.0, 1.5, 2.25, 2.625])
    assert np.isnan(ind.ema([1.0, 2.0, 3.0, 3.0], 3)[:2]).all()


def test_ema_skips_leading_nans_and_rejects_gaps() -> None:
    x = np.array([np.nan, np.nan, 4.0, 6.0, 8.0])
    np.testing.assert_allclose(ind.ema(x, 3, min_periods=1)[2:], [4.0, 5.0, 6.5])
    assert np.isnan(ind.ema(x, 3)[:4]).all()
    assert ind.ema(x, 3)[4] == pytest.approx(6.5)
    with pytest.raises(ValueError, match="NaN inside"):
        ind.ema([1.0, np.nan, 2.0], 2)
    assert np.isnan(ind.ema([np.nan, np.nan], 2)).all()


# -- moving windows ------------------------------------------------------------------------------
@pytest.mark.parametrize("period", [1, 2, 3, 7, 20, 64, 100, 255])
def test_sma_and_std_match_two_pass(period: int) -> None:
    _, _, close = _prices()
    windows = sliding_window_view(close, period)
    mean = ind.sma(close, period)
    std0 = ind.rolling_std(close, period)
    assert np.isnan(mean[: period - 1]).all()
    assert np.isnan(std0[: period - 1]).all()
    np.testing.assert_allclose(mean[period - 1 :], windows.mean(axis=1), rtol=0, atol=1e-11)
    ref0 = windows.std(axis=1)
    np.testing.assert_allclose(std0[period - 1 :], ref0, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(std0[period - 1 :] == 0, ref0 == 0)  # flat windows
    if period > 1:
        # (pandas' online rolling std is no reference here: it drifts by ~1e-7 on flat windows)
        std1 = ind.rolling_std(close, period, ddof=1)
        ref1 = windows.std(axis=1, ddof=1)
        np.testing.assert_allclose(std1[period - 1 :], ref1, rtol=0, atol=1e-9)
    m2, s2 = ind.rolling_mean_std(close, period)
    np.testing.assert_array_equal(m2, mean)
    np.testing.assert_array_equal(s2, std0)


def test_rolling_std_is_zero_on_flat_windows_and_nan_aware() -> None:
    x = np.r_[np.full(30, 71.37), 71.38, np.full(30, 71.38)]
    std = ind.rolling_std(x, 10)
    assert (std[9:30] == 0).all()
    assert (std[30:39] > 1e-3).all()
    assert (std[39:] == 0).all()
    y = np.arange(10.0)
    y[4] = np.nan
    mean = ind.sma(y, 3)
    assert np.isnan(mean[4:7]).all()
    assert mean[7] == pytest.approx(6.0)


@pytest.mark.parametrize("period", [1, 2, 5, 13, 55, 2_999, 3_000])
def test_rolling_max_min_match_pandas(period: int) -> None:
    high, low, _ = _prices()
    np.testing.assert_array_equal(
        ind.rolling_max(high, period), pd.Series(high).rolling(period).max().to_numpy()
    )
    np.testing.assert_array_equal(
        ind.rolling_min(low, period), pd.Series(low).rolling(period).min().to_numpy()
    )


def test_rolling_max_window_longer_than_series() -> None:
    assert np.isnan(ind.rolling_max([1.0, 2.0], 3)).all()
    assert np.isnan(ind.sma([1.0, 2.0], 3)).all()


# -- true range, ATR -----------------------------------------------------------------------------
def _hand_bars() -> tuple[list[float], list[float], list[float]]:
    # true ranges 2, 3, 1, 4 (gap up: from the previous close 10 to the high 14), 2
    high = [10.0, 11.0, 10.5, 14.0, 13.5]
    low = [8.0, 8.0, 9.5, 11.0, 11.5]
    close = [9.0, 10.0, 10.0, 13.0, 12.0]
    return high, low, close


def test_true_range_hand_example() -> None:
    np.testing.assert_allclose(ind.true_range(*_hand_bars()), [2.0, 3.0, 1.0, 4.0, 2.0])


def test_atr_wilder_hand_example() -> None:
    got = ind.atr(*_hand_bars(), period=3)
    assert np.isnan(got[:2]).all()
    # seed: mean(2, 3, 1) = 2; then 2 + (4 - 2)/3 = 8/3; then 8/3 + (2 - 8/3)/3 = 22/9
    np.testing.assert_allclose(got[2:], [2.0, 8 / 3, 22 / 9], rtol=1e-14)


@pytest.mark.parametrize("period", [1, 14, 50])
def test_atr_matches_loop(period: int) -> None:
    high, low, close = _prices()
    tr = np.array(
        [high[0] - low[0]]
        + [
            max(high[t] - low[t], abs(high[t] - close[t - 1]), abs(low[t] - close[t - 1]))
            for t in range(1, len(close))
        ]
    )
    np.testing.assert_allclose(ind.true_range(high, low, close), tr, atol=1e-12)
    np.testing.assert_allclose(
        ind.atr(high, low, close, period), _wilder_loop(tr, period), rtol=1e-12, equal_nan=True
    )


# -- fused native kernels: the same bits as the NumPy compositions -------------------------------
@pytest.mark.parametrize(("fast", "slow"), [(1, 2), (5, 20), (20, 50), (50, 20), (3, 5_000)])
def test_ema_cross_is_bitwise_the_sign_of_two_emas(fast: int, slow: int) -> None:
    _, _, close = _prices()
    f, s = ind.ema(close, fast), ind.ema(close, slow)
    want = (f > s).astype(np.int8) - (f < s).astype(np.int8)
    got = ind.ema_cross(close, fast, slow)
    assert got.dtype == np.int8
    np.testing.assert_array_equal(got, want)
    if max(fast, slow) < len(close):
        assert set(np.unique(got[max(fast, slow) :])) == {-1, 1}


def test_ema_cross_with_nans_takes_the_general_path() -> None:
    _, _, close = _prices(200)
    lead = np.r_[np.full(7, np.nan), close]
    f, s = ind.ema(lead, 3, min_periods=3), ind.ema(lead, 9, min_periods=9)
    want = (f > s).astype(np.int8) - (f < s).astype(np.int8)
    np.testing.assert_array_equal(ind.ema_cross(lead, 3, 9), want)
    gap = close.copy()
    gap[50] = np.nan
    with pytest.raises(ValueError, match="NaN inside the series"):
        ind.ema_cross(gap, 3, 9)
    with pytest.raises(ConfigError, match="fast must be a positive integer"):
        ind.ema_cross(close, 0, 9)


@pytest.mark.parametrize("period", [1, 2, 14, 2_999, 3_000, 3_001])
@pytest.mark.parametrize("scale", [1.0, 2.5])
def test_atr_is_bitwise_the_numpy_composition(period: int, scale: float) -> None:
    high, low, close = _prices()
    want = scale * ind.wilder(ind.true_range(high, low, close), period)
    got = ind.atr(high, low, close, period, scale=scale)
    np.testing.assert_array_equal(got, want)  # NaN positions and every bit of the rest


def test_atr_with_nans_takes_the_general_path() -> None:
    high, low, close = _prices(300)
    for col in (high, low, close):
        col[0] = np.nan  # a leading NaN: the smoothing starts after it
    want = 2.0 * ind.wilder(ind.true_range(high, low, close), 14)
    np.testing.assert_array_equal(ind.atr(high, low, close, 14, scale=2.0), want)
    assert np.isnan(want[:15]).all()
    assert not np.isnan(want[15:]).any()
    close[100] = np.nan
    with pytest.raises(ValueError, match="NaN inside the series"):
        ind.atr(high, low, close, 14)


# -- Bollinger, RSI, Donchian --------------------------------------------------------------------
def test_bollinger_bands() -> None:
    _, _, close = _prices()
    mid, upper, lower = ind.bollinger(close, 20, 2.5)
    roll = pd.Series(close).rolling(20)
    np.testing.assert_allclose(mid, roll.mean().to_numpy(), atol=1e-11, equal_nan=True)
    sd = roll.std(ddof=0).to_numpy()
    np.testing.assert_allclose(upper, mid + 2.5 * sd, atol=1e-7, equal_nan=True)
    np.testing.assert_allclose(lower, mid - 2.5 * sd, atol=1e-7, equal_nan=True)
    assert np.isnan(mid[:19]).all()
    assert not np.isnan(mid[19:]).any()


@pytest.mark.parametrize("period", [2, 14, 30])
def test_rsi_matches_loop(period: int) -> None:
    _, _, close = _prices()
    delta = np.diff(close)
    gain = _wilder_loop(np.maximum(delta, 0), period)
    loss = _wilder_loop(np.maximum(-delta, 0), period)
    ref = np.full(len(close), np.nan)
    for t in range(period, len(close)):
        g, lo = gain[t - 1], loss[t - 1]  # averages of the changes up to bar t
        if g + lo == 0:
            ref[t] = 50.0
        elif lo == 0:
            ref[t] = 100.0
        else:
            ref[t] = 100.0 - 100.0 / (1.0 + g / lo)
    got = ind.rsi(close, period)
    assert np.isnan(got[:period]).all()
    np.testing.assert_allclose(got, ref, atol=1e-9, equal_nan=True)


def test_rsi_edge_cases() -> None:
    assert ind.rsi(np.arange(1.0, 30.0), 14)[14:] == pytest.approx(100.0)
    assert ind.rsi(np.arange(30.0, 1.0, -1), 14)[14:] == pytest.approx(0.0)
    assert ind.rsi(np.full(30, 70.0), 14)[14:] == pytest.approx(50.0)
    assert np.isnan(ind.rsi([1.0, 2.0], 14)).all()


def test_donchian_is_the_previous_bars_channel() -> None:
    high, low, _ = _prices(500)
    upper, lower = ind.donchian(high, low, 20)
    assert np.isnan(upper[:20]).all()
    assert np.isnan(lower[:20]).all()
    for t in range(20, 500):
        assert upper[t] == high[t - 20 : t].max()
        assert lower[t] == low[t - 20 : t].min()
    # the current bar is not part of its own channel
    bumped = high.copy()
    bumped[300] += 10
    assert ind.donchian(bumped, low, 20)[0][300] == upper[300]
    assert ind.donchian(bumped, low, 20)[0][301] == high[300] + 10


# -- causality and arguments ---------------------------------------------------------------------
_CAUSAL: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], object]] = {
    "ema": lambda h, lo, c: ind.ema(c, 30),
    "sma": lambda h, lo, c: ind.sma(c, 30),
    "rolling_std": lambda h, lo, c: ind.rolling_std(c, 30),
    "rolling_max": lambda h, lo, c: ind.rolling_max(h, 30),
    "rolling_min": lambda h, lo, c: ind.rolling_min(lo, 30),
    "true_range": lambda h, lo, c: ind.true_range(h, lo, c),
    "atr": lambda h, lo, c: ind.atr(h, lo, c, 14),
    "bollinger": lambda h, lo, c: ind.bollinger(c, 20, 2.0),
    "rsi": lambda h, lo, c: ind.rsi(c, 14),
    "donchian": lambda h, lo, c: ind.donchian(h, lo, 55),
}


@pytest.mark.parametrize("name", sorted(_CAUSAL))
def test_no_look_ahead(name: str) -> None:
    """Changing bars after t leaves every value up to t bit-identical."""
    fn = _CAUSAL[name]
    high, low, close = _prices(2_000)
    base = fn(high, low, close)
    rng = np.random.default_rng(11)
    for t in (0, 13, 54, 55, 500, 1_998):
        h, lo, c = high.copy(), low.copy(), close.copy()
        tail = slice(t + 1, None)
        shock = rng.normal(0, 5, len(c) - t - 1)
        c[tail] += shock
        h[tail] = np.maximum(h[tail] + shock, c[tail]) + 1
        lo[tail] = np.minimum(lo[tail] + shock, c[tail]) - 1
        got = fn(h, lo, c)
        for a, b in zip(
            base if isinstance(base, tuple) else (base,),
            got if isinstance(got, tuple) else (got,),
            strict=True,
        ):
            np.testing.assert_array_equal(a[: t + 1], b[: t + 1])
        # ...and the tail did change, so the check is not vacuous
        assert t > 1_900 or any(
            not np.array_equal(a, b, equal_nan=True)
            for a, b in zip(
                base if isinstance(base, tuple) else (base,),
                got if isinstance(got, tuple) else (got,),
                strict=True,
            )
        )


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "20", None])
def test_bad_periods_are_config_errors(bad: Any) -> None:
    x = np.arange(50.0)
    for fn in (ind.ema, ind.sma, ind.rolling_std, ind.rolling_max, ind.rsi):
        with pytest.raises(ConfigError, match="positive integer"):
            fn(x, bad)
    with pytest.raises(ConfigError, match="positive integer"):
        ind.atr(x, x, x, bad)


def test_shapes_and_dtypes() -> None:
    high, low, close = _prices(100)
    assert ind.ema(pd.Series(close), 5).dtype == np.float64
    with pytest.raises(ValueError, match="differ in length"):
        ind.true_range(high, low[:-1], close)
    with pytest.raises(ValueError, match="one-dimensional"):
        ind.sma(close.reshape(10, 10), 3)
    with pytest.raises(ConfigError, match="ddof"):
        ind.rolling_std(close, 3, ddof=3)
    assert ind.sma(np.arange(5), 2).dtype == np.float64  # integer input
