"""Is a good backtest luck? The probabilistic and deflated Sharpe ratios, and the probability of
backtest overfitting by combinatorially symmetric cross-validation.

Nothing here knows about sweeps: the inputs are returns series, Sharpe ratios and a matrix of
returns (one column per strategy tried). :mod:`workbench.optimize` feeds them from a sweep.

Conventions
-----------
Sharpe ratio
    **Per period, not annualized**: ``SR = mean(r) / std(r, ddof=1)`` of daily returns by CME
    trade date (risk-free rate 0). The papers' formulas take the Sharpe ratio in the units of
    the returns' sampling frequency; multiply by ``sqrt(252)`` to compare with the annualized
    ``sharpe_ratio`` of summary.json.
Skewness and kurtosis
    The biased sample moments, ``skew = m3 / m2**1.5`` and ``kurtosis = m4 / m2**2`` with
    ``m_k = mean((r - mean(r))**k)``. Kurtosis is **non-excess** (a normal distribution has 3),
    the papers' convention; ``scipy.stats.kurtosis(r, fisher=False)`` gives the same number.
Probabilistic Sharpe ratio (Bailey and Lopez de Prado, 2012)
    ``PSR(SR*) = Phi((SR - SR*) * sqrt(T - 1) / sqrt(1 - skew * SR + (kurtosis - 1) / 4 * SR**2))``
    with ``T`` the number of returns: the probability that the true Sharpe ratio exceeds
    ``SR*`` given the estimate and the shape of the returns.
Deflated Sharpe ratio (Bailey and Lopez de Prado, 2014)
    ``DSR = PSR(SR0)`` with the expected maximum Sharpe ratio of ``N`` unskilled trials
    ``SR0 = sqrt(V) * ((1 - g) * Phi^-1(1 - 1/N) + g * Phi^-1(1 - 1/(N e)))``, ``V`` the
    variance (``ddof=1``) of the trials' per-period Sharpe ratios and ``g`` the
    Euler-Mascheroni constant. With one trial there is no selection and ``SR0 = 0``.
Probability of backtest overfitting (Bailey, Borwein, Lopez de Prado and Zhu, 2017)
    The ``T x N`` matrix of per-period returns is cut into ``S`` consecutive blocks of equal
    length (the first ``T mod S`` rows, the oldest, are left out); each of the ``C(S, S/2)``
    choices of ``S/2`` blocks is an in-sample set, the other blocks its out-of-sample set.
    Per split, the strategy with the best in-sample Sharpe ratio is taken; ``w`` is its
    out-of-sample rank among the ``N`` (1 = worst, ties share their average rank) over
    ``N + 1`` and the logit is ``ln(w / (1 - w))``. PBO is the share of splits with a logit
    ``<= 0`` (the in-sample best did no better than the median out of sample). A column with no
    variation in a set of blocks has Sharpe ratio 0 there. The performance degradation is the
    least-squares line of the selected strategy's out-of-sample Sharpe ratio on its in-sample
    one; the probability of loss is the share of splits where that out-of-sample Sharpe ratio
    (equivalently, its mean return) is below 0.

The normal distribution is :class:`statistics.NormalDist` from the standard library (its
inverse is Wichura's AS241, accurate to about 1e-15), so no SciPy is needed.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np

from workbench.analysis.returns import ZERO_STD
from workbench.errors import ConfigError

#: The Euler-Mascheroni constant.
EULER_GAMMA = 0.5772156649015329
#: Default number of CSCV blocks (the paper's example uses 16).
DEFAULT_BLOCKS = 16
#: Fewest returns per CSCV block (a Sharpe ratio needs two).
MIN_BLOCK_LENGTH = 2
#: Most CSCV splits computed (C(22, 11) = 705,432; C(24, 12) is 2.7 million).
MAX_SPLITS = 1_000_000
#: Splits evaluated per vectorized pass (bounds memory to about S/2 times this times N floats).
_SPLITS_PER_PASS = 256

_NORMAL = NormalDist()


@dataclass(frozen=True)
class ReturnMoments:
    """What the PSR needs from a returns series.

    Attributes
    ----------
    sharpe : float
        Per-period Sharpe ratio ``mean / std(ddof=1)``.
    skew : float
        Biased sample skewness.
    kurtosis : float
        Biased sample kurtosis, non-excess (normal = 3).
    n : int
        Number of returns.
    """

    sharpe: float
    skew: float
    kurtosis: float
    n: int


def return_moments(returns: Any) -> ReturnMoments | None:
    """The per-period Sharpe ratio, skewness, kurtosis and length of ``returns``.

    Parameters
    ----------
    returns : array-like
        Per-period returns (e.g. :func:`workbench.analysis.daily_returns`).

    Returns
    -------
    ReturnMoments or None
        None with fewer than two returns, a NaN, or no variation (the ratios are undefined).
    """
    r = np.asarray(returns, dtype=np.float64)
    if r.size < 2 or np.isnan(r).any():
        return None
    std = float(r.std(ddof=1))
    if not std > ZERO_STD:
        return None
    d = r - r.mean()
    m2 = float(np.mean(d**2))
    return ReturnMoments(
        sharpe=float(r.mean()) / std,
        skew=float(np.mean(d**3)) / m2**1.5,
        kurtosis=float(np.mean(d**4)) / m2**2,
        n=int(r.size),
    )


def probabilistic_sharpe_ratio(
    sharpe: float, n: int, skew: float, kurtosis: float, benchmark: float = 0.0
) -> float | None:
    """PSR: the probability that the true Sharpe ratio exceeds ``benchmark``.

    ``Phi((sharpe - benchmark) * sqrt(n - 1) / sqrt(1 - skew * sharpe + (kurtosis - 1) / 4 *
    sharpe**2))`` (Bailey and Lopez de Prado, 2012, eq. 11 with their non-excess kurtosis).

    Parameters
    ----------
    sharpe : float
        Estimated per-period Sharpe ratio.
    n : int
        Number of returns it was estimated from.
    skew : float
        Skewness of the returns.
    kurtosis : float
        Kurtosis of the returns, non-excess (normal = 3).
    benchmark : float, default 0.0
        The per-period Sharpe ratio to beat (``SR*``).

    Returns
    -------
    float or None
        In [0, 1]; None when ``n < 2`` or the variance term is not positive (possible only
        for extreme skewness).
    """
    if n < 2:
        return None
    var = 1.0 - skew * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2
    if not var > 0.0 or not math.isfinite(var):
        return None
    return _NORMAL.cdf((sharpe - benchmark) * math.sqrt(n - 1) / math.sqrt(var))


def psr_of_returns(returns: Any, benchmark: float = 0.0) -> float | None:
    """:func:`probabilistic_sharpe_ratio` of a returns series (None where it is undefined)."""
    m = return_moments(returns)
    if m is None:
        return None
    return probabilistic_sharpe_ratio(m.sharpe, m.n, m.skew, m.kurtosis, benchmark)


def expected_max_sharpe(n_trials: int, sharpe_variance: float) -> float:
    """Expected maximum of ``n_trials`` Sharpe ratios with true value 0 and variance
    ``sharpe_variance``: ``sqrt(V) * ((1 - g) * Phi^-1(1 - 1/N) + g * Phi^-1(1 - 1/(N e)))``.

    Parameters
    ----------
    n_trials : int
        Number of independent trials ``N`` (>= 1). One trial gives 0 (no selection).
    sharpe_variance : float
        Variance ``V`` of the trials' Sharpe ratios (>= 0), in the units of the Sharpe ratios.

    Returns
    -------
    float
        ``SR0``, in the units of the Sharpe ratios.

    Raises
    ------
    ValueError
        If ``n_trials < 1`` or ``sharpe_variance`` is negative or not finite.
    """
    if n_trials < 1:
        raise ValueError(f"n_trials must be at least 1, got {n_trials}")
    if not (math.isfinite(sharpe_variance) and sharpe_variance >= 0):
        raise ValueError(f"sharpe_variance must be finite and >= 0, got {sharpe_variance}")
    if n_trials == 1:
        return 0.0
    z1 = _NORMAL.inv_cdf(1.0 - 1.0 / n_trials)
    z2 = _NORMAL.inv_cdf(1.0 - 1.0 / (n_trials * math.e))
    return math.sqrt(sharpe_variance) * ((1.0 - EULER_GAMMA) * z1 + EULER_GAMMA * z2)


@dataclass(frozen=True)
class DeflatedSharpe:
    """The deflated Sharpe ratio of a selected strategy, with what went into it.

    Attributes
    ----------
    dsr : float or None
        ``PSR(expected_max_sharpe)``; None where the PSR is undefined.
    expected_max_sharpe : float
        ``SR0``, per period.
    sharpe : float
        The selected strategy's per-period Sharpe ratio.
    skew, kurtosis : float
        Of its returns (kurtosis non-excess).
    n : int
        Its number of returns.
    n_trials : int
        Trials the selection was made from.
    sharpe_variance : float
        Variance of the trials' per-period Sharpe ratios.
    """

    dsr: float | None
    expected_max_sharpe: float
    sharpe: float
    skew: float
    kurtosis: float
    n: int
    n_trials: int
    sharpe_variance: float


def deflated_sharpe_ratio(
    moments: ReturnMoments, n_trials: int, sharpe_variance: float
) -> DeflatedSharpe:
    """DSR of the strategy with ``moments``, chosen as the best of ``n_trials`` trials whose
    per-period Sharpe ratios have variance ``sharpe_variance``.

    Parameters
    ----------
    moments : ReturnMoments
        The selected strategy's (from :func:`return_moments`).
    n_trials : int
        Every trial the selection was made from (>= 1).
    sharpe_variance : float
        Variance of the trials' per-period Sharpe ratios.

    Returns
    -------
    DeflatedSharpe
    """
    sr0 = expected_max_sharpe(n_trials, sharpe_variance)
    return DeflatedSharpe(
        dsr=probabilistic_sharpe_ratio(
            moments.sharpe, moments.n, moments.skew, moments.kurtosis, sr0
        ),
        expected_max_sharpe=sr0,
        sharpe=moments.sharpe,
        skew=moments.skew,
        kurtosis=moments.kurtosis,
        n=moments.n,
        n_trials=n_trials,
        sharpe_variance=sharpe_variance,
    )


@dataclass(frozen=True)
class BacktestOverfitting:
    """The outcome of combinatorially symmetric cross-validation.

    Attributes
    ----------
    pbo : float
        Share of splits whose logit is <= 0.
    logits : numpy.ndarray
        One per split.
    is_sharpe, oos_sharpe : numpy.ndarray
        Per split, the selected (in-sample best) strategy's per-period Sharpe ratio in and out
        of sample.
    selected : numpy.ndarray
        Per split, the column index of the selected strategy.
    slope, intercept, r_squared : float or None
        Least-squares line ``oos_sharpe = intercept + slope * is_sharpe`` (None when the
        in-sample Sharpe ratios do not vary; ``r_squared`` also when the out-of-sample ones
        do not).
    prob_loss : float
        Share of splits where ``oos_sharpe < 0``.
    blocks : int
        ``S``.
    block_length : int
        Rows per block.
    rows_dropped : int
        Oldest rows left out so that the blocks have equal length (``T mod S``).
    strategies : int
        ``N``.
    """

    pbo: float
    logits: np.ndarray
    is_sharpe: np.ndarray
    oos_sharpe: np.ndarray
    selected: np.ndarray
    slope: float | None
    intercept: float | None
    r_squared: float | None
    prob_loss: float
    blocks: int
    block_length: int
    rows_dropped: int
    strategies: int

    @property
    def n_splits(self) -> int:
        """Number of splits, ``C(S, S/2)``."""
        return int(self.logits.size)


def check_blocks(blocks: int, n_rows: int) -> None:
    """Refuse a CSCV block count that is odd, below 2, gives more than :data:`MAX_SPLITS`
    splits, or is too large for ``n_rows`` returns.

    Raises
    ------
    ConfigError
        Saying which and what to pass instead.
    """
    if isinstance(blocks, bool) or not isinstance(blocks, (int, np.integer)):
        raise ConfigError(f"CSCV blocks must be an even integer, got {blocks!r}")
    if blocks < 2 or blocks % 2:
        raise ConfigError(
            f"CSCV blocks must be an even number >= 2, got {blocks}",
            hint=f"e.g. {DEFAULT_BLOCKS} (half the blocks in sample, half out)",
        )
    if math.comb(blocks, blocks // 2) > MAX_SPLITS:
        most = max(s for s in range(2, blocks, 2) if math.comb(s, s // 2) <= MAX_SPLITS)
        raise ConfigError(
            f"CSCV with {blocks} blocks means {math.comb(blocks, blocks // 2):,} splits, more "
            f"than the {MAX_SPLITS:,} computed",
            hint=f"use at most {most} blocks (the papers use 16)",
        )
    if n_rows // blocks < MIN_BLOCK_LENGTH:
        most = n_rows // MIN_BLOCK_LENGTH
        most -= most % 2
        raise ConfigError(
            f"CSCV with {blocks} blocks needs at least {blocks * MIN_BLOCK_LENGTH} returns "
            f"({MIN_BLOCK_LENGTH} per block), got {n_rows}",
            hint=f"use at most {most} blocks, or a longer period"
            if most >= 2
            else "use a longer period",
        )


def _sharpe(total: np.ndarray, sq: np.ndarray, n: int, mean0: np.ndarray) -> np.ndarray:
    """Per-period Sharpe ratios of sets of ``n`` rows from the sums of their centred returns
    (``total``) and of their squares (``sq``); ``mean0`` is the centring (per column)."""
    centred_mean = total / n
    var = np.maximum(sq - total * centred_mean, 0.0) / (n - 1)
    std = np.sqrt(var)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(std > ZERO_STD, (centred_mean + mean0) / std, 0.0)
    return out


def _average_rank(values: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Per row of ``values``, the rank (1 = smallest; ties averaged) of column ``chosen``."""
    pick = values[np.arange(values.shape[0]), chosen][:, None]
    below = (values < pick).sum(axis=1)
    equal = (values == pick).sum(axis=1)
    return below + (equal + 1) / 2.0


def probability_of_backtest_overfitting(
    returns: Any, blocks: int = DEFAULT_BLOCKS
) -> BacktestOverfitting:
    """PBO of choosing the best of ``N`` strategies by in-sample Sharpe ratio, by CSCV.

    Parameters
    ----------
    returns : array-like, shape (T, N)
        Per-period returns, one column per strategy tried, on common dates (0 where a
        strategy had no position). A pandas DataFrame is fine.
    blocks : int, default 16
        ``S``, even; every block needs at least two rows.

    Returns
    -------
    BacktestOverfitting

    Raises
    ------
    ConfigError
        If ``blocks`` is odd, below 2 or too large for ``T``, fewer than two strategies are
        given, or the matrix holds NaN or infinities.
    """
    m = np.asarray(returns, dtype=np.float64)
    if m.ndim != 2:
        raise ConfigError(f"PBO needs a T x N matrix of returns, got {m.ndim} dimension(s)")
    n_rows, n_cols = m.shape
    if n_cols < 2:
        raise ConfigError(f"PBO needs at least two strategies to choose from, got {n_cols}")
    if not np.isfinite(m).all():
        raise ConfigError("PBO: the returns matrix holds NaN or infinities (use 0 for no return)")
    check_blocks(blocks, n_rows)
    length = n_rows // blocks
    dropped = n_rows - length * blocks
    m = m[dropped:]
    mean0 = m.mean(axis=0)
    centred = (m - mean0).reshape(blocks, length, n_cols)
    block_sum = centred.sum(axis=1)  # S x N
    block_sq = (centred**2).sum(axis=1)
    all_sum, all_sq = block_sum.sum(axis=0), block_sq.sum(axis=0)
    half = blocks // 2
    n_half = half * length

    combos = np.array(list(itertools.combinations(range(blocks), half)), dtype=np.intp)

    logits, is_best, oos_best, selected = [], [], [], []
    for start in range(0, len(combos), _SPLITS_PER_PASS):
        chosen = combos[start : start + _SPLITS_PER_PASS]
        # Summed elementwise (not by a matrix product), so that two identical columns get
        # identical Sharpe ratios and tie, as they should.
        is_sum, is_sq = block_sum[chosen].sum(axis=1), block_sq[chosen].sum(axis=1)
        sr_is = _sharpe(is_sum, is_sq, n_half, mean0)
        sr_oos = _sharpe(all_sum - is_sum, all_sq - is_sq, n_half, mean0)
        best = np.argmax(sr_is, axis=1)
        w = _average_rank(sr_oos, best) / (n_cols + 1)
        rows = np.arange(len(chosen))
        logits.append(np.log(w / (1.0 - w)))
        is_best.append(sr_is[rows, best])
        oos_best.append(sr_oos[rows, best])
        selected.append(best)
    lam = np.concatenate(logits)
    x, y = np.concatenate(is_best), np.concatenate(oos_best)
    slope = intercept = r2 = None
    if x.size > 1 and float(np.var(x)) > 0.0:
        dx, dy = x - x.mean(), y - y.mean()
        sxx, sxy, syy = float(dx @ dx), float(dx @ dy), float(dy @ dy)
        slope = sxy / sxx
        intercept = float(y.mean()) - slope * float(x.mean())
        r2 = sxy * sxy / (sxx * syy) if syy > 0.0 else None
    return BacktestOverfitting(
        pbo=float(np.mean(lam <= 0.0)),
        logits=lam,
        is_sharpe=x,
        oos_sharpe=y,
        selected=np.concatenate(selected),
        slope=slope,
        intercept=intercept,
        r_squared=r2,
        prob_loss=float(np.mean(y < 0.0)),
        blocks=blocks,
        block_length=length,
        rows_dropped=dropped,
        strategies=n_cols,
    )
