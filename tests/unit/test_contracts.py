from __future__ import annotations

import datetime as dt

import pytest

from workbench.market import contract_spec, is_spread, parse_symbol


def test_mcl_facts_match_cme_spec() -> None:
    mcl = contract_spec("MCL_FUT")
    assert mcl.exchange == "NYMEX"
    assert mcl.tick_size == 0.01
    assert mcl.multiplier == 100
    assert mcl.tick_value == 1.0
    assert mcl.tick_fixed == 10_000_000
    assert mcl.parent_symbol == "MCL.FUT"
    assert mcl.product == "MCL_FUT"


@pytest.mark.parametrize(
    ("symbol", "year", "expected"),
    [
        # From the reference: CLZ5 last trades 2025-11-20, so MCLZ5 2025-11-19.
        ("CLZ5", 2025, dt.date(2025, 11, 20)),
        ("MCLZ5", 2025, dt.date(2025, 11, 19)),
        # 25 Jan 2026 is a Sunday: CL stops 4 business days before -> 2026-01-20, MCL -> 01-16
        # (2026-01-19 is Martin Luther King Jr. Day, a CME holiday).
        ("CLG6", 2026, dt.date(2026, 1, 20)),
        ("MCLG6", 2026, dt.date(2026, 1, 16)),
        # ES: third Friday of the contract month.
        ("ESU4", 2024, dt.date(2024, 9, 20)),
        ("ESZ24", 2024, dt.date(2024, 12, 20)),
    ],
)
def test_last_trade_dates(symbol: str, year: int, expected: dt.date) -> None:
    spec = contract_spec(parse_symbol(symbol, year).root)
    assert spec.expiry_of(symbol, year) == expected


def test_parse_symbol_resolves_one_digit_years() -> None:
    assert parse_symbol("MCLF6", 2025).year == 2026
    assert parse_symbol("MCLZ3", 2023).year == 2023
    assert parse_symbol("ESH1", 2020).year == 2021
    p = parse_symbol("MCLZ5", 2025)
    assert (p.root, p.month, p.month_code) == ("MCL", 12, "Z")


@pytest.mark.parametrize("bad", ["MCLZ5-MCLF6", "MSFT", "MCL", "", "MCLA5"])
def test_parse_symbol_rejects_non_outrights(bad: str) -> None:
    with pytest.raises(ValueError, match="not an outright"):
        parse_symbol(bad, 2025)


def test_spreads_are_recognised() -> None:
    assert is_spread("MCLZ5-MCLF6")
    assert not is_spread("MCLZ5")


def test_unknown_product_lists_known_ones() -> None:
    with pytest.raises(KeyError, match="MCL_FUT"):
        contract_spec("FOO_FUT")
    assert contract_spec("mcl.fut").root == "MCL"
    assert contract_spec("ES").multiplier == 50
