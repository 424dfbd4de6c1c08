"""Is the best row of a sweep luck? The deflated Sharpe ratio of the chosen combination, the
probabilistic Sharpe ratio of each row and the probability of backtest overfitting, with
recommendations in plain words.

The statistics are :mod:`workbench.analysis.overfitting`'s (conventions there): Sharpe ratios
per trading day (not annualized; the ``*_annualized`` figures multiply by ``sqrt(252)`` for
reading only), kurtosis non-excess (normal = 3). Here:

- the **selected** combination is the sweep's best row by its objective (whatever the
  objective, its Sharpe ratio is the one deflated);
- the **number of trials** is every combination tried, including those the strategy refused
  and those that failed (more trials, a stricter test);
- the **variance of the trials' Sharpe ratios** is over the combinations that ran and have a
  Sharpe ratio (``ddof=1``);
- **PBO** takes the in-sample best by Sharpe ratio among every combination that ran, on their
  daily returns aligned by trade date (0 where a combination has no return).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.analysis import PERIODS_PER_YEAR
from workbench.analysis.numbers import RATIO_DIGITS, json_number
from workbench.analysis.overfitting import (
    BacktestOverfitting,
    deflated_sharpe_ratio,
    probability_of_backtest_overfitting,
    return_moments,
)
from workbench.errors import ConfigError
from workbench.optimize.overfitting_page import overfitting_page
from workbench.visualization.report.document import PLOTLY_JS_FILE, write_plotly_js

#: Below this deflated Sharpe ratio the recommendations call the best row unproven.
DSR_THRESHOLD = 0.95
#: Above this probability of backtest overfitting the recommendations warn against the best row.
PBO_THRESHOLD = 0.5

CONVENTIONS = {
    "sharpe": "per trading day, mean / std(ddof=1) of daily returns by CME trade date, "
    "risk-free 0; *_annualized = per-day * sqrt(252), for reading only",
    "kurtosis": "non-excess (normal = 3), biased sample moments, as in Bailey and Lopez de Prado",
    "trials": "every combination tried, including those refused by the strategy or failed",
    "sharpe_variance": "variance (ddof=1) of the per-day Sharpe ratios of the combinations run",
    "pbo": "CSCV: S blocks, C(S, S/2) splits, in-sample best by Sharpe ratio, logit of its "
    "out-of-sample rank / (N + 1); PBO = share of logits <= 0",
}


def _r(x: float | None) -> float | None:
    return json_number(x, RATIO_DIGITS)


def _annual(x: float | None) -> float | None:
    return None if x is None else _r(x * math.sqrt(PERIODS_PER_YEAR))


@dataclass
class OverfittingReport:
    """The diagnostics of a sweep.

    Attributes
    ----------
    summary : dict
        JSON-ready: best_params.json's ``diagnostics`` block.
    cscv : BacktestOverfitting or None
        The CSCV splits (None when PBO could not be computed).
    """

    summary: dict[str, Any]
    cscv: BacktestOverfitting | None = field(default=None, repr=False)


def _logit_summary(logits: np.ndarray) -> dict[str, float | None]:
    finite = logits[np.isfinite(logits)]
    return {
        "mean": _r(float(finite.mean())) if finite.size else None,
        "median": _r(float(np.median(logits))),
        "std": _r(float(finite.std(ddof=1))) if finite.size > 1 else None,
        "q05": _r(float(np.quantile(logits, 0.05))),
        "q95": _r(float(np.quantile(logits, 0.95))),
    }


def overfitting_report(
    table: pd.DataFrame,
    returns: pd.DataFrame | None,
    objective: str,
    params: list[str],
    trials: int,
    blocks: int,
) -> OverfittingReport:
    """Diagnostics of choosing the best row of a sweep table.

    Parameters
    ----------
    table : pandas.DataFrame
        The sweep table, best first.
    returns : pandas.DataFrame or None
        Daily returns, column ``i`` for row ``i`` of ``table`` (None: not available).
    objective : str
        The column the table is ranked by.
    params : list of str
        The swept parameters.
    trials : int
        Combinations tried (refused and failed ones included).
    blocks : int
        CSCV blocks.

    Returns
    -------
    OverfittingReport
    """
    out: dict[str, Any] = {"conventions": CONVENTIONS, "trials": trials}
    if returns is None or returns.shape[1] != len(table) or table.empty:
        out["available"] = False
        out["reason"] = "no combination ran" if table.empty else "the sweep kept no daily returns"
        out["recommendations"] = []
        return OverfittingReport(out)
    out["available"] = True
    out["combinations_run"] = len(table)
    defined = np.flatnonzero(table[objective].notna().to_numpy())
    moments = [return_moments(returns[c].to_numpy()) for c in returns.columns]
    sharpes = np.array([m.sharpe for m in moments if m is not None])
    out["combinations_with_sharpe"] = int(sharpes.size)
    variance = float(sharpes.var(ddof=1)) if sharpes.size > 1 else None
    out["sharpe_variance"] = json_number(variance, 10)

    dsr: dict[str, Any] = {"dsr": None}
    if defined.size:
        row = int(defined[0])
        out["selected"] = {"row": row, "params": _params(table, row, params)}
        m = moments[row]
        if m is None:
            dsr["reason"] = "the selected combination has no Sharpe ratio (no varying returns)"
        elif variance is None and trials > 1:
            dsr["reason"] = "fewer than two combinations have a Sharpe ratio: no variance"
        else:
            d = deflated_sharpe_ratio(m, trials, variance or 0.0)
            dsr = {
                "dsr": _r(d.dsr),
                "psr": _r(table.loc[row, "psr"]) if "psr" in table else None,
                "sharpe": _r(d.sharpe),
                "sharpe_annualized": _annual(d.sharpe),
                "expected_max_sharpe": _r(d.expected_max_sharpe),
                "expected_max_sharpe_annualized": _annual(d.expected_max_sharpe),
                "skew": _r(d.skew),
                "kurtosis": _r(d.kurtosis),
                "n_returns": d.n,
                "n_trials": d.n_trials,
            }
    else:
        dsr["reason"] = f"no combination has a defined {objective}"
    out["deflated_sharpe"] = dsr

    cscv = None
    pbo: dict[str, Any] = {"pbo": None, "blocks": blocks}
    if returns.shape[1] < 2:
        pbo["reason"] = "one combination ran: nothing was chosen, nothing to overfit"
    else:
        try:
            cscv = probability_of_backtest_overfitting(returns.to_numpy(), blocks)
        except ConfigError as exc:
            pbo["reason"] = exc.message + (f" ({exc.hint})" if exc.hint else "")
    if cscv is not None:
        pbo = {
            "pbo": _r(cscv.pbo),
            "blocks": cscv.blocks,
            "splits": cscv.n_splits,
            "block_length": cscv.block_length,
            "rows_dropped": cscv.rows_dropped,
            "strategies": cscv.strategies,
            "logit": _logit_summary(cscv.logits),
            "degradation": {
                "slope": _r(cscv.slope),
                "intercept": _r(cscv.intercept),
                "r_squared": _r(cscv.r_squared),
            },
            "prob_loss": _r(cscv.prob_loss),
        }
    out["pbo"] = pbo
    out["recommendations"] = recommendations(out)
    return OverfittingReport(out, cscv)


def _params(table: pd.DataFrame, row: int, params: list[str]) -> dict[str, Any]:
    """Row ``row``'s parameters, each column keeping its type (an int stays an int)."""
    out = {}
    for k in params:
        v = table[k].iloc[row]
        out[k] = v.item() if hasattr(v, "item") else v
    return out


def recommendations(d: dict[str, Any]) -> list[str]:
    """Plain-words verdicts on a diagnostics block, each citing its numbers."""
    out: list[str] = []
    trials = d.get("trials")
    dsr = d.get("deflated_sharpe", {})
    pbo = d.get("pbo", {})
    if dsr.get("dsr") is not None:
        sr, sr0 = dsr["sharpe_annualized"], dsr["expected_max_sharpe_annualized"]
        if dsr["dsr"] < DSR_THRESHOLD:
            out.append(
                f"Deflated Sharpe ratio {dsr['dsr']:.2f} (below {DSR_THRESHOLD}): after "
                f"{trials} trials, the best combination's Sharpe ratio of {sr:.2f} (annualized) "
                f"is not clearly above the {sr0:.2f} that the best of {trials} combinations "
                f"without any edge would reach by luck. Treat it as unproven: confirm it out of "
                f"sample (walk-forward, or data the sweep has not seen) before trading it."
            )
        else:
            out.append(
                f"Deflated Sharpe ratio {dsr['dsr']:.2f}: the best combination's Sharpe ratio "
                f"of {sr:.2f} (annualized) stands above the {sr0:.2f} that luck alone would give "
                f"the best of {trials} trials."
            )
        if dsr["sharpe"] <= 0:
            out.append(
                f"The best combination does not make money: its Sharpe ratio is {sr:.2f} "
                f"(annualized)."
            )
        elif dsr.get("psr") is not None and dsr["psr"] < DSR_THRESHOLD:
            out.append(
                f"Even before counting trials, its probabilistic Sharpe ratio is only "
                f"{dsr['psr']:.2f}: {dsr['n_returns']} trade dates are too few to tell its "
                f"Sharpe ratio from 0 with confidence."
            )
    elif dsr.get("reason"):
        out.append(f"No deflated Sharpe ratio: {dsr['reason']}.")
    if pbo.get("pbo") is not None:
        share = f"{pbo['pbo']:.0%}"
        if pbo["pbo"] > PBO_THRESHOLD:
            out.append(
                f"Probability of backtest overfitting {pbo['pbo']:.2f} (above {PBO_THRESHOLD}): "
                f"in {share} of {pbo['splits']} splits of the dates, the combination that was "
                f"best in sample ranked at or below the median out of sample. Picking the top "
                f"row of this sweep is more likely overfitting than skill; prefer parameters "
                f"that do well across their neighbours (the sensitivity table), or a simpler "
                f"grid."
            )
        else:
            out.append(
                f"Probability of backtest overfitting {pbo['pbo']:.2f}: in {share} of "
                f"{pbo['splits']} splits the in-sample best ranked at or below the median out "
                f"of sample."
            )
        slope = pbo["degradation"]["slope"]
        if slope is not None and slope < 0:
            out.append(
                f"The degradation slope is negative ({slope:.2f}): across splits, a higher "
                f"in-sample Sharpe ratio went with a lower out-of-sample one."
            )
        if pbo["prob_loss"] > PBO_THRESHOLD:
            out.append(
                f"Probability of loss {pbo['prob_loss']:.2f}: the in-sample best lost money "
                f"out of sample in most splits."
            )
    elif pbo.get("reason"):
        out.append(f"No probability of backtest overfitting: {pbo['reason']}.")
    return out


def write_overfitting_files(
    folder: Path,
    returns: pd.DataFrame | None,
    report: OverfittingReport,
    *,
    data: dict[str, Any] | None = None,
) -> None:
    """Write ``daily_returns.parquet`` (column ``i`` = row ``i`` of parameter_sweep.csv),
    ``cscv_splits.csv`` (one line per split: selected row, in- and out-of-sample Sharpe
    ratios, logit) and ``overfitting.html`` (with the ``plotly.min.js`` it loads) into
    ``folder``; each only when there is something to write. ``data`` (the sweep's bars, see
    ``describe_bars``) heads the page.
    """
    if returns is not None:
        frame = returns.copy()
        frame.columns = [str(c) for c in frame.columns]
        frame.to_parquet(folder / "daily_returns.parquet")
    cscv = report.cscv
    if cscv is not None:
        pd.DataFrame(
            {
                "selected_row": cscv.selected,
                "is_sharpe": cscv.is_sharpe,
                "oos_sharpe": cscv.oos_sharpe,
                "logit": cscv.logits,
            }
        ).to_csv(folder / "cscv_splits.csv", index_label="split")
    if report.summary.get("available"):
        # plotly.js from the folder's one stored copy, as backtest reports load it
        write_plotly_js(folder)
        html = overfitting_page(report.summary, cscv, data=data, plotly_src=PLOTLY_JS_FILE)
        (folder / "overfitting.html").write_text(html, encoding="utf-8")
