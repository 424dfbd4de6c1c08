"""Maximum adverse and favourable excursion (MAE, MFE) of each closed trade.

For each trade, over the bars it was open in (the bars of its contract whose start lies
between the entry time and the exit time, both included), the worst and the best price
reached against the entry fill price, in dollars for the trade's size:

- long: ``MAE = (entry - lowest low) * multiplier * contracts``,
  ``MFE = (highest high - entry) * multiplier * contracts``;
- short: ``MAE = (highest high - entry) * ...``, ``MFE = (entry - lowest low) * ...``.

Both are floored at 0 (a trade that never went against its entry has an MAE of 0). Whole
bars are used, so the entry and exit bars count with their full range: the excursion can
include prices of those bars outside the holding time (an upper bound, as bar data allows).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench.analysis.numbers import USD_DIGITS, json_number

#: Columns of :func:`trade_excursions`.
EXCURSION_COLUMNS = ("mae_usd", "mfe_usd")


def trade_excursions(trades: pd.DataFrame, bars: pd.DataFrame, multiplier: float) -> pd.DataFrame:
    """MAE and MFE in dollars of each trade (see the module docstring).

    Parameters
    ----------
    trades : pandas.DataFrame
        Closed trades with ``entry_time``, ``exit_time``, ``side`` ("long"/"short"),
        ``contracts``, ``entry_price`` and optionally ``symbol``.
    bars : pandas.DataFrame
        The bars traded: ``high``, ``low`` (and ``symbol``) on a UTC DatetimeIndex of bar
        starts, sorted.
    multiplier : float
        Contract multiplier (barrels per contract: 100 for MCL).

    Returns
    -------
    pandas.DataFrame
        ``mae_usd`` and ``mfe_usd`` (>= 0) on the index of ``trades``; NaN for a trade with
        no bar of its contract in its holding time.
    """
    n = len(trades)
    mae = np.full(n, np.nan)
    mfe = np.full(n, np.nan)
    if n == 0 or bars.empty:
        return pd.DataFrame({"mae_usd": mae, "mfe_usd": mfe}, index=trades.index)
    starts = pd.DatetimeIndex(bars.index).as_unit("ns").asi8
    high = bars["high"].to_numpy(dtype=np.float64)
    low = bars["low"].to_numpy(dtype=np.float64)
    bar_symbol: np.ndarray | None = None
    trade_symbol: np.ndarray | None = None
    if "symbol" in bars and "symbol" in trades:
        # categorical codes, not strings: 750k bars would take half a second to convert
        cats = pd.Categorical(bars["symbol"])
        bar_symbol = np.asarray(cats.codes)
        trade_symbol = pd.Index(cats.categories).get_indexer(trades["symbol"].astype(str))
    entry_ns = _ns(trades["entry_time"])
    exit_ns = _ns(trades["exit_time"])
    first = np.searchsorted(starts, entry_ns, side="left")
    last = np.searchsorted(starts, exit_ns, side="right")
    long = trades["side"].astype(str).to_numpy() == "long"
    size = trades["contracts"].to_numpy(dtype=np.float64) * multiplier
    entry = trades["entry_price"].to_numpy(dtype=np.float64)
    for i in range(n):
        lo, hi = int(first[i]), int(last[i])
        if hi <= lo:
            continue
        h, lw = high[lo:hi], low[lo:hi]
        if bar_symbol is not None and trade_symbol is not None:
            code = trade_symbol[i]
            # the usual case, one contract throughout, needs no mask (a few us per trade): a
            # continuous series never returns to a contract, so equal ends mean all equal
            if not (bar_symbol[lo] == code == bar_symbol[hi - 1]):
                same = bar_symbol[lo:hi] == code
                if not same.any():
                    continue
                h, lw = h[same], lw[same]
        top, bottom = float(h.max()), float(lw.min())
        if long[i]:
            adverse, favourable = entry[i] - bottom, top - entry[i]
        else:
            adverse, favourable = top - entry[i], entry[i] - bottom
        mae[i] = max(adverse, 0.0) * size[i]
        mfe[i] = max(favourable, 0.0) * size[i]
    return pd.DataFrame({"mae_usd": mae, "mfe_usd": mfe}, index=trades.index)


def _ns(column: pd.Series) -> np.ndarray:
    idx = pd.DatetimeIndex(column)
    if idx.tz is None:
        idx = idx.tz_localize("UTC")
    return idx.as_unit("ns").asi8


def excursion_figures(excursions: pd.DataFrame) -> dict[str, Any]:
    """Average and worst MAE, average and best MFE in dollars (None without trades)."""
    mae = excursions["mae_usd"].dropna().to_numpy()
    mfe = excursions["mfe_usd"].dropna().to_numpy()
    return {
        "avg_mae_usd": json_number(float(mae.mean()) if len(mae) else None, USD_DIGITS),
        "max_mae_usd": json_number(float(mae.max()) if len(mae) else None, USD_DIGITS),
        "avg_mfe_usd": json_number(float(mfe.mean()) if len(mfe) else None, USD_DIGITS),
        "max_mfe_usd": json_number(float(mfe.max()) if len(mfe) else None, USD_DIGITS),
    }
