"""The firm admin's overview: the period's new leads, contracts, worksites, aftercare, satisfaction and
complaints, each leading to its stage's list."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from aftercare import selectors as aftercare
from callbacks import selectors as callbacks
from complaints import selectors as complaints
from contracts import selectors as contracts
from leads import selectors as leads
from renocrm.calendar import add_months
from renocrm.periods import Period
from worksites.models import Worksite
from worksites.selectors import dashboard as worksites

from ..charts import DONUT, HBAR, LINE, VBAR, day_label
from .cards import CHECKED, Card, ChartSpec, Figure, count, percent, url
from .finance import contracts_card, signed_between
from .on_site import worksites_by_phase_chart
from .queues import repairs_late_count

EXPIRING_DAYS = aftercare.EXPIRING_SOON_DAYS


def admin(*, user, period: Period, today: date) -> list[Card]:
    by_month = period.days > 62
    funnel = leads.lead_funnel(start=period.start, end=period.end)
    trend = leads.leads_created_trend(start=period.start, end=period.end, by_month=by_month)
    signed = contracts.contracts_signed(start=period.start, end=period.end)
    packages = contracts.contracts_signed_by_package(start=period.start, end=period.end)
    statuses = worksites.worksite_status_counts()
    handovers = worksites.handovers_completed(start=period.start, end=period.end)
    gates_lifted = worksites.gate_overrides_count(start=period.start, end=period.end)
    satisfaction = callbacks.satisfaction_distribution(period.start, period.end)
    score = callbacks.nps(period.start, period.end)
    levels = complaints.complaints_by_level_reached(start=period.start, end=period.end)
    expiring = aftercare.coverages_expiring_count(within_days=EXPIRING_DAYS, today=today)
    repairs_late = repairs_late_count()
    reports = url("dashboard:report", "callbacks", **period.as_query())
    created = sum(row["created"] for row in funnel)
    lead_list = url("leads:list")
    return [
        Card(
            key="leads",
            title=_("New leads"),
            stage="leads",
            in_period=True,
            figures=[count("leads-created", _("New leads"), created, lead_list)],
            charts=[
                ChartSpec(
                    LINE,
                    _("New leads over the period"),
                    [
                        Figure(
                            day_label(day, by_month=by_month),
                            trend.get(day, 0),
                            lead_list,
                            key=f"trend-{day.isoformat()}",
                        )
                        for day in _buckets(period, by_month=by_month)
                    ],
                ),
                ChartSpec(
                    HBAR,
                    _("By channel"),
                    [
                        count(
                            f"channel-{row['channel']}",
                            row["label"],
                            row["created"],
                            url("leads:list", channel=row["channel"]),
                        )
                        for row in funnel
                        if row["created"]
                    ],
                ),
            ],
        ),
        contracts_card(signed, packages, period, signed_between(period)),
        Card(
            key="worksites",
            title=_("Worksites"),
            stage="worksites",
            figures=[
                count(
                    "worksites-in-progress",
                    _("In progress"),
                    statuses[Worksite.Status.IN_PROGRESS],
                    url("worksites:list", status=Worksite.Status.IN_PROGRESS),
                ),
                count(
                    "worksites-not-started",
                    _("Not started"),
                    statuses[Worksite.Status.NOT_STARTED],
                    url("worksites:list", status=Worksite.Status.NOT_STARTED),
                ),
                # The worksite list has no date filter: the period's handovers lead to every handed-over worksite.
                count(
                    "handovers",
                    _("Handed over in the period"),
                    handovers,
                    url("worksites:list", status=Worksite.Status.HANDED_OVER),
                ),
                count(
                    "gates-lifted",
                    _("Gates lifted by an admin in the period"),
                    gates_lifted,
                    url("worksites:list", lifted=CHECKED),
                    warn=True,
                ),
            ],
            charts=[worksites_by_phase_chart(mine=None, title=_("By current phase"), key="phase")],
            more=(_("Worksite board"), url("worksites:board")),
        ),
        Card(
            key="aftercare",
            title=_("Aftercare"),
            stage="aftercare",
            figures=[
                count(
                    "coverages-expiring",
                    _("Coverages ending within %(days)s days") % {"days": EXPIRING_DAYS},
                    expiring,
                    url("aftercare:expiring", within=EXPIRING_DAYS),
                ),
                count(
                    "repairs-late",
                    _("Repairs past their SLA"),
                    repairs_late,
                    url("aftercare:list", overdue=CHECKED),
                    warn=True,
                ),
            ],
        ),
        Card(
            key="satisfaction",
            title=_("Satisfaction"),
            stage="callbacks",
            in_period=True,
            figures=[
                Figure(
                    _("Satisfied (4–5 of 5)"),
                    satisfaction["satisfied_share"] or 0,
                    reports,
                    percent(satisfaction["satisfied_share"]),
                    key="satisfaction-rate",
                ),
                Figure(
                    _("NPS"),
                    score["score"] or 0,
                    reports,
                    "—" if score["score"] is None else number_format(score["score"], 1),
                    key="nps",
                ),
                count("surveys", _("Surveys answered"), satisfaction["total"], reports),
            ],
            charts=[
                ChartSpec(
                    DONUT,
                    _("Overall satisfaction"),
                    [
                        count(f"satisfaction-{level['level']}", level["label"], level["count"], reports)
                        for level in satisfaction["levels"]
                    ],
                    total_text=str(satisfaction["total"]),
                ),
            ],
        ),
        Card(
            key="complaints",
            title=_("Complaints"),
            stage="complaints",
            in_period=True,
            figures=[
                count("complaints-opened", _("Opened in the period"), sum(levels.values()), url("complaints:list"))
            ],
            charts=[
                ChartSpec(
                    VBAR,
                    _("By level reached"),
                    [
                        count(
                            f"level-{level}",
                            str(complaints.LEVEL_LABELS[level]),
                            levels[level],
                            url("complaints:list", level=level),
                        )
                        for level in complaints.LEVELS
                    ],
                ),
            ],
            more=(_("Complaints report"), url("complaints:report")),
        ),
    ]


def _buckets(period: Period, *, by_month: bool) -> list[date]:
    """The days (or first days of months) of the period, in order: the trend's x axis."""
    if by_month:
        months, day = [], period.start.replace(day=1)
        while day <= period.end:
            months.append(day)
            day = add_months(day, 1)
        return months
    return [period.start + timedelta(days=n) for n in range(period.days)]
