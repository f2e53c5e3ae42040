"""Reads for inspections, material arrivals, site patrols and site problems: the worksite's site log and
what is waiting for the homeowner."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Prefetch, Q

from worksites.models import Inspection, MaterialArrival, Signoff, SignoffRole, SitePatrol, SiteProblem, Worksite


@dataclass(frozen=True)
class SignoffRow:
    """One party that must sign, and their signature once given."""

    role: str
    label: str
    signoff: Signoff | None


def signoff_rows(required, signoffs) -> list[SignoffRow]:
    """A row per party in ``required``, in that order, with their signature from ``signoffs`` if given."""
    by_role = {signoff.role: signoff for signoff in signoffs}
    return [SignoffRow(role, SignoffRole(role).label, by_role.get(role)) for role in required]


def _signoffs():
    return Prefetch("signoffs", queryset=Signoff.objects.order_by("signed_at", "id"))


def site_log(*, worksite: Worksite) -> dict:
    """Everything the worksite's inspections & site page shows, in a fixed number of queries: inspections
    and material arrivals with a row per party that must sign, patrols newest first, problems with their
    proposed solutions."""
    inspections = list(
        Inspection.objects.filter(worksite=worksite)
        .select_related("phase", "decided_by")
        .prefetch_related(_signoffs(), "media")
        .order_by("-id")
    )
    for inspection in inspections:
        inspection.is_open = inspection.result == Inspection.Result.PENDING
        inspection.signoff_rows = signoff_rows(inspection.required_roles, inspection.signoffs.all())
    arrivals = list(
        MaterialArrival.objects.filter(worksite=worksite).prefetch_related(_signoffs()).order_by("-arrived_on", "-id")
    )
    for arrival in arrivals:
        arrival.is_open = arrival.status == MaterialArrival.Status.AWAITING
        arrival.signoff_rows = signoff_rows(MaterialArrival.REQUIRED_SIGNOFFS, arrival.signoffs.all())
    patrols = list(
        SitePatrol.objects.filter(worksite=worksite).select_related("patrolled_by").order_by("-patrolled_on", "-id")
    )
    problems = list(
        SiteProblem.objects.filter(worksite=worksite)
        .select_related("phase", "raised_by")
        .prefetch_related("solutions", "media")
        .order_by("-id")
    )
    return {"inspections": inspections, "material_arrivals": arrivals, "patrols": patrols, "problems": problems}


def open_items_for_homeowner(*, worksite: Worksite) -> dict:
    """What the homeowner still has to do in the portal: pending inspections their signature is needed on
    and not yet given, deliveries awaiting their acceptance, problems awaiting their choice."""
    kinds = [kind for kind, roles in Inspection.REQUIRED_SIGNOFFS.items() if SignoffRole.HOMEOWNER in roles]
    inspections = (
        Inspection.objects.filter(worksite=worksite, result=Inspection.Result.PENDING, kind__in=kinds)
        .exclude(signoffs__role=SignoffRole.HOMEOWNER)
        .prefetch_related("media")
        .order_by("scheduled_on", "id")
    )
    arrivals = (
        MaterialArrival.objects.filter(worksite=worksite, status=MaterialArrival.Status.AWAITING)
        .exclude(signoffs__role=SignoffRole.HOMEOWNER)
        .order_by("arrived_on", "id")
    )
    problems = (
        SiteProblem.objects.filter(worksite=worksite, status=SiteProblem.Status.AWAITING_CHOICE)
        .prefetch_related("solutions", "media")
        .order_by("raised_at", "id")
    )
    return {"inspections": inspections, "material_arrivals": arrivals, "problems": problems}


# The agenda -------------------------------------------------------------------------------------------------

# The inspections the worksite's designer takes part in: those the designer signs. The QC inspector and the
# project manager (the site manager) sign every kind.
DESIGNER_KINDS = tuple(kind for kind, roles in Inspection.REQUIRED_SIGNOFFS.items() if SignoffRole.DESIGNER in roles)


def inspection_staff(inspection: Inspection) -> list:
    """The worksite's crew who take part in ``inspection``, each once: QC inspector, project manager, and the
    designer when the designer signs it (the worksite and its crew already loaded)."""
    worksite = inspection.worksite
    crew = [worksite.qc_inspector, worksite.project_manager]
    if inspection.kind in DESIGNER_KINDS:
        crew.append(worksite.designer)
    found = {}
    for user in crew:
        if user is not None:
            found.setdefault(user.pk, user)
    return list(found.values())


def _involving(staff: list[int]) -> Q:
    return (
        Q(worksite__qc_inspector__in=staff)
        | Q(worksite__project_manager__in=staff)
        | Q(worksite__designer__in=staff, kind__in=DESIGNER_KINDS)
    )


def inspections_for_agenda(*, staff: list[int] | None, start: date, end: date):
    """Inspections dated on the firm-local days ``start`` to ``end`` (inclusive) that the staff ``staff``
    (user ids; None: everyone's) take part in (``inspection_staff``), with the project, property and crew."""
    inspections = Inspection.objects.filter(scheduled_on__gte=start, scheduled_on__lte=end)
    if staff is not None:
        inspections = inspections.filter(_involving(staff))
    return inspections.select_related(
        "worksite__project__property", "worksite__qc_inspector", "worksite__project_manager", "worksite__designer"
    ).order_by("scheduled_on", "scheduled_time", "id")


def patrols_for_agenda(*, staff: list[int] | None, start: date, end: date):
    """Site patrols walked on the firm-local days ``start`` to ``end`` (inclusive) by ``staff`` (user ids;
    None: everyone's), with the project and property."""
    patrols = SitePatrol.objects.filter(patrolled_on__gte=start, patrolled_on__lte=end)
    if staff is not None:
        patrols = patrols.filter(patrolled_by__in=staff)
    return patrols.select_related("worksite__project__property", "patrolled_by").order_by("patrolled_on", "id")
