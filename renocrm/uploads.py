"""Files people upload from a phone or the office: the type is read from the bytes, never from the name,
each kind has a size limit, photos are re-encoded without their EXIF block (which carries the GPS
position of the homeowner's flat), videos lose their location and metadata boxes, and every file is
stored under its firm's own prefix with a random name through Django's storage API (local disk by
default, S3-compatible storage by setting)."""

from __future__ import annotations

import struct
import tempfile
import uuid
import warnings
from dataclasses import dataclass
from io import BytesIO
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, ImageFile, ImageOps

IMAGE, VIDEO, PDF = "image", "video", "pdf"

# The MIME type of every extension a cleaned file can get; the media view serves files by this map, not by
# the system's mime.types (which, for one, calls .3gp audio).
CONTENT_TYPES = {
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".mp4": "video/mp4",
    ".mov": "video/quicktime",
    ".webm": "video/webm",
    ".3gp": "video/3gpp",
    ".pdf": "application/pdf",
}

# Pillow format read → (format written, extension). HEIC is missing on purpose: phone browsers convert it
# to JPEG when uploading from the camera. MPO is the multi-picture JPEG some phones take (a depth map or a
# second lens as extra frames); its first frame is kept as a plain JPEG.
_IMAGE_FORMATS = {"JPEG": ("JPEG", ".jpg"), "MPO": ("JPEG", ".jpg"), "PNG": ("PNG", ".png"), "WEBP": ("WEBP", ".webp")}

# ISO base media (MP4/MOV/3GP) brands of video files; HEIC/AVIF photos share the "ftyp" header and are not
# videos.
_VIDEO_BRANDS = {
    b"isom": ("video/mp4", ".mp4"),
    b"iso2": ("video/mp4", ".mp4"),
    b"iso4": ("video/mp4", ".mp4"),
    b"iso5": ("video/mp4", ".mp4"),
    b"iso6": ("video/mp4", ".mp4"),
    b"mp41": ("video/mp4", ".mp4"),
    b"mp42": ("video/mp4", ".mp4"),
    b"avc1": ("video/mp4", ".mp4"),
    b"M4V ": ("video/mp4", ".mp4"),
    b"M4VP": ("video/mp4", ".mp4"),
    b"mmp4": ("video/mp4", ".mp4"),
    b"MSNV": ("video/mp4", ".mp4"),
    b"XAVC": ("video/mp4", ".mp4"),
    b"dash": ("video/mp4", ".mp4"),
    b"qt  ": ("video/quicktime", ".mov"),
    b"3gp4": ("video/3gpp", ".3gp"),
    b"3gp5": ("video/3gpp", ".3gp"),
    b"3gp6": ("video/3gpp", ".3gp"),
    b"3g2a": ("video/3gpp", ".3gp"),
}

_CHUNK = 1024 * 1024

# Pillow's own decompression-bomb threshold is the same limit, so nothing else in the process (a report, an
# admin thumbnail) decodes a larger image either; clean_upload refuses before Pillow would.
Image.MAX_IMAGE_PIXELS = settings.UPLOAD_MAX_IMAGE_PIXELS


@dataclass(frozen=True)
class CleanUpload:
    content: File  # what to store; its name is random and its extension follows the real type
    kind: str  # IMAGE, VIDEO or PDF
    content_type: str
    size: int
    original_name: str
    width: int | None = None
    height: int | None = None


def max_bytes(kind: str) -> int:
    return settings.UPLOAD_MAX_BYTES[kind]


def _too_large(name: str, size: int, limit: int) -> ValidationError:
    return ValidationError(
        _("%(name)s is too large (%(size)s); the limit is %(limit)s.")
        % {"name": name, "size": filesizeformat(size), "limit": filesizeformat(limit)},
        code="too_large",
    )


def _unsupported(name: str, accept) -> ValidationError:
    return ValidationError(
        _("%(name)s is not a file type accepted here (%(types)s).")
        % {"name": name, "types": ", ".join(sorted(_label(kind) for kind in accept))},
        code="unsupported_type",
    )


def _label(kind: str) -> str:
    return {IMAGE: _("photo: JPEG, PNG or WebP"), VIDEO: _("video: MP4, MOV or WebM"), PDF: _("PDF")}[kind]


def _sniff(head: bytes) -> tuple[str, str, str] | None:
    """(kind, MIME type, extension) of a video or PDF from its first bytes; images are left to Pillow."""
    if head.startswith(b"%PDF-"):
        return PDF, "application/pdf", ".pdf"
    if head[4:8] == b"ftyp" and head[8:12] in _VIDEO_BRANDS:
        return VIDEO, *_VIDEO_BRANDS[head[8:12]]
    # EBML header with the "webm" document type (Matroska proper is not something a phone records).
    if head.startswith(b"\x1a\x45\xdf\xa3") and b"webm" in head[:64]:
        return VIDEO, "video/webm", ".webm"
    return None


def _random_name(extension: str) -> str:
    return f"{uuid.uuid4().hex}{extension}"


def _refuse_truncated() -> None:
    """Pillow decides whether to accept a file cut short from a process-wide flag, read as it opens and
    decodes, and importing WeasyPrint sets it for its own images: set here, at the check, whatever was
    imported before."""
    ImageFile.LOAD_TRUNCATED_IMAGES = False


def _clean_image(data: bytes, original_name: str) -> CleanUpload | None:
    """Re-encode a photo upright and without metadata; None when the bytes are no photo we take.

    Decoding takes about 3 bytes a pixel (twice that while it is turned upright) and seconds of CPU for a
    large one, while a PNG of a few KB can claim a gigapixel: the pixel count is read from the header, which
    is all ``Image.open`` reads, and a photo over the limit is refused before anything is decoded."""
    limit = settings.UPLOAD_MAX_IMAGE_PIXELS
    try:
        _refuse_truncated()
        with warnings.catch_warnings():
            # Pillow warns (rather than refuses) between its threshold and twice it: refuse there as well.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(BytesIO(data))
        with probe:
            if probe.format not in _IMAGE_FORMATS:
                return None
            if probe.width * probe.height > limit:
                raise _too_many_pixels(original_name)
            probe.verify()
        image = Image.open(BytesIO(data))
        write_format, extension = _IMAGE_FORMATS[image.format]
        _refuse_truncated()
        image.load()  # every pixel now, a file cut short refused
        icc_profile = image.info.get("icc_profile")
        # Turn the picture upright first: the orientation lives in the EXIF block that is dropped below.
        image = ImageOps.exif_transpose(image)
        if write_format == "JPEG" and image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        options = {"quality": 90, "optimize": True} if write_format in ("JPEG", "WEBP") else {}
        if icc_profile:
            options["icc_profile"] = icc_profile  # colours only; keeps wide-gamut phone photos looking right
        out = BytesIO()
        # Saved without exif=/xmp=/pnginfo=: GPS position, camera serial and the rest stay behind.
        image.save(out, format=write_format, **options)
        size = out.tell()
        out.seek(0)
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(original_name) from None
    except Exception:  # Pillow raises many kinds of error on malformed input: all of them mean "no photo"
        return None
    return CleanUpload(
        content=File(out, name=_random_name(extension)),
        kind=IMAGE,
        content_type=CONTENT_TYPES[extension],
        size=size,
        original_name=original_name,
        width=image.width,
        height=image.height,
    )


def _too_many_pixels(name: str) -> ValidationError:
    return ValidationError(
        _("%(name)s has too many pixels; the limit is %(limit)s megapixels. Take it at the camera's normal size.")
        % {"name": name, "limit": f"{settings.UPLOAD_MAX_IMAGE_PIXELS / 1_000_000:g}"},
        code="too_large",
    )


def _box_headers(f, start: int, end: int):
    """(offset, size, type, header length) of each ISO-BMFF box between two offsets of an open file."""
    offset = start
    while offset + 8 <= end:
        f.seek(offset)
        header = f.read(16)
        if len(header) < 8:
            return
        size, box_type = struct.unpack(">I4s", header[:8])
        header_length = 8
        if size == 1:
            if len(header) < 16:
                return
            size, header_length = struct.unpack(">Q", header[8:16])[0], 16
        elif size == 0:
            size = end - offset
        if size < header_length or offset + size > end:
            return  # malformed: stop looking rather than guess
        yield offset, size, box_type, header_length
        offset += size


# Boxes that may hold where and with what a video was taken: QuickTime/Android location (©xyz), 3GPP
# location (loci), Apple's metadata (meta: keys and values, including com.apple.quicktime.location.ISO6709)
# and XMP. They are overwritten in place by "free" boxes of the same size, so every offset in the file
# (the sample tables point into mdat) stays valid.
_PRIVATE_BOXES = {b"\xa9xyz", b"loci", b"meta", b"XMP_"}
_CONTAINERS = {b"moov", b"trak", b"udta"}


def _scrub_video(f, start: int, end: int, depth: int = 0) -> None:
    if depth > 4:
        return
    for offset, size, box_type, header_length in list(_box_headers(f, start, end)):
        if depth > 0 and box_type in _PRIVATE_BOXES:
            f.seek(offset + 4)
            f.write(b"free")
            f.seek(offset + header_length)
            remaining = size - header_length
            while remaining > 0:
                step = min(remaining, _CHUNK)
                f.write(b"\x00" * step)
                remaining -= step
        elif box_type in _CONTAINERS and (depth > 0 or box_type == b"moov"):
            _scrub_video(f, offset + header_length, offset + size, depth + 1)


def _copy_to_temporary(upload, limit: int, original_name: str):
    """The upload copied into a temporary file (in memory while small), refusing it past ``limit``."""
    spool = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)  # noqa: SIM115
    size = 0
    upload.seek(0)
    while chunk := upload.read(_CHUNK):
        size += len(chunk)
        if size > limit:
            spool.close()
            raise _too_large(original_name, size, limit)
        spool.write(chunk)
    return spool, size


def clean_upload(upload, *, accept: frozenset[str] | set[str]) -> CleanUpload:
    """Check one uploaded file and return what to store, or raise ValidationError naming the problem
    (code "too_large" or "unsupported_type").

    ``accept`` is a set of kinds (IMAGE, VIDEO, PDF)."""
    accept = frozenset(accept)
    raw_name = PurePosixPath(str(getattr(upload, "name", "") or "upload")).name
    original_name = "".join(ch for ch in raw_name if ch.isprintable())[:255] or "upload"
    declared, limit = getattr(upload, "size", None), max(max_bytes(kind) for kind in accept)
    if declared is not None and declared > limit:
        raise _too_large(original_name, declared, limit)
    upload.seek(0)
    head = upload.read(64)
    upload.seek(0)
    sniffed = _sniff(head)
    if sniffed is not None and sniffed[0] in accept:
        kind, content_type, extension = sniffed
        spool, size = _copy_to_temporary(upload, max_bytes(kind), original_name)
        if kind == VIDEO and extension != ".webm":
            _scrub_video(spool, 0, size)
        spool.seek(0)
        content = File(spool, name=_random_name(extension))
        content.size = size
        return CleanUpload(
            content=content, kind=kind, content_type=content_type, size=size, original_name=original_name
        )
    if sniffed is None and IMAGE in accept:
        data = upload.read(max_bytes(IMAGE) + 1)
        if len(data) > max_bytes(IMAGE):
            raise _too_large(original_name, declared or len(data), max_bytes(IMAGE))
        cleaned = _clean_image(data, original_name)
        if cleaned is not None:
            return cleaned
    raise _unsupported(original_name, accept)


def upload_to(instance, filename: str) -> str:
    """firms/<firm id>/<app>/<model>/<random name>: the firm prefix is what the signed media view checks."""
    from renocrm.tenancy.context import require_current_tenant

    extension = PurePosixPath(filename).suffix.lower()[:10]
    tenant_id = instance.tenant_id or require_current_tenant().pk
    meta = instance._meta
    return f"firms/{tenant_id}/{meta.app_label}/{meta.model_name}/{uuid.uuid4().hex}{extension}"
