"""Market facts: contract specifications, symbols, expiries, the CME calendar and sessions.

Every fact about MCL (and the other products the loaders know) lives here, once.
"""

from __future__ import annotations

from workbench.market.calendar import (
    CME_CALENDAR,
    add_business_days,
    business_days,
    is_business_day,
    trade_dates,
)
from workbench.market.contracts import (
    CONTRACTS,
    MONTH_CODES,
    ContractSpec,
    ParsedSymbol,
    contract_spec,
    is_spread,
    parse_symbol,
)

__all__ = [
    "CME_CALENDAR",
    "CONTRACTS",
    "MONTH_CODES",
    "ContractSpec",
    "ParsedSymbol",
    "add_business_days",
    "business_days",
    "contract_spec",
    "is_business_day",
    "is_spread",
    "parse_symbol",
    "trade_dates",
]
