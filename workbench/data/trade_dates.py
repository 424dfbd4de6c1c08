"""CME trade dates as UTC bounds, for ``--start``/``--end`` of the commands that load bars.

A CME trade date D opens at 18:00 New York on the calendar day before D (Sunday evening for
a Monday) and closes at 17:00 New York on D. :func:`trade_date_bounds` turns an inclusive
range of trade dates into the UTC bounds :func:`workbench.data.load_bars` takes (start
inclusive, end exclusive), so the bars loaded are exactly those of the trade dates asked for,
and the range a run reports (``data_range``, by trade date) is the one asked for, clipped to
the days with data. Only the standard library is used: the CLI parses these options before
anything heavy is imported.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from workbench.errors import ConfigError
from workbench.market.calendar import EXCHANGE_TZ

#: New York wall time at which the next trade date's session opens (and the previous one is
#: over: the 17:00-18:00 halt lies in between).
SESSION_OPEN = dt.time(18, 0)


def session_open_utc(trade_date: dt.date) -> dt.datetime:
    """The UTC time at which ``trade_date``'s session opens: 18:00 New York the day before.

    Parameters
    ----------
    trade_date : datetime.date
        A CME trade date (a weekend or holiday date gives the same bound all the same).

    Returns
    -------
    datetime.datetime
        Timezone-aware, in UTC.
    """
    local = dt.datetime.combine(trade_date - dt.timedelta(days=1), SESSION_OPEN)
    return local.replace(tzinfo=ZoneInfo(EXCHANGE_TZ)).astimezone(dt.UTC)


def parse_trade_date(value: str, option: str) -> dt.date:
    """``YYYY-MM-DD`` as a date, or a :class:`ConfigError` naming ``option``."""
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ConfigError(
            f"{option} {value!r} is not a date", hint=f"give a CME trade date: {option} 2024-03-01"
        ) from None


def trade_date_bounds(
    start: dt.date | None, end: dt.date | None
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """UTC bounds of the trade dates ``start`` to ``end`` (both inclusive; None: open).

    Returns
    -------
    (datetime or None, datetime or None)
        The first trade date's session open (inclusive) and the session open of the day
        after ``end`` (exclusive), timezone-aware UTC.

    Examples
    --------
    >>> trade_date_bounds(dt.date(2024, 3, 1), dt.date(2024, 6, 30))
    (datetime.datetime(2024, 2, 29, 23, 0, tzinfo=datetime.timezone.utc), \
datetime.datetime(2024, 6, 30, 22, 0, tzinfo=datetime.timezone.utc))
    """
    lo = None if start is None else session_open_utc(start)
    hi = None if end is None else session_open_utc(end + dt.timedelta(days=1))
    return lo, hi
