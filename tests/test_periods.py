"""The reporting periods: calendar weeks from Monday, whole months, calendar half-years, and custom ranges
checked at the edge with errors a user can act on."""

from datetime import date

import pytest
from django.utils import translation

from renocrm.periods import CUSTOM, HALF, MONTH, WEEK, Period, PeriodForm, period_of


@pytest.mark.parametrize(
    ("kind", "today", "start", "end"),
    [
        (WEEK, date(2026, 11, 25), date(2026, 11, 23), date(2026, 11, 29)),  # a Wednesday
        (WEEK, date(2026, 11, 23), date(2026, 11, 23), date(2026, 11, 29)),  # Monday starts its own week
        (WEEK, date(2026, 12, 31), date(2026, 12, 28), date(2027, 1, 3)),  # across the new year
        (MONTH, date(2028, 2, 10), date(2028, 2, 1), date(2028, 2, 29)),  # leap February
        (MONTH, date(2026, 2, 28), date(2026, 2, 1), date(2026, 2, 28)),
        (HALF, date(2026, 6, 30), date(2026, 1, 1), date(2026, 6, 30)),
        (HALF, date(2026, 7, 1), date(2026, 7, 1), date(2026, 12, 31)),
    ],
)
def test_the_period_containing_today(kind, today, start, end):
    assert period_of(kind, today) == Period(kind, start, end)


def test_the_previous_period_is_the_one_just_before():
    assert period_of(WEEK, date(2026, 11, 25)).previous() == Period(WEEK, date(2026, 11, 16), date(2026, 11, 22))
    assert period_of(MONTH, date(2026, 3, 31)).previous() == Period(MONTH, date(2026, 2, 1), date(2026, 2, 28))
    assert period_of(HALF, date(2026, 3, 1)).previous() == Period(HALF, date(2025, 7, 1), date(2025, 12, 31))
    custom = Period(CUSTOM, date(2026, 1, 11), date(2026, 1, 20))
    assert custom.previous() == Period(CUSTOM, date(2026, 1, 1), date(2026, 1, 10))


def test_no_choice_means_the_default_period():
    today = date(2026, 11, 25)
    assert PeriodForm(None, today=today).chosen == period_of(MONTH, today)
    assert PeriodForm({"agent": "all"}, today=today, default=WEEK).chosen == period_of(WEEK, today)


def test_a_custom_range_and_its_query():
    form = PeriodForm({"period": "custom", "start": "2026-01-05", "end": "2026-02-10"}, today=date(2026, 11, 25))
    assert form.chosen == Period(CUSTOM, date(2026, 1, 5), date(2026, 2, 10))
    assert form.chosen.days == 37
    assert form.chosen.as_query() == {"period": "custom", "start": "2026-01-05", "end": "2026-02-10"}
    assert period_of(WEEK, date(2026, 11, 25)).as_query() == {"period": "week"}


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"period": "custom"}, {"start": ["Give the first day."], "end": ["Give the last day."]}),
        (
            {"period": "custom", "start": "2026-03-01", "end": "2026-02-01"},
            {"end": ["The last day comes before the first."]},
        ),
        ({"period": "custom", "start": "2020-01-01", "end": "2026-01-01"}, {"end": ["Choose at most three years."]}),
        ({"period": "custom", "start": "2026-02-30", "end": "2026-03-01"}, {"start": ["Enter a valid date."]}),
        ({"period": "decade"}, {"period": ["Select a valid choice. decade is not one of the available choices."]}),
    ],
)
def test_bad_input_gets_field_errors_and_the_default_period(data, errors):
    today = date(2026, 11, 25)
    with translation.override("en"):
        form = PeriodForm(data, today=today)
        assert form.errors == errors
    assert form.chosen == period_of(MONTH, today)
