"""Reads for the personal-data page: the retention rule, the firm's exports, the request log and the
record of who looked at which contact details."""

from __future__ import annotations

from renocrm.paging import keyset_page

from .models import ContactReveal, DataRequest, FirmExport, PrivacySettings

RECENT = 20


def privacy_settings() -> PrivacySettings:
    """The firm's settings, or the defaults (unsaved) while it has none."""
    return PrivacySettings.objects.first() or PrivacySettings()


def firm_exports(*, limit: int = RECENT) -> list[FirmExport]:
    return list(FirmExport.objects.select_related("requested_by").order_by("-created_at", "-id")[:limit])


def data_requests(*, limit: int = 50) -> list[DataRequest]:
    return list(DataRequest.objects.select_related("requested_by").order_by("-created_at", "-id")[:limit])


def contact_reveal_page(*, before: int | None = None):
    """One keyset page of the contact reveals, newest first, and the key of the next page."""
    return keyset_page(ContactReveal.objects.select_related("user"), before=before)
