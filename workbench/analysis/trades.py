"""Figures of a closed-trade table: win rate, profit factor, streaks, best and worst hours."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from workbench.analysis.numbers import MINUTE_DIGITS, RATIO_DIGITS, USD_DIGITS, json_number
from workbench.market.calendar import EXCHANGE_TZ
from workbench.model.records import TRADE_COLUMNS

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def check_trades(trades: pd.DataFrame) -> None:
    """ValueError unless ``trades`` has the columns the statistics need."""
    missing = [c for c in ("entry_time", "exit_time", "net_pnl") if c not in trades.columns]
    if missing:
        raise ValueError(f"trades lacks the column(s) {missing}; expected {list(TRADE_COLUMNS)}")


def utc_index(column: pd.Series) -> pd.DatetimeIndex:
    """A time column as a UTC DatetimeIndex (naive times are taken as UTC)."""
    idx = pd.DatetimeIndex(column)
    return idx.tz_localize("UTC") if idx.tz is None else idx


#: Losers losing less than this in total (USD: a cent) leave the profit factor None.
MIN_LOSS_USD = 0.01


def trade_figures(net: np.ndarray) -> dict[str, Any]:
    """Win rate, profit factor, averages and counts of the trades' net P&L (JSON numbers)."""
    wins, losses = net[net > 0], net[net < 0]
    n = len(net)
    loss_sum = float(losses.sum())
    return {
        "win_rate": json_number(len(wins) / n, RATIO_DIGITS) if n else None,
        "profit_factor": json_number(float(wins.sum()) / -loss_sum, RATIO_DIGITS)
        if -loss_sum >= MIN_LOSS_USD
        else None,
        "avg_trade_pnl": json_number(float(net.mean()), USD_DIGITS) if n else None,
        "avg_winner": json_number(float(wins.mean()), USD_DIGITS) if len(wins) else None,
        "avg_loser": json_number(float(losses.mean()), USD_DIGITS) if len(losses) else None,
        "largest_winner": json_number(float(wins.max()), USD_DIGITS) if len(wins) else None,
        "largest_loser": json_number(float(losses.min()), USD_DIGITS) if len(losses) else None,
        "total_trades": n,
        "winning_trades": len(wins),
        "losing_trades": len(losses),
    }


def trade_quality(net: np.ndarray) -> dict[str, Any]:
    """Expectancy and Van Tharp's System Quality Number of the trades' net P&L.

    ``expectancy_usd`` is the mean net P&L per trade (``win_rate * avg_winner + loss_rate *
    avg_loser``); ``expectancy_r`` is that mean over the average loser's size, i.e. in units
    of a typical loss (Van Tharp's R, with the average loss standing in for the initial
    risk); ``sqn = sqrt(n) * mean / std(ddof=1)`` (backtesting.py's SQN). None when
    undefined (no trades, no loser, fewer than two trades or identical P&L).
    """
    n = len(net)
    losses = net[net < 0]
    mean = float(net.mean()) if n else None
    std = float(net.std(ddof=1)) if n > 1 else 0.0
    return {
        "expectancy_usd": json_number(mean, USD_DIGITS),
        "expectancy_r": json_number(
            mean / abs(float(losses.mean())) if mean is not None and len(losses) else None,
            RATIO_DIGITS,
        ),
        "sqn": json_number(
            math.sqrt(n) * mean / std if mean is not None and std > 0 else None, RATIO_DIGITS
        ),
    }


def _best_worst(groups: np.ndarray, pnl: np.ndarray, n_groups: int) -> tuple[int, int]:
    """Group numbers with the largest and smallest summed P&L among non-empty groups."""
    sums = np.bincount(groups, weights=pnl, minlength=n_groups)
    counts = np.bincount(groups, minlength=n_groups)
    sums[counts == 0] = np.nan
    return int(np.nanargmax(sums)), int(np.nanargmin(sums))


def time_analysis(trades: pd.DataFrame) -> dict[str, Any]:
    """Average hold time and the best and worst New York entry hour and weekday by net P&L."""
    if len(trades) == 0:
        return dict.fromkeys(
            (
                "avg_hold_time_minutes",
                "best_hour",
                "worst_hour",
                "best_day_of_week",
                "worst_day_of_week",
            )
        )
    entry = utc_index(trades["entry_time"])
    held = utc_index(trades["exit_time"]) - entry
    minutes = float(np.mean(held / pd.Timedelta(minutes=1)))
    local = entry.tz_convert(EXCHANGE_TZ)
    pnl = trades["net_pnl"].to_numpy(dtype=np.float64)
    best_hour, worst_hour = _best_worst(np.asarray(local.hour, dtype=np.intp), pnl, 24)
    best_day, worst_day = _best_worst(np.asarray(local.day_of_week, dtype=np.intp), pnl, 7)
    return {
        "avg_hold_time_minutes": json_number(minutes, MINUTE_DIGITS),
        "best_hour": best_hour,
        "worst_hour": worst_hour,
        "best_day_of_week": DAY_NAMES[best_day],
        "worst_day_of_week": DAY_NAMES[worst_day],
    }


def _longest_run(mask: np.ndarray) -> int:
    if not mask.any():
        return 0
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return int((np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)).max())


def trade_streaks(trades: pd.DataFrame) -> dict[str, int]:
    """Longest runs of consecutive winning and losing trades.

    Trades are taken in order of ``exit_time`` (when present; ties keep the frame's order).
    A winner has ``net_pnl > 0``, a loser ``net_pnl < 0``; a scratch trade (0) ends both.

    Parameters
    ----------
    trades : pandas.DataFrame
        Closed trades with a ``net_pnl`` column.

    Returns
    -------
    dict
        ``{"max_win_streak": int, "max_loss_streak": int}``; 0 and 0 without trades.
    """
    if "exit_time" in trades.columns and len(trades):
        order = np.argsort(utc_index(trades["exit_time"]).asi8, kind="stable")
        net = trades["net_pnl"].to_numpy(dtype=np.float64)[order]
    else:
        net = trades["net_pnl"].to_numpy(dtype=np.float64)
    return {"max_win_streak": _longest_run(net > 0), "max_loss_streak": _longest_run(net < 0)}
