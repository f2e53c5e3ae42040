"""Reads for inspections, material arrivals, site patrols and site problems: the worksite's site log and
what is waiting for the homeowner."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch

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
