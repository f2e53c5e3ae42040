"""Reads for progress updates: a worksite's feed for staff and for the homeowner portal, and the firm's
latest posts."""

from __future__ import annotations

from django.db.models import Case, Prefetch, When

from renocrm.paging import keyset_page
from worksites.models import Phase, ProgressMedia, ProgressUpdate, Worksite


def _updates():
    return ProgressUpdate.objects.select_related("posted_by", "phase").prefetch_related(
        Prefetch("media", queryset=ProgressMedia.objects.order_by("position", "id"))
    )


def progress_feed(*, worksite: Worksite, homeowner_view: bool, before: int | None = None, size: int = 20):
    """(updates newest first with their media, the key of the next older page or None). The homeowner sees
    only the updates staff left visible to them."""
    updates = _updates().filter(worksite=worksite)
    if homeowner_view:
        updates = updates.filter(visible_to_homeowner=True)
    return keyset_page(updates, before=before, size=size)


def recent_progress(*, limit: int = 20) -> list[ProgressUpdate]:
    """The firm's latest updates across its worksites, with the project of each."""
    return list(_updates().select_related("worksite__project").order_by("-id")[:limit])


def progress_current_phase(*, worksite: Worksite) -> Phase | None:
    """The phase work is on now: the first in progress, else the first not yet started."""
    in_progress_first = Case(When(status=Phase.Status.IN_PROGRESS, then=0), default=1)
    return (
        worksite.phases.filter(status__in=[Phase.Status.IN_PROGRESS, Phase.Status.PLANNED])
        .order_by(in_progress_first, "position")
        .first()
    )
