"""What every step of handling a complaint shares: the clocks a level starts, telling staff what a
complaint now asks of them, the entry in its handling log and the lock on its row.

Clocks: a level's clocks (respond by, resolve by) start when the complaint reaches the level, with the
firm's hours for that level. A response already given stands when the complaint moves up (the customer was
answered; the new level's running clock is the time to resolve). A reopening (the customer is not
satisfied) starts a new cycle with fresh clocks at the same level, unanswered.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from complaints.models import Complaint, ComplaintEntry, ComplaintSettings
from renocrm.outbox.services import notify_staff
from renocrm.tenancy.context import require_current_tenant

# Clocks -----------------------------------------------------------------------------------------------------


def start_clocks(
    complaint: Complaint, *, settings: ComplaintSettings, now: datetime, keep_response: bool = False
) -> None:
    respond, resolve = settings.hours(complaint.level)
    complaint.level_started_at = now
    complaint.respond_by = now + timedelta(hours=respond)
    complaint.resolve_by = now + timedelta(hours=resolve)
    if not keep_response:
        complaint.responded_at = None


CLOCK_FIELDS = ["level_started_at", "respond_by", "resolve_by", "responded_at"]


# Messages ---------------------------------------------------------------------------------------------------


def local(moment: datetime) -> str:
    return timezone.localtime(moment, require_current_tenant().zone).strftime("%Y-%m-%d %H:%M")


def _notify(user, *, subject: str, body: str, key: str, link: str = "") -> bool:
    return notify_staff(user, subject=subject, body=body, idempotency_key=key, link=link) is not None


def _context(complaint: Complaint) -> dict:
    tenant = require_current_tenant()
    return {
        "id": complaint.pk,
        "category": complaint.get_category_display(),
        "customer": str(complaint.customer),
        "level": complaint.level,
        "respond_by": local(complaint.respond_by),
        "resolve_by": local(complaint.resolve_by),
        "firm": tenant.name,
    }


def tell(user, complaint: Complaint, *, key: str, headline: str) -> bool:
    """Tell ``user`` what the complaint now asks of them and by when, in the firm's language."""
    tenant = require_current_tenant()
    with translation.override(tenant.language):
        context = _context(complaint)
        subject = _("Complaint #%(id)s (level %(level)s): %(category)s") % context
        body = (
            _(headline) % context
            + " "
            + _(
                "Complaint #%(id)s from %(customer)s (%(category)s), level %(level)s: respond by %(respond_by)s, "
                "resolve by %(resolve_by)s. — %(firm)s"
            )
            % context
        )
    return _notify(user, subject=subject, body=body, key=key, link=reverse("complaints:detail", args=[complaint.pk]))


def tell_owner(complaint: Complaint, *, key: str, headline: str) -> bool:
    """Tell the complaint's owner what they now answer for and by when."""
    return tell(complaint.owner, complaint, key=key, headline=headline)


# The handling log -------------------------------------------------------------------------------------------


def log(complaint: Complaint, kind: str, *, text: str = "", by=None, at: datetime | None = None) -> ComplaintEntry:
    return ComplaintEntry.objects.create(
        complaint=complaint, kind=kind, level=complaint.level, text=text, at=at or timezone.now(), by=by
    )


# Locks ------------------------------------------------------------------------------------------------------


def locked(complaint: Complaint) -> Complaint:
    return Complaint.objects.select_for_update(of=("self",)).select_related("customer").get(pk=complaint.pk)


def locked_active(complaint: Complaint) -> Complaint:
    complaint = locked(complaint)
    if complaint.status not in Complaint.ACTIVE_STATUSES:
        raise ValidationError(
            _("This complaint is %(status)s; it is no longer being handled.")
            % {"status": complaint.get_status_display()},
            code="not_active",
        )
    return complaint
