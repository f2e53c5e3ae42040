from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from .authentication import generate_key
from .models import ApiKey, hash_key


@transaction.atomic
def api_key_create(*, name: str, scopes: list[str], rate: str = "") -> tuple[ApiKey, str]:
    """A new key for the current firm and its raw value, which is never stored and shown only now."""
    raw_key, prefix = generate_key()
    api_key = ApiKey.objects.create(name=name, prefix=prefix, hashed_key=hash_key(raw_key), scopes=scopes, rate=rate)
    return api_key, raw_key


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key
