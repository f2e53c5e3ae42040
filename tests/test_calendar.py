"""Calendar-correct months and mainland-China working days, including the years past the calendar data."""

from datetime import date

import pytest

from renocrm.calendar import add_months, add_working_days, calendar_years, is_working_day


@pytest.mark.parametrize(
    ("months", "expected"),
    [(1, date(2027, 2, 28)), (3, date(2027, 4, 30)), (6, date(2027, 7, 31)), (12, date(2028, 1, 31))],
)
def test_months_from_31_january_clamp_to_the_end_of_shorter_months(months, expected):
    assert add_months(date(2027, 1, 31), months) == expected


def test_leap_years():
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2024, 2, 29), 48) == date(2028, 2, 29)


def test_an_ordinary_week_skips_the_weekend():
    # Friday 20 November 2026 + 3 working days: Monday, Tuesday, Wednesday.
    assert add_working_days(date(2026, 11, 20), 3) == date(2026, 11, 25)
    assert add_working_days(date(2026, 11, 20), 0) == date(2026, 11, 20)


def test_statutory_holidays_are_skipped_and_adjusted_weekends_count():
    # National Day 2026: 1–7 October off; Saturday 10 October is a working day in exchange.
    assert not is_working_day(date(2026, 10, 5))
    assert is_working_day(date(2026, 10, 10))
    assert add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)
    # Spring Festival 2026: Saturday 14 February worked, 15–23 February off.
    assert is_working_day(date(2026, 2, 14))
    assert add_working_days(date(2026, 2, 13), 3) == date(2026, 2, 25)


def test_past_the_data_weekdays_count_except_fixed_date_holidays():
    first, last = calendar_years()
    assert last == 2026, "the package was upgraded: move these dates past its new last year"
    # 1 October 2027 (a Friday) is National Day; the weekend follows.
    assert not is_working_day(date(2027, 10, 1))
    assert add_working_days(date(2027, 9, 30), 3) == date(2027, 10, 6)
    # Across the end of the data: 31 December 2026 is known, 1 January 2027 is a fixed holiday.
    assert add_working_days(date(2026, 12, 30), 3) == date(2027, 1, 5)


def test_negative_counts_are_refused():
    with pytest.raises(ValueError):
        add_working_days(date(2026, 1, 5), -1)
