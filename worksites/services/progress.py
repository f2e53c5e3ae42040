"""Writes for progress updates: a post from the site with its photos and videos, hiding one from the
homeowner, and the thumbnail made after the post is saved."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from renocrm.outbox.services import event_emit
from worksites.models import Phase, ProgressMedia, ProgressUpdate, Worksite
from worksites.services import media


@transaction.atomic
def progress_post(
    *,
    worksite: Worksite,
    note: str,
    files: list,
    posted_by,
    phase: Phase | None = None,
    visible_to_homeowner: bool = True,
) -> ProgressUpdate:
    """Post a progress update from the site. A note, a photo or a video is enough (a foreman often just
    snaps the tiling); an update with neither is refused, as is one for a worksite already handed over."""
    note = (note or "").strip()
    files = [f for f in files or [] if f]
    worksite = Worksite.objects.select_for_update().get(pk=worksite.pk)
    if worksite.status == Worksite.Status.HANDED_OVER:
        raise ValidationError(_("This worksite has been handed over; progress updates are closed."))
    if phase is not None and phase.worksite_id != worksite.pk:
        raise ValidationError({"phase": _("Choose a phase of this worksite.")})
    if not note and not files:
        raise ValidationError({"note": _("Write a note or add a photo or video.")})
    cleaned = media.clean_files(files)

    update = ProgressUpdate.objects.create(
        worksite=worksite, phase=phase, note=note, visible_to_homeowner=visible_to_homeowner, posted_by=posted_by
    )
    from worksites.tasks.progress import make_thumbnail

    stored = media.store(ProgressMedia, cleaned, update=update)
    photos = media.thumbnails_after_commit(make_thumbnail, stored)
    event_emit(
        event_type="progress.posted",
        payload={
            "progress_update_id": update.pk,
            "worksite_id": worksite.pk,
            "project_id": worksite.project_id,
            "phase_kind": phase.kind if phase is not None else None,
            "photo_count": len(photos),
            "video_count": len(stored) - len(photos),
            "posted_at": update.posted_at.isoformat(),
            "visible_to_homeowner": update.visible_to_homeowner,
        },
    )
    return update


@transaction.atomic
def progress_update_set_visibility(*, update: ProgressUpdate, visible: bool) -> ProgressUpdate:
    """Staff show an update to the homeowner or hide it (a photo that shows a mistake being put right)."""
    ProgressUpdate.objects.filter(pk=update.pk).update(visible_to_homeowner=visible)
    update.visible_to_homeowner = visible
    return update


@transaction.atomic
def progress_media_make_thumbnail(*, media_id: int) -> ProgressMedia | None:
    return media.make_thumbnail(ProgressMedia, media_id)
