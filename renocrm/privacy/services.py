from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from .models import ContactReveal, PrivacySettings


@transaction.atomic
def contact_reveal(*, record, field: str, user, page: str = "") -> str:
    """The record's full ``field``, with a ``ContactReveal`` row saying who saw it, when and from where."""
    ContactReveal.objects.create(
        user=user,
        record_type=record._meta.label_lower,
        record_id=str(record.pk),
        field=field,
        page=page[:300],
    )
    return getattr(record, field) or ""


def contact_reveals_record(*, reveals: list[tuple[str, str, str]], user=None, api_key=None, page: str = "") -> None:
    """Record that ``user`` or ``api_key`` was handed the full ``(record type, record id, field)`` values,
    in one INSERT: an API answer listing a page of customers is one statement more, not one a row."""
    at = timezone.now()
    ContactReveal.objects.bulk_create(
        [
            ContactReveal(
                user=user,
                api_key=api_key,
                record_type=record_type,
                record_id=record_id,
                field=field,
                page=page[:300],
                at=at,
            )
            for record_type, record_id, field in dict.fromkeys(reveals)
        ]
    )


@transaction.atomic
def privacy_settings_update(*, lost_lead_retention_days: int) -> PrivacySettings:
    """Set how long the firm keeps lost leads before the retention sweep anonymises them; the model's
    validator refuses less than its minimum (a refused change rolls back with the transaction)."""
    settings, _created = PrivacySettings.objects.select_for_update().get_or_create()
    settings.lost_lead_retention_days = lost_lead_retention_days
    settings.clean_fields(exclude=["tenant"])
    settings.save(update_fields=["lost_lead_retention_days"])
    return settings
