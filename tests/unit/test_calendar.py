from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from workbench.market.calendar import (
    add_business_days,
    business_days,
    is_business_day,
    session_schedule,
    trade_dates,
)


def _ns(*stamps: str) -> np.ndarray:
    return pd.DatetimeIndex(list(stamps), tz="UTC").as_unit("ns").asi8


def test_evening_session_belongs_to_next_trade_date() -> None:
    # Sunday 2024-01-07 18:00 New York (23:00 UTC, EST) opens Monday's trade date.
    got = trade_dates(_ns("2024-01-07 23:00", "2024-01-08 21:59", "2024-01-08 23:00"))
    assert [str(d) for d in got] == ["2024-01-08", "2024-01-08", "2024-01-09"]


def test_trade_date_follows_daylight_saving() -> None:
    # In July New York is UTC-4: 18:00 NY = 22:00 UTC.
    got = trade_dates(_ns("2024-07-09 21:59", "2024-07-09 22:00"))
    assert [str(d) for d in got] == ["2024-07-09", "2024-07-10"]


def test_holidays_come_from_the_calendar_library() -> None:
    assert not is_business_day(dt.date(2024, 12, 25))
    assert not is_business_day(dt.date(2024, 7, 4))
    assert not is_business_day(dt.date(2024, 7, 6))  # Saturday
    assert is_business_day(dt.date(2024, 7, 5))
    days = business_days(dt.date(2024, 12, 23), dt.date(2024, 12, 27))
    assert dt.date(2024, 12, 25) not in days
    assert len(days) == 4


def test_add_business_days_skips_weekends_and_holidays() -> None:
    assert add_business_days(dt.date(2024, 12, 24), 1) == dt.date(2024, 12, 26)
    assert add_business_days(dt.date(2024, 12, 26), -1) == dt.date(2024, 12, 24)
    assert add_business_days(dt.date(2024, 7, 6), -1) == dt.date(2024, 7, 5)  # from a Saturday


def test_schedule_has_the_daily_halt_and_early_closes() -> None:
    s = session_schedule(dt.date(2024, 1, 12), dt.date(2024, 1, 16))
    # Globex closes 17:00 NY (22:00 UTC in winter) and reopens 18:00 NY: a one-hour halt.
    fri = s.loc["2024-01-12"]
    assert fri["market_close"] == pd.Timestamp("2024-01-12 22:00", tz="UTC")
    mon = s.loc["2024-01-16"]
    assert mon["market_open"] == pd.Timestamp("2024-01-15 23:00", tz="UTC")
    # Martin Luther King Jr. Day closes early.
    mlk = s.loc["2024-01-15"]
    assert mlk["market_close"] < pd.Timestamp("2024-01-15 22:00", tz="UTC")
