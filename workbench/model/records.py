"""Orders, fills and trades: the records every engine, broker and report shares.

A backtest, a paper session on the simulated exchange and a session on IB all describe what
they did with these types, so that analysis, results and reports read one shape.
Prices are dollars here (floats, as the tables carry them); the Rust kernels work in integer
ticks and convert at their boundary.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum

import numpy as np
import pandas as pd


class Side(IntEnum):
    """Direction of an order, a fill or a position: +1 buys / long, -1 sells / short."""

    BUY = 1
    SELL = -1

    @classmethod
    def of(cls, quantity: float) -> Side:
        """The side that moves a position by ``quantity`` (its sign; zero is refused)."""
        if quantity == 0:
            raise ValueError("a zero quantity has no side")
        return cls.BUY if quantity > 0 else cls.SELL

    @property
    def position_label(self) -> str:
        """``long`` or ``short``: the side of the position this opens."""
        return "long" if self is Side.BUY else "short"


class OrderType(StrEnum):
    """Order types the engines and brokers understand."""

    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"


class TimeInForce(StrEnum):
    """How long an order works."""

    DAY = "day"
    GTC = "gtc"
    IOC = "ioc"


class OrderStatus(StrEnum):
    """Where an order is in its life."""

    PENDING = "pending"  # journaled, not yet acknowledged
    WORKING = "working"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"

    @property
    def is_done(self) -> bool:
        """True once the order can no longer fill."""
        return self in (OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED)


class Liquidity(StrEnum):
    """Whether a fill added or removed liquidity."""

    MAKER = "maker"
    TAKER = "taker"


@dataclass(frozen=True)
class Order:
    """An order intent, keyed by ``order_ref`` (unique across sessions and reconnects).

    Parameters
    ----------
    order_ref : str
        The caller's unique reference for this intent.
    symbol : str
        Contract, e.g. ``MCLZ5``.
    side : Side
        Buy or sell.
    quantity : int
        Whole contracts, at least one.
    order_type : OrderType
        Market, limit, stop or stop-limit.
    limit_price, stop_price : float or None
        Dollars; required by the order types that use them.
    time_in_force : TimeInForce
        Day, good till cancelled or immediate or cancel.
    """

    order_ref: str
    symbol: str
    side: Side
    quantity: int
    order_type: OrderType = OrderType.MARKET
    limit_price: float | None = None
    stop_price: float | None = None
    time_in_force: TimeInForce = TimeInForce.DAY

    def __post_init__(self) -> None:
        if not self.order_ref:
            raise ValueError("an order needs a non-empty order_ref")
        if int(self.quantity) != self.quantity or self.quantity < 1:
            raise ValueError(
                f"quantity must be a whole number of contracts >= 1, got {self.quantity}"
            )
        needs_limit = self.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
        needs_stop = self.order_type in (OrderType.STOP, OrderType.STOP_LIMIT)
        kind = self.order_type.value
        if needs_limit != (self.limit_price is not None):
            verb = "needs" if needs_limit else "takes no"
            raise ValueError(f"a {kind} order {verb} limit_price")
        if needs_stop != (self.stop_price is not None):
            verb = "needs" if needs_stop else "takes no"
            raise ValueError(f"a {kind} order {verb} stop_price")


@dataclass(frozen=True)
class Fill:
    """One execution: ``quantity`` contracts of ``symbol`` at ``price`` dollars.

    ``time`` is UTC nanoseconds since the epoch; ``commission`` is the total in dollars.
    """

    time: int
    symbol: str
    side: Side
    quantity: int
    price: float
    commission: float = 0.0
    order_ref: str = ""
    liquidity: Liquidity = Liquidity.TAKER


#: Columns of a trade table: one row per closed round trip (backtest and paper alike).
TRADE_COLUMNS = (
    "entry_time",
    "exit_time",
    "side",
    "contracts",
    "entry_price",
    "exit_price",
    "gross_pnl",
    "commission",
    "slippage_cost",
    "net_pnl",
    "exit_reason",
    "bars_held",
    "symbol",
)

#: Columns of a fill table (see :func:`trade_fills`).
FILL_COLUMNS = ("time", "symbol", "side", "quantity", "price", "commission")


def trade_fills(trades: pd.DataFrame) -> pd.DataFrame:
    """The fills behind a trade table: an entry and an exit per trade, in time order.

    Each fill carries half of its trade's commission (entry and exit pay the same per-side
    fee). ``side`` is +1 for a buy and -1 for a sell; ``quantity`` is positive.

    Parameters
    ----------
    trades : pandas.DataFrame
        A table with :data:`TRADE_COLUMNS` (``side`` as ``long``/``short``).

    Returns
    -------
    pandas.DataFrame
        :data:`FILL_COLUMNS`, sorted by time (entries before exits at the same time).
    """

    direction = np.where(np.asarray(trades["side"]).astype(str) == "long", 1, -1)
    half_fee = trades["commission"].to_numpy(dtype=float) / 2
    n = len(trades)
    frame = pd.DataFrame(
        {
            "time": np.concatenate(
                [trades["entry_time"].to_numpy(), trades["exit_time"].to_numpy()]
            ),
            "symbol": np.concatenate([trades["symbol"].astype(str).to_numpy()] * 2),
            "side": np.concatenate([direction, -direction]).astype(np.int8),
            "quantity": np.concatenate([trades["contracts"].to_numpy()] * 2).astype(np.int64),
            "price": np.concatenate(
                [
                    trades["entry_price"].to_numpy(dtype=float),
                    trades["exit_price"].to_numpy(dtype=float),
                ]
            ),
            "commission": np.concatenate([half_fee, half_fee]),
            "_order": np.concatenate([np.arange(n) * 2, np.arange(n) * 2 + 1]),
        }
    )
    frame = frame.sort_values(["time", "_order"], kind="stable").drop(columns="_order")
    return frame.reset_index(drop=True)
