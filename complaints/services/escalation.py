"""Writes for escalation: staff moving a complaint one level up at once, and the beat sweep that moves a
complaint one level up when its clock runs out.

Clocks: an escalation by the sweep starts the next level's clocks at the time of the sweep, never in the
past: after a long outage a complaint whose level-1 and level-2 deadlines both lie behind it moves to
level 2 only, with fresh clocks, and on to level 3 only if those run out too.

Exactly once: each breach of one level's clock in one cycle is one ``ComplaintEscalation`` row (a unique
key), written in the transaction that moves the complaint; sweeps claim complaints with
``SKIP LOCKED``, so two sweeps at once never both act on one complaint.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from complaints.models import Complaint, ComplaintEntry, ComplaintEscalation, ComplaintSettings
from complaints.selectors import breach_of, level_owner
from complaints.services._common import CLOCK_FIELDS, local, locked_active, log, start_clocks, tell, tell_owner
from complaints.services.settings import complaint_settings_get
from renocrm.outbox.services import event_emit
from renocrm.sweeps.services import Sweep
from renocrm.tenancy.context import require_current_tenant

TOP_LEVEL = 3
# The sweeper's name in renocrm.sweeps (its failures and backoff).
ESCALATION_SWEEP = "complaint-escalation"
Kind = ComplaintEntry.Kind

# Marked here, translated when sent, in the firm's language.
ESCALATED_HEADLINE = gettext_noop("A complaint was escalated to you: the clock at the level below ran out.")
ESCALATED_BY_STAFF_HEADLINE = gettext_noop("A complaint was escalated to you.")
TOP_BREACH_HEADLINE = gettext_noop(
    "A complaint at the top level has run past its deadline; there is no level above to escalate to."
)


def _move_up(complaint: Complaint, *, settings: ComplaintSettings, now: datetime) -> int:
    """Move the complaint to the next level with that level's owner and fresh clocks; returns from_level.
    Its status and a response already given stand: escalating raises who answers for the complaint, it does
    not undo its handling (a complaint in progress stays in progress, on the new level's resolve clock)."""
    from_level = complaint.level
    complaint.level = from_level + 1
    complaint.owner = level_owner(complaint.level, settings=settings, project=complaint.project)
    start_clocks(complaint, settings=settings, now=now, keep_response=True)
    complaint.save(update_fields=["level", "owner", *CLOCK_FIELDS])
    return from_level


@transaction.atomic
def complaint_escalate(*, complaint: Complaint, by, reason: str) -> Complaint:
    """Staff move the complaint to the next level at once (the customer insists, it is serious …)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the complaint is escalated.")})
    complaint = locked_active(complaint)
    if complaint.level >= TOP_LEVEL:
        raise ValidationError(_("This complaint is already at the top level."), code="top_level")
    settings = complaint_settings_get()
    now = timezone.now()
    from_level = _move_up(complaint, settings=settings, now=now)
    log(complaint, Kind.ESCALATED, text=reason, by=by, at=now)
    tell_owner(
        complaint,
        key=f"complaint-escalated:{complaint.pk}:{complaint.cycle}:{from_level}",
        headline=ESCALATED_BY_STAFF_HEADLINE,
    )
    event_emit(
        event_type="complaint.escalated",
        payload={"id": complaint.pk, "from_level": from_level, "to_level": complaint.level, "breach": "manual"},
    )
    return complaint


@transaction.atomic
def complaints_escalate_overdue(*, now: datetime | None = None, sweep: Sweep | None = None) -> int:
    """Move every active complaint whose current clock ran out one level up (at most one level per sweep;
    the new level's clocks start now), or, at the top level, record the breach once and tell the general
    manager. One bounded batch, each complaint in its own savepoint: one that fails is recorded and retried
    later (``renocrm.sweeps``) while the others go through. Returns how many breaches were handled. Safe to
    run twice and concurrently."""
    now = now or timezone.now()
    sweep = sweep or Sweep(ESCALATION_SWEEP)
    already = ComplaintEscalation.objects.filter(
        complaint=OuterRef("pk"), cycle=OuterRef("cycle"), from_level=OuterRef("level")
    )
    due = (
        Complaint.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("customer", "project")
        .filter(status__in=Complaint.ACTIVE_STATUSES)
        .filter(Q(responded_at__isnull=True, respond_by__lte=now) | Q(resolve_by__lte=now))
        .filter(~Exists(already))
        .order_by("respond_by", "id")
    )
    settings = None
    handled = 0
    for complaint in sweep.batch(due):
        if breach_of(complaint, now) is None:  # moved on by someone else between the query and the lock
            continue
        settings = settings or ComplaintSettings.objects.select_related("department_head", "general_manager").get(
            pk=complaint_settings_get().pk
        )
        handled += sweep.run(complaint.pk, _escalate, complaint, settings=settings, now=now) or 0
    return handled


def _escalate(complaint: Complaint, *, settings: ComplaintSettings, now: datetime) -> int:
    """One complaint's breach: 1 when this run recorded it, 0 when another sweep had."""
    tenant = require_current_tenant()
    kind, deadline = breach_of(complaint, now)
    from_level, cycle = complaint.level, complaint.cycle
    try:
        with transaction.atomic():
            escalation = ComplaintEscalation.objects.create(
                complaint=complaint,
                cycle=cycle,
                from_level=from_level,
                to_level=min(from_level + 1, TOP_LEVEL),
                breach=kind,
                deadline=deadline,
            )
    except IntegrityError:  # another sweep recorded this breach a moment ago
        return 0
    with translation.override(tenant.language):
        breach_label = str(ComplaintEscalation.Breach(kind).label)
        if from_level < TOP_LEVEL:
            _move_up(complaint, settings=settings, now=now)
            text = _("%(breach)s (deadline %(deadline)s): moved from level %(from)s to level %(to)s.") % {
                "breach": breach_label,
                "deadline": local(deadline),
                "from": from_level,
                "to": complaint.level,
            }
            headline = ESCALATED_HEADLINE
        else:
            # Nobody above the general manager: record the breach and make sure they know.
            text = _("%(breach)s (deadline %(deadline)s) at the top level.") % {
                "breach": breach_label,
                "deadline": local(deadline),
            }
            headline = TOP_BREACH_HEADLINE
    log(complaint, Kind.ESCALATED, text=text, at=now)
    key = f"complaint-escalated:{complaint.pk}:{cycle}:{from_level}"
    if from_level < TOP_LEVEL:
        told = complaint.owner if tell_owner(complaint, key=key, headline=headline) else None
    else:
        told = _tell_general_manager(complaint, settings=settings, key=key)
    if told is not None:
        escalation.notified = told
        escalation.save(update_fields=["notified"])
    event_emit(
        event_type="complaint.escalated",
        payload={"id": complaint.pk, "from_level": from_level, "to_level": escalation.to_level, "breach": kind},
    )
    return 1


def _tell_general_manager(complaint: Complaint, *, settings: ComplaintSettings, key: str):
    """Tell the top level's owner that a complaint ran past its last deadline; returns them if told."""
    manager = level_owner(TOP_LEVEL, settings=settings)
    if manager is None:
        return None
    return manager if tell(manager, complaint, key=key, headline=TOP_BREACH_HEADLINE) else None
