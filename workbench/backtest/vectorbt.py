"""A backtest's fills as a ``vectorbt.Portfolio``, for vectorbt's stats, plots and accessors.

The portfolio is simulated by ``Portfolio.from_orders`` on the fills of the trade table
(:func:`workbench.model.records.trade_fills`): one order per fill, at our fill price, of
``contracts * multiplier`` units (barrels for MCL: vectorbt prices are per unit), paying the
fill's commission as a fixed fee. Its final value and its trades are ours to the cent.

Two things differ from a vectorbt-native backtest, both because futures are not bought with
cash:

- ``from_orders`` refuses (or cuts) a buy larger than the cash in hand, and one MCL contract
  is ~$7,000 of oil against a $5,000 account. The orders are therefore simulated with enough
  cash to fill every one of them whole, and the portfolio is then re-based on the backtest's
  initial capital (``Portfolio.replace``): the same order records, so the same trades, fees
  and P&L. ``cash()`` is the account less the notional held, negative while a long position
  is bigger than the account, as with any margined position.
- The prices vectorbt marks the position at are the fill prices (one row per fill; fills at
  the same instant are spaced by a nanosecond, in fill order). A result does not keep the
  bars, and the final value depends only on the cash flows, as every backtest ends flat.
  The equity marked at every bar close stays :attr:`BacktestResult.equity`.
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


def result_to_portfolio(result: BacktestResult, **kwargs: Any) -> vbt.Portfolio:
    """:func:`to_portfolio` for a :class:`~workbench.backtest.result.BacktestResult`."""
    return to_portfolio(
        result.trades,
        multiplier=contract_multiplier(result),
        initial_capital=result.initial_capital,
        **kwargs,
    )
