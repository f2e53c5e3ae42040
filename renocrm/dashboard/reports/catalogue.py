"""The Reports area: each report turns one period into a list of tables (``exports.Table``) from the
lifecycle apps' selectors, so the page, the CSV and the XLSX show the same figures. Aggregation happens in
the selectors (in the database); here figures are only arranged into rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy

from renocrm.periods import HALF, MONTH, WEEK, Period

from ..exports import Table
from .callback_report import callback_tables
from .complaint_report import complaint_tables
from .lead_report import lead_tables
from .satisfaction_report import staff_tables
from .tables import Viewer


@dataclass(frozen=True)
class Report:
    key: str
    title: str
    description: str
    ascii_name: str  # the file name for clients that cannot take a non-ASCII one
    build: Callable[[Period, Viewer], list[Table]]
    default_period: str = MONTH


REPORTS = (
    Report(
        "callbacks",
        gettext_lazy("Callback report"),
        gettext_lazy("Planned, done, unreachable and overdue callbacks, satisfaction, NPS, defects and suggestions."),
        "callback-report",
        callback_tables,
    ),
    Report(
        "satisfaction",
        gettext_lazy("Staff satisfaction ranking"),
        gettext_lazy("Designers, project managers, QC inspectors and agents by satisfied customers, month by month."),
        "staff-satisfaction",
        staff_tables,
    ),
    Report(
        "complaints",
        gettext_lazy("Complaint concentration"),
        gettext_lazy("Complaints by category, trade, staff and level reached, and the time to resolve them."),
        "complaint-concentration",
        complaint_tables,
    ),
    Report(
        "leads",
        gettext_lazy("Lead funnel and referrals"),
        gettext_lazy("Conversion by channel and what referrals by existing customers bring."),
        "lead-funnel",
        lead_tables,
    ),
)
BY_KEY = {report.key: report for report in REPORTS}


def period_slug(period: Period) -> str:
    """The period in a file name: 2026-11, 2026-W47, 2026-H2, or 2026-01-05_2026-02-10."""
    if period.kind == MONTH:
        return f"{period.start:%Y-%m}"
    if period.kind == WEEK:
        year, week, _weekday = period.start.isocalendar()
        return f"{year}-W{week:02d}"
    if period.kind == HALF:
        return f"{period.start.year}-H{1 if period.start.month <= 6 else 2}"
    return f"{period.start.isoformat()}_{period.end.isoformat()}"
