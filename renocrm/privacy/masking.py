"""Masking of homeowners' contact details (PIPL): a mobile number shows as 138****1234 and an address as
its first few characters, in pages, API answers, exports and logs, to anyone not entitled to see them.

Who may see them: a staff member whose role has "contacts.view", or a partner key with the "contacts:read"
scope. On pages even they see the masked form first and reveal a record's details with one click, which is
recorded (``ContactReveal``); the API and exports hand the full values to those entitled."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

CONTACTS_PERMISSION = "contacts.view"
CONTACTS_SCOPE = "contacts:read"
MASK = "****"

# A mainland mobile number standing alone (not part of a longer digit run such as an id or an amount).
_MOBILE_IN_TEXT = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask_mobile(value: str | None) -> str:
    if not value:
        return value or ""
    if len(value) >= 8:
        return f"{value[:3]}{MASK}{value[-4:]}"
    return MASK


def mask_address(value: str | None) -> str:
    """The start of the address (city and district, roughly) and nothing that finds the door."""
    if not value:
        return value or ""
    return f"{value[: min(6, len(value) // 2)]}{MASK}"


def mask_text(value: str) -> str:
    """Every mobile number inside free text (log lines, notes) masked."""
    return _MOBILE_IN_TEXT.sub(rf"\1{MASK}\2", value)


MASKERS = {"mobile": mask_mobile, "address": mask_address}


def mask(kind: str, value: str | None) -> str:
    return MASKERS[kind](value)


def may_see_contacts(request) -> bool:
    """Whether this request's principal (a signed-in staff member, or a partner's API key) is entitled to
    full contact details. Works with Django's request and DRF's."""
    django_request = getattr(request, "_request", request)
    cached = getattr(django_request, "_may_see_contacts", None)
    if cached is None:
        if getattr(django_request, "api_key_presented", False):
            # DRF's ``request.auth`` is the authenticated key with its scopes; anything less sees masked.
            scopes = getattr(getattr(request, "auth", None), "scopes", None) or []
            cached = CONTACTS_SCOPE in scopes
        else:
            membership = getattr(django_request, "membership", None)
            cached = membership is not None and membership.has_perm(CONTACTS_PERMISSION)
        django_request._may_see_contacts = cached
    return cached


def shown(request, kind: str, value: str | None) -> str:
    """The value as this request may see it in an API answer or an export: full, or masked."""
    return value or "" if may_see_contacts(request) else mask(kind, value)


# Records whose contact fields can be revealed on a page, registered by the app that owns them:
# {"leads.customer": {"mobile": "mobile"}} — record type -> {field name: kind}.
@dataclass(frozen=True)
class ContactFields:
    model: type
    fields: dict[str, str]


_revealable: dict[str, ContactFields] = {}


def register_contact_fields(model, **fields: str) -> None:
    """``register_contact_fields(Customer, mobile="mobile")`` from an app's ``ready``: the page tag
    ``{% contact customer "mobile" %}`` may then reveal that field."""
    _revealable[model._meta.label_lower] = ContactFields(model=model, fields=fields)


def revealable(record_type: str) -> ContactFields | None:
    return _revealable.get(record_type)


class MaskContactsFilter(logging.Filter):
    """Logging filter on every handler: mobile numbers never reach a log line in full."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
