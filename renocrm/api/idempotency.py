"""``Idempotency-Key`` on API POSTs: a retry with the same key and body gets the first response again and
creates nothing; the same key with another body is refused. A key belongs to one key holder and one endpoint
(the same key on another address is a new request), and a JSON body is compared as the data it holds: the
same object with its keys in another order or other whitespace is the same request.

The record is claimed with ``INSERT … ON CONFLICT DO NOTHING`` in the request's own transaction, so a
concurrent retry blocks on the unique key until the first request commits (then replays its response)
or rolls back (then runs itself). A server error rolls the claim back with everything else.
"""

from __future__ import annotations

import hashlib
import json

from django.db import connection
from django.http import HttpResponse
from django.utils.translation import gettext as _

from renocrm.tenancy.context import get_current_tenant

from .errors import error_response

HEADER = "HTTP_IDEMPOTENCY_KEY"


def _principal(request) -> str | None:
    api_key = getattr(request, "api_key", None)
    if api_key is not None:
        return f"key:{api_key.pk}"
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return None


def fingerprint(request, *, skip=frozenset()) -> str:
    """What makes two requests "the same". A form or an upload is hashed from its parsed fields (but those
    in ``skip``) and files, read in chunks: ``request.body`` would hold a whole photo or video in memory and
    is refused above DATA_UPLOAD_MAX_MEMORY_SIZE. A JSON body is hashed in one canonical form (keys sorted, no
    whitespace), so a client that serialises the same data differently on a retry is not refused; any other
    body is hashed as it is."""
    digest = hashlib.sha256(request.method.encode() + request.path.encode() + b"\n")
    if request.content_type not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        digest.update(_canonical(request.body) if request.content_type == "application/json" else request.body)
        return digest.hexdigest()
    for name, values in sorted(request.POST.lists()):
        if name in skip:
            continue
        for value in values:
            digest.update(f"{name}={value}\n".encode())
    for name, files in sorted(request.FILES.lists()):
        for upload in files:
            digest.update(f"{name}:{upload.name}:{upload.size}\n".encode())
            for chunk in upload.chunks():
                digest.update(chunk)
            upload.seek(0)
    return digest.hexdigest()


def _canonical(body: bytes) -> bytes:
    try:
        data = json.loads(body)
    except ValueError:  # not JSON after all (UnicodeDecodeError is one): the bytes as they came
        return body
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def claim(tenant_id: int, principal: str, key: str, digest: str, *, endpoint: str, content_type: str = ""):
    """Claim ``key`` for ``principal`` on ``endpoint`` (the request's path) in the request's transaction:
    ``(record id, None)``, or ``(None, (request_hash, status_code, content_type, body))`` of the request that
    claimed it first — a concurrent one waits on the unique key until that request commits or rolls back."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO api_idempotencyrecord (tenant_id, principal, endpoint, key, request_hash, body,"
            " content_type, created_at) VALUES (%s, %s, %s, %s, %s, '', %s, now())"
            " ON CONFLICT DO NOTHING RETURNING id",
            [tenant_id, principal, endpoint, key, digest, content_type],
        )
        claimed = cursor.fetchone()
        if claimed is not None:
            return claimed[0], None
        cursor.execute(
            "SELECT request_hash, status_code, content_type, body FROM api_idempotencyrecord"
            " WHERE tenant_id = %s AND principal = %s AND endpoint = %s AND key = %s",
            [tenant_id, principal, endpoint, key],
        )
        return None, cursor.fetchone()


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.META.get(HEADER)
        tenant = get_current_tenant()
        if request.method != "POST" or not key or tenant is None or not request.path.startswith("/api/"):
            return self.get_response(request)
        principal = _principal(request)
        if principal is None:
            return self.get_response(request)
        if len(key) > 255:
            return error_response(400, code="invalid", message=_("Idempotency-Key is longer than 255 characters."))
        digest = fingerprint(request)
        claimed, stored = claim(tenant.pk, principal, key, digest, endpoint=request.path)
        if claimed is None:
            request_hash, status_code, content_type, body = stored
            if request_hash != digest:
                return error_response(
                    422,
                    code="idempotency_key_reused",
                    message=_("This Idempotency-Key was used with a different request."),
                )
            response = HttpResponse(bytes(body), status=status_code, content_type=content_type)
            response["Idempotent-Replayed"] = "true"
            return response

        response = self.get_response(request)
        # A refused request rolls its transaction back, the claim with it, so a retry is checked afresh.
        if response.status_code < 500 and not getattr(response, "streaming", False) and not connection.needs_rollback:
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE api_idempotencyrecord SET status_code = %s, content_type = %s, body = %s WHERE id = %s",
                    [response.status_code, response.get("Content-Type", ""), response.content, claimed],
                )
        return response
