"""Signed links for people without an account: the homeowner's quotation link, the homeowner portal.

A token is the pair [firm id, record id], signed with the site's secret under a salt of its own, so a
token made for one purpose opens nothing else, and time-stamped, so a caller may refuse old ones. The
signature only proves the app made the token: what the record says (its status, expiry, revocation) is for
the caller to check, inside ``tenant_context(firm)``.
"""

from __future__ import annotations

from datetime import timedelta

from django.core import signing

from renocrm.tenancy.models import Tenant

# Why a token was refused; each caller words these for the person holding the link.
EXPIRED = "expired"  # older than the caller's max_age
INVALID = "invalid"  # tampered, cut short, made for another purpose, or naming no firm
INACTIVE = "inactive"  # the firm it names is no longer active


def make_token(record, *, salt: str) -> str:
    """A token naming ``record``'s firm and the record."""
    return signing.dumps([record.tenant_id, record.pk], salt=salt, compress=True)


def read_token(token: str, *, salt: str, max_age: timedelta | None = None) -> tuple[Tenant | None, int | None, str]:
    """(firm, record id, "") for a genuine token naming an active firm, else (None, None, EXPIRED, INVALID
    or INACTIVE). The record itself is not loaded: the caller does that inside the firm's context."""
    try:
        tenant_id, pk = signing.loads(token, salt=salt, max_age=max_age)
        tenant_id, pk = int(tenant_id), int(pk)
    except signing.SignatureExpired:
        return None, None, EXPIRED
    except (signing.BadSignature, ValueError, TypeError):
        return None, None, INVALID
    firm = Tenant.objects.filter(pk=tenant_id).first()
    if firm is None:
        return None, None, INVALID
    if not firm.is_active:
        return None, None, INACTIVE
    return firm, pk, ""
