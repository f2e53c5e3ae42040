"""Reads for complaints: who answers for a complaint at each level, the board by level with each
complaint's running clock, the filtered list, one complaint with its handling log, the homeowner's
complaints about a project, and the reports. Each in a fixed number of queries; sums and averages are
computed by the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import (
    Avg,
    Case,
    CharField,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    Q,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from complaints.models import Complaint, ComplaintEscalation, ComplaintSettings
from leads.selectors import customer_match
from renocrm.accounts.staff import firm_admins
from renocrm.paging import keyset_page
from renocrm.tenancy.time import firm_day_start
from worksites.models import Worksite

ACTIVE = Complaint.ACTIVE_STATUSES
LEVELS = (1, 2, 3)
LEVEL_LABELS = {1: _("Level 1 · front line"), 2: _("Level 2 · department head"), 3: _("Level 3 · general manager")}
# A clock with less than this left is shown as due soon.
DUE_SOON = timedelta(hours=1)
BOARD_COLUMN_SIZE = 50


# Owners -----------------------------------------------------------------------------------------------------


def first_active_admin():
    """The firm's first active admin, who answers for level 3 when no general manager is set."""
    return firm_admins().first()


def front_line_owner(project):
    """Level 1 of a project's complaint: the worksite's customer service agent, else its project manager."""
    if project is None:
        return None
    worksite = Worksite.objects.filter(project=project).select_related("customer_service", "project_manager").first()
    if worksite is None:
        return None
    for user in (worksite.customer_service, worksite.project_manager):
        if user is not None and user.is_active:
            return user
    return None


def level_owner(level: int, *, settings: ComplaintSettings, project=None):
    """Who answers for a complaint at ``level``. Level 2 without a department head goes to the general
    manager, so an escalation never lands with nobody."""
    if level == 1:
        return front_line_owner(project)
    if level == 2 and settings.department_head is not None and settings.department_head.is_active:
        return settings.department_head
    if settings.general_manager is not None and settings.general_manager.is_active:
        return settings.general_manager
    return first_active_admin()


# The running clock -------------------------------------------------------------------------------------------


class SlaState:
    OVERDUE = "overdue"
    DUE_SOON = "due_soon"
    ON_TIME = "on_time"
    STOPPED = "stopped"  # resolved or closed: no clock runs


SLA_STATE_LABELS = {
    SlaState.OVERDUE: _("Overdue"),
    SlaState.DUE_SOON: _("Due within the hour"),
    SlaState.ON_TIME: _("On time"),
    SlaState.STOPPED: _("No clock running"),
}


@dataclass(frozen=True)
class Clock:
    """The clock running on a complaint now: to respond (until the first response at its level), then
    to resolve."""

    kind: str  # "respond" or "resolve"
    deadline: datetime
    seconds_left: int  # negative once overdue

    @property
    def state(self) -> str:
        if self.seconds_left <= 0:
            return SlaState.OVERDUE
        if self.seconds_left < DUE_SOON.total_seconds():
            return SlaState.DUE_SOON
        return SlaState.ON_TIME

    @property
    def label(self):
        return _("Respond") if self.kind == "respond" else _("Resolve")

    @property
    def hours(self) -> int:
        return abs(self.seconds_left) // 3600

    @property
    def minutes(self) -> int:
        return abs(self.seconds_left) % 3600 // 60


def complaint_clock(complaint: Complaint, *, now: datetime | None = None) -> Clock | None:
    if complaint.status not in ACTIVE:
        return None
    now = now or timezone.now()
    if complaint.responded_at is None:
        kind, deadline = "respond", complaint.respond_by
    else:
        kind, deadline = "resolve", complaint.resolve_by
    return Clock(kind=kind, deadline=deadline, seconds_left=int((deadline - now).total_seconds()))


def breach_of(complaint: Complaint, now: datetime) -> tuple[str, datetime] | None:
    """Which clock of the current level ran out at ``now`` (the response clock first), and its deadline."""
    if complaint.responded_at is None and complaint.respond_by <= now:
        return ComplaintEscalation.Breach.RESPOND, complaint.respond_by
    if complaint.resolve_by <= now:
        return ComplaintEscalation.Breach.RESOLVE, complaint.resolve_by
    return None


def _with_clocks(complaints, now: datetime) -> list[Complaint]:
    for complaint in complaints:
        complaint.clock = complaint_clock(complaint, now=now)
    return complaints


def _running_deadline():
    """The deadline of the clock running now, as an SQL expression."""
    return Case(When(responded_at__isnull=True, then=F("respond_by")), default=F("resolve_by"))


def overdue_q(now: datetime) -> Q:
    """Active complaints whose running clock is past its deadline."""
    return Q(status__in=ACTIVE) & (
        Q(responded_at__isnull=True, respond_by__lte=now) | Q(responded_at__isnull=False, resolve_by__lte=now)
    )


def _sla_state(now: datetime):
    return Case(
        When(~Q(status__in=ACTIVE), then=Value(SlaState.STOPPED)),
        When(overdue_q(now), then=Value(SlaState.OVERDUE)),
        When(
            Q(responded_at__isnull=True, respond_by__lt=now + DUE_SOON)
            | Q(responded_at__isnull=False, resolve_by__lt=now + DUE_SOON),
            then=Value(SlaState.DUE_SOON),
        ),
        default=Value(SlaState.ON_TIME),
        output_field=CharField(),
    )


# Board and list ---------------------------------------------------------------------------------------------


@dataclass
class BoardColumn:
    level: int
    label: str
    count: int
    overdue: int
    complaints: list


def complaint_board(*, owner=None, now: datetime | None = None) -> list[BoardColumn]:
    """The active complaints in three columns by level, the most urgent clock first (at most
    BOARD_COLUMN_SIZE cards a column; the counts are of all). Four queries whatever the size."""
    now = now or timezone.now()
    active = Complaint.objects.filter(status__in=ACTIVE)
    if owner is not None:
        active = active.filter(owner=owner)
    counts = {
        row["level"]: row
        for row in active.values("level").annotate(n=Count("id"), overdue=Count("id", filter=overdue_q(now))).order_by()
    }
    columns = []
    for level in LEVELS:
        cards = list(
            active.filter(level=level)
            .select_related("customer", "project", "owner")
            .annotate(running_deadline=_running_deadline())
            .order_by("running_deadline", "id")[:BOARD_COLUMN_SIZE]
        )
        row = counts.get(level, {})
        columns.append(
            BoardColumn(
                level=level,
                label=LEVEL_LABELS[level],
                count=row.get("n", 0),
                overdue=row.get("overdue", 0),
                complaints=_with_clocks(cards, now),
            )
        )
    return columns


def complaint_page(
    *,
    status: str = "",
    level: int | None = None,
    category: str = "",
    owner=None,
    overdue: bool = False,
    q: str = "",
    full_contacts: bool = False,
    before: int | None = None,
    now: datetime | None = None,
):
    """A keyset page of complaints, newest first, with their running clocks. ``status`` "active" means
    open or in progress."""
    now = now or timezone.now()
    complaints = Complaint.objects.select_related("customer", "project", "owner")
    if status == "active":
        complaints = complaints.filter(status__in=ACTIVE)
    elif status:
        complaints = complaints.filter(status=status)
    if level:
        complaints = complaints.filter(level=level)
    if category:
        complaints = complaints.filter(category=category)
    if owner is not None:
        complaints = complaints.filter(owner=owner)
    if overdue:
        complaints = complaints.filter(overdue_q(now))
    if q:
        complaints = complaints.filter(customer_match(q, "customer__", full_contacts=full_contacts))
    rows, older = keyset_page(complaints, before=before)
    return _with_clocks(rows, now), older


def complaint_detail(*, pk: int) -> Complaint:
    """One complaint with its handling log (``entries_list``) and breaches (``escalations_list``)."""
    complaint = (
        Complaint.objects.select_related("customer", "project", "owner", "responsible", "opened_by")
        .prefetch_related("escalations")
        .get(pk=pk)
    )
    complaint.entries_list = list(complaint.entries.select_related("by").order_by("at", "id"))
    complaint.escalations_list = sorted(complaint.escalations.all(), key=lambda e: (e.cycle, e.from_level))
    complaint.clock = complaint_clock(complaint)
    return complaint


def project_complaints(*, project) -> list[Complaint]:
    """The homeowner's complaints about one project, newest first (the portal)."""
    return list(Complaint.objects.filter(project=project).order_by("-opened_at", "-id"))


# Reports ---------------------------------------------------------------------------------------------------


def _period(start: date | None, end: date | None):
    """Complaints opened from ``start`` to ``end`` inclusive, days in the firm's time zone."""
    complaints = Complaint.objects.all()
    if start is not None:
        complaints = complaints.filter(opened_at__gte=firm_day_start(start))
    if end is not None:
        complaints = complaints.filter(opened_at__lt=firm_day_start(end + timedelta(days=1)))
    return complaints


def _counted(complaints, field: str) -> list[dict]:
    return list(
        complaints.values(field)
        .annotate(
            count=Count("id"),
            open=Count("id", filter=Q(status__in=ACTIVE)),
            escalated=Count("id", filter=Q(level__gt=1)),
        )
        .order_by("-count", field)
    )


def complaints_by_category(*, start: date | None = None, end: date | None = None) -> list[dict]:
    """[{category, count, open, escalated}] for complaints opened in the period, most first."""
    return _counted(_period(start, end), "category")


def complaints_by_trade(*, start: date | None = None, end: date | None = None) -> list[dict]:
    """[{trade, count, open, escalated}]; trade "" is complaints not put on a trade."""
    return _counted(_period(start, end), "trade")


def complaints_by_level_reached(*, start: date | None = None, end: date | None = None) -> dict[int, int]:
    """{level: count}: the highest level each complaint reached (levels only go up, so its level now)."""
    counts = dict(_period(start, end).values_list("level").annotate(n=Count("id")).order_by())
    return {level: counts.get(level, 0) for level in LEVELS}


def complaints_by_responsible(*, start: date | None = None, end: date | None = None) -> list[dict]:
    """[{responsible, responsible_name, count, open, escalated, highest_level}] by the staff member the
    complaint is about; responsible None is complaints naming nobody."""
    return list(
        _period(start, end)
        .values("responsible", "responsible__name", "responsible__username")
        .annotate(
            count=Count("id"),
            open=Count("id", filter=Q(status__in=ACTIVE)),
            escalated=Count("id", filter=Q(level__gt=1)),
            highest_level=Max("level"),
        )
        .order_by("-count", "responsible")
    )


def mean_time_to_resolve(*, start: date | None = None, end: date | None = None) -> timedelta | None:
    """The mean time from opening to the (latest) resolution of complaints opened in the period and
    resolved since; None when none is."""
    return complaint_resolution_stats(start=start, end=end)["mean"]


def open_complaints_sla(*, now: datetime | None = None, limit: int = 100) -> dict:
    """The open complaints by the state of their running clock: {"counts": {state: n}, "complaints":
    [...] the ``limit`` most urgent overdue and due-soon ones, each with ``sla_state``}."""
    now = now or timezone.now()
    active = Complaint.objects.filter(status__in=ACTIVE).annotate(sla_state=_sla_state(now))
    counts = dict(active.values_list("sla_state").annotate(n=Count("id")).order_by())
    urgent = list(
        active.filter(sla_state__in=[SlaState.OVERDUE, SlaState.DUE_SOON])
        .select_related("customer", "owner")
        .annotate(running_deadline=_running_deadline())
        .order_by("running_deadline", "id")[:limit]
    )
    states = (SlaState.OVERDUE, SlaState.DUE_SOON, SlaState.ON_TIME)
    return {"counts": {s: counts.get(s, 0) for s in states}, "complaints": _with_clocks(urgent, now)}


def complaint_report(*, start: date | None = None, end: date | None = None) -> dict:
    """Everything the complaints report shows, for complaints opened in the period."""
    return {
        "by_category": complaints_by_category(start=start, end=end),
        "by_level": complaints_by_level_reached(start=start, end=end),
        "by_responsible": complaints_by_responsible(start=start, end=end),
        "by_trade": complaints_by_trade(start=start, end=end),
        "mean_time_to_resolve": mean_time_to_resolve(start=start, end=end),
        "open": open_complaints_sla(),
    }


def complaint_resolution_stats(*, start: date | None = None, end: date | None = None) -> dict:
    """For complaints opened in the period, in one query: how many were opened, resolved since, are still
    open, and the mean and longest time from opening to resolution (None when none is resolved)."""
    spent = ExpressionWrapper(F("resolved_at") - F("opened_at"), output_field=DurationField())
    resolved = Q(resolved_at__isnull=False)
    return _period(start, end).aggregate(
        opened=Count("id"),
        resolved=Count("id", filter=resolved),
        open=Count("id", filter=Q(status__in=ACTIVE)),
        mean=Avg(spent, filter=resolved),
        longest=Max(spent, filter=resolved),
    )


# The agenda -------------------------------------------------------------------------------------------------


def complaint_deadlines_for_agenda(*, staff: list[int] | None, start: date, end: date):
    """Open complaints handled by ``staff`` (user ids; None: everyone's) with a clock running out on the
    firm-local days ``start`` to ``end`` (inclusive): the response not yet given by ``respond_by``, or the
    resolution by ``resolve_by``. With the customer and the project's property."""
    since, until = firm_day_start(start), firm_day_start(end + timedelta(days=1))
    complaints = Complaint.objects.filter(status__in=ACTIVE).filter(
        Q(responded_at__isnull=True, respond_by__gte=since, respond_by__lt=until)
        | Q(resolved_at__isnull=True, resolve_by__gte=since, resolve_by__lt=until)
    )
    if staff is not None:
        complaints = complaints.filter(owner__in=staff)
    return complaints.select_related("customer", "project__property", "owner").order_by("resolve_by", "id")
