"""Reporting periods in the firm's calendar: this week (Monday to Sunday), this month, this half-year
(January–June or July–December) or a custom range. Ends are inclusive dates."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from renocrm.calendar import add_months

WEEK, MONTH, HALF, CUSTOM = "week", "month", "half", "custom"
KINDS = ((WEEK, _("This week")), (MONTH, _("This month")), (HALF, _("This half-year")), (CUSTOM, _("Custom")))
# A custom range longer than this is refused: reports aggregate per day and month, not per decade.
MAX_CUSTOM_DAYS = 3 * 366


@dataclass(frozen=True)
class Period:
    kind: str
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same kind just before this one (last week, last month, the other half)."""
        if self.kind == WEEK:
            return Period(WEEK, self.start - timedelta(days=7), self.end - timedelta(days=7))
        if self.kind in (MONTH, HALF):
            months = 1 if self.kind == MONTH else 6
            start = add_months(self.start, -months)
            return Period(self.kind, start, self.start - timedelta(days=1))
        return Period(CUSTOM, self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def as_query(self) -> dict[str, str]:
        """The query parameters that select this period again (for links to filtered lists and downloads)."""
        query = {"period": self.kind}
        if self.kind == CUSTOM:
            query.update(start=self.start.isoformat(), end=self.end.isoformat())
        return query


def period_of(kind: str, today: date) -> Period:
    """The period of ``kind`` that contains ``today``."""
    if kind == WEEK:
        start = today - timedelta(days=today.weekday())
        return Period(WEEK, start, start + timedelta(days=6))
    if kind == MONTH:
        return Period(MONTH, today.replace(day=1), today.replace(day=calendar.monthrange(today.year, today.month)[1]))
    if kind == HALF:
        first = 1 if today.month <= 6 else 7
        return Period(HALF, date(today.year, first, 1), add_months(date(today.year, first, 1), 6) - timedelta(days=1))
    raise ValueError(f"No period {kind!r} without dates.")


class PeriodForm(forms.Form):
    """The period picker: ``?period=week|month|half`` or ``?period=custom&start=…&end=…``."""

    period = forms.ChoiceField(label=_("Period"), choices=KINDS, required=False)
    start = forms.DateField(label=_("From"), required=False)
    end = forms.DateField(label=_("To"), required=False)

    def __init__(self, data, *, today: date, default: str = MONTH):
        super().__init__(data)
        self.today, self.default = today, default

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("period") or self.default
        cleaned["period"] = kind
        if kind != CUSTOM:
            return cleaned
        start, end = cleaned.get("start"), cleaned.get("end")
        if start is None and "start" not in self.errors:
            self.add_error("start", _("Give the first day."))
        if end is None and "end" not in self.errors:
            self.add_error("end", _("Give the last day."))
        if start and end:
            if end < start:
                self.add_error("end", _("The last day comes before the first."))
            elif (end - start).days + 1 > MAX_CUSTOM_DAYS:
                self.add_error("end", _("Choose at most three years."))
        return cleaned

    @property
    def chosen(self) -> Period:
        """The valid choice, or the default period when the input does not validate."""
        if self.is_valid():
            data = self.cleaned_data
            if data["period"] == CUSTOM:
                return Period(CUSTOM, data["start"], data["end"])
            return period_of(data["period"], self.today)
        return period_of(self.default, self.today)


def period_from_request(request, *, today: date, default: str = MONTH) -> tuple[Period, PeriodForm]:
    form = PeriodForm(request.GET or None, today=today, default=default)
    return form.chosen, form
