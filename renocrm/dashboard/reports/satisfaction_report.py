"""The staff satisfaction ranking: designers, project managers, QC inspectors and agents by satisfied
customers in the period, and month by month."""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from callbacks import selectors as callback_selectors
from callbacks.models import SurveyStaff
from renocrm.calendar import add_months
from renocrm.periods import Period

from ..exports import INTEGER, NUMBER, PERCENT, Column, Table
from .tables import Viewer, share, table

TREND_MONTHS = 6
STAFF_COLUMNS = {
    "name": Column(gettext_lazy("Staff member")),
    "answers": Column(gettext_lazy("Answers"), INTEGER),
    "satisfied": Column(gettext_lazy("Satisfied"), INTEGER),
    "satisfied_share": Column(gettext_lazy("Satisfied (%)"), PERCENT),
    "average_rating": Column(gettext_lazy("Average rating"), NUMBER),
    "nps": Column(gettext_lazy("Net promoter score"), NUMBER),
    "nps_answers": Column(gettext_lazy("NPS answers"), INTEGER),
}


def _trend_months(period: Period) -> tuple[date, date]:
    """At least the six months up to the period's end, and every month of a longer period."""
    last = period.end.replace(day=1)
    first = min(period.start.replace(day=1), add_months(last, -(TREND_MONTHS - 1)))
    return first, last


def staff_tables(period: Period, viewer: Viewer) -> list[Table]:
    first, last = _trend_months(period)
    tables = []
    for role, label in SurveyStaff.choices:
        rows = callback_selectors.satisfaction_by_staff(role, period.start, period.end)
        answers, satisfied = sum(r["answers"] for r in rows), sum(r["satisfied"] for r in rows)
        tables.append(
            table(
                label,
                STAFF_COLUMNS,
                rows,
                total=[_("Total"), answers, satisfied, share(satisfied, answers), None, None, None],
                empty=_("No survey answers in this period."),
            )
        )
        trend = callback_selectors.satisfaction_monthly(role, first=first, last=last)
        columns = [Column(gettext_lazy("Staff member"))]
        for month in trend["months"]:
            columns.append(Column(f"{month:%Y-%m} %", PERCENT))
            columns.append(Column(f"{month:%Y-%m} " + _("answers"), INTEGER))
        tables.append(
            Table(
                _("%(role)s: trend by month") % {"role": label},
                columns,
                [
                    [row["name"], *(v for p in row["points"] for v in (p["satisfied_share"], p["answers"]))]
                    for row in trend["rows"]
                ],
                empty=_("No survey answers in these months."),
            )
        )
    return tables
