"""Partner authentication: ``Authorization: Api-Key <key>``."""

from __future__ import annotations

import threading
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from renocrm.tenancy.middleware import Resolution
from renocrm.tenancy.models import Tenant
from renocrm.tokens import PREFIX_PATTERN, find_by_prefix, token_generate

from .models import ApiKey, hash_key
from .throttling import ApiKeyRateThrottle

KEYWORD = "Api-Key"
KEY_PREFIX = "rck"
LAST_USED_EVERY = timedelta(minutes=1)


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
    return token_generate(KEY_PREFIX)


class KnownKeys:
    """The keys this process has seen: digest -> (key id, prefix, the firm's row). A key's digest and firm
    never change, so a partner's next request skips the lookup before the firm is known (its own transaction
    and two queries) and the firm's row. Whether the key is still good — not revoked, its firm active — and
    its scopes and rate are read again inside the firm's transaction on every request
    (``ApiKeyAuthentication``), so a revocation holds from the very next request. Only keys that matched are
    remembered, so unknown keys cannot fill it."""

    MAX = 1000

    def __init__(self):
        self._keys: dict[str, tuple[int, str, tuple]] = {}
        self._lock = threading.Lock()

    def get(self, digest: str) -> tuple[int, str, Tenant] | None:
        found = self._keys.get(digest)
        if found is None:
            return None
        key_id, prefix, firm = found
        # A fresh instance for each request: nothing one request caches on it reaches another.
        return key_id, prefix, Tenant.from_db("default", TENANT_FIELDS, firm)

    def remember(self, digest: str, key_id: int, prefix: str, tenant: Tenant) -> None:
        firm = tuple(getattr(tenant, name) for name in TENANT_FIELDS)
        with self._lock:
            if digest not in self._keys and len(self._keys) >= self.MAX:
                self._keys.pop(next(iter(self._keys)))
            self._keys[digest] = (key_id, prefix, firm)

    def forget(self, digest: str) -> None:
        with self._lock:
            self._keys.pop(digest, None)

    def clear(self) -> None:
        with self._lock:
            self._keys.clear()


TENANT_FIELDS = [field.attname for field in Tenant._meta.concrete_fields]
known_keys = KnownKeys()


def find_key(raw_key: str) -> ApiKey | None:
    """Look a key up before the firm is known. Row-level security lets exactly the rows with this prefix
    through, for this one transaction; the digest comparison then decides."""
    parts = raw_key.split("_", 2)  # the secret part may itself contain "_"
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not PREFIX_PATTERN.fullmatch(parts[1]):
        # Not a key this server issued (generate_key): refused without a query.
        return None
    prefix = parts[1]
    digest = hash_key(raw_key)
    known = known_keys.get(digest)
    if known is not None:
        key_id, prefix, tenant = known
        return ApiKey(id=key_id, tenant=tenant, prefix=prefix, hashed_key=digest)
    found = find_by_prefix(
        ApiKey, digest_field="hashed_key", setting="app.api_key_prefix", prefix=prefix, digest=digest
    )
    if found is None:
        return None
    key_id, tenant_id = found
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return None
    if tenant.is_active:  # a suspended firm's key is found (to be refused with 403) but not remembered
        known_keys.remember(digest, key_id, prefix, tenant)
    return ApiKey(id=key_id, tenant=tenant, prefix=prefix, hashed_key=digest)


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
    if not api_key.tenant.is_active:
        # A real key of a suspended firm: no firm scope for the request; ApiKeyAuthentication answers 403.
        request.api_key_firm_suspended = True
        return None
    request.api_key = api_key
    return Resolution(tenant=api_key.tenant, user_id=None, api_key_id=api_key.id)


class FirmSuspended(exceptions.PermissionDenied):
    """A good key of a firm whose account is suspended (or not yet approved): known, and refused."""

    default_detail = _("This firm's account is suspended.")
    default_code = "firm_suspended"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        if not getattr(request._request, "api_key_presented", False):
            return None
        found = request._request.api_key
        if found is None:
            if getattr(request._request, "api_key_firm_suspended", False):
                raise FirmSuspended
            raise exceptions.AuthenticationFailed(_("Unknown or revoked API key."))
        # The full row with its firm, now inside the firm's scope, on every request: revoked since the
        # firm was resolved (or since this process remembered the key), or its firm switched off, is refused.
        api_key = ApiKey.objects.select_related("tenant").filter(pk=found.pk).first()
        if api_key is None or api_key.revoked_at is not None or not api_key.tenant.is_active:
            known_keys.forget(found.hashed_key)
            if api_key is not None and api_key.revoked_at is None:
                raise FirmSuspended
            raise exceptions.AuthenticationFailed(_("Unknown or revoked API key."))
        if _firm_changed(api_key.tenant, found.tenant):
            known_keys.remember(found.hashed_key, api_key.pk, api_key.prefix, api_key.tenant)
        now = timezone.now()
        # At most one write a minute per key, however many requests it makes.
        if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_EVERY:
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        throttle = ApiKeyRateThrottle()
        if not throttle.allow_key(request, api_key):
            raise exceptions.Throttled(throttle.wait())
        return Partner(api_key), api_key

    def authenticate_header(self, request):
        return KEYWORD


def _firm_changed(fresh: Tenant, remembered: Tenant) -> bool:
    """The firm's name, time zone or language changed since the process remembered it: remember the new row
    (this request already ran with the old one)."""
    return any(getattr(fresh, name) != getattr(remembered, name) for name in TENANT_FIELDS)
