"""The probabilistic and deflated Sharpe ratios and the probability of backtest overfitting
(workbench.analysis.overfitting): worked examples from the papers' formulas, an independent
implementation, calibration under the null, and CSCV against a plain loop."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.stats

from workbench.analysis.overfitting import (
    EULER_GAMMA,
    ReturnMoments,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    probabilistic_sharpe_ratio,
    probability_of_backtest_overfitting,
    psr_of_returns,
    return_moments,
)
from workbench.errors import ConfigError

# ---------------------------------------------------------------------------------------------
# PSR and DSR by hand


def test_psr_worked_example_normal_returns() -> None:
    # PSR(SR*) = Phi((SR - SR*) sqrt(T - 1) / sqrt(1 - g3 SR + (g4 - 1)/4 SR^2))
    # SR = 0.1 per day, T = 253 days, normal shape (g3 = 0, g4 = 3), SR* = 0:
    #   sqrt(T - 1) = sqrt(252) = 15.8745079
    #   1 - 0 * 0.1 + (3 - 1)/4 * 0.01 = 1.005, sqrt = 1.0024969
    #   z = 0.1 * 15.8745079 / 1.0024969 = 1.5834970
    #   Phi(1.5834970) = 0.9433459
    assert probabilistic_sharpe_ratio(0.1, 253, 0.0, 3.0) == pytest.approx(0.9433459, abs=1e-7)


def test_psr_worked_example_skewed_fat_tailed_returns() -> None:
    # Same SR and T, skewness -1 and kurtosis 6 (non-excess):
    #   1 - (-1)(0.1) + (6 - 1)/4 * 0.01 = 1 + 0.1 + 0.0125 = 1.1125, sqrt = 1.0547512
    #   z = 1.5874508 / 1.0547512 = 1.5050477
    #   Phi(1.5050477) = 0.9338441  (lower than the normal case: left tail and fat tails)
    assert probabilistic_sharpe_ratio(0.1, 253, -1.0, 6.0) == pytest.approx(0.9338441, abs=1e-7)
    # Beating a benchmark equal to the estimate is a coin toss.
    assert probabilistic_sharpe_ratio(0.1, 253, -1.0, 6.0, benchmark=0.1) == 0.5


def test_dsr_the_papers_numerical_example() -> None:
    # Bailey and Lopez de Prado (2014), section 5: N = 100 trials whose annualized Sharpe ratios
    # have variance 0.5, the best annualized SR 2.5, T = 1250 daily returns (250 a year),
    # skewness -3, kurtosis 10.
    # Per day: V = 0.5 / 250 = 0.002, sqrt(V) = 0.0447214; SR = 2.5 / sqrt(250) = 0.1581139.
    #   Phi^-1(1 - 1/100) = 2.3263479
    #   Phi^-1(1 - 1/(100 e)) = Phi^-1(0.9963212) = 2.6802104
    #   (1 - 0.5772157) * 2.3263479 + 0.5772157 * 2.6802104 = 2.5306029
    #   SR0 = 0.0447214 * 2.5306029 = 0.1131720          (the paper: 0.1132)
    #   1 - (-3)(0.1581139) + (10 - 1)/4 * 0.1581139^2 = 1.5305916, sqrt = 1.2371708
    #   z = (0.1581139 - 0.1131720) * sqrt(1249) / 1.2371708 = 1.2838160
    #   DSR = Phi(1.2838160) = 0.9003968                  (the paper: 0.9004)
    sr0 = expected_max_sharpe(100, 0.5 / 250)
    assert sr0 == pytest.approx(0.1131720, abs=1e-7)
    moments = ReturnMoments(sharpe=2.5 / math.sqrt(250), skew=-3.0, kurtosis=10.0, n=1250)
    d = deflated_sharpe_ratio(moments, 100, 0.5 / 250)
    assert d.expected_max_sharpe == sr0
    assert d.dsr is not None
    assert d.dsr == pytest.approx(0.9003968, abs=1e-7)
    assert round(d.dsr, 4) == 0.9004


def test_expected_max_sharpe_edges() -> None:
    assert expected_max_sharpe(1, 0.3) == 0.0  # one trial: nothing was selected
    assert expected_max_sharpe(50, 0.0) == 0.0
    assert pytest.approx(0.5772156649015329) == EULER_GAMMA
    # More trials, a higher bar; the bar scales with the spread of the trials' Sharpe ratios.
    bars = [expected_max_sharpe(n, 1.0) for n in (2, 10, 100, 1000)]
    assert bars == sorted(bars)
    assert expected_max_sharpe(100, 4.0) == pytest.approx(2 * expected_max_sharpe(100, 1.0))
    # The formula approximates E[max of N standard normals]: 4000 draws of the max of 100.
    draws = np.random.default_rng(7).standard_normal((4000, 100)).max(axis=1)
    assert expected_max_sharpe(100, 1.0) == pytest.approx(draws.mean(), abs=0.03)
    with pytest.raises(ValueError, match="n_trials"):
        expected_max_sharpe(0, 1.0)
    with pytest.raises(ValueError, match="sharpe_variance"):
        expected_max_sharpe(5, -1.0)


def test_moments_use_the_papers_conventions() -> None:
    r = np.random.default_rng(3).lognormal(0.0, 0.5, 400) - 1.1
    m = return_moments(r)
    assert m is not None
    assert m.n == 400
    assert m.sharpe == pytest.approx(r.mean() / r.std(ddof=1), rel=1e-12)
    assert m.skew == pytest.approx(scipy.stats.skew(r), rel=1e-10)
    # non-excess: SciPy's kurtosis with fisher=False (a normal has 3)
    assert m.kurtosis == pytest.approx(scipy.stats.kurtosis(r, fisher=False), rel=1e-10)
    assert m.kurtosis > 3
    assert return_moments([0.01, 0.01, 0.01]) is None  # no variation
    assert return_moments([0.01]) is None
    assert return_moments([0.01, np.nan, 0.02]) is None
    assert psr_of_returns(np.zeros(10)) is None
    assert probabilistic_sharpe_ratio(0.1, 1, 0.0, 3.0) is None
    # a variance term <= 0 (absurd skew) has no PSR rather than a wrong one
    assert probabilistic_sharpe_ratio(1.0, 100, 5.0, 3.0) is None


def test_psr_and_dsr_agree_with_jsharpe() -> None:
    """jsharpe (PyPI) is an independent implementation. Its PSR evaluates the estimator's
    variance at SR0 by default (the 2025 paper); the 2012 paper evaluates it at the estimate
    with T - 1, which jsharpe computes when given that variance."""
    js = pytest.importorskip("jsharpe")
    from jsharpe.sharpe.psr import sharpe_ratio_variance

    rng = np.random.default_rng(11)
    for _ in range(20):
        r = rng.standard_t(5, 300) * 0.01 + rng.uniform(-0.002, 0.004)
        m = return_moments(r)
        assert m is not None
        var = sharpe_ratio_variance(m.sharpe, m.n - 1, gamma3=m.skew, gamma4=m.kurtosis)
        for bench in (0.0, 0.05):
            want = js.probabilistic_sharpe_ratio(m.sharpe, bench, variance=var)
            assert probabilistic_sharpe_ratio(
                m.sharpe, m.n, m.skew, m.kurtosis, bench
            ) == pytest.approx(want, abs=1e-12)
    for n, v in ((2, 0.01), (10, 0.002), (100, 0.5 / 250), (5000, 1.0)):
        want = js.sharpe.psr.expected_maximum_sharpe_ratio(n, v)
        assert expected_max_sharpe(n, v) == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("shape", ["normal", "skewed"])
def test_psr_is_calibrated_under_the_null(shape: str) -> None:
    """When the true Sharpe ratio equals the benchmark, PSR > 0.95 happens about 5% of the
    time (it is 1 - a p-value), also for skewed, fat-tailed returns thanks to the moments."""
    rng = np.random.default_rng(2024)
    sims, t, true_sr = 4000, 500, 0.1
    if shape == "normal":
        z = rng.standard_normal((sims, t))
    else:  # gamma(2) centred and scaled: skewness sqrt(2), kurtosis 6
        z = (rng.gamma(2.0, 1.0, (sims, t)) - 2.0) / math.sqrt(2.0)
    r = 0.01 * (z + true_sr)  # mean / sd = true_sr exactly
    psr = np.array([psr_of_returns(row, benchmark=true_sr) for row in r])
    rate = float(np.mean(psr > 0.95))
    assert rate == pytest.approx(0.05, abs=0.015), rate
    assert float(np.mean(psr)) == pytest.approx(0.5, abs=0.03)


# ---------------------------------------------------------------------------------------------
# PBO by CSCV


def _pbo_by_loop(m: np.ndarray, s: int) -> tuple[list[float], list[float], list[float]]:
    """The paper's procedure written plainly: one split at a time, Sharpe by np.std, rank by
    scipy.stats.rankdata."""
    t, n = m.shape
    length = t // s
    m = m[t - length * s :]
    blocks = [m[i * length : (i + 1) * length] for i in range(s)]
    logits, is_best, oos_best = [], [], []

    def sharpe(x: np.ndarray) -> np.ndarray:
        sd = x.std(axis=0, ddof=1)
        return np.where(sd > 1e-12, x.mean(axis=0) / np.where(sd > 0, sd, 1), 0.0)

    for chosen in itertools.combinations(range(s), s // 2):
        ins = np.vstack([blocks[i] for i in chosen])
        oos = np.vstack([blocks[i] for i in range(s) if i not in chosen])
        r_is, r_oos = sharpe(ins), sharpe(oos)
        best = int(np.argmax(r_is))
        w = scipy.stats.rankdata(r_oos)[best] / (n + 1)
        logits.append(math.log(w / (1 - w)))
        is_best.append(r_is[best])
        oos_best.append(r_oos[best])
    return logits, is_best, oos_best


def test_cscv_matches_a_plain_loop() -> None:
    rng = np.random.default_rng(5)
    m = rng.normal(0.0002, 0.01, (103, 7))
    m[:, 3] = 0.0  # a strategy that never trades: Sharpe 0 everywhere, tied ranks
    m[:, 5] = np.round(m[:, 5], 3)
    m[:, 6] = m[:, 1]  # two combinations that trade alike (common in a sweep): tied ranks
    m[:, 4] = m[:, 2]
    res = probability_of_backtest_overfitting(m, blocks=8)
    logits, is_best, oos_best = _pbo_by_loop(m, 8)
    assert res.n_splits == 70 == math.comb(8, 4)
    assert (res.block_length, res.rows_dropped, res.strategies) == (12, 103 - 96, 7)
    np.testing.assert_allclose(res.logits, logits, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(res.is_sharpe, is_best, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(res.oos_sharpe, oos_best, rtol=1e-9, atol=1e-12)
    assert res.pbo == np.mean(np.array(logits) <= 0)
    assert res.prob_loss == np.mean(np.array(oos_best) < 0)
    slope, intercept = np.polyfit(is_best, oos_best, 1)
    assert res.slope == pytest.approx(slope, rel=1e-8)
    assert res.intercept == pytest.approx(intercept, rel=1e-8, abs=1e-12)
    assert res.r_squared == pytest.approx(np.corrcoef(is_best, oos_best)[0, 1] ** 2, rel=1e-8)
    # the oldest rows are the ones left out: changing them changes nothing
    m2 = m.copy()
    m2[:7] = 99.0
    assert np.array_equal(probability_of_backtest_overfitting(m2, 8).logits, res.logits)


@pytest.mark.parametrize("s", [2, 4, 6, 10, 16])
def test_number_of_splits_is_s_choose_half(s: int) -> None:
    m = np.random.default_rng(s).normal(0, 0.01, (s * 3, 4))
    res = probability_of_backtest_overfitting(m, blocks=s)
    assert res.n_splits == math.comb(s, s // 2)
    assert res.logits.shape == res.is_sharpe.shape == res.selected.shape == (res.n_splits,)


def test_pure_noise_gives_pbo_near_one_half() -> None:
    """Strategies without skill: the in-sample winner lands above or below the out-of-sample
    median by chance. One matrix's PBO varies a lot (its splits share the data), so average
    over 200 independent matrices (standard error about 0.013)."""
    pbo = [
        probability_of_backtest_overfitting(
            np.random.default_rng(seed).normal(0.0, 0.01, (240, 20)), blocks=8
        ).pbo
        for seed in range(200)
    ]
    assert float(np.mean(pbo)) == pytest.approx(0.5, abs=0.05)


def test_a_truly_better_strategy_gives_pbo_near_zero() -> None:
    rng = np.random.default_rng(99)
    m = rng.normal(0.0, 0.01, (480, 30))
    m[:, 17] += 0.003  # daily Sharpe about 0.3 (annualized about 4.8): real skill
    res = probability_of_backtest_overfitting(m)  # default 16 blocks
    assert (res.blocks, res.n_splits) == (16, 12870)
    assert res.pbo < 0.02
    assert np.mean(res.selected == 17) > 0.95
    assert res.prob_loss < 0.02


def test_bad_cscv_inputs_are_explained() -> None:
    m = np.random.default_rng(1).normal(0, 0.01, (40, 5))
    with pytest.raises(ConfigError, match="even number"):
        probability_of_backtest_overfitting(m, blocks=7)
    with pytest.raises(ConfigError, match="even number"):
        probability_of_backtest_overfitting(m, blocks=0)
    with pytest.raises(ConfigError, match=r"needs at least 44 returns .* got 40") as e:
        probability_of_backtest_overfitting(m, blocks=22)
    assert "at most 20 blocks" in str(e.value)
    with pytest.raises(ConfigError, match=r"10,400,600 splits.*\n.*at most 22 blocks"):
        probability_of_backtest_overfitting(np.zeros((1000, 3)), blocks=26)
    with pytest.raises(ConfigError, match="at least two strategies"):
        probability_of_backtest_overfitting(m[:, :1], blocks=4)
    bad = m.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ConfigError, match="NaN"):
        probability_of_backtest_overfitting(bad, blocks=4)
    with pytest.raises(ConfigError, match="even integer"):
        probability_of_backtest_overfitting(m, blocks=4.0)  # type: ignore[arg-type]
