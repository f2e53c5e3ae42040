"""Uploaded files are never public. A page that shows one asks ``media_url`` for a link signed with the
site's secret and valid for a few hours; the link names the stored file, whose path starts with its
firm's prefix (see ``renocrm.uploads.upload_to``), so a link can only ever be made by the app for a file
it already showed to someone allowed to see it. On S3-compatible storage the storage's own pre-signed
URL is used instead (``querystring_auth``)."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from django.conf import settings
from django.core import signing
from django.core.files.storage import FileSystemStorage, default_storage
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from renocrm.uploads import CONTENT_TYPES

SALT = "renocrm.media"
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
_CHUNK = 64 * 1024


def media_url(field_file) -> str:
    """A time-limited URL for a stored file ("" for an empty field)."""
    if not field_file:
        return ""
    storage = field_file.storage
    if not isinstance(storage, FileSystemStorage):
        return storage.url(field_file.name)
    token = signing.dumps(field_file.name, salt=SALT, compress=True)
    return reverse("media", args=[token])


def _name_from(token: str) -> str:
    try:
        name = signing.loads(token, salt=SALT, max_age=settings.MEDIA_URL_MAX_AGE_SECONDS)
    except (signing.BadSignature, ValueError, TypeError):
        raise Http404 from None
    if not isinstance(name, str) or not name.startswith("firms/") or ".." in name.split("/") or "\\" in name:
        raise Http404
    return name


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single "Range: bytes=…" request; None to send the whole file. Players (Safari
    on iOS above all) will not play a video from a server that cannot answer ranges."""
    match = _RANGE.fullmatch(header.strip())
    if match is None or not (match[1] or match[2]):
        return None
    if match[1]:
        first = int(match[1])
        last = min(int(match[2]), size - 1) if match[2] else size - 1
    else:
        first, last = max(size - int(match[2]), 0), size - 1
    return first, last


def _read(file, length: int):
    try:
        while length > 0:
            chunk = file.read(min(_CHUNK, length))
            if not chunk:
                break
            length -= len(chunk)
            yield chunk
    finally:
        file.close()


@require_GET
def media_file(request, token):
    """Serve a file named by a valid signed token; anything else (unsigned, altered, expired) is a 404
    that says nothing about whether the file exists."""
    name = _name_from(token)
    try:
        size = default_storage.size(name)
    except FileNotFoundError:
        raise Http404 from None
    content_type = CONTENT_TYPES.get(PurePosixPath(name).suffix.lower())
    requested = _byte_range(request.META.get("HTTP_RANGE", ""), size)
    if requested is not None and (requested[0] > requested[1] or requested[0] >= size):
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
    elif requested is not None:
        first, last = requested
        file = default_storage.open(name, "rb")
        file.seek(first)
        response = StreamingHttpResponse(
            _read(file, last - first + 1), status=206, content_type=content_type or "application/octet-stream"
        )
        response["Content-Length"] = str(last - first + 1)
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
    else:
        response = FileResponse(
            default_storage.open(name, "rb"), content_type=content_type or "application/octet-stream"
        )
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = f"private, max-age={settings.MEDIA_URL_MAX_AGE_SECONDS}"
    response["X-Content-Type-Options"] = "nosniff"
    # Only the types clean_upload produces are shown in the browser; anything else is a download.
    response["Content-Disposition"] = "inline" if content_type else "attachment"
    return response
