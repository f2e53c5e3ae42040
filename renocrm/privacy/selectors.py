"""Reads for the personal-data page: the retention rule, the firm's exports, the request log and the
record of who looked at which contact details. The three lists are keyset pages, newest first."""

from __future__ import annotations

from renocrm.paging import keyset_page

from .models import ContactReveal, DataRequest, FirmExport, PrivacySettings

# Exports are few and each is a large file: a short page is plenty.
EXPORTS_PAGE = 20


def privacy_settings() -> PrivacySettings:
    """The firm's settings, or the defaults (unsaved) while it has none."""
    return PrivacySettings.objects.first() or PrivacySettings()


def firm_export_page(*, before: int | None = None):
    """One keyset page of the firm's exports and the key of the next page."""
    return keyset_page(FirmExport.objects.select_related("requested_by"), before=before, size=EXPORTS_PAGE)


def data_request_page(*, before: int | None = None):
    """One keyset page of the homeowners' export and erasure requests and the key of the next page."""
    return keyset_page(DataRequest.objects.select_related("requested_by"), before=before)


def contact_reveal_page(*, before: int | None = None):
    """One keyset page of the contact reveals and the key of the next page."""
    return keyset_page(ContactReveal.objects.select_related("user", "api_key"), before=before)
