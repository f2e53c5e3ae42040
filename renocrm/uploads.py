"""Files people upload from a phone or the office: the type is read from the bytes, never from the name,
each kind has a size limit, photos are re-encoded without their EXIF block (which carries the GPS
position of the homeowner's flat), and every file is stored under its firm's own prefix with a random
name through Django's storage API (local disk by default, S3-compatible storage by setting)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from io import BytesIO
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

IMAGE, VIDEO, PDF = "image", "video", "pdf"

# Pillow format → (MIME type, extension). HEIC is missing on purpose: phone browsers convert it to JPEG
# when uploading from the camera.
_IMAGE_FORMATS = {"JPEG": ("image/jpeg", ".jpg"), "PNG": ("image/png", ".png"), "WEBP": ("image/webp", ".webp")}


@dataclass(frozen=True)
class CleanUpload:
    content: ContentFile  # what to store; its name is random and its extension follows the real type
    kind: str  # IMAGE, VIDEO or PDF
    content_type: str
    size: int
    original_name: str
    width: int | None = None
    height: int | None = None


def max_bytes(kind: str) -> int:
    return settings.UPLOAD_MAX_BYTES[kind]


def _sniff(head: bytes) -> tuple[str, str, str] | None:
    """(kind, MIME type, extension) of a video or PDF from its first bytes; images are left to Pillow."""
    if head.startswith(b"%PDF-"):
        return PDF, "application/pdf", ".pdf"
    if head[4:8] == b"ftyp":
        if head[8:12] == b"qt  ":
            return VIDEO, "video/quicktime", ".mov"
        return VIDEO, "video/mp4", ".mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return VIDEO, "video/webm", ".webm"
    return None


def _random_name(extension: str) -> str:
    return f"{uuid.uuid4().hex}{extension}"


def _clean_image(data: bytes, original_name: str) -> CleanUpload | None:
    try:
        with Image.open(BytesIO(data)) as probe:
            probe.verify()
        image = Image.open(BytesIO(data))
        image_format = image.format
        if image_format not in _IMAGE_FORMATS:
            return None
        # Turn the picture upright first: the orientation lives in the EXIF block that is dropped below.
        image = ImageOps.exif_transpose(image)
        if image_format == "JPEG" and image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        out = BytesIO()
        # Saved without exif=/pnginfo=: GPS position, camera serial and the rest stay behind.
        save_options = {"quality": 90, "optimize": True} if image_format in ("JPEG", "WEBP") else {}
        image.save(out, format=image_format, **save_options)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError):
        return None
    content_type, extension = _IMAGE_FORMATS[image_format]
    payload = out.getvalue()
    return CleanUpload(
        content=ContentFile(payload, name=_random_name(extension)),
        kind=IMAGE,
        content_type=content_type,
        size=len(payload),
        original_name=original_name,
        width=image.width,
        height=image.height,
    )


def clean_upload(upload, *, accept: frozenset[str] | set[str]) -> CleanUpload:
    """Check one uploaded file and return what to store, or raise ValidationError naming the problem.

    ``accept`` is a set of kinds (IMAGE, VIDEO, PDF)."""
    original_name = PurePosixPath(getattr(upload, "name", "") or "upload").name[:255]
    limit = max(max_bytes(kind) for kind in accept)
    if upload.size > limit:
        raise ValidationError(
            _("%(name)s is too large (%(size)s); the limit is %(limit)s.")
            % {"name": original_name, "size": filesizeformat(upload.size), "limit": filesizeformat(limit)},
            code="too_large",
        )
    upload.seek(0)
    data = upload.read()
    sniffed = _sniff(data[:16])
    if sniffed is not None and sniffed[0] in accept:
        kind, content_type, extension = sniffed
        if len(data) > max_bytes(kind):
            raise ValidationError(
                _("%(name)s is too large (%(size)s); the limit is %(limit)s.")
                % {"name": original_name, "size": filesizeformat(len(data)), "limit": filesizeformat(max_bytes(kind))},
                code="too_large",
            )
        return CleanUpload(
            content=ContentFile(data, name=_random_name(extension)),
            kind=kind,
            content_type=content_type,
            size=len(data),
            original_name=original_name,
        )
    if sniffed is None and IMAGE in accept:
        if len(data) > max_bytes(IMAGE):
            raise ValidationError(
                _("%(name)s is too large (%(size)s); the limit is %(limit)s.")
                % {"name": original_name, "size": filesizeformat(len(data)), "limit": filesizeformat(max_bytes(IMAGE))},
                code="too_large",
            )
        cleaned = _clean_image(data, original_name)
        if cleaned is not None:
            return cleaned
    raise ValidationError(
        _("%(name)s is not a file type accepted here (%(types)s).")
        % {"name": original_name, "types": ", ".join(sorted(_label(kind) for kind in accept))},
        code="unsupported_type",
    )


def _label(kind: str) -> str:
    return {IMAGE: _("photo: JPEG, PNG or WebP"), VIDEO: _("video: MP4, MOV or WebM"), PDF: _("PDF")}[kind]


def upload_to(instance, filename: str) -> str:
    """firms/<firm id>/<app>/<model>/<random name>: the firm prefix is what the signed media view checks."""
    extension = PurePosixPath(filename).suffix.lower()[:10]
    meta = instance._meta
    return f"firms/{instance.tenant_id}/{meta.app_label}/{meta.model_name}/{uuid.uuid4().hex}{extension}"
