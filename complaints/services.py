"""Writes for complaints (投诉): intake from every channel, handling at three levels — front line,
department head, general manager — each with its own clocks, the result reported to the customer and
their verdict, and the beat sweep that moves a complaint one level up when its clock runs out.

Clocks: a level's clocks (respond by, resolve by) start when the complaint reaches the level, with the
firm's hours for that level. A reopening (the customer is not satisfied) starts a new cycle with fresh
clocks at the same level. An escalation by the sweep starts the next level's clocks at the time of the
sweep, never in the past: after a long outage a complaint whose level-1 and level-2 deadlines both lie
behind it moves to level 2 only, with fresh clocks, and on to level 3 only if those run out too.

Exactly once: each breach of one level's clock in one cycle is one ``ComplaintEscalation`` row (a unique
key), written in the transaction that moves the complaint; sweeps claim complaints with
``SKIP LOCKED``, so two sweeps at once never both act on one complaint.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from complaints.models import Complaint, ComplaintEntry, ComplaintEscalation, ComplaintSettings
from contracts.models import TradeCategory
from renocrm.accounts.staff import firm_admins, require_staff_role
from renocrm.outbox.services import event_emit, notify_staff
from renocrm.sweeps.services import Sweep
from renocrm.tenancy.context import require_current_tenant
from worksites.models import PortalAction, Worksite
from worksites.services.portal import portal_action_record

TOP_LEVEL = 3
# The sweeper's name in renocrm.sweeps (its failures and backoff).
ESCALATION_SWEEP = "complaint-escalation"
Kind = ComplaintEntry.Kind
Status = Complaint.Status


# Settings and owners ---------------------------------------------------------------------------------------


def complaint_settings_get() -> ComplaintSettings:
    """The firm's complaint settings, created with the default hours the first time they are needed."""
    settings, _created = ComplaintSettings.objects.get_or_create()
    return settings


@transaction.atomic
def complaint_settings_update(*, department_head=None, general_manager=None, **hours: int) -> ComplaintSettings:
    """Set the hours of each level (``level<n>_respond_hours`` / ``level<n>_resolve_hours``) and the owners
    of levels 2 and 3. New hours apply to clocks started from now on."""
    settings = ComplaintSettings.objects.select_for_update().get(pk=complaint_settings_get().pk)
    errors = {}
    for level in (1, 2, 3):
        for kind in ("respond", "resolve"):
            name = f"level{level}_{kind}_hours"
            if name not in hours:
                continue
            value = hours.pop(name)
            if value is None or not 1 <= int(value) <= 24 * 60:
                errors[name] = _("Enter between 1 and 1440 hours.")
            else:
                setattr(settings, name, int(value))
    if hours:
        raise TypeError(f"unknown settings: {', '.join(hours)}")
    for level in (1, 2, 3):
        respond, resolve = settings.hours(level)
        checked = f"level{level}_respond_hours" not in errors and f"level{level}_resolve_hours" not in errors
        if checked and respond > resolve:
            errors[f"level{level}_respond_hours"] = _("The time to respond cannot be longer than the time to resolve.")
    for field, user in (("department_head", department_head), ("general_manager", general_manager)):
        try:
            require_staff_role(user, field=field)
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    settings.department_head, settings.general_manager = department_head, general_manager
    settings.full_clean()
    settings.save()
    return settings


def first_active_admin():
    """The firm's first active admin, who answers for level 3 when no general manager is set."""
    return firm_admins().first()


def front_line_owner(project):
    """Level 1 of a project's complaint: the worksite's customer service agent, else its project manager."""
    if project is None:
        return None
    worksite = Worksite.objects.filter(project=project).select_related("customer_service", "project_manager").first()
    if worksite is None:
        return None
    for user in (worksite.customer_service, worksite.project_manager):
        if user is not None and user.is_active:
            return user
    return None


def level_owner(level: int, *, settings: ComplaintSettings, project=None):
    """Who answers for a complaint at ``level``. Level 2 without a department head goes to the general
    manager, so an escalation never lands with nobody."""
    if level == 1:
        return front_line_owner(project)
    if level == 2 and settings.department_head is not None and settings.department_head.is_active:
        return settings.department_head
    if settings.general_manager is not None and settings.general_manager.is_active:
        return settings.general_manager
    return first_active_admin()


def _start_clocks(complaint: Complaint, *, settings: ComplaintSettings, now: datetime) -> None:
    respond, resolve = settings.hours(complaint.level)
    complaint.level_started_at = now
    complaint.respond_by = now + timedelta(hours=respond)
    complaint.resolve_by = now + timedelta(hours=resolve)
    complaint.responded_at = None


CLOCK_FIELDS = ["level_started_at", "respond_by", "resolve_by", "responded_at"]


# Messages ---------------------------------------------------------------------------------------------------


def _local(moment: datetime) -> str:
    return timezone.localtime(moment, require_current_tenant().zone).strftime("%Y-%m-%d %H:%M")


def _notify(user, *, subject: str, body: str, key: str) -> bool:
    return notify_staff(user, subject=subject, body=body, idempotency_key=key) is not None


def _context(complaint: Complaint) -> dict:
    tenant = require_current_tenant()
    return {
        "id": complaint.pk,
        "category": complaint.get_category_display(),
        "customer": str(complaint.customer),
        "level": complaint.level,
        "respond_by": _local(complaint.respond_by),
        "resolve_by": _local(complaint.resolve_by),
        "firm": tenant.name,
    }


def _tell(user, complaint: Complaint, *, key: str, headline: str) -> bool:
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
    return _notify(user, subject=subject, body=body, key=key)


def _tell_owner(complaint: Complaint, *, key: str, headline: str) -> bool:
    """Tell the complaint's owner what they now answer for and by when."""
    return _tell(complaint.owner, complaint, key=key, headline=headline)


# Marked here, translated when sent, in the firm's language.
OPENED_HEADLINE = gettext_noop("A new complaint is yours to handle.")
ESCALATED_HEADLINE = gettext_noop("A complaint was escalated to you: the clock at the level below ran out.")
ESCALATED_BY_STAFF_HEADLINE = gettext_noop("A complaint was escalated to you.")
REASSIGNED_HEADLINE = gettext_noop("A complaint was handed to you.")
TOP_BREACH_HEADLINE = gettext_noop(
    "A complaint at the top level has run past its deadline; there is no level above to escalate to."
)


def _log(complaint: Complaint, kind: str, *, text: str = "", by=None, at: datetime | None = None) -> ComplaintEntry:
    return ComplaintEntry.objects.create(
        complaint=complaint, kind=kind, level=complaint.level, text=text, at=at or timezone.now(), by=by
    )


# Intake -----------------------------------------------------------------------------------------------------


@transaction.atomic
def complaint_open(
    *,
    customer,
    channel: str,
    category: str,
    description: str,
    project=None,
    severity: str = Complaint.Severity.NORMAL,
    trade: str = "",
    responsible=None,
    owner=None,
    opened_by=None,
    note: str = "",
) -> Complaint:
    """Take a complaint in at level 1 with the level-1 clocks running from now. It is handled by ``owner``
    if given, else the worksite's customer service agent, else its project manager; the owner is told.
    ``note`` goes on the "opened" entry of the handling log (who filed it, from which callback …)."""
    errors = {}
    if customer is None:
        errors["customer"] = _("Choose the customer who complains.")
    if channel not in Complaint.Channel.values:
        errors["channel"] = _("Choose how the complaint came in.")
    if category not in Complaint.Category.values:
        errors["category"] = _("Choose what the complaint is about.")
    if severity not in Complaint.Severity.values:
        errors["severity"] = _("Choose how serious the complaint is.")
    if trade and trade not in TradeCategory.values:
        errors["trade"] = _("Choose a trade from the list, or none.")
    description = (description or "").strip()
    if not description:
        errors["description"] = _("Describe what the customer complains about.")
    if project is not None and customer is not None and project.customer_id != customer.pk:
        errors["project"] = _("This project belongs to another customer.")
    for field, user in (("responsible", responsible), ("owner", owner)):
        try:
            require_staff_role(user, field=field)
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)

    settings = complaint_settings_get()
    now = timezone.now()
    complaint = Complaint(
        customer=customer,
        project=project,
        channel=channel,
        category=category,
        trade=trade,
        severity=severity,
        description=description,
        responsible=responsible,
        owner=owner if owner is not None else front_line_owner(project),
        level=1,
        cycle=1,
        opened_at=now,
        opened_by=opened_by,
    )
    _start_clocks(complaint, settings=settings, now=now)
    complaint.save()
    _log(complaint, Kind.OPENED, text=(note or "").strip(), by=opened_by, at=now)
    _tell_owner(complaint, key=f"complaint-opened:{complaint.pk}", headline=OPENED_HEADLINE)
    event_emit(
        event_type="complaint.opened",
        payload={
            "id": complaint.pk,
            "customer_id": complaint.customer_id,
            "project_id": complaint.project_id,
            "channel": complaint.channel,
            "category": complaint.category,
            "severity": complaint.severity,
            "level": complaint.level,
        },
    )
    return complaint


# Handling ---------------------------------------------------------------------------------------------------


def _locked(complaint: Complaint) -> Complaint:
    return Complaint.objects.select_for_update(of=("self",)).select_related("customer").get(pk=complaint.pk)


def _locked_active(complaint: Complaint) -> Complaint:
    complaint = _locked(complaint)
    if complaint.status not in Complaint.ACTIVE_STATUSES:
        raise ValidationError(
            _("This complaint is %(status)s; it is no longer being handled.")
            % {"status": complaint.get_status_display()},
            code="not_active",
        )
    return complaint


@transaction.atomic
def complaint_respond(*, complaint: Complaint, by, text: str = "") -> Complaint:
    """The first response at the current level (the customer was contacted): stops the respond clock."""
    complaint = _locked_active(complaint)
    if complaint.responded_at is not None:
        raise ValidationError(_("This complaint was already responded to at this level."), code="responded")
    now = timezone.now()
    complaint.responded_at, complaint.status = now, Status.IN_PROGRESS
    complaint.save(update_fields=["responded_at", "status"])
    _log(complaint, Kind.RESPONDED, text=(text or "").strip(), by=by, at=now)
    return complaint


@transaction.atomic
def complaint_note_add(*, complaint: Complaint, by, text: str) -> ComplaintEntry:
    """A note in the handling log (at any stage, also after closing)."""
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("Write the note.")})
    complaint = _locked(complaint)
    return _log(complaint, Kind.NOTE, text=text, by=by)


@transaction.atomic
def complaint_reassign(*, complaint: Complaint, owner, by, reason: str = "") -> Complaint:
    """Hand the complaint to someone else at the same level; the clocks keep running."""
    complaint = _locked_active(complaint)
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
    entry = _log(complaint, Kind.REASSIGNED, text=text, by=by)
    _tell_owner(complaint, key=f"complaint-reassigned:{complaint.pk}:{entry.pk}", headline=REASSIGNED_HEADLINE)
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
    complaint = _locked_active(complaint)
    now = timezone.now()
    complaint.status, complaint.resolved_at = Status.RESOLVED, now
    complaint.resolution, complaint.root_cause = resolution, root_cause
    complaint.responded_at = complaint.responded_at or now
    complaint.save(update_fields=["status", "resolved_at", "resolution", "root_cause", "responded_at"])
    _log(complaint, Kind.RESOLVED, text=f"{complaint.get_root_cause_display()}: {resolution}", by=by, at=now)
    event_emit(
        event_type="complaint.resolved",
        payload={"id": complaint.pk, "level": complaint.level, "root_cause": complaint.root_cause},
    )
    return complaint


@transaction.atomic
def complaint_report(*, complaint: Complaint, by, text: str = "") -> Complaint:
    """The result was reported to the customer, who may now give their verdict."""
    complaint = _locked(complaint)
    if complaint.status != Status.RESOLVED:
        raise ValidationError(_("Only a resolved complaint can be reported to the customer."), code="not_resolved")
    if complaint.reported_at is not None:
        raise ValidationError(_("The result was already reported to the customer."), code="reported")
    now = timezone.now()
    complaint.reported_at = now
    complaint.save(update_fields=["reported_at"])
    _log(complaint, Kind.REPORTED, text=(text or "").strip(), by=by, at=now)
    return complaint


@transaction.atomic
def complaint_verdict_record(*, complaint: Complaint, verdict: str, comment: str = "", by=None) -> Complaint:
    """The customer's verdict on the reported result. Satisfied: the complaint closes. Not satisfied: it
    opens again at the same level in a new cycle with fresh clocks, and counts as open."""
    if verdict not in Complaint.Verdict.values:
        raise ValidationError({"verdict": _("Say whether the customer is satisfied.")})
    complaint = _locked(complaint)
    if complaint.status != Status.RESOLVED or complaint.reported_at is None:
        raise ValidationError(
            _("The customer's verdict is taken once the result has been reported to them."), code="not_reported"
        )
    now = timezone.now()
    comment = (comment or "").strip()
    complaint.verdict, complaint.verdict_at = verdict, now
    label = complaint.get_verdict_display()
    _log(complaint, Kind.VERDICT, text=f"{label}: {comment}" if comment else str(label), by=by, at=now)
    if verdict == Complaint.Verdict.SATISFIED:
        complaint.status, complaint.closed_at = Status.CLOSED, now
        complaint.save(update_fields=["verdict", "verdict_at", "status", "closed_at"])
        _log(complaint, Kind.CLOSED, by=by, at=now)
        return complaint
    complaint.status, complaint.cycle = Status.OPEN, complaint.cycle + 1
    complaint.resolved_at, complaint.reported_at = None, None
    _start_clocks(complaint, settings=complaint_settings_get(), now=now)
    complaint.save(
        update_fields=["verdict", "verdict_at", "status", "cycle", "resolved_at", "reported_at", *CLOCK_FIELDS]
    )
    _log(complaint, Kind.REOPENED, text=comment, by=by, at=now)
    return complaint


# Escalation -------------------------------------------------------------------------------------------------


def _move_up(complaint: Complaint, *, settings: ComplaintSettings, now: datetime) -> int:
    """Move the complaint to the next level with that level's owner and fresh clocks; returns from_level."""
    from_level = complaint.level
    complaint.level = from_level + 1
    complaint.owner = level_owner(complaint.level, settings=settings, project=complaint.project)
    complaint.status = Status.OPEN
    _start_clocks(complaint, settings=settings, now=now)
    complaint.save(update_fields=["level", "owner", "status", *CLOCK_FIELDS])
    return from_level


@transaction.atomic
def complaint_escalate(*, complaint: Complaint, by, reason: str) -> Complaint:
    """Staff move the complaint to the next level at once (the customer insists, it is serious …)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the complaint is escalated.")})
    complaint = _locked_active(complaint)
    if complaint.level >= TOP_LEVEL:
        raise ValidationError(_("This complaint is already at the top level."), code="top_level")
    settings = complaint_settings_get()
    now = timezone.now()
    from_level = _move_up(complaint, settings=settings, now=now)
    _log(complaint, Kind.ESCALATED, text=reason, by=by, at=now)
    _tell_owner(
        complaint,
        key=f"complaint-escalated:{complaint.pk}:{complaint.cycle}:{from_level}",
        headline=ESCALATED_BY_STAFF_HEADLINE,
    )
    event_emit(
        event_type="complaint.escalated",
        payload={"id": complaint.pk, "from_level": from_level, "to_level": complaint.level, "breach": "manual"},
    )
    return complaint


def breach_of(complaint: Complaint, now: datetime) -> tuple[str, datetime] | None:
    """Which clock of the current level ran out at ``now`` (the response clock first), and its deadline."""
    if complaint.responded_at is None and complaint.respond_by <= now:
        return ComplaintEscalation.Breach.RESPOND, complaint.respond_by
    if complaint.resolve_by <= now:
        return ComplaintEscalation.Breach.RESOLVE, complaint.resolve_by
    return None


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
                "deadline": _local(deadline),
                "from": from_level,
                "to": complaint.level,
            }
            headline = ESCALATED_HEADLINE
        else:
            # Nobody above the general manager: record the breach and make sure they know.
            text = _("%(breach)s (deadline %(deadline)s) at the top level.") % {
                "breach": breach_label,
                "deadline": _local(deadline),
            }
            headline = TOP_BREACH_HEADLINE
    _log(complaint, Kind.ESCALATED, text=text, at=now)
    key = f"complaint-escalated:{complaint.pk}:{cycle}:{from_level}"
    if from_level < TOP_LEVEL:
        told = complaint.owner if _tell_owner(complaint, key=key, headline=headline) else None
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
    return manager if _tell(manager, complaint, key=key, headline=TOP_BREACH_HEADLINE) else None


# The homeowner portal -----------------------------------------------------------------------------------------


@transaction.atomic
def portal_complaint_file(
    *, link, category: str, description: str, name: str, ip_address: str | None = None, user_agent: str = ""
) -> Complaint:
    """A homeowner files a complaint about the link's project; their name goes on the handling log."""
    project = link.worksite.project
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Type your name.")})
    complaint = complaint_open(
        customer=project.customer,
        project=project,
        channel=Complaint.Channel.PORTAL,
        category=category,
        description=description,
        note=_("Filed through the homeowner portal by %(name)s.") % {"name": name[:100]},
    )
    portal_action_record(
        link=link,
        action=PortalAction.Action.COMPLAINT_FILED,
        object_id=complaint.pk,
        ip_address=ip_address,
        user_agent=user_agent,
    )
    return complaint


@transaction.atomic
def portal_complaint_verdict(
    *,
    link,
    complaint: Complaint,
    verdict: str,
    name: str,
    comment: str = "",
    ip_address: str | None = None,
    user_agent: str = "",
) -> Complaint:
    """The homeowner's verdict on the result reported to them, for a complaint about the link's project."""
    if complaint.project_id != link.worksite.project_id:
        raise ValidationError(_("This complaint is not about this project."))
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Type your name.")})
    signed = _("(%(name)s, homeowner portal)") % {"name": name[:100]}
    comment = f"{(comment or '').strip()} {signed}".strip()
    complaint = complaint_verdict_record(complaint=complaint, verdict=verdict, comment=comment)
    portal_action_record(
        link=link,
        action=PortalAction.Action.COMPLAINT_VERDICT,
        object_id=complaint.pk,
        ip_address=ip_address,
        user_agent=user_agent,
    )
    return complaint
