"""The operator's actions on a firm's account. Each is one transaction: the firm's new status and the record
of who changed it, when and why.

Suspending keeps every row of the firm: its users fall through to the no-firm page (which says why), its API
keys are refused with 403 and beat skips it (``renocrm.celery.each_active_firm``), all because ``is_active``
follows the status. Reactivating gives it all back as it was."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from renocrm.tenancy.models import Tenant

from .models import FirmStatusChange

logger = logging.getLogger(__name__)

S = Tenant.Status


def firm_approve(*, firm: Tenant, by) -> Tenant:
    """A firm that signed up while sign-up needed approval starts its trial."""
    return _change(firm=firm, to=S.TRIAL, allowed_from={S.PENDING}, by=by)


def firm_suspend(*, firm: Tenant, by, reason: str) -> Tenant:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the firm is suspended.")})
    return _change(firm=firm, to=S.SUSPENDED, allowed_from={S.PENDING, S.TRIAL, S.ACTIVE}, by=by, reason=reason)


def firm_reactivate(*, firm: Tenant, by, reason: str = "") -> Tenant:
    """A suspended firm back at work, or a trial made a regular account: either way it is active."""
    return _change(firm=firm, to=S.ACTIVE, allowed_from={S.SUSPENDED, S.TRIAL}, by=by, reason=(reason or "").strip())


# Marked for translation here, translated when refused.
_REFUSED = {
    S.TRIAL: gettext_noop("Only a firm awaiting approval can be approved."),
    S.SUSPENDED: gettext_noop("This firm is already suspended."),
    S.ACTIVE: gettext_noop("Only a suspended firm or one on trial can be activated."),
}


@transaction.atomic
def _change(*, firm: Tenant, to: str, allowed_from: set, by, reason: str = "") -> Tenant:
    if by is None or not (by.is_active and by.is_superuser):
        raise PermissionDenied
    # Locked, so two operators acting at once see each other's change rather than both recording theirs.
    locked = Tenant.objects.select_for_update().get(pk=firm.pk)
    if locked.status not in allowed_from:
        raise ValidationError(_(_REFUSED[to]), code="status")
    from_status = locked.status
    now = timezone.now()
    locked.status, locked.status_changed_at = to, now
    locked.save(update_fields=["status", "status_changed_at"])
    locked.refresh_from_db(fields=["is_active"])  # a generated column: the database computed it
    FirmStatusChange.objects.create(
        firm=locked, from_status=from_status, to_status=to, reason=reason, changed_by=by, changed_at=now
    )
    logger.info("firm %s (%s): status %s -> %s by %s", locked.pk, locked.slug, from_status, to, by.username)
    return locked
