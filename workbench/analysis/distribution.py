"""What a quant reads next to Sharpe: the shape of the daily returns and of the equity path.

Every figure here is computed from the **daily returns by CME trade date** of
:func:`workbench.analysis.returns.daily_returns` (P&L over the start-of-day equity), the same
returns Sharpe and Sortino use; the conventions match empyrical (``empyrical-reloaded``), and
``tests/unit/test_quant_metrics.py`` holds each figure to it on the same returns.

Conventions
-----------
Volatility
    ``std(r, ddof=1) * sqrt(periods_per_year)``, in percent (empyrical ``annual_volatility``).
CAGR
    ``(final / initial) ** (periods_per_year / n_days) - 1`` in percent (empyrical
    ``annual_return``; the Calmar ratio's growth rate).
Skew and kurtosis
    Sample skewness and EXCESS kurtosis with the small-sample correction (pandas'
    ``Series.skew``/``Series.kurt``; scipy's ``skew``/``kurtosis`` with ``bias=False``). A normal
    distribution has 0 for both.
VaR and CVaR (95%)
    Historical, one day, as returns in percent (negative: a loss). VaR is the 5th percentile
    of the daily returns (linear interpolation, ``numpy.percentile``); CVaR (expected
    shortfall) is the mean of the ``int((n - 1) * 0.05) + 1`` lowest returns (empyrical
    ``value_at_risk``/``conditional_value_at_risk``).
Tail ratio
    ``|95th percentile| / |5th percentile|`` of the daily returns (empyrical ``tail_ratio``);
    above 1 the right tail is the fatter.
Omega ratio
    Sum of the daily returns above 0 over the sum of those below, in absolute value
    (empyrical ``omega_ratio`` with a 0 threshold).
Ulcer index
    ``sqrt(mean(D_d ** 2))`` with ``D_d`` the drawdown in percent of the close-of-day equity
    below its running peak (the peak starting at the initial capital): Peter Martin's
    definition, on daily closes.
Recovery factor
    Net profit over the maximum drawdown in dollars (bar resolution, as ``max_drawdown_usd``).
Best and worst day and month
    The highest and lowest daily return, and monthly return: a month's return compounds its
    days, which equals the month's P&L over the equity at its start (empyrical
    ``aggregate_returns(..., "monthly")``). Months are those of the trade dates.
Exposure
    The share of bars that end with a position open, in percent (backtesting.py's "Exposure
    Time").

A figure that is undefined (too few days, a denominator of ~0, equity at or below zero) is
None, never NaN or infinity: the tail ratio's 5th percentile, the Omega ratio's losses and
the recovery factor's drawdown (over the initial capital) must exceed :data:`MIN_RETURN`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from workbench.analysis.numbers import RATIO_DIGITS, json_number

#: A return (fraction) this small or smaller is ~0 as a ratio's denominator: a basis point of
#: a basis point, $0.005 on $5,000.
MIN_RETURN = 1e-6
#: The tail probability of VaR and CVaR.
VAR_CUTOFF = 0.05
#: Fewest daily returns for skew (3) and kurtosis (4) to be defined.
_MIN_SKEW, _MIN_KURT = 3, 4

#: Keys of the ``statistics`` block, in order.
STATISTICS_KEYS = (
    "cagr_pct",
    "volatility_pct",
    "skew",
    "kurtosis",
    "var_95_pct",
    "cvar_95_pct",
    "tail_ratio",
    "omega_ratio",
    "ulcer_index",
    "recovery_factor",
    "best_day_pct",
    "best_day",
    "worst_day_pct",
    "worst_day",
    "best_month_pct",
    "best_month",
    "worst_month_pct",
    "worst_month",
    "exposure_pct",
)


def _ratio(num: float, den: float, floor: float = 0.0) -> float | None:
    """``num / den``; None unless ``den`` exceeds ``floor`` (a ratio to ~0 is noise)."""
    return num / den if den > floor and math.isfinite(num) else None


def volatility(returns: np.ndarray, periods_per_year: int) -> float | None:
    """Annualized standard deviation (``ddof=1``) of per-period returns; None under 2."""
    if len(returns) < 2:
        return None
    return float(np.std(returns, ddof=1)) * math.sqrt(periods_per_year)


def value_at_risk(returns: np.ndarray, cutoff: float = VAR_CUTOFF) -> float | None:
    """Historical VaR: the ``cutoff`` percentile of the returns (None without returns)."""
    if len(returns) == 0:
        return None
    return float(np.percentile(returns, 100.0 * cutoff))


def conditional_value_at_risk(returns: np.ndarray, cutoff: float = VAR_CUTOFF) -> float | None:
    """Expected shortfall: the mean of the ``int((n - 1) * cutoff) + 1`` lowest returns."""
    if len(returns) == 0:
        return None
    k = int((len(returns) - 1) * cutoff)
    return float(np.mean(np.partition(returns, k)[: k + 1]))


def tail_ratio(returns: np.ndarray) -> float | None:
    """``|95th percentile| / |5th percentile|``; None without returns or a zero 5th."""
    if len(returns) == 0:
        return None
    p95, p5 = abs(float(np.percentile(returns, 95))), abs(float(np.percentile(returns, 5)))
    return _ratio(p95, p5, MIN_RETURN)


def omega_ratio(returns: np.ndarray, threshold: float = 0.0) -> float | None:
    """Gains above ``threshold`` over losses below it; None without a loss."""
    excess = returns - threshold
    return _ratio(float(excess[excess > 0].sum()), float(-excess[excess < 0].sum()), MIN_RETURN)


def ulcer_index(closes: np.ndarray, initial_capital: float) -> float | None:
    """Root mean square of the percent drawdowns of ``closes`` below their running peak."""
    if len(closes) == 0:
        return None
    peak = np.maximum(np.maximum.accumulate(closes), initial_capital)
    dd = (closes - peak) / peak * 100.0
    return math.sqrt(float(np.mean(dd**2)))


def monthly_returns(returns: pd.Series) -> pd.Series:
    """Daily returns compounded by calendar month of the trade date, indexed by period."""
    months = pd.DatetimeIndex(returns.index).to_period("M")
    return (1.0 + returns).groupby(months).prod() - 1.0


def _extreme(series: pd.Series, *, best: bool, fmt: str) -> tuple[float | None, str | None]:
    if series.empty:
        return None, None
    at = series.idxmax() if best else series.idxmin()
    label = at.strftime(fmt) if hasattr(at, "strftime") else str(at)
    return float(series.loc[at]) * 100.0, label


def return_statistics(
    returns: pd.Series,
    initial_capital: float,
    *,
    final_equity: float,
    max_drawdown_usd: float,
    position: pd.Series | None = None,
    periods_per_year: int = 252,
) -> dict[str, Any]:
    """The ``statistics`` block of summary.json (see the module docstring).

    Parameters
    ----------
    returns : pandas.Series
        Daily returns by trade date (:func:`~workbench.analysis.returns.daily_returns`).
        Days with NaN (equity at or below zero) make every return figure None.
    initial_capital : float
        Equity before the first day.
    final_equity : float
        Equity at the end.
    max_drawdown_usd : float
        The run's maximum drawdown in dollars (positive), for the recovery factor.
    position : pandas.Series, optional
        Signed contracts at each bar close, for the exposure; None leaves it out.
    periods_per_year : int, default 252
        Trade dates per year.

    Returns
    -------
    dict
        The keys of :data:`STATISTICS_KEYS`: percentages and ratios rounded to 4 decimals,
        dates as ``YYYY-MM-DD`` (days) and ``YYYY-MM`` (months); None where undefined.
    """
    rets = returns.astype(np.float64)
    usable = not rets.isna().any() and len(rets) > 0
    r = rets.to_numpy() if usable else np.empty(0)
    out: dict[str, Any] = dict.fromkeys(STATISTICS_KEYS)
    if len(rets):
        ratio = final_equity / initial_capital
        growth = -1.0 if ratio <= 0 else ratio ** (periods_per_year / len(rets)) - 1.0
        out["cagr_pct"] = json_number(growth * 100.0, RATIO_DIGITS)
    out["recovery_factor"] = json_number(
        _ratio(final_equity - initial_capital, max_drawdown_usd, MIN_RETURN * initial_capital),
        RATIO_DIGITS,
    )
    if position is not None and len(position):
        held = float(np.mean(position.to_numpy() != 0)) * 100.0
        out["exposure_pct"] = json_number(held, RATIO_DIGITS)
    if not usable:
        return out
    vol = volatility(r, periods_per_year)
    closes = initial_capital * np.cumprod(1.0 + r)
    series = pd.Series(r, index=rets.index)
    out.update(
        {
            "volatility_pct": json_number(None if vol is None else vol * 100.0, RATIO_DIGITS),
            "skew": json_number(series.skew() if len(r) >= _MIN_SKEW else None, RATIO_DIGITS),
            "kurtosis": json_number(series.kurt() if len(r) >= _MIN_KURT else None, RATIO_DIGITS),
            "var_95_pct": _pct(value_at_risk(r)),
            "cvar_95_pct": _pct(conditional_value_at_risk(r)),
            "tail_ratio": json_number(tail_ratio(r), RATIO_DIGITS),
            "omega_ratio": json_number(omega_ratio(r), RATIO_DIGITS),
            "ulcer_index": json_number(ulcer_index(closes, initial_capital), RATIO_DIGITS),
        }
    )
    dated = series.set_axis(pd.DatetimeIndex(pd.to_datetime(series.index)))
    months = monthly_returns(dated)
    for best, prefix in ((True, "best"), (False, "worst")):
        day_pct, day = _extreme(dated, best=best, fmt="%Y-%m-%d")
        month_pct, month = _extreme(months, best=best, fmt="%Y-%m")
        out[f"{prefix}_day_pct"] = json_number(day_pct, RATIO_DIGITS)
        out[f"{prefix}_day"] = day
        out[f"{prefix}_month_pct"] = json_number(month_pct, RATIO_DIGITS)
        out[f"{prefix}_month"] = month
    return out


def _pct(value: float | None) -> float | None:
    return json_number(None if value is None else value * 100.0, RATIO_DIGITS)
