"""Partner authentication: ``Authorization: Api-Key <key>``."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from renocrm.tenancy.middleware import Resolution
from renocrm.tenancy.models import Tenant

from .models import ApiKey, hash_key

KEYWORD = "Api-Key"
KEY_PREFIX = "rck"


class Partner:
    """``request.user`` for a request authenticated by an API key."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, api_key: ApiKey):
        self.api_key = api_key

    def __str__(self) -> str:
        return f"api-key:{self.api_key.prefix}"


def generate_key() -> tuple[str, str]:
    """A new key and its prefix. The prefix is public (it finds the row); the rest is the secret."""
    prefix = secrets.token_hex(6)
    return f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}", prefix


def find_key(raw_key: str) -> ApiKey | None:
    """Look a key up before the firm is known. Row-level security lets exactly the rows with this prefix
    through, for this one transaction; the digest comparison then decides."""
    parts = raw_key.split("_", 2)  # the secret part may itself contain "_"
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    prefix = parts[1]
    digest = hash_key(raw_key)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('app.api_key_prefix', %s, true)", [prefix])
            cursor.execute(
                "SELECT id, tenant_id, hashed_key FROM api_apikey WHERE prefix = %s AND revoked_at IS NULL", [prefix]
            )
            rows = cursor.fetchall()
        match = next((row for row in rows if secrets.compare_digest(row[2], digest)), None)
    if match is None:
        return None
    tenant = Tenant.objects.filter(pk=match[1], is_active=True).first()
    if tenant is None:
        return None
    return ApiKey(id=match[0], tenant=tenant, prefix=prefix, hashed_key=digest)


def resolve_api_key_firm(request):
    """Tenant resolver (settings.TENANT_RESOLVERS): the key names its firm."""
    request.api_key = None
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header.startswith(KEYWORD + " "):
        return None
    request.api_key_presented = True
    api_key = find_key(header[len(KEYWORD) + 1 :].strip())
    if api_key is None:
        return None
    request.api_key = api_key
    return Resolution(tenant=api_key.tenant, user_id=None)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        if not getattr(request._request, "api_key_presented", False):
            return None
        api_key = request._request.api_key
        if api_key is None:
            raise exceptions.AuthenticationFailed(_("Unknown or revoked API key."))
        # The full row, now inside the firm's scope; touch last_used_at at most once a minute.
        api_key = ApiKey.objects.get(pk=api_key.pk)
        now = timezone.now()
        if api_key.last_used_at is None or now - api_key.last_used_at > timedelta(minutes=1):
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        return Partner(api_key), api_key

    def authenticate_header(self, request):
        return KEYWORD
