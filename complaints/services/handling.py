"""Writes for handling a complaint at its level — front line, department head, general manager — each
with its own clocks: the response, notes, handing it to someone else, the resolution, the result reported
to the customer and their verdict. A verdict of not satisfied reopens the complaint in a new cycle."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from complaints.models import Complaint, ComplaintEntry
from complaints.services._common import CLOCK_FIELDS, locked, locked_active, log, start_clocks, tell_owner
from complaints.services.settings import complaint_settings_get
from renocrm.accounts.staff import require_staff_role
from renocrm.outbox.services import event_emit

Kind = ComplaintEntry.Kind
Status = Complaint.Status

# Marked here, translated when sent, in the firm's language.
REASSIGNED_HEADLINE = gettext_noop("A complaint was handed to you.")


@transaction.atomic
def complaint_respond(*, complaint: Complaint, by, text: str = "") -> Complaint:
    """The first response at the current level (the customer was contacted): stops the respond clock."""
    complaint = locked_active(complaint)
    if complaint.responded_at is not None:
        raise ValidationError(_("This complaint was already responded to at this level."), code="responded")
    now = timezone.now()
    complaint.responded_at, complaint.status = now, Status.IN_PROGRESS
    complaint.save(update_fields=["responded_at", "status"])
    log(complaint, Kind.RESPONDED, text=(text or "").strip(), by=by, at=now)
    return complaint


@transaction.atomic
def complaint_note_add(*, complaint: Complaint, by, text: str) -> ComplaintEntry:
    """A note in the handling log (at any stage, also after closing)."""
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("Write the note.")})
    complaint = locked(complaint)
    return log(complaint, Kind.NOTE, text=text, by=by)


@transaction.atomic
def complaint_reassign(*, complaint: Complaint, owner, by, reason: str = "") -> Complaint:
    """Hand the complaint to someone else at the same level; the clocks keep running."""
    complaint = locked_active(complaint)
    if owner is None:
        raise ValidationError({"owner": _("Choose who handles the complaint.")})
    require_staff_role(owner, field="owner")
    if owner.pk == complaint.owner_id:
        raise ValidationError({"owner": _("%(user)s already handles this complaint.") % {"user": owner}})
    previous = complaint.owner
    complaint.owner = owner
    complaint.save(update_fields=["owner"])
    text = _("%(old)s → %(new)s") % {"old": previous or _("nobody"), "new": owner}
    if reason.strip():
        text = f"{text}: {reason.strip()}"
    entry = log(complaint, Kind.REASSIGNED, text=text, by=by)
    tell_owner(complaint, key=f"complaint-reassigned:{complaint.pk}:{entry.pk}", headline=REASSIGNED_HEADLINE)
    return complaint


@transaction.atomic
def complaint_resolve(*, complaint: Complaint, by, resolution: str, root_cause: str) -> Complaint:
    """Record how the complaint was resolved and why it arose. Resolving also counts as the response."""
    errors = {}
    resolution = (resolution or "").strip()
    if not resolution:
        errors["resolution"] = _("Say how the complaint was resolved.")
    if root_cause not in Complaint.RootCause.values:
        errors["root_cause"] = _("Choose the root cause.")
    if errors:
        raise ValidationError(errors)
    complaint = locked_active(complaint)
    now = timezone.now()
    complaint.status, complaint.resolved_at = Status.RESOLVED, now
    complaint.resolution, complaint.root_cause = resolution, root_cause
    complaint.responded_at = complaint.responded_at or now
    complaint.save(update_fields=["status", "resolved_at", "resolution", "root_cause", "responded_at"])
    log(complaint, Kind.RESOLVED, text=f"{complaint.get_root_cause_display()}: {resolution}", by=by, at=now)
    event_emit(
        event_type="complaint.resolved",
        payload={"id": complaint.pk, "level": complaint.level, "root_cause": complaint.root_cause},
    )
    return complaint


@transaction.atomic
def complaint_report(*, complaint: Complaint, by, text: str = "") -> Complaint:
    """The result was reported to the customer, who may now give their verdict."""
    complaint = locked(complaint)
    if complaint.status != Status.RESOLVED:
        raise ValidationError(_("Only a resolved complaint can be reported to the customer."), code="not_resolved")
    if complaint.reported_at is not None:
        raise ValidationError(_("The result was already reported to the customer."), code="reported")
    now = timezone.now()
    complaint.reported_at = now
    complaint.save(update_fields=["reported_at"])
    log(complaint, Kind.REPORTED, text=(text or "").strip(), by=by, at=now)
    return complaint


@transaction.atomic
def complaint_verdict_record(*, complaint: Complaint, verdict: str, comment: str = "", by=None) -> Complaint:
    """The customer's verdict on the reported result. Satisfied: the complaint closes. Not satisfied: it
    opens again at the same level in a new cycle with fresh clocks, and counts as open."""
    if verdict not in Complaint.Verdict.values:
        raise ValidationError({"verdict": _("Say whether the customer is satisfied.")})
    complaint = locked(complaint)
    if complaint.status != Status.RESOLVED or complaint.reported_at is None:
        raise ValidationError(
            _("The customer's verdict is taken once the result has been reported to them."), code="not_reported"
        )
    now = timezone.now()
    comment = (comment or "").strip()
    complaint.verdict, complaint.verdict_at = verdict, now
    label = complaint.get_verdict_display()
    log(complaint, Kind.VERDICT, text=f"{label}: {comment}" if comment else str(label), by=by, at=now)
    if verdict == Complaint.Verdict.SATISFIED:
        complaint.status, complaint.closed_at = Status.CLOSED, now
        complaint.save(update_fields=["verdict", "verdict_at", "status", "closed_at"])
        log(complaint, Kind.CLOSED, by=by, at=now)
        return complaint
    complaint.status, complaint.cycle = Status.OPEN, complaint.cycle + 1
    complaint.resolved_at, complaint.reported_at = None, None
    start_clocks(complaint, settings=complaint_settings_get(), now=now)
    complaint.save(
        update_fields=["verdict", "verdict_at", "status", "cycle", "resolved_at", "reported_at", *CLOCK_FIELDS]
    )
    log(complaint, Kind.REOPENED, text=comment, by=by, at=now)
    return complaint
