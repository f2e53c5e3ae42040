"""Photos and videos from the site — of a progress update, a site problem or an inspection — through one
pipeline: every file checked before anything is stored (``renocrm.uploads.clean_upload``: the type read
from the bytes, photos re-encoded without EXIF or location), rows written in the caller's transaction, and
the thumbnail made by a Celery task after commit, so the phone's upload returns quickly."""

from __future__ import annotations

import logging
from io import BytesIO

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

from renocrm.outbox.enqueue import enqueue_on_commit
from renocrm.tenancy.context import require_current_tenant
from renocrm.uploads import IMAGE, VIDEO, clean_upload
from worksites.models import Inspection, SiteMedia, SiteProblem

logger = logging.getLogger(__name__)

# What a chat app shows as one post; more than this is usually a whole day of photos that belongs in
# several posts.
MAX_FILES = 9
THUMBNAIL_SIDE = 480


def clean_files(files: list, *, already: int = 0) -> list:
    """Every file checked before anything is stored: one bad file refuses them all (each named)."""
    if already + len(files) > MAX_FILES:
        message = _("At most %(max)s photos or videos per update; you chose %(count)s.")
        raise ValidationError({"files": message % {"max": MAX_FILES, "count": already + len(files)}})
    cleaned, problems = [], []
    for upload in files:
        try:
            cleaned.append(clean_upload(upload, accept={IMAGE, VIDEO}))
        except ValidationError as error:
            problems.extend(error.error_list)  # each names its file and keeps its code
    if problems:
        raise ValidationError({"files": problems})
    return cleaned


def store(model, cleaned: list, *, start: int = 0, **subject) -> list:
    """Write a row of ``model`` per cleaned file; should one fail, the files already written are removed
    (the rows roll back with the transaction, the files would not)."""
    stored = []
    try:
        for position, upload in enumerate(cleaned, start=start):
            stored.append(
                model.objects.create(
                    **subject,
                    position=position,
                    kind=model.Kind.IMAGE if upload.kind == IMAGE else model.Kind.VIDEO,
                    file=upload.content,
                    content_type=upload.content_type,
                    size=upload.size,
                    width=upload.width,
                    height=upload.height,
                    original_name=upload.original_name,
                )
            )
    except Exception:
        for media in stored:
            media.file.delete(save=False)
        raise
    return stored


def thumbnail_bytes(file) -> bytes:
    with file.open("rb") as source, Image.open(source) as image:
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


def make_thumbnail(model, media_id: int):
    """Make the 480-pixel JPEG thumbnail of a photo. Safe to run twice: a photo that has one, a video and
    a row deleted meanwhile are left alone; of two runs at once, the first to record its file wins and the
    other removes its own."""
    media = model.objects.filter(pk=media_id).first()
    if media is None or media.kind != model.Kind.IMAGE or media.thumbnail:
        return media
    try:
        payload = thumbnail_bytes(media.file)
    except (OSError, ValueError, Image.DecompressionBombError):
        logger.warning("No thumbnail for %s %s: its file cannot be read", model.__name__, media_id, exc_info=True)
        return media
    media.thumbnail.save("thumbnail.jpg", ContentFile(payload), save=False)
    recorded = model.objects.filter(pk=media.pk, thumbnail="").update(thumbnail=media.thumbnail.name)
    if not recorded:  # made by another run a moment ago, or the photo was deleted meanwhile
        media.thumbnail.delete(save=False)
        return model.objects.filter(pk=media_id).first()
    return media


def thumbnails_after_commit(task, stored: list) -> list[int]:
    """Queue ``task`` for each photo among ``stored`` once the transaction commits; the photos' ids."""
    tenant_id = require_current_tenant().pk
    photos = [m.pk for m in stored if m.kind == m.Kind.IMAGE]
    for media_id in photos:
        enqueue_on_commit(task, media_id=media_id, tenant_id=tenant_id)
    return photos


@transaction.atomic
def site_media_add(*, subject: SiteProblem | Inspection, files: list, uploaded_by) -> list[SiteMedia]:
    """Photos or videos of a site problem or an inspection, added on site (up to nine each)."""
    from worksites.tasks.progress import make_site_thumbnail

    field = "problem" if isinstance(subject, SiteProblem) else "inspection"
    subject = type(subject).objects.select_for_update().get(pk=subject.pk)
    files = [f for f in files or [] if f]
    if not files:
        raise ValidationError({"files": _("Choose at least one photo or video.")})
    already = subject.media.count()
    cleaned = clean_files(files, already=already)
    stored = store(SiteMedia, cleaned, start=already, uploaded_by=uploaded_by, **{field: subject})
    thumbnails_after_commit(make_site_thumbnail, stored)
    return stored


@transaction.atomic
def site_media_make_thumbnail(*, media_id: int) -> SiteMedia | None:
    return make_thumbnail(SiteMedia, media_id)
