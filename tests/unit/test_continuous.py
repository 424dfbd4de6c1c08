"""Front-month selection: volume crossover and calendar rolls, with no look-ahead."""

from __future__ import annotations

import datetime as dt

import numpy as np

from workbench.data.continuous import front_contracts

DATES = np.arange(np.datetime64("2024-01-02"), np.datetime64("2024-01-12"), dtype="datetime64[D]")


def _bars(vol_a: list[int], vol_b: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One bar per contract per day with the given daily volumes."""
    day_idx, codes, volume = [], [], []
    for d, (va, vb) in enumerate(zip(vol_a, vol_b, strict=True)):
        for c, v in ((0, va), (1, vb)):
            if v:
                day_idx.append(d)
                codes.append(c)
                volume.append(v)
    return np.array(day_idx), np.array(codes), np.array(volume)


SYMS = ["MCLG4", "MCLH4"]
EXP = [dt.date(2024, 1, 19), dt.date(2024, 2, 20)]


def test_volume_crossover_rolls_on_the_next_trade_date() -> None:
    vol_a = [100, 100, 100, 90, 40, 30, 20, 10, 5, 5]
    vol_b = [10, 20, 50, 80, 95, 99, 99, 99, 99, 99]
    d, c, v = _bars(vol_a, vol_b)
    front = front_contracts(DATES[: len(vol_a)], d, c, v, SYMS, EXP)
    # B first out-trades A on day 4; the roll takes effect on day 5 (known at day 4's end).
    assert front.tolist() == [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]


def test_no_look_ahead_future_volume_does_not_change_past_fronts() -> None:
    vol_a = [100] * 10
    vol_b = [10] * 10
    base = front_contracts(DATES, *_bars(vol_a, vol_b), SYMS, EXP)
    vol_b2 = vol_b[:6] + [500] * 4  # a surge from day 6 on
    changed = front_contracts(DATES, *_bars(vol_a, vol_b2), SYMS, EXP)
    assert changed[:7].tolist() == base[:7].tolist()  # days up to and including the surge day
    assert changed[7:].tolist() == [1, 1, 1]


def test_never_rolls_back_to_an_earlier_expiry() -> None:
    vol_a = [100, 10, 200, 200]
    vol_b = [50, 90, 10, 10]
    front = front_contracts(DATES[:4], *_bars(vol_a, vol_b), SYMS, EXP)
    assert front.tolist() == [0, 0, 1, 1]


def test_expired_contract_is_left() -> None:
    dates = np.arange(
        np.datetime64("2024-01-17"), np.datetime64("2024-01-24"), dtype="datetime64[D]"
    )
    vol_a = [100, 100, 100, 0, 0, 0, 0]
    vol_b = [10, 10, 10, 10, 10, 10, 10]
    front = front_contracts(dates, *_bars(vol_a, vol_b), SYMS, EXP)
    assert front[:3].tolist() == [0, 0, 0]
    assert (front[3:] == 1).all()  # A's last trade date is 2024-01-19


def test_calendar_roll_n_business_days_before_expiry() -> None:
    vol = [100] * 10
    front = front_contracts(DATES, *_bars(vol, vol), SYMS, EXP, rule="calendar", roll_days=5)
    # 5 CME business days before 2024-01-19 (Fri), skipping MLK day (the 15th), is 2024-01-11:
    # A holds through the 10th, B from the 11th.
    assert front[:-1].tolist() == [0] * 9
    assert front[-1] == 1
    front3 = front_contracts(DATES, *_bars(vol, vol), SYMS, EXP, rule="calendar", roll_days=8)
    # 8 business days before 2024-01-19 -> 2024-01-08: B from the 8th on.
    dates = [str(x) for x in DATES]
    assert front3[dates.index("2024-01-05")] == 0
    assert front3[dates.index("2024-01-08")] == 1
