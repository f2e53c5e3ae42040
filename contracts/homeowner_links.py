"""The signed link a homeowner opens on their phone to accept a quotation version, without an account.

The token names the firm and the version (``renocrm.links``) and is time-stamped: a changed character or
an old link is refused. The link works only while the version is open for acceptance — once accepted,
superseded or replaced by a later version it opens no form, which is how staff withdraw it.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from renocrm import links
from renocrm.tenancy.context import tenant_context

from .models import QuotationVersion

SALT = "contracts.quotation-version-accept"
MAX_AGE = timedelta(days=14)

EXPIRED = _("This link has expired. Please ask your designer for a new one.")
INVALID = _("This link is not valid. Please check that you opened the whole link, or ask your designer for a new one.")
CLOSED = _("This quotation version is no longer open for acceptance. Please ask your designer for the current one.")
# An inactive firm's link reads as not valid.
REFUSED = {links.EXPIRED: EXPIRED, links.INVALID: INVALID, links.INACTIVE: INVALID}


def token_for(version: QuotationVersion) -> str:
    return links.make_token(version, salt=SALT)


def url_for(version: QuotationVersion) -> str:
    return reverse("contracts:homeowner-accept", args=[token_for(version)])


@contextmanager
def open_version(token: str):
    """Yields (version, None) inside the firm's context, or (None, the reason shown to the homeowner)."""
    firm, version_id, refused = links.read_token(token, salt=SALT, max_age=MAX_AGE)
    if refused:
        yield None, REFUSED[refused]
        return
    with tenant_context(firm):
        version = (
            QuotationVersion.objects.select_related("quotation__lead__customer", "tenant")
            .filter(pk=version_id, status__in=[QuotationVersion.Status.SENT, QuotationVersion.Status.ACCEPTED])
            .first()
        )
        if version is None:
            yield None, CLOSED
        else:
            yield version, None
