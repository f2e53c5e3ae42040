"""Writes for progress updates: a post from the site with its photos and videos, hiding one from the
homeowner, and the thumbnail made after the post is saved."""

from __future__ import annotations

import logging
from io import BytesIO

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

from renocrm.outbox.enqueue import enqueue_on_commit
from renocrm.outbox.services import event_emit
from renocrm.tenancy.context import require_current_tenant
from renocrm.uploads import IMAGE, VIDEO, clean_upload
from worksites.models import Phase, ProgressMedia, ProgressUpdate, Worksite

logger = logging.getLogger(__name__)

# What a chat app shows as one post; more than this is usually a whole day of photos that belongs in
# several updates.
MAX_FILES = 9
THUMBNAIL_SIDE = 480


def _clean_files(files: list) -> list:
    """Every file checked before anything is stored: one bad file refuses the whole post."""
    if len(files) > MAX_FILES:
        message = _("At most %(max)s photos or videos per update; you chose %(count)s.")
        raise ValidationError({"files": message % {"max": MAX_FILES, "count": len(files)}})
    cleaned, problems = [], []
    for upload in files:
        try:
            cleaned.append(clean_upload(upload, accept={IMAGE, VIDEO}))
        except ValidationError as error:
            problems.extend(error.error_list)  # each names its file and keeps its code
    if problems:
        raise ValidationError({"files": problems})
    return cleaned


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
    cleaned = _clean_files(files)

    update = ProgressUpdate.objects.create(
        worksite=worksite, phase=phase, note=note, visible_to_homeowner=visible_to_homeowner, posted_by=posted_by
    )
    stored: list[ProgressMedia] = []
    try:
        for position, upload in enumerate(cleaned):
            stored.append(
                ProgressMedia.objects.create(
                    update=update,
                    position=position,
                    kind=ProgressMedia.Kind.IMAGE if upload.kind == IMAGE else ProgressMedia.Kind.VIDEO,
                    file=upload.content,
                    content_type=upload.content_type,
                    size=upload.size,
                    width=upload.width,
                    height=upload.height,
                    original_name=upload.original_name,
                )
            )
    except Exception:
        # The rows roll back with the transaction; the files written so far would be left behind.
        for media in stored:
            media.file.delete(save=False)
        raise

    tenant_id = require_current_tenant().pk
    photos = [m.pk for m in stored if m.kind == ProgressMedia.Kind.IMAGE]
    if photos:
        from worksites.tasks.progress import make_thumbnail

        for media_id in photos:
            enqueue_on_commit(make_thumbnail, media_id=media_id, tenant_id=tenant_id)
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


def _thumbnail_bytes(media: ProgressMedia) -> bytes:
    with media.file.open("rb") as source, Image.open(source) as image:
        image.draft("RGB", (THUMBNAIL_SIDE * 2, THUMBNAIL_SIDE * 2))  # JPEG decodes at a fraction of its size
        picture = ImageOps.exif_transpose(image)
        picture.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        if picture.mode in ("RGBA", "LA", "P", "PA"):
            picture = picture.convert("RGBA")
            background = Image.new("RGB", picture.size, "white")
            background.paste(picture, mask=picture.getchannel("A"))
            picture = background
        elif picture.mode != "RGB":
            picture = picture.convert("RGB")
        out = BytesIO()
        picture.save(out, format="JPEG", quality=80, optimize=True)
    return out.getvalue()


@transaction.atomic
def progress_media_make_thumbnail(*, media_id: int) -> ProgressMedia | None:
    """Make the 480-pixel JPEG thumbnail of a photo. Safe to run twice: a photo that has one, a video and
    a row deleted meanwhile are left alone; of two runs at once, the first to record its file wins and
    the other removes its own."""
    media = ProgressMedia.objects.filter(pk=media_id).first()
    if media is None or media.kind != ProgressMedia.Kind.IMAGE or media.thumbnail:
        return media
    try:
        payload = _thumbnail_bytes(media)
    except (OSError, ValueError, Image.DecompressionBombError):
        logger.warning("No thumbnail for progress media %s: its file cannot be read", media_id, exc_info=True)
        return media
    media.thumbnail.save("thumbnail.jpg", ContentFile(payload), save=False)
    recorded = ProgressMedia.objects.filter(pk=media.pk, thumbnail="").update(thumbnail=media.thumbnail.name)
    if not recorded:  # made by another run a moment ago, or the photo was deleted meanwhile
        media.thumbnail.delete(save=False)
        return ProgressMedia.objects.filter(pk=media_id).first()
    return media
