"""Site capture without signal: the worksite pages a phone keeps for offline use, the service worker and the
web app manifest, and the page side of a form sent later from the phone's outbox
(``worksites/static/worksites/offline/``).

A form filled in without signal waits on the phone with a key made there (a UUID). When it is sent, the
first send that succeeds is remembered under that key (the API's ``IdempotencyRecord``, principal
``page:<user id>``), so a retry — the answer was lost on the way back to a basement — gets the first result
and creates nothing. A refusal is not remembered: the draft, corrected, can go again under the same key.
The outbox asks for JSON (``Accept: application/json``); a form posted by the browser itself with its key
field gets the same protection and the usual redirect."""

from __future__ import annotations

import hashlib
import json
import re
from functools import wraps

from django.conf import settings
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from renocrm.api.idempotency import claim, fingerprint
from renocrm.api.models import IdempotencyRecord

KEY_FIELD = "idempotency_key"
KEY_HEADER = "Idempotency-Key"
OWNER_HEADER = "X-Offline-Owner"
# The header that lets the service worker keep a page for offline use (only these pages, and only a 200).
PAGE_HEADER = "X-Offline-Capture"
KEY = re.compile(r"^[A-Za-z0-9-]{8,64}$")
# Fields that differ between two sends of the same draft without changing what it says.
NOT_CONTENT = {"csrfmiddlewaretoken", KEY_FIELD}

# What the phone keeps from the first visit: the styles and scripts every page loads and the offline ones.
SHELL = [
    "dashboard/app.css",
    "dashboard/app.js",
    "dashboard/icon.svg",
    "django_htmx/htmx-2.min.js",
    "worksites/progress.js",
    "worksites/offline/register.js",
    "worksites/offline/outbox.js",
    "worksites/offline/capture.js",
    "worksites/offline/offline.css",
]


def owner_of(request) -> str:
    """Whose outbox a page shows and sends: the person in the firm they are working in."""
    tenant = getattr(request, "tenant", None)
    if not request.user.is_authenticated or tenant is None:
        return ""
    return f"{request.user.pk}:{tenant.pk}"


def offline_page(view):
    """A worksite page the service worker may keep on the phone for offline use."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if request.method == "GET" and response.status_code == 200:
            response[PAGE_HEADER] = "page"
        return response

    return wrapped


def note_refusal(request, *forms) -> None:
    """The forms a view shows again with their errors: the outbox gets them as its refusal."""
    if request.method == "POST":
        request.offline_refused = [form for form in forms if form is not None]


def offline_capture(view):
    """A form page whose form may be filled in offline and sent later (see the module docstring). Outermost
    decorator: it answers the outbox in JSON whatever the page would have done."""
    page = offline_page(view)

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method != "POST":
            return page(request, *args, **kwargs)
        as_json = "application/json" in request.headers.get("Accept", "")
        key = request.headers.get(KEY_HEADER) or request.POST.get(KEY_FIELD, "")
        if not as_json:
            if not KEY.match(key) or getattr(request, "membership", None) is None:
                return view(request, *args, **kwargs)
            return _once(request, key, view, args, kwargs, as_json=False)
        if getattr(request, "membership", None) is None:
            # Signed out (or in no firm) since the draft was saved: it waits until they sign in again.
            return JsonResponse({"status": "signed-out"}, status=401)
        if request.headers.get(OWNER_HEADER, owner_of(request)) != owner_of(request):
            # Saved by someone else on this phone, or in the other firm: never sent as this person.
            return JsonResponse({"status": "other-owner"}, status=409)
        if not KEY.match(key):
            return _refused(_("This draft has no key to send it with; fill in the form again."), status=400)
        return _once(request, key, view, args, kwargs, as_json=True)

    return wrapped


def _once(request, key, view, args, kwargs, *, as_json):
    principal = f"page:{request.user.pk}"
    # The address, the fields but the CSRF token and the key, and every file's name and bytes.
    digest = fingerprint(request, skip=NOT_CONTENT)
    claimed, stored = claim(
        request.tenant.pk, principal, key, digest, endpoint=request.path, content_type="application/json"
    )
    if claimed is None:
        request_hash, _status, _type, body = stored
        if request_hash != digest:
            if as_json:
                return _refused(_("This draft was sent before with other content."), status=422)
            return view(request, *args, **kwargs)
        url = json.loads(bytes(body) or b"{}").get("url", "")
        return JsonResponse({"status": "sent", "url": url, "replayed": True}) if as_json else redirect(url)

    try:
        response = view(request, *args, **kwargs)
    except PermissionDenied:
        _release(claimed)
        if as_json:
            return _refused(_("You may not do this on this worksite any more."), status=403)
        raise
    except Http404:
        _release(claimed)
        if as_json:
            return _refused(_("This worksite or record is no longer there."), status=404)
        raise
    if response.status_code in (301, 302, 303) and not connection.needs_rollback:
        url = response["Location"]
        _store(claimed, response.status_code, json.dumps({"url": url}).encode())
        return JsonResponse({"status": "sent", "url": url}, status=201) if as_json else response
    if response.status_code < 500 and not connection.needs_rollback:
        _release(claimed)
    if as_json and response.status_code < 500:
        return _refusal_of(getattr(request, "offline_refused", []))
    return response


def _store(record_id, status_code, body):
    IdempotencyRecord.objects.filter(pk=record_id).update(status_code=status_code, body=body)


def _release(record_id):
    IdempotencyRecord.objects.filter(pk=record_id).delete()


def _refused(message, *, status, errors=None):
    return JsonResponse({"status": "refused", "message": message, "errors": errors or {}}, status=status)


def _refusal_of(forms):
    """The errors a page would have shown next to its fields, keyed by the fields' input names (so the
    phone can show each next to its field when the draft is opened again) and as one message."""
    errors: dict[str, list[str]] = {}
    texts: list[str] = []
    for form in forms:
        for one in getattr(form, "forms", [form]):
            for name, messages in one.errors.items():
                errors.setdefault("__all__" if name == "__all__" else one.add_prefix(name), []).extend(messages)
                label = one.fields[name].label if name in one.fields else ""
                texts.extend(f"{label}: {message}" if label else message for message in messages)
        if hasattr(form, "non_form_errors"):
            errors.setdefault("__all__", []).extend(form.non_form_errors())
            texts.extend(form.non_form_errors())
    message = " ".join(texts) or _("The server refused this draft.")
    return _refused(message, status=422, errors=errors)


@require_GET
def service_worker(request):
    """The service worker, from the site's root so it may control the worksite pages. It is a few lines of
    settings (the shell's fingerprinted file names, the offline page's words) and the static script."""
    shell = [static(path) for path in SHELL]
    hashed = isinstance(staticfiles_storage, ManifestFilesMixin)
    config = {
        "version": hashlib.sha256(json.dumps([shell, get_language()]).encode()).hexdigest()[:12],
        "shell": shell,
        "hashed": hashed,
        "static": settings.STATIC_URL,
        "pages": reverse("worksites:list"),
        "lang": get_language(),
        "offline": {
            "title": _("No connection"),
            "text": _(
                "This page was not opened on this phone while it had a connection, so it cannot be shown now. "
                "Worksite pages you opened before still work, and what you record on them is sent when the "
                "connection returns."
            ),
            "css": static("dashboard/app.css"),
        },
    }
    scripts = ", ".join(json.dumps(static(path)) for path in ("worksites/offline/outbox.js", "worksites/offline/sw.js"))
    body = f"self.RENOCRM_OFFLINE = {json.dumps(config, ensure_ascii=False)};\nimportScripts({scripts});\n"
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    # Checked on every visit, so a new release reaches the phones; the scripts it imports are fingerprinted.
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def manifest(request):
    """The web app manifest: the worksites open from the phone's home screen like an app."""
    data = {
        "name": "RenoCRM",
        "short_name": "RenoCRM",
        "description": _("Worksite progress, problems and patrols, also without signal."),
        "lang": get_language(),
        "start_url": reverse("worksites:list"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#f4f6f8",
        "theme_color": "#0f766e",
        "icons": [{"src": static("dashboard/icon.svg"), "sizes": "any", "type": "image/svg+xml"}],
    }
    return JsonResponse(data, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False})
