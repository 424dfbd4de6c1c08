"""Contract specifications and futures symbols.

The MCL facts come from CME's contract specifications (summarised in the project's
``reference/market-facts.md``): NYMEX, 100 barrels, tick $0.01 = $1.00 per contract,
monthly listing, last trade one business day before CL's. The other products are here so that
the loaders work on any CME future the user downloads by its root (``ES_FUT``, ``CL_FUT``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from workbench.market.calendar import add_business_days, is_business_day

#: CME month codes, January..December.
MONTH_CODES = "FGHJKMNQUVXZ"

_SYMBOL_RE = re.compile(r"^(?P<root>[A-Z0-9]{1,4}?)(?P<month>[FGHJKMNQUVXZ])(?P<year>\d{1,2})$")


@dataclass(frozen=True)
class ParsedSymbol:
    """A single futures contract symbol split into its parts (``MCLZ5`` -> MCL, 12, 2025)."""

    raw: str
    root: str
    month: int
    year: int

    @property
    def month_code(self) -> str:
        """The CME month letter."""
        return MONTH_CODES[self.month - 1]


def is_spread(symbol: str) -> bool:
    """Whether a Databento raw symbol is a calendar spread or other combination.

    CME spreads are written with a dash (``MCLZ5-MCLF6``) or carry a space or colon in
    user-defined strategies; outrights are plain ``ROOT`` + month + year.
    """
    return any(ch in symbol for ch in "-: ")


def parse_symbol(symbol: str, reference_year: int | None = None) -> ParsedSymbol:
    """Parse an outright futures symbol such as ``MCLZ5`` or ``ESU24``.

    Parameters
    ----------
    symbol : str
        Raw exchange symbol.
    reference_year : int, optional
        Year the symbol was traded in, used to resolve a one-digit year: the contract
        year is the first year >= ``reference_year - 1`` ending in that digit.
        Defaults to today's year.

    Raises
    ------
    ValueError
        If the symbol is a spread or not a futures symbol.
    """
    m = _SYMBOL_RE.match(symbol)
    if m is None or is_spread(symbol):
        raise ValueError(f"not an outright futures symbol: {symbol!r}")
    month = MONTH_CODES.index(m["month"]) + 1
    digits = m["year"]
    ref = reference_year if reference_year is not None else dt.date.today().year
    if len(digits) == 2:
        year = 2000 + int(digits)
    else:
        base = ref - 1
        year = base - base % 10 + int(digits)
        if year < base:
            year += 10
    return ParsedSymbol(raw=symbol, root=m["root"], month=month, year=year)


def _prev_month(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def _cl_last_trade(year: int, month: int) -> dt.date:
    """CL: 3 business days before the 25th of the month before delivery (4 if the 25th is
    not a business day)."""
    py, pm = _prev_month(year, month)
    the_25th = dt.date(py, pm, 25)
    back = 3 if is_business_day(the_25th) else 4
    return add_business_days(the_25th, -back)


def _mcl_last_trade(year: int, month: int) -> dt.date:
    """MCL: one business day before CL's last trade."""
    return add_business_days(_cl_last_trade(year, month), -1)


def _third_friday_last_trade(year: int, month: int) -> dt.date:
    """Equity index futures: the third Friday of the contract month (earlier if a holiday)."""
    first = dt.date(year, month, 1)
    friday = first + dt.timedelta(days=(4 - first.weekday()) % 7 + 14)
    return friday if is_business_day(friday) else add_business_days(friday, -1)


@dataclass(frozen=True)
class ContractSpec:
    """The economics and calendar of one futures product.

    Attributes
    ----------
    root : str
        Exchange root (``MCL``); the catalog stores the product as ``{root}_FUT``.
    name : str
        Human name.
    exchange : str
        Listing exchange (``NYMEX``); also the IB exchange.
    dataset : str
        Databento dataset.
    tick_size : float
        Minimum price increment in price units (dollars per barrel for MCL).
    multiplier : float
        Contract size: dollars of P&L per 1.00 price move per contract.
    months : str
        Listed contract months as CME month codes.
    calendar : str
        pandas_market_calendars name of its Globex session calendar.
    initial_margin, maintenance_margin : float
        Exchange margin per contract (USD) for an outright speculative position: to open
        one, and below which equity gets a margin call. Approximate figures (see
        :data:`MARGIN_SOURCE`); the backtest's config overrides them.
    """

    root: str
    name: str
    exchange: str
    dataset: str
    tick_size: float
    multiplier: float
    months: str
    currency: str
    last_trade_rule: Callable[[int, int], dt.date]
    settlement: str
    calendar: str = "CMEGlobex_Crude"
    initial_margin: float = 0.0
    maintenance_margin: float = 0.0

    @property
    def product(self) -> str:
        """Catalog name of the product (``MCL_FUT``), as in ``data/raw/MCL_FUT``."""
        return f"{self.root}_FUT"

    @property
    def parent_symbol(self) -> str:
        """Databento parent symbol (``MCL.FUT``)."""
        return f"{self.root}.FUT"

    @property
    def tick_value(self) -> float:
        """Dollars per tick per contract (MCL: $1.00)."""
        return round(self.tick_size * self.multiplier, 10)

    @property
    def tick_fixed(self) -> int:
        """The tick in Databento fixed-point units (1e-9): MCL 10_000_000."""
        return round(self.tick_size * 1_000_000_000)

    def last_trade_date(self, year: int, month: int) -> dt.date:
        """Last trading day of the contract for delivery ``year``-``month``."""
        return self.last_trade_rule(year, month)

    def symbol(self, year: int, month: int) -> str:
        """Databento raw symbol with a one-digit year (``MCLZ5``)."""
        return f"{self.root}{MONTH_CODES[month - 1]}{year % 10}"

    def expiry_of(self, symbol: str, reference_year: int | None = None) -> dt.date:
        """Last trade date of a raw symbol of this product."""
        p = parse_symbol(symbol, reference_year)
        if p.root != self.root:
            raise ValueError(f"{symbol!r} is not a {self.root} contract")
        return self.last_trade_date(p.year, p.month)


MARGIN_SOURCE = (
    "Assumed, approximate CME outright margins per contract as of 2025 (maintenance; initial "
    "= 110% of maintenance, CME's rule for speculative accounts). MCL: maintenance $700, "
    "initial $770, i.e. one tenth of CL's ~$7,000 (CME's published MCL margin moved between "
    "about $600 and $800 in 2024-2025; brokers such as IBKR may ask more). Check CME's margin "
    "page (cmegroup.com/clearing/margins) before relying on them; override with "
    "BacktestConfig(initial_margin=..., maintenance_margin=...)."
)
"""Where the margin figures in :data:`CONTRACTS` come from."""


_ALL_MONTHS = MONTH_CODES
_QUARTERLY = "HMUZ"

CONTRACTS: dict[str, ContractSpec] = {
    spec.root: spec
    for spec in (
        ContractSpec(
            "MCL",
            "Micro WTI Crude Oil",
            "NYMEX",
            "GLBX.MDP3",
            0.01,
            100.0,
            _ALL_MONTHS,
            "USD",
            _mcl_last_trade,
            "financial",
            initial_margin=770.0,
            maintenance_margin=700.0,
        ),
        ContractSpec(
            "CL",
            "WTI Crude Oil",
            "NYMEX",
            "GLBX.MDP3",
            0.01,
            1000.0,
            _ALL_MONTHS,
            "USD",
            _cl_last_trade,
            "physical",
            initial_margin=7700.0,
            maintenance_margin=7000.0,
        ),
        ContractSpec(
            "ES",
            "E-mini S&P 500",
            "CME",
            "GLBX.MDP3",
            0.25,
            50.0,
            _QUARTERLY,
            "USD",
            _third_friday_last_trade,
            "financial",
            "CME_Equity",
            initial_margin=13200.0,
            maintenance_margin=12000.0,
        ),
        ContractSpec(
            "MES",
            "Micro E-mini S&P 500",
            "CME",
            "GLBX.MDP3",
            0.25,
            5.0,
            _QUARTERLY,
            "USD",
            _third_friday_last_trade,
            "financial",
            "CME_Equity",
            initial_margin=1320.0,
            maintenance_margin=1200.0,
        ),
        ContractSpec(
            "NQ",
            "E-mini Nasdaq-100",
            "CME",
            "GLBX.MDP3",
            0.25,
            20.0,
            _QUARTERLY,
            "USD",
            _third_friday_last_trade,
            "financial",
            "CME_Equity",
            initial_margin=19800.0,
            maintenance_margin=18000.0,
        ),
        ContractSpec(
            "MNQ",
            "Micro E-mini Nasdaq-100",
            "CME",
            "GLBX.MDP3",
            0.25,
            2.0,
            _QUARTERLY,
            "USD",
            _third_friday_last_trade,
            "financial",
            "CME_Equity",
            initial_margin=1980.0,
            maintenance_margin=1800.0,
        ),
    )
}


def contract_spec(product: str) -> ContractSpec:
    """Look up a product by root or catalog name: ``MCL``, ``MCL_FUT`` or ``MCL.FUT``.

    Raises
    ------
    KeyError
        If the product is unknown, listing the known ones.
    """
    root = product.upper().removesuffix("_FUT").removesuffix(".FUT")
    try:
        return CONTRACTS[root]
    except KeyError:
        known = ", ".join(f"{r}_FUT" for r in CONTRACTS)
        raise KeyError(f"unknown product {product!r}; known products: {known}") from None
