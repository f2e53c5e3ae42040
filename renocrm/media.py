"""Uploaded files are never public. A page that shows one asks ``media_url`` for a link signed with the
site's secret and valid for a few hours; the link names the stored file, whose path starts with its
firm's prefix (see ``renocrm.uploads.upload_to``), so a link can only ever be made by the app for a file
it already showed to someone allowed to see it. On S3-compatible storage the storage's own pre-signed
URL is used instead (``querystring_auth``)."""

from __future__ import annotations

import mimetypes

from django.conf import settings
from django.core import signing
from django.core.files.storage import FileSystemStorage, default_storage
from django.http import FileResponse, Http404
from django.urls import reverse
from django.views.decorators.http import require_GET

SALT = "renocrm.media"


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
    if not isinstance(name, str) or not name.startswith("firms/") or ".." in name.split("/"):
        raise Http404
    return name


@require_GET
def media_file(request, token):
    """Serve a file named by a valid signed token; anything else (unsigned, altered, expired) is a 404
    that says nothing about whether the file exists."""
    name = _name_from(token)
    if not default_storage.exists(name):
        raise Http404
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse(default_storage.open(name, "rb"), content_type=content_type)
    response["Cache-Control"] = f"private, max-age={settings.MEDIA_URL_MAX_AGE_SECONDS}"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    return response
