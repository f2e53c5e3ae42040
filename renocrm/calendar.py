"""Calendar arithmetic the lifecycle apps share: calendar-correct months and mainland-China working days.

Working days come from the ``chinesecalendar`` package, which carries the State Council's published
holiday schedule, adjusted working weekends (调休) included. Its data stops at the last year announced.
Past that year a day counts as a working day when it is Monday to Friday and not one of the statutory
holidays that fall on fixed Gregorian dates (New Year's Day, Labour Day, National Day); the lunar holidays
and the weekend swaps are not known until the State Council publishes them, so dates that far ahead are
an estimate that becomes exact once the package is upgraded.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import chinese_calendar
from dateutil.relativedelta import relativedelta

# Fixed-date statutory holidays (全国年节及纪念日放假办法, 2025 revision).
FIXED_HOLIDAYS = frozenset({(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)})


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, clamped to the end of a shorter month: 31 January plus one
    month is 28 (or 29) February. Always count from the same start — chaining would drift (31 Jan → 28 Feb
    → 28 Mar)."""
    return day + relativedelta(months=months)


@cache
def calendar_years() -> tuple[int, int]:
    """The first and last year the working-day data covers."""
    years = [d.year for d in chinese_calendar.holidays] + [d.year for d in chinese_calendar.workdays]
    return min(years), max(years)


def is_working_day(day: date) -> bool:
    first, last = calendar_years()
    if first <= day.year <= last:
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5 and (day.month, day.day) not in FIXED_HOLIDAYS


def add_working_days(day: date, count: int) -> date:
    """The ``count``-th working day after ``day`` (``day`` itself does not count): three working days
    after a Friday before a normal weekend is the next Wednesday."""
    if count < 0:
        raise ValueError("count must not be negative")
    while count:
        day += timedelta(days=1)
        if is_working_day(day):
            count -= 1
    return day
