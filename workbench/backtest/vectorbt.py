"""A backtest's fills as a ``vectorbt.Portfolio``, for vectorbt's stats, plots and accessors.

:func:`result_to_portfolio` (``BacktestResult.to_vectorbt()``) builds the portfolio on **every
bar** of the run: one row per bar, indexed by bar end time like
:attr:`BacktestResult.equity`, marked at the bar's close, with our fills replayed as orders
in the bars they happened in (``Portfolio.from_order_func(..., flexible=True)``: a bar may
hold several fills, an exit and the next entry at one open, an entry and its stop). Each
order is one fill at our fill price, of ``contracts * multiplier`` units (barrels for MCL:
vectorbt prices are per unit), paying the fill's commission as a fixed fee. So its trades,
fees and final value are ours to the cent, its value is our equity at every bar close, and
``pf.stats()`` agrees with :attr:`BacktestResult.metrics`: the same maximum drawdown, and a
``Period`` of as many bars as the run (times ``freq`` when given). One difference in timing:
at a roll, our equity takes the closing fill's costs (slippage and commission, a few
dollars) one bar later than vectorbt's value.

Without the bars (a result unpickled from a worker) there is nothing to mark at, and
:func:`to_portfolio` replays the fills alone: one row per fill, marked at the fill prices.
Its trades and final value are still ours, but its drawdown and period are those of the fill
prices, not of the bars (``Period`` is the number of fills).

Futures are not bought with cash: ``from_orders`` refuses (or cuts) a buy larger than the
cash in hand, and one MCL contract is ~$7,000 of oil against a $5,000 account. The orders
are therefore simulated with enough cash to fill every one of them whole, and the portfolio
is then re-based on the backtest's initial capital (``Portfolio.replace``): the same order
records, so the same trades, fees and P&L. ``cash()`` is the account less the notional held,
negative while a long position is bigger than the account, as with any margined position.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.market.contracts import contract_spec
from workbench.model.records import trade_fills

if TYPE_CHECKING:
    import vectorbt as vbt

    from workbench.backtest.result import BacktestResult


def contract_multiplier(result: BacktestResult) -> float:
    """Units (barrels for MCL) per contract of the result's product."""
    contract = result.parameters.get("contract") or {}
    if "multiplier" in contract:
        return float(contract["multiplier"])
    product = contract.get("product") or result.provenance.get("product") or "MCL_FUT"
    return float(contract_spec(str(product)).multiplier)


def fill_orders(trades: pd.DataFrame, multiplier: float) -> pd.DataFrame:
    """The orders vectorbt replays: one row per fill, indexed by a unique fill time.

    Columns: ``size`` (signed units: contracts times ``multiplier``, + buys), ``price`` and
    ``fixed_fees`` (the fill's commission, USD).
    """
    fills = trade_fills(trades)
    times = pd.DatetimeIndex(fills["time"])
    ns = times.asi8.copy()
    # Fills at the same instant (an exit and the next entry, a roll) get one row each, a
    # nanosecond apart, in fill order; nothing trades that close to the next bar.
    for k in range(1, len(ns)):
        if ns[k] <= ns[k - 1]:
            ns[k] = ns[k - 1] + 1
    index = pd.DatetimeIndex(ns, tz=times.tz, name="fill_time")
    return pd.DataFrame(
        {
            "size": fills["side"].to_numpy(dtype=float)
            * fills["quantity"].to_numpy(dtype=float)
            * multiplier,
            "price": fills["price"].to_numpy(dtype=float),
            "fixed_fees": fills["commission"].to_numpy(dtype=float),
        },
        index=index,
    )


def to_portfolio(
    trades: pd.DataFrame,
    *,
    multiplier: float,
    initial_capital: float,
    freq: Any = None,
    column: str = "workbench",
) -> vbt.Portfolio:
    """Replay a trade table's fills in ``vectorbt.Portfolio.from_orders``.

    Parameters
    ----------
    trades : pandas.DataFrame
        A trade table (:data:`~workbench.model.records.TRADE_COLUMNS`).
    multiplier : float
        Units per contract (MCL: 100 barrels).
    initial_capital : float
        The account's starting equity, USD: the portfolio's ``init_cash``.
    freq : str or pandas.Timedelta, optional
        Passed to vectorbt for its annualised statistics (rows are fills, not bars).
    column : str, default "workbench"
        Name of the portfolio's single column.

    Returns
    -------
    vectorbt.Portfolio
    """
    import vectorbt as vbt  # seconds to import (numba): kept off the CLI's start-up path

    orders = fill_orders(trades, multiplier)
    price = orders["price"].rename(column)
    if orders.empty:
        index = pd.DatetimeIndex([pd.Timestamp(0, tz="UTC")], name="fill_time")
        price = pd.Series([np.nan], index=index, name=column)
        orders = pd.DataFrame({"size": [np.nan], "fixed_fees": [0.0]}, index=index)
    # Cash enough to fill every order whole (see the module notes), then re-based.
    cover = float(initial_capital + np.abs(orders["size"] * price).sum())
    simulated = vbt.Portfolio.from_orders(
        close=price,
        size=orders["size"].to_numpy(),
        size_type="amount",
        direction="both",
        price=price.to_numpy(),
        fees=0.0,
        fixed_fees=orders["fixed_fees"].to_numpy(),
        init_cash=cover,
        allow_partial=False,
        raise_reject=True,
        freq=freq,
    )
    return simulated.replace(init_cash=float(initial_capital))


def bar_fills(result: BacktestResult) -> pd.DataFrame:
    """Every fill of ``result`` with the bar it happened in, in the order it happened.

    Columns: ``row`` (bar position), ``size`` (signed units: contracts times the multiplier,
    + buys), ``price`` and ``fixed_fees`` (half the trade's commission, as
    :func:`~workbench.model.records.trade_fills` splits it). An entry fills in the bar that
    starts at its ``entry_time``; its exit ``bars_held`` bars later. Within a bar, fills come
    by time, then trade by trade (an exit before the next trade's entry at the same open),
    a trade's entry before its exit (a stop hit in the entry's bar).
    """
    trades = result.trades
    multiplier = contract_multiplier(result)
    entry_row = pd.DatetimeIndex(result.signals.index).get_indexer(
        pd.DatetimeIndex(trades["entry_time"])
    )
    if (entry_row < 0).any():
        raise ValueError("a trade's entry_time is not the start of one of the result's bars")
    exit_row = entry_row + trades["bars_held"].to_numpy(dtype=np.int64)
    side = np.where(trades["side"].astype(str).to_numpy() == "long", 1.0, -1.0)
    units = side * trades["contracts"].to_numpy(dtype=float) * multiplier
    half = trades["commission"].to_numpy(dtype=float) / 2.0
    fills = pd.DataFrame(
        {
            "row": np.r_[entry_row, exit_row],
            "time": np.r_[
                pd.DatetimeIndex(trades["entry_time"]).as_unit("ns").asi8,
                pd.DatetimeIndex(trades["exit_time"]).as_unit("ns").asi8,
            ],
            "trade": np.r_[np.arange(len(trades)), np.arange(len(trades))],
            "exit": np.r_[np.zeros(len(trades)), np.ones(len(trades))],
            "size": np.r_[units, -units],
            "price": np.r_[trades["entry_price"], trades["exit_price"]].astype(float),
            "fixed_fees": np.r_[half, half],
        }
    )
    fills = fills.sort_values(["row", "time", "trade", "exit"], kind="stable")
    return fills[["row", "size", "price", "fixed_fees"]].reset_index(drop=True)


def _flex_order_func() -> Any:
    """The numba order function replaying :func:`bar_fills` (compiled on first use)."""
    from numba import njit  # with vectorbt: off the CLI's start-up path
    from vectorbt.portfolio import nb
    from vectorbt.portfolio.enums import NoOrder

    @njit
    def order_func(c: Any, first: Any, count: Any, size: Any, price: Any, fees: Any) -> Any:
        if c.call_idx < count[c.i]:
            k = first[c.i] + c.call_idx
            order = nb.order_nb(
                size=size[k],
                price=price[k],
                size_type=0,  # amount
                direction=2,  # both
                fixed_fees=fees[k],
                allow_partial=False,
                raise_reject=True,
            )
            return c.from_col, order
        return -1, NoOrder

    return order_func


def bars_portfolio(
    result: BacktestResult, *, freq: Any = None, column: str = "workbench"
) -> vbt.Portfolio:
    """The fills of ``result`` replayed on every bar of it (see the module notes).

    Parameters
    ----------
    result : BacktestResult
        A result that kept its bars.
    freq : str or pandas.Timedelta, optional
        The bar interval, for vectorbt's annualised statistics and its ``Period``.
    column : str, default "workbench"
        Name of the portfolio's single column.

    Returns
    -------
    vectorbt.Portfolio
    """
    import vectorbt as vbt  # seconds to import (numba): kept off the CLI's start-up path

    if result.bars is None:
        raise ValueError("the result has no bars (unpickled?): use to_portfolio")
    n = len(result.equity)
    fills = bar_fills(result)
    count = np.bincount(fills["row"].to_numpy(dtype=np.int64), minlength=n).astype(np.int64)
    first = np.r_[0, np.cumsum(count)[:-1]].astype(np.int64)
    close = pd.Series(
        result.bars["close"].to_numpy(dtype=float), index=result.equity.index, name=column
    )
    size = fills["size"].to_numpy(dtype=float)
    price = fills["price"].to_numpy(dtype=float)
    cover = float(result.initial_capital + np.abs(size * price).sum())
    simulated = vbt.Portfolio.from_order_func(
        close,
        _flex_order_func(),
        first,
        count,
        size,
        price,
        fills["fixed_fees"].to_numpy(dtype=float),
        flexible=True,
        init_cash=cover,
        max_orders=len(fills) + 1,
        freq=freq,
    )
    return simulated.replace(init_cash=float(result.initial_capital))


def result_to_portfolio(result: BacktestResult, **kwargs: Any) -> vbt.Portfolio:
    """The portfolio of a :class:`~workbench.backtest.result.BacktestResult`: on every bar
    (:func:`bars_portfolio`) when it kept its bars, else on its fills (:func:`to_portfolio`)."""
    if result.bars is not None and len(result.bars) == len(result.equity):
        return bars_portfolio(result, **kwargs)
    return to_portfolio(
        result.trades,
        multiplier=contract_multiplier(result),
        initial_capital=result.initial_capital,
        **kwargs,
    )
