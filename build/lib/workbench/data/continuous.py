"""Continuous front-month series from per-contract bars.

Two roll rules, both free of look-ahead (a roll decided with day D's data takes effect from
the next trade date's session open):

- ``"volume"`` (default): hold the current contract until a later-expiring contract trades
  more volume than it over a whole CME trade date; roll at the next session. A contract is
  also left when it expires.
- ``"calendar"``: roll ``roll_days`` CME business days before the contract's last trade date.

Prices are unadjusted by default (like Databento's ``MCL.v.0``); ``adjust="difference"``
back-adjusts earlier history by the price gap at each roll (tick-exact), ``"ratio"``
multiplies by the price ratio.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

import numpy as np

from workbench.errors import ConfigError, DataError
from workbench.market.calendar import add_business_days
from workbench.market.contracts import ContractSpec

ROLL_RULES = ("volume", "calendar")
ADJUSTMENTS = ("none", "difference", "ratio")


@dataclass(frozen=True)
class Roll:
    """One roll from one contract to the next."""

    trade_date: str  # first trade date on the new contract
    ts: str  # first bar of the new contract in the series (UTC, ISO 8601)
    from_symbol: str
    to_symbol: str
    from_close: float  # old contract's last close before the roll
    to_close: float  # new contract's close at the same time
    adjustment: float  # price gap (difference) or factor (ratio) applied to earlier bars

    def to_dict(self) -> dict[str, object]:
        """As a plain dict (JSON-ready)."""
        return asdict(self)


def front_contracts(
    dates: np.ndarray,
    day_idx: np.ndarray,
    sym_codes: np.ndarray,
    volume: np.ndarray,
    symbols: list[str],
    expiries: list[dt.date],
    rule: str = "volume",
    roll_days: int = 5,
) -> np.ndarray:
    """The front contract (code into ``symbols``) for each trade date in ``dates``.

    Parameters
    ----------
    dates : ndarray of datetime64[D]
        Sorted unique trade dates.
    day_idx : ndarray of int
        Index into ``dates`` of each bar.
    sym_codes : ndarray of int
        Contract of each bar (index into ``symbols``).
    volume : ndarray
        Volume of each bar.
    symbols, expiries : list
        Contracts and their last trade dates.
    """
    n_days, n_syms = len(dates), len(symbols)
    vol = np.bincount(
        day_idx * n_syms + sym_codes, weights=volume.astype(np.float64), minlength=n_days * n_syms
    ).reshape(n_days, n_syms)
    traded = vol > 0
    exp = np.array(expiries, dtype="datetime64[D]")
    front = np.full(n_days, -1, dtype=np.int64)
    if rule == "calendar":
        roll_at = np.array(
            [add_business_days(e, -roll_days) for e in expiries], dtype="datetime64[D]"
        )
        order = np.argsort(exp)
        for d in range(n_days):
            for c in order:
                if dates[d] < roll_at[c] and traded[d, c]:
                    front[d] = c
                    break
            else:  # nothing before its roll date trades today: take the nearest live one
                live = [c for c in order if dates[d] <= exp[c] and traded[d, c]]
                front[d] = live[0] if live else -1
        return front
    current = -1
    for d in range(n_days):
        if current >= 0 and dates[d] > exp[current]:
            current = -1  # expired
        if current < 0:
            # Start (or restart after expiry): the most traded contract the day before,
            # or today's on the very first day of the data.
            src = d - 1 if d > 0 else d
            live = traded[src] & (exp >= dates[d])
            if live.any():
                cand = np.where(live, vol[src], -1.0)
                current = int(np.argmax(cand))
        front[d] = current
        if current >= 0:
            later = (exp > exp[current]) & (vol[d] > vol[d, current])
            if later.any():
                current = int(np.argmax(np.where(later, vol[d], -1.0)))
    return front


def validate_roll_options(rule: str, adjust: str, roll_days: int) -> None:
    """Raise :class:`ConfigError` for an unknown rule or adjustment."""
    if rule not in ROLL_RULES:
        raise ConfigError(f"unknown roll rule {rule!r}", hint=f"use one of {', '.join(ROLL_RULES)}")
    if adjust not in ADJUSTMENTS:
        raise ConfigError(
            f"unknown adjustment {adjust!r}", hint=f"use one of {', '.join(ADJUSTMENTS)}"
        )
    if roll_days < 0:
        raise ConfigError(f"roll_days must be >= 0, got {roll_days}")


def contract_expiries(
    spec: ContractSpec, symbols: list[str], ref_years: list[int]
) -> list[dt.date]:
    """Last trade date of each contract symbol (by the product's rule); ``ref_years`` is
    the year each contract was first seen, to resolve one-digit years."""
    out = []
    for s, year in zip(symbols, ref_years, strict=True):
        try:
            out.append(spec.expiry_of(s, year))
        except ValueError:
            raise DataError(
                f"{s!r} is not a {spec.root} outright contract",
                hint="the catalog for this product holds another product's data; re-ingest it",
            ) from None
    return out
