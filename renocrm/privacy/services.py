from __future__ import annotations

from django.db import transaction

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


@transaction.atomic
def privacy_settings_update(*, lost_lead_retention_days: int) -> PrivacySettings:
    """Set how long the firm keeps lost leads before the retention sweep anonymises them; the model's
    validator refuses less than its minimum (a refused change rolls back with the transaction)."""
    settings, _created = PrivacySettings.objects.select_for_update().get_or_create()
    settings.lost_lead_retention_days = lost_lead_retention_days
    settings.clean_fields(exclude=["tenant"])
    settings.save(update_fields=["lost_lead_retention_days"])
    return settings
