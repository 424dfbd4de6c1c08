"""MCL (and other CME futures) as Interactive Brokers lists them.

IB names a future by its contract month (``lastTradeDateOrContractMonth="202503"``) and
reports its last trade date (``20250219``): the two differ, because MCL stops trading in the
month before delivery. Both come from :mod:`workbench.market`'s expiry rule here, so the
simulated gateway and :class:`~workbench.adapters.ib.client.IBClient` agree with the
backtest's roll calendar.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from workbench.market.calendar import add_business_days, trade_dates
from workbench.market.contracts import CONTRACTS, MONTH_CODES, ContractSpec, contract_spec

#: Contracts listed at a time (MCL: 12 consecutive months; we list this many of any product).
LISTED_MONTHS = 12
_CON_ID_BASE = 600_000_000


@dataclass(frozen=True)
class IBFuture:
    """One listed futures contract with IB's identifiers.

    Attributes
    ----------
    con_id : int
        IB's contract id (deterministic here: product, year and month).
    symbol, trading_class : str
        ``MCL``.
    local_symbol : str
        ``MCLZ5``.
    contract_month : str
        ``YYYYMM`` of delivery (what ``Future("MCL", "202512")`` asks for).
    last_trade_date : datetime.date
        Last trading day (IB's ``lastTradeDateOrContractMonth`` in contract details).
    """

    con_id: int
    symbol: str
    local_symbol: str
    contract_month: str
    last_trade_date: dt.date
    exchange: str
    currency: str
    multiplier: float
    min_tick: float
    long_name: str

    @property
    def trading_class(self) -> str:
        """IB's trading class: the root."""
        return self.symbol

    @property
    def last_trade(self) -> str:
        """``YYYYMMDD`` of the last trade date."""
        return self.last_trade_date.strftime("%Y%m%d")

    @property
    def multiplier_text(self) -> str:
        """The multiplier as IB writes it (``100``)."""
        return f"{self.multiplier:g}"


def con_id_for(root: str, year: int, month: int) -> int:
    """The simulator's conId of ``root`` for delivery ``year``-``month`` (stable across runs)."""
    product = list(CONTRACTS).index(contract_spec(root).root)
    return _CON_ID_BASE + product * 1_000_000 + year * 100 + month


def future(spec: ContractSpec, year: int, month: int) -> IBFuture:
    """The IB view of one contract of ``spec``."""
    return IBFuture(
        con_id=con_id_for(spec.root, year, month),
        symbol=spec.root,
        local_symbol=f"{spec.root}{MONTH_CODES[month - 1]}{year % 10}",
        contract_month=f"{year:04d}{month:02d}",
        last_trade_date=spec.last_trade_date(year, month),
        exchange=spec.exchange,
        currency=spec.currency,
        multiplier=spec.multiplier,
        min_tick=spec.tick_size,
        long_name=spec.name,
    )


def listed_contracts(
    root: str = "MCL", today: dt.date | None = None, count: int = LISTED_MONTHS
) -> list[IBFuture]:
    """The ``count`` nearest contracts still trading on ``today``, front first.

    Parameters
    ----------
    root : str
        Product root (``MCL``).
    today : datetime.date, optional
        The trading day; default today's UTC date.
    count : int
        How many listed months.
    """
    spec = contract_spec(root)
    day = today if today is not None else dt.datetime.now(dt.UTC).date()
    out: list[IBFuture] = []
    year, month = day.year, day.month
    while len(out) < count:
        if MONTH_CODES[month - 1] in spec.months:
            fut = future(spec, year, month)
            if fut.last_trade_date >= day:
                out.append(fut)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def roll_date(last_trade_date: dt.date, roll_days: int) -> dt.date:
    """The first trade date a calendar-rolled series no longer holds a contract on:
    ``roll_days`` CME business days before its last trade date (the rule of
    ``load_bars(roll="calendar", roll_days=...)``)."""
    return add_business_days(last_trade_date, -roll_days)


def next_bar_trade_date(ts_ns: int) -> dt.date:
    """The CME trade date of the next bar starting at or after ``ts_ns`` (a bar's end).

    A bar ending in the daily halt (17:00 New York) is followed by the next trade date's
    first bar at 18:00, hence the hour added; Friday's is followed by Sunday evening's,
    which trades on Monday's date.
    """
    day = trade_dates(np.array([ts_ns + 3_600_000_000_000], dtype=np.int64))[0]
    date: dt.date = day.astype("datetime64[D]").item()
    return date + dt.timedelta(days=(7 - date.weekday()) % 7 if date.weekday() >= 5 else 0)


def front_month(contracts: list[IBFuture], today: dt.date) -> IBFuture:
    """The first contract of ``contracts`` whose last trade date is ``today`` or later.

    Raises
    ------
    ValueError
        If every contract has expired.
    """
    live = sorted(
        (c for c in contracts if c.last_trade_date >= today), key=lambda c: c.last_trade_date
    )
    if not live:
        raise ValueError(f"no contract trades on or after {today}")
    return live[0]


@dataclass(frozen=True)
class ContractQuery:
    """The 12 contract fields a client sends, as strings (what a request asks for)."""

    con_id: int
    symbol: str
    sec_type: str
    last_trade: str
    multiplier: str
    exchange: str
    currency: str
    local_symbol: str
    trading_class: str

    @classmethod
    def from_fields(cls, f: list[str]) -> ContractQuery:
        """From the 12 wire fields (conId .. tradingClass)."""
        if len(f) < 12:
            raise ValueError(f"a contract has 12 fields, got {len(f)}")
        return cls(
            con_id=int(f[0] or 0),
            symbol=f[1],
            sec_type=f[2],
            last_trade=f[3],
            multiplier=f[6],
            exchange=f[7],
            currency=f[9],
            local_symbol=f[10],
            trading_class=f[11],
        )

    def matches(self, c: IBFuture) -> bool:
        """Whether ``c`` answers this query (IB's rules, for the fields a future has)."""
        if self.con_id:
            return self.con_id == c.con_id
        if self.sec_type not in ("", "FUT"):
            return False
        if self.symbol and self.symbol != c.symbol:
            return False
        if not self.symbol and not self.local_symbol:
            return False
        if self.local_symbol and self.local_symbol != c.local_symbol:
            return False
        if self.trading_class and self.trading_class != c.trading_class:
            return False
        if self.exchange not in ("", "SMART", c.exchange):
            return False
        if self.currency not in ("", c.currency):
            return False
        if self.multiplier:
            try:
                if float(self.multiplier) != c.multiplier:
                    return False
            except ValueError:
                return False
        lt = self.last_trade
        if lt:
            if len(lt) == 6:
                return lt == c.contract_month
            return c.last_trade.startswith(lt) or lt == c.contract_month
        return True

    @property
    def root(self) -> str:
        """The product root the query names (symbol, or the local symbol's root)."""
        if self.symbol:
            return self.symbol
        return self.local_symbol[:-2] if len(self.local_symbol) > 2 else self.local_symbol
