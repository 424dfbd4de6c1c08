"""The CME calendar: business days, holidays, Globex sessions and trade dates.

Holidays come from ``pandas_market_calendars`` (a maintained calendar library), not a hand
list. It is imported lazily because it pulls in pandas; the holiday set is computed once.

Globex energy hours (from ``reference/market-facts.md``): Sunday-Friday 18:00-17:00 New York
time with a 60-minute halt at 17:00 every day. A session that opens at 18:00 New York belongs
to the next calendar day's trade date.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

#: pandas_market_calendars name of the NYMEX crude oil Globex calendar (CL and MCL): sessions.
CME_CALENDAR = "CMEGlobex_Crude"
#: Calendar of CME trade dates: the business days used by expiry rules and "daily" figures.
#: Globex may trade on e.g. Martin Luther King Jr. Day, but those trades settle on the next
#: trade date, so such a day is not a business day.
TRADE_DATE_CALENDAR = "CME_TradeDate"
#: Exchange time zone of every session rule below.
EXCHANGE_TZ = "America/New_York"
#: Globex opens at 18:00 New York (the previous calendar day of the trade date).
SESSION_OPEN = dt.time(18, 0)
#: Globex closes (and halts daily) at 17:00 New York.
SESSION_CLOSE = dt.time(17, 0)
#: Hours added to New York local time so that flooring to the day gives the trade date.
_TRADE_DATE_SHIFT_NS = 6 * 3_600 * 1_000_000_000

_CAL_START = "2000-01-01"
_CAL_END = "2040-12-31"


def _cache_file() -> Path:
    # start-up: importlib.metadata costs ~25 ms; only the holiday cache's name needs it
    from importlib.metadata import version

    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "workbench"
    tag = f"{TRADE_DATE_CALENDAR}-{version('pandas_market_calendars')}-{_CAL_START}-{_CAL_END}"
    return base / f"holidays-{tag}.json"


@lru_cache(maxsize=1)
def _holidays() -> frozenset[dt.date]:
    """CME trade-date holidays from pandas_market_calendars.

    The library takes ~0.5 s to import, so its answer is kept in the user's cache folder,
    keyed by the library's version (a new version recomputes it).
    """
    cache = _cache_file()
    try:
        return frozenset(dt.date.fromisoformat(d) for d in json.loads(cache.read_text()))
    except (OSError, ValueError):
        pass
    # start-up: pandas_market_calendars takes ~2 s to import; the cached schedule avoids it
    import pandas_market_calendars as mcal

    cal = mcal.get_calendar(TRADE_DATE_CALENDAR)
    hol = cal.holidays().holidays
    lo, hi = np.datetime64(_CAL_START), np.datetime64(_CAL_END)
    days = frozenset(
        d.astype("datetime64[D]").item() for d in hol if lo <= np.datetime64(d, "D") <= hi
    )
    with contextlib.suppress(OSError):
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(sorted(d.isoformat() for d in days)))
        os.replace(tmp, cache)
    return days


@lru_cache(maxsize=1)
def _business_day_array() -> np.ndarray:
    """Sorted ``datetime64[D]`` array of CME business days 2000-2040."""
    days = np.arange(np.datetime64(_CAL_START), np.datetime64(_CAL_END) + 1, dtype="datetime64[D]")
    weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday -> Monday = 0
    hol = np.array(sorted(_holidays()), dtype="datetime64[D]")
    keep = (weekday < 5) & ~np.isin(days, hol)
    return days[keep]


def is_business_day(day: dt.date) -> bool:
    """Whether ``day`` is a CME business day (weekday, not an exchange holiday)."""
    return day.weekday() < 5 and day not in _holidays()


def business_days(start: dt.date, end: dt.date) -> list[dt.date]:
    """CME business days in ``[start, end]`` (both inclusive)."""
    arr = _business_day_array()
    lo = np.searchsorted(arr, np.datetime64(start, "D"), side="left")
    hi = np.searchsorted(arr, np.datetime64(end, "D"), side="right")
    return [d.item() for d in arr[lo:hi]]


def add_business_days(day: dt.date, n: int) -> dt.date:
    """Move ``n`` CME business days from ``day`` (negative moves back).

    ``day`` itself need not be a business day: ``add_business_days(sat, -1)`` is the Friday.
    """
    arr = _business_day_array()
    key = np.datetime64(day, "D")
    if n == 0:
        if not is_business_day(day):
            raise ValueError(f"{day} is not a CME business day")
        return day
    if n > 0:
        idx = np.searchsorted(arr, key, side="right") + n - 1
    else:
        idx = np.searchsorted(arr, key, side="left") + n
    if not 0 <= idx < len(arr):
        raise ValueError(
            f"{day} {n:+d} business days is outside the calendar {_CAL_START}..{_CAL_END}"
        )
    result: dt.date = arr[idx].item()
    return result


def trade_dates(ts_ns: np.ndarray) -> np.ndarray:
    """CME trade date of each UTC nanosecond timestamp, as ``datetime64[D]``.

    A timestamp at or after 18:00 New York belongs to the next calendar day's trade date
    (Sunday evening trades on Monday's date).
    """
    # start-up: pandas (~0.4 s) stays out of `workbench data ingest` and `data info`, which
    # reach this module through the contract specs but never ask for trade dates
    import pandas as pd

    local = pd.DatetimeIndex(np.asarray(ts_ns, dtype="datetime64[ns]"), tz="UTC").tz_convert(
        EXCHANGE_TZ
    )
    wall = local.tz_localize(None).asi8 + _TRADE_DATE_SHIFT_NS
    return wall.astype("datetime64[ns]").astype("datetime64[D]")


def session_schedule(start: dt.date, end: dt.date, calendar: str = CME_CALENDAR) -> pd.DataFrame:
    """Globex sessions by trade date: ``market_open``/``market_close`` in UTC.

    Early closes (e.g. Martin Luther King Jr. Day) and holidays follow the calendar library;
    ``calendar`` is a pandas_market_calendars name (each :class:`ContractSpec` names its own).
    """
    # start-up: pandas_market_calendars takes ~2 s to import; the cached schedule avoids it
    import pandas_market_calendars as mcal

    cal = mcal.get_calendar(calendar)
    return cal.schedule(start_date=start, end_date=end)
