"""My agenda: what a staff member has on each day — follow-ups due, measurement appointments, inspections,
site patrols, callbacks, repair visits and complaint deadlines — gathered from each lifecycle app's selectors
and shown in the firm's time zone, each item linking to its page.

One query per kind of item whatever the number of rows (and none for a kind the reader may not open), so the
agenda page, its API and the calendar feed cost a fixed number of queries (``tests/dashboard/test_agenda.py``).

Whose agenda: one's own; a firm admin (the general manager) may pick any member or everyone; a department
head named in the callback settings may pick a member of their department or the whole department.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import MAXYEAR, MINYEAR, date, datetime, timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftercare import selectors as aftercare
from callbacks import selectors as callbacks
from complaints import selectors as complaints
from contracts import selectors as contracts
from leads import selectors as leads
from renocrm.accounts.roles import Role
from renocrm.accounts.staff import active_members
from renocrm.privacy.masking import CONTACTS_PERMISSION, mask_address
from renocrm.tenancy.context import require_current_tenant
from renocrm.tenancy.time import firm_days
from worksites.selectors import inspections as worksites

FOLLOW_UP = "follow_up"
MEASUREMENT = "measurement"
INSPECTION = "inspection"
PATROL = "patrol"
CALLBACK = "callback"
REPAIR_DUE = "repair_due"
REPAIR_VISIT = "repair_visit"
COMPLAINT_RESPONSE = "complaint_response"
COMPLAINT_RESOLUTION = "complaint_resolution"

KINDS = {
    FOLLOW_UP: gettext_lazy("Follow-up"),
    MEASUREMENT: gettext_lazy("Measurement"),
    INSPECTION: gettext_lazy("Inspection"),
    PATROL: gettext_lazy("Site patrol"),
    CALLBACK: gettext_lazy("Callback"),
    REPAIR_DUE: gettext_lazy("Repair: on site by"),
    REPAIR_VISIT: gettext_lazy("Repair visit"),
    COMPLAINT_RESPONSE: gettext_lazy("Complaint: respond by"),
    COMPLAINT_RESOLUTION: gettext_lazy("Complaint: resolve by"),
}

# The page each kind links to needs this permission; a reader without it is not shown the kind (nor asked
# the query).
KIND_PERMISSIONS = {
    FOLLOW_UP: "leads.view",
    MEASUREMENT: "leads.view",
    INSPECTION: "worksites.view",
    PATROL: "worksites.view",
    CALLBACK: "callbacks.view",
    REPAIR_DUE: "aftercare.view",
    REPAIR_VISIT: "aftercare.view",
    COMPLAINT_RESPONSE: "complaints.view",
    COMPLAINT_RESOLUTION: "complaints.view",
}

# Deadlines are points in time: a short event in a calendar.
DEADLINES = frozenset({REPAIR_DUE, COMPLAINT_RESPONSE, COMPLAINT_RESOLUTION})
DAY, WEEK = "day", "week"
ME, TEAM = "me", "team"
# The longest range one request may ask for (the API's; the feed's window is fixed).
MAX_DAYS = 31
# The days an agenda may be asked for: a year clear of the calendar's ends, so a week around any of them, the
# weeks before and after and the day after the last are all still dates.
FIRST_DAY, LAST_DAY = date(MINYEAR + 1, 1, 1), date(MAXYEAR - 1, 12, 31)


@dataclass(frozen=True)
class Item:
    kind: str
    pk: int
    day: date  # firm-local
    at: datetime | None  # firm-local; None: for the whole day
    title: str
    place: str
    path: str
    people: tuple[str, ...] = ()

    @property
    def kind_label(self) -> str:
        return str(KINDS[self.kind])

    @property
    def all_day(self) -> bool:
        return self.at is None

    @property
    def uid(self) -> str:
        """Stable while the record lives: a calendar updates the event rather than adding another."""
        return f"{self.kind}-{self.pk}"

    @property
    def minutes(self) -> int:
        return 15 if self.kind in DEADLINES else 60


@dataclass(frozen=True)
class Scope:
    """Whose agenda: ``staff`` are user ids, None for everyone in the firm."""

    choice: str  # ME, TEAM or a member's id
    staff: list[int] | None
    label: str


@dataclass
class Team:
    """Whom a reader may look at besides themselves."""

    everyone: bool = False
    members: list = field(default_factory=list)  # users, by name

    @property
    def may_pick(self) -> bool:
        return self.everyone or bool(self.members)


class UnknownMember(ValueError):
    """A ``who`` that is not the reader, their team, nor one of its members (another firm's user included)."""


def team_of(membership) -> Team:
    """A firm admin may look at everyone; a department head at their department (one query each)."""
    if membership.has_role(Role.ADMIN):
        return Team(everyone=True, members=list(active_members()))
    roles = callbacks.roles_headed(user=membership.user)
    if not roles:
        return Team()
    return Team(members=list(active_members(roles=roles)))


def resolve_scope(membership, who: str, *, team: Team | None = None) -> Scope:
    """The scope ``who`` asks for ("", "me", "team" or a member's id), checked against the reader's team
    (``team_of``, read here when not given and needed)."""
    user = membership.user
    who = (who or ME).strip()
    if who in (ME, str(user.pk)):
        return Scope(ME, [user.pk], str(user))
    team = team if team is not None else team_of(membership)
    if who == TEAM and team.may_pick:
        if team.everyone:
            return Scope(TEAM, None, _("Everyone"))
        return Scope(TEAM, sorted({user.pk, *(member.pk for member in team.members)}), _("My team"))
    member = next((member for member in team.members if str(member.pk) == who), None)
    if member is None:
        raise UnknownMember(who)
    return Scope(str(member.pk), [member.pk], str(member))


def week_of(day: date) -> tuple[date, date]:
    start = day - timedelta(days=day.weekday())
    return start, start + timedelta(days=6)


def _local(moment: datetime, zone) -> datetime:
    return timezone.localtime(moment, zone)


def _address(prop, contacts: bool) -> str:
    if prop is None:
        return ""
    return prop.address if contacts else mask_address(prop.address)


def _name(user) -> tuple[str, ...]:
    return (str(user),) if user is not None else ()


def gather(*, membership, staff: list[int] | None, start: date, end: date) -> list[Item]:
    """The items of ``staff`` (user ids; None: everyone) on the firm-local days ``start`` to ``end``
    (inclusive), in order: by day, the whole-day items first, then by time. Only the kinds ``membership``
    may open; addresses masked unless it may see contact details."""
    zone = require_current_tenant().zone
    contacts = membership.has_perm(CONTACTS_PERMISSION)
    may = {kind for kind, permission in KIND_PERMISSIONS.items() if membership.has_perm(permission)}
    items: list[Item] = []
    span = {"staff": staff, "start": start, "end": end}

    if FOLLOW_UP in may:
        for lead in leads.follow_ups_for_agenda(**span):
            items.append(
                Item(
                    FOLLOW_UP,
                    lead.pk,
                    lead.next_follow_up_on,
                    None,
                    _("Follow up: %(customer)s") % {"customer": lead.customer.name},
                    _address(lead.property, contacts),
                    reverse("leads:detail", args=[lead.pk]),
                    _name(lead.assigned_to),
                )
            )
    if MEASUREMENT in may:
        for appointment in contracts.measurements_for_agenda(**span):
            at = _local(appointment.scheduled_at, zone)
            lead = appointment.lead
            items.append(
                Item(
                    MEASUREMENT,
                    appointment.pk,
                    at.date(),
                    at,
                    _("Measurement: %(customer)s") % {"customer": lead.customer.name},
                    _address(lead.property, contacts),
                    reverse("leads:detail", args=[lead.pk]),
                    _name(appointment.designer),
                )
            )
    if INSPECTION in may:
        for inspection in worksites.inspections_for_agenda(**span):
            project = inspection.worksite.project
            at = (
                datetime.combine(inspection.scheduled_on, inspection.scheduled_time, tzinfo=zone)
                if inspection.scheduled_time
                else None
            )
            items.append(
                Item(
                    INSPECTION,
                    inspection.pk,
                    inspection.scheduled_on,
                    at,
                    _("%(kind)s: %(project)s") % {"kind": inspection.get_kind_display(), "project": project.name},
                    _address(project.property, contacts),
                    reverse("worksites:site", args=[inspection.worksite_id]),
                    tuple(str(user) for user in worksites.inspection_staff(inspection)),
                )
            )
    if PATROL in may:
        for patrol in worksites.patrols_for_agenda(**span):
            project = patrol.worksite.project
            items.append(
                Item(
                    PATROL,
                    patrol.pk,
                    patrol.patrolled_on,
                    None,
                    _("Site patrol: %(project)s") % {"project": project.name},
                    _address(project.property, contacts),
                    reverse("worksites:site", args=[patrol.worksite_id]),
                    _name(patrol.patrolled_by),
                )
            )
    if CALLBACK in may:
        for callback in callbacks.callbacks_for_agenda(**span):
            moment = callback.appointment_at or (
                callback.next_attempt_at if callback.status == callback.Status.RETRY else None
            )
            at = _local(moment, zone) if moment else None
            items.append(
                Item(
                    CALLBACK,
                    callback.pk,
                    at.date() if at else callback.due_on,
                    at,
                    _("Callback: %(customer)s · %(name)s")
                    % {"customer": callback.customer.name, "name": callback.name},
                    _address(callback.project.property, contacts),
                    reverse("callbacks:detail", args=[callback.pk]),
                    _name(callback.assigned_to),
                )
            )
    if REPAIR_DUE in may:
        for repair in aftercare.repairs_on_site_due_for_agenda(**span):
            at = _local(repair.on_site_by, zone)
            items.append(
                Item(
                    REPAIR_DUE,
                    repair.pk,
                    at.date(),
                    at,
                    _("On site for repair #%(id)s: %(customer)s")
                    % {"id": repair.pk, "customer": repair.project.customer.name},
                    _address(repair.project.property, contacts),
                    reverse("aftercare:repair", args=[repair.pk]),
                    _name(repair.assigned_to),
                )
            )
        for visit in aftercare.repair_visits_for_agenda(**span):
            at = _local(visit.at, zone)
            project = visit.repair.project
            items.append(
                Item(
                    REPAIR_VISIT,
                    visit.pk,
                    at.date(),
                    at,
                    _("Repair visit #%(id)s: %(customer)s")
                    % {"id": visit.repair_id, "customer": project.customer.name},
                    _address(project.property, contacts),
                    reverse("aftercare:repair", args=[visit.repair_id]),
                    _name(visit.by),
                )
            )
    if COMPLAINT_RESPONSE in may:
        since, until = firm_days(start, end)
        for complaint in complaints.complaint_deadlines_for_agenda(**span):
            values = {"id": complaint.pk, "customer": complaint.customer.name}
            place = _address(complaint.project.property if complaint.project_id else None, contacts)
            path = reverse("complaints:detail", args=[complaint.pk])
            clocks = (
                (
                    COMPLAINT_RESPONSE,
                    complaint.responded_at,
                    complaint.respond_by,
                    _("Respond to complaint #%(id)s: %(customer)s"),
                ),
                (
                    COMPLAINT_RESOLUTION,
                    complaint.resolved_at,
                    complaint.resolve_by,
                    _("Resolve complaint #%(id)s: %(customer)s"),
                ),
            )
            for kind, done, deadline, title in clocks:
                if done is None and since <= deadline < until:
                    at = _local(deadline, zone)
                    items.append(
                        Item(kind, complaint.pk, at.date(), at, title % values, place, path, _name(complaint.owner))
                    )

    items.sort(
        key=lambda item: (
            item.day,
            item.at is not None,
            item.at or datetime.min.replace(tzinfo=zone),
            item.kind,
            item.pk,
        )
    )
    return items


def by_day(items: list[Item], start: date, end: date) -> list[tuple[date, list[Item]]]:
    """Every day from ``start`` to ``end`` with its items (a day with none too: the week shows it empty)."""
    days: dict[date, list[Item]] = {start + timedelta(days=n): [] for n in range((end - start).days + 1)}
    for item in items:
        if item.day in days:
            days[item.day].append(item)
    return list(days.items())
