"""Reads for the personal-data page: the retention rule, the firm's exports, the request log and the
record of who looked at which contact details. The three lists are keyset pages, newest first."""

from __future__ import annotations

from renocrm.audit.records import RecordNames, field_name, model_for_label
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


def privacy_log_describe(*, requests, reveals) -> None:
    """Name the records the request log and the reveal log mention, with their pages, in one query:
    ``subject`` on each request, ``record`` and ``field_label`` on each reveal."""
    names = RecordNames()
    for row in requests:
        names.want(model_for_label(row.subject_type), row.subject_id)
    for reveal in reveals:
        names.want(model_for_label(reveal.record_type), reveal.record_id)
    names.load()
    for row in requests:
        row.subject = names.named(model_for_label(row.subject_type), row.subject_id, fallback=row.subject_type)
    for reveal in reveals:
        model = model_for_label(reveal.record_type)
        reveal.record = names.named(model, reveal.record_id, fallback=reveal.record_type)
        reveal.field_label = field_name(model, reveal.field)
