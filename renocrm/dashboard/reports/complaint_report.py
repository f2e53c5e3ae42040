"""The complaint concentration report: complaints opened in the period by category, trade, responsible staff
and level reached, and the time to resolve them."""

from __future__ import annotations

from datetime import timedelta

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from complaints import selectors as complaint_selectors
from complaints.models import Complaint
from contracts.models import TradeCategory
from renocrm.periods import Period

from ..exports import INTEGER, NUMBER, Column, Table
from .tables import Viewer


def _hours(duration: timedelta | None) -> float | None:
    return round(duration.total_seconds() / 3600, 1) if duration is not None else None


def _counted_table(title, label_column, rows, label) -> Table:
    return Table(
        title,
        [
            Column(label_column),
            Column(gettext_lazy("Complaints"), INTEGER),
            Column(gettext_lazy("Open"), INTEGER),
            Column(gettext_lazy("Escalated"), INTEGER),
        ],
        [[label(row), row["count"], row["open"], row["escalated"]] for row in rows],
        total=[_("Total"), *(sum(row[k] for row in rows) for k in ("count", "open", "escalated"))],
        empty=_("No complaints in this period."),
    )


def complaint_tables(period: Period, viewer: Viewer) -> list[Table]:
    start, end = period.start, period.end
    resolution = complaint_selectors.complaint_resolution_stats(start=start, end=end)
    categories = dict(Complaint.Category.choices)
    trades = dict(TradeCategory.choices)
    by_category = complaint_selectors.complaints_by_category(start=start, end=end)
    by_trade = complaint_selectors.complaints_by_trade(start=start, end=end)
    by_staff = complaint_selectors.complaints_by_responsible(start=start, end=end)
    by_level = complaint_selectors.complaints_by_level_reached(start=start, end=end)
    summary = Table(
        _("Summary"),
        [Column(gettext_lazy("Figure")), Column(gettext_lazy("Value"), NUMBER)],
        [
            [_("Opened"), resolution["opened"]],
            [_("Resolved"), resolution["resolved"]],
            [_("Still open"), resolution["open"]],
            [_("Mean time to resolve (hours)"), _hours(resolution["mean"])],
            [_("Longest time to resolve (hours)"), _hours(resolution["longest"])],
        ],
    )
    staff = Table(
        _("By responsible staff"),
        [
            Column(gettext_lazy("Responsible staff")),
            Column(gettext_lazy("Complaints"), INTEGER),
            Column(gettext_lazy("Open"), INTEGER),
            Column(gettext_lazy("Escalated"), INTEGER),
            Column(gettext_lazy("Highest level"), INTEGER),
        ],
        [
            [
                row["responsible__name"] or row["responsible__username"] or _("Nobody named"),
                row["count"],
                row["open"],
                row["escalated"],
                row["highest_level"],
            ]
            for row in by_staff
        ],
        total=[_("Total"), *(sum(row[k] for row in by_staff) for k in ("count", "open", "escalated")), None],
        empty=_("No complaints in this period."),
    )
    levels = Table(
        _("Highest level reached"),
        [Column(gettext_lazy("Level")), Column(gettext_lazy("Complaints"), INTEGER)],
        [[complaint_selectors.LEVEL_LABELS[level], count] for level, count in by_level.items()],
        total=[_("Total"), sum(by_level.values())],
    )
    return [
        summary,
        _counted_table(
            _("By category"), gettext_lazy("Category"), by_category, lambda r: categories.get(r["category"], "")
        ),
        _counted_table(
            _("By trade"),
            gettext_lazy("Trade"),
            by_trade,
            lambda r: trades.get(r["trade"], r["trade"]) if r["trade"] else _("No trade named"),
        ),
        staff,
        levels,
    ]
