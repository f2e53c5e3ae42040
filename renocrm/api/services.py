from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .authentication import generate_key
from .models import ApiKey, hash_key


@transaction.atomic
def api_key_create(
    *, name: str, scopes: list[str], rate: str = "", granted_by: ApiKey | None = None
) -> tuple[ApiKey, str]:
    """A new key for the current firm and its raw value, which is never stored and shown only now.

    A key made by another key (``granted_by``) gets no scope its maker lacks: otherwise a key trusted only
    with the integration settings could mint one that reads every contact detail."""
    if granted_by is not None:
        beyond = sorted(set(scopes) - set(granted_by.scopes))
        if beyond:
            raise ValidationError(
                {
                    "scopes": [
                        _("A key can only grant scopes it holds itself; not held: %(scopes)s.")
                        % {"scopes": ", ".join(beyond)}
                    ]
                }
            )
    raw_key, prefix = generate_key()
    api_key = ApiKey.objects.create(name=name, prefix=prefix, hashed_key=hash_key(raw_key), scopes=scopes, rate=rate)
    return api_key, raw_key


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key
