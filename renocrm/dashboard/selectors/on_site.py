"""The cards of the staff on site: designers, project managers and QC inspectors — their worksites by
phase, late and due phases, rectification items and inspections awaiting sign-off."""

from __future__ import annotations

from datetime import date

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from renocrm.periods import Period
from worksites.models import Worksite
from worksites.selectors import dashboard as worksites

from ..charts import HBAR
from .cards import CHECKED, PRESSING, Card, ChartSpec, Row, count, url

SOON_DAYS = 7  # phases "due" within this many days


def _day(day: date) -> str:
    return date_format(day, "SHORT_DATE_FORMAT")


def worksites_by_phase_chart(*, mine, title: str, key: str) -> ChartSpec:
    rows = [row for row in worksites.worksites_by_phase(mine=mine) if row["count"]]
    data = [
        count(
            f"{key}-{row['kind']}",
            row["label"],
            row["count"],
            url("worksites:list", phase=row["kind"], mine=mine and CHECKED),
        )
        for row in rows
    ]
    return ChartSpec(HBAR, title, data)


def _phase_rows(phases) -> list[Row]:
    return [
        Row(
            label=f"{phase.worksite.project} · {phase.name}",
            href=url("worksites:detail", phase.worksite_id),
            meta=(_("late since %(day)s") if phase.is_late else _("ends %(day)s")) % {"day": _day(phase.planned_end)},
            tone="warn" if phase.is_late else "",
            record=phase,
        )
        for phase in phases
    ]


def _rectification_rows(items) -> list[Row]:
    return [
        Row(
            label=f"{item.handover.worksite.project} · {item}",
            href=url("worksites:handover", item.handover.worksite_id),
            meta=(_("overdue since %(day)s") if item.is_late else _("deadline %(day)s")) % {"day": _day(item.deadline)},
            tone="warn" if item.is_late else "",
            record=item,
        )
        for item in items
    ]


def _site_tasks_card(*, user, today: date, key: str, title: str) -> Card:
    """Phases of my worksites late or due soon, and the rectification items I own: counts and the most pressing."""
    phases = worksites.phase_counts(today=today, within_days=SOON_DAYS, mine=user)
    items = worksites.rectification_counts(today=today, owner=user)
    board = url("worksites:board", mine="1")
    return Card(
        key=key,
        title=title,
        stage="worksites",
        figures=[
            count("phases-late", _("Phases running late"), phases["late"], board, warn=True),
            count("phases-due", _("Phases due within %(days)s days") % {"days": SOON_DAYS}, phases["due"], board),
            count(
                "rectification-overdue",
                _("My rectification items overdue"),
                items["overdue"],
                url("worksites:rectification-items", overdue=CHECKED, mine=CHECKED),
                warn=True,
            ),
            count(
                "rectification-outstanding",
                _("My rectification items outstanding"),
                items["outstanding"],
                url("worksites:rectification-items", mine=CHECKED),
            ),
        ],
        rows=_phase_rows(worksites.phases_pressing(today=today, within_days=SOON_DAYS, mine=user, limit=PRESSING))
        + _rectification_rows(worksites.rectification_pressing(today=today, owner=user, limit=PRESSING)),
        rows_title=_("Most pressing"),
    )


def _my_worksites_card(*, user, title: str) -> Card:
    statuses = worksites.worksite_status_counts(mine=user)
    return Card(
        key="my-worksites",
        title=title,
        stage="worksites",
        figures=[
            count(
                "worksites-in-progress",
                _("In progress"),
                statuses[Worksite.Status.IN_PROGRESS],
                url("worksites:list", status=Worksite.Status.IN_PROGRESS, mine=CHECKED),
            ),
            count(
                "worksites-not-started",
                _("Not started"),
                statuses[Worksite.Status.NOT_STARTED],
                url("worksites:list", status=Worksite.Status.NOT_STARTED, mine=CHECKED),
            ),
        ],
        charts=[worksites_by_phase_chart(mine=user, title=_("By current phase"), key="phase")],
        more=(_("My worksites"), url("worksites:list", mine=CHECKED)),
    )


def designer(*, user, period: Period, today: date) -> list[Card]:
    return [
        _my_worksites_card(user=user, title=_("My projects on site")),
        _site_tasks_card(user=user, today=today, key="site-tasks", title=_("My site tasks")),
    ]


def project_manager(*, user, period: Period, today: date) -> list[Card]:
    phases = worksites.phase_counts(today=today, within_days=SOON_DAYS, mine=user)
    items = worksites.rectification_counts(today=today, owner=user)
    board = url("worksites:board", mine="1")
    overdue_items = url("worksites:rectification-items", overdue=CHECKED, mine=CHECKED)
    late = worksites.phases_pressing(today=today, late=True, mine=user, limit=PRESSING)
    return [
        _my_worksites_card(user=user, title=_("My worksites")),
        Card(
            key="late-phases",
            title=_("Late phases"),
            stage="worksites",
            figures=[
                count("phases-late", _("Planned end passed, not finished"), phases["late"], board, warn=True),
                count("phases-due", _("Due within %(days)s days") % {"days": SOON_DAYS}, phases["due"], board),
            ],
            rows=_phase_rows(late),
            more=(_("Worksite board"), board),
        ),
        Card(
            key="rectification",
            title=_("Rectification items"),
            stage="worksites",
            figures=[
                count("rectification-overdue", _("Overdue"), items["overdue"], overdue_items, warn=True),
                count(
                    "rectification-outstanding",
                    _("Outstanding"),
                    items["outstanding"],
                    url("worksites:rectification-items", mine=CHECKED),
                ),
            ],
            rows=_rectification_rows(worksites.rectification_pressing(today=today, owner=user, limit=PRESSING)),
            more=(_("My rectification items"), url("worksites:rectification-items", mine=CHECKED)),
        ),
    ]


def qc(*, user, period: Period, today: date) -> list[Card]:
    pending = worksites.inspections_pending(mine=user)
    items = worksites.rectification_counts(today=today)
    my_worksites = url("worksites:list", mine=CHECKED)
    return [
        Card(
            key="inspections",
            title=_("Inspections awaiting sign-off"),
            stage="worksites",
            figures=[
                count("inspections-pending", _("On my worksites"), sum(r["count"] for r in pending), my_worksites)
            ],
            # Inspections are listed on each worksite's site log; the figure leads to my worksites.
            charts=[
                ChartSpec(
                    HBAR,
                    _("By kind"),
                    [count(f"inspection-{r['kind']}", r["label"], r["count"], my_worksites) for r in pending],
                )
            ],
        ),
        Card(
            key="rectification",
            title=_("Rectification items"),
            stage="worksites",
            figures=[
                count(
                    "rectification-recheck",
                    _("Fixed, awaiting re-check"),
                    items["awaiting_recheck"],
                    url("worksites:rectification-items", status="fixed"),
                ),
                count(
                    "rectification-overdue",
                    _("Overdue"),
                    items["overdue"],
                    url("worksites:rectification-items", overdue=CHECKED),
                    warn=True,
                ),
            ],
            more=(_("Rectification items"), url("worksites:rectification-items")),
        ),
        _my_worksites_card(user=user, title=_("My worksites")),
    ]
