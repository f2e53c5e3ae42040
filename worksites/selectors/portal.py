"""Reads for the homeowner portal (its home page, the weekly digest) and for the staff page of links."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from renocrm.paging import keyset_page
from renocrm.tenancy.context import require_current_tenant
from worksites.models import Inspection, Phase, PortalAction, PortalLink, ProgressMedia, ProgressUpdate, Worksite
from worksites.selectors import inspections as inspection_selectors
from worksites.selectors.schedule import worksite_timeline

LATEST_PHOTOS = 6
UPCOMING_PHASES = 3


def _awaiting_acceptance(phases: list[Phase]) -> list[Phase]:
    """Finished phases the homeowner still has to sign off (stage acceptance)."""
    return [p for p in phases if p.status == Phase.Status.DONE and p.requires_acceptance]


def portal_home(*, worksite: Worksite, today=None) -> dict:
    """Everything the portal's home page shows, in a fixed number of queries whatever the worksite's size."""
    worksite = Worksite.objects.select_related(
        "tenant", "project__customer", "designer", "project_manager", "qc_inspector"
    ).get(pk=worksite.pk)
    today = today or timezone.localtime(timezone.now(), require_current_tenant().zone).date()
    phases = list(worksite.phases.all())
    awaiting = _awaiting_acceptance(phases)
    # Inspections, material arrivals and site problems (with their solutions) waiting for the homeowner.
    open_items = {
        key: list(rows) for key, rows in inspection_selectors.open_items_for_homeowner(worksite=worksite).items()
    }
    photos = list(
        ProgressMedia.objects.filter(
            update__worksite=worksite, update__visible_to_homeowner=True, kind=ProgressMedia.Kind.IMAGE
        )
        .select_related("update")
        .order_by("-update__posted_at", "-update_id", "position", "id")[:LATEST_PHOTOS]
    )
    crew = [
        (label, person)
        for label, person in (
            ("designer", worksite.designer),
            ("project_manager", worksite.project_manager),
            ("qc_inspector", worksite.qc_inspector),
        )
        if person is not None
    ]
    return {
        "worksite": worksite,
        "project": worksite.project,
        "customer": worksite.project.customer,
        "firm": worksite.tenant,
        "crew": crew,
        "phases": phases,
        "timeline": worksite_timeline(phases=phases, today=today),
        "today": today,
        "upcoming": [p for p in phases if p.status in Phase.UNFINISHED][:UPCOMING_PHASES],
        # Inspections to come, with what the homeowner should check (announced beforehand by text).
        "inspections_ahead": list(
            worksite.inspections.filter(result=Inspection.Result.PENDING, scheduled_on__gte=today).order_by(
                "scheduled_on", "scheduled_time", "id"
            )[:UPCOMING_PHASES]
        ),
        "awaiting_acceptance": awaiting,
        "open_items": open_items,
        "waiting_count": len(awaiting) + sum(len(rows) for rows in open_items.values()),
        "photos": photos,
    }


def weekly_digest(*, worksite: Worksite, now: datetime) -> dict:
    """The week before ``now`` at a worksite: updates the homeowner can see, phases finished, how many
    items wait for the homeowner and the next phase."""
    today = timezone.localtime(now, require_current_tenant().zone).date()
    week_ago = today - timedelta(days=7)
    updates = ProgressUpdate.objects.filter(
        worksite=worksite, visible_to_homeowner=True, posted_at__gt=now - timedelta(days=7), posted_at__lte=now
    ).count()
    phases = list(worksite.phases.all())
    finished = [p for p in phases if p.actual_end and week_ago < p.actual_end <= today]
    # Only how many: a count per kind, without loading the rows and what they prefetch.
    open_items = inspection_selectors.open_items_for_homeowner(worksite=worksite)
    return {
        "updates": updates,
        "finished": finished,
        "awaiting": len(_awaiting_acceptance(phases)) + sum(rows.count() for rows in open_items.values()),
        "next": next((p for p in phases if p.status in Phase.UNFINISHED), None),
    }


def portal_links(*, worksite: Worksite) -> list[PortalLink]:
    return list(PortalLink.objects.filter(worksite=worksite).select_related("created_by", "revoked_by").order_by("-id"))


def portal_action_page(*, worksite: Worksite, before: int | None = None, size: int = 50):
    """The trail of what homeowners did through this worksite's links, newest first, keyset-paged."""
    return keyset_page(PortalAction.objects.filter(link__worksite=worksite), before=before, size=size)
