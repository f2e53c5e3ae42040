"""Writes for callbacks (回访): the firm's plan and settings, the rows written when a project is handed over
or a construction phase is finished, the sweeper that releases due callbacks exactly once, attempts, the
SMS survey link, visits, cancelling, and the survey with what it starts (a lead, a repair request, a
complaint). One transaction each.

The sweeper's guarantees rest on the database, not on the broker: a callback is released by the
transaction that claims its row (``SELECT … FOR UPDATE SKIP LOCKED``), changes its status and writes its
notifications, so a second sweep skips or no longer matches it, and a sweep that dies leaves its batch
exactly as it was. A batch is written set-wise (one UPDATE, one INSERT of its messages, one task to send
them); each agent hears once per batch how many callbacks became theirs. Every message carries an
idempotency key naming a callback.
"""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from datetime import date, datetime, timedelta

from django.conf import settings as django_settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from aftercare.services import repair_request_open
from callbacks.models import (
    SURVEY_SMS,
    Callback,
    CallbackAttempt,
    CallbackSettings,
    CallbackStep,
    Method,
    SecondaryDemand,
    Survey,
    SurveyDefect,
    SurveyDemand,
    SurveyStaff,
)
from complaints.services import complaint_open
from contracts.models import Project, TradeCategory
from renocrm import links
from renocrm.accounts.models import Membership
from renocrm.accounts.roles import AGENT_ROLES, Role
from renocrm.accounts.staff import require_staff_role
from renocrm.calendar import add_months, add_working_days
from renocrm.outbox.models import Notification
from renocrm.outbox.services import (
    event_emit,
    notification_send,
    notifications_send_many,
    notify_staff,
    staff_message,
)
from renocrm.sweeps.services import Sweep
from renocrm.tenancy.context import require_current_tenant, tenant_context
from renocrm.tenancy.defaults import firm_copy_get
from worksites.models import PhaseKind, Worksite

# How many callbacks one sweeper transaction releases, and how many batches one call runs at most (a
# beat five minutes later picks up whatever is left).
BATCH_SIZE = 500
MAX_BATCHES = 20
# The sweepers' names in renocrm.sweeps (their failures and backoff).
RELEASE_SWEEP = "callbacks-due"
LINK_RESEND_SWEEP = "callback-link-resend"

SURVEY_SALT = "callbacks.survey-link"
FAILED_OUTCOMES = (
    CallbackAttempt.Outcome.NO_ANSWER,
    CallbackAttempt.Outcome.BUSY,
    CallbackAttempt.Outcome.WRONG_NUMBER,
)
# What a callback's link or staff may still act on.
OPEN_FOR_WORK = Callback.ACTIVE_STATUSES
CLOSED = (Callback.Status.COMPLETED, Callback.Status.CANCELLED)

Step = CallbackStep
DEFAULT_PLAN = [
    (gettext_lazy("First callback"), Step.Unit.WORKING_DAYS, 3),
    (gettext_lazy("1 month after handover"), Step.Unit.MONTHS, 1),
    (gettext_lazy("3 months after handover"), Step.Unit.MONTHS, 3),
    (gettext_lazy("6 months after handover"), Step.Unit.MONTHS, 6),
    (gettext_lazy("12 months after handover"), Step.Unit.MONTHS, 12),
]

ANSWER_FIELDS = (
    "contact_confirmed",
    "contact_update",
    "overall",
    "quality_plumbing_electrical",
    "quality_carpentry",
    "quality_masonry",
    "quality_painting",
    "expectation",
    "designer_rating",
    "project_manager_rating",
    "customer_service_rating",
    "materials_feedback",
    "suggestions",
    "nps",
)


# Settings and the plan ------------------------------------------------------------------------------------


def callback_settings_get() -> CallbackSettings:
    settings, _created = CallbackSettings.objects.get_or_create()
    return settings


def _bounded_int(value, field: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError({field: _("Enter a whole number.")}) from None
    if not low <= number <= high:
        raise ValidationError({field: _("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high}})
    return number


@transaction.atomic
def callback_settings_save(**fields) -> CallbackSettings:
    """Change the firm's callback settings; only the fields given change."""
    settings = callback_settings_get()
    settings = CallbackSettings.objects.select_for_update().get(pk=settings.pk)
    unknown = set(fields) - {"assignment", "max_attempts", "retry_after_hours", "sms_template", "survey_link_days"}
    if unknown:
        raise TypeError(f"Unknown callback settings: {', '.join(sorted(unknown))}")
    if "assignment" in fields:
        if fields["assignment"] not in CallbackSettings.Assignment.values:
            raise ValidationError({"assignment": _("Choose how callbacks are assigned.")})
        settings.assignment = fields["assignment"]
    if "max_attempts" in fields:
        settings.max_attempts = _bounded_int(fields["max_attempts"], "max_attempts", 1, 10)
    if "retry_after_hours" in fields:
        settings.retry_after_hours = _bounded_int(fields["retry_after_hours"], "retry_after_hours", 1, 720)
    if "survey_link_days" in fields:
        settings.survey_link_days = _bounded_int(fields["survey_link_days"], "survey_link_days", 1, 365)
    if "sms_template" in fields:
        settings.sms_template = SURVEY_SMS.check((fields["sms_template"] or "").strip())
    settings.save()
    return settings


def _default_plan() -> list[CallbackStep]:
    return [
        CallbackStep(
            name=str(name), anchor=Step.Anchor.HANDOVER, offset=offset, unit=unit, method=Method.PHONE, position=n
        )
        for n, (name, unit, offset) in enumerate(DEFAULT_PLAN, start=1)
    ]


def plan_steps() -> list[CallbackStep]:
    """The firm's plan in display order, active and inactive steps; seeded from the default (in the firm's
    language) on first use."""
    steps = list(CallbackStep.objects.all())
    if not steps:
        # The position key is deferred, so two first uses at once would only clash at commit — failing a
        # handover. The settings row makes the second wait and then read the first one's plan.
        CallbackSettings.objects.select_for_update().filter(pk=callback_settings_get().pk).first()
        steps = firm_copy_get(CallbackStep, default=_default_plan)
    return sorted(steps, key=lambda step: (step.position, step.pk))


def _clean_step(row: dict, number: int) -> dict:
    name = str(row.get("name") or "").strip()
    label = name or _("Step %(number)s") % {"number": number}
    errors = {}
    if not name:
        errors["name"] = _("Step %(number)s: give the step a name.") % {"number": number}
    elif len(name) > 100:
        errors["name"] = _("“%(step)s”: a name has at most 100 characters.") % {"step": label}
    anchor = row.get("anchor") or Step.Anchor.HANDOVER
    unit = row.get("unit") or ""
    method = row.get("method") or Method.PHONE
    phase_kind = str(row.get("phase_kind") or "").strip()
    if anchor not in Step.Anchor.values:
        errors["anchor"] = _("“%(step)s”: choose what the step counts from.") % {"step": label}
    if unit not in Step.Unit.values:
        errors["unit"] = _("“%(step)s”: choose days, working days or months.") % {"step": label}
    if method not in Method.values:
        errors["method"] = _("“%(step)s”: choose phone, SMS or a visit.") % {"step": label}
    try:
        offset = int(row.get("offset"))
    except (TypeError, ValueError):
        offset = None
    if offset is None or not 0 <= offset <= 120:
        errors["offset"] = _("“%(step)s”: enter a number from 0 to 120.") % {"step": label}
    if anchor == Step.Anchor.PHASE_COMPLETED:
        if not phase_kind:
            errors["phase_kind"] = _("“%(step)s”: choose the construction phase it follows.") % {"step": label}
        elif phase_kind not in PhaseKind.values:
            errors["phase_kind"] = _("“%(step)s”: choose one of the construction phases.") % {"step": label}
        if unit == Step.Unit.MONTHS:
            errors["unit"] = _("“%(step)s”: count a milestone callback in days or working days.") % {"step": label}
    else:
        phase_kind = ""
    if unit == Step.Unit.MONTHS and offset == 0 and "offset" not in errors:
        errors["offset"] = _("“%(step)s”: a step counted in months comes at least 1 month later.") % {"step": label}
    if errors:
        raise ValidationError(errors)
    return {
        "name": name,
        "anchor": anchor,
        "phase_kind": phase_kind,
        "offset": offset,
        "unit": unit,
        "method": method,
        "is_active": bool(row.get("is_active", True)),
    }


@transaction.atomic
def plan_save(*, rows: list[dict]) -> list[CallbackStep]:
    """Save the firm's plan as listed: steps with an id are updated, the others created, and steps left out
    are deactivated (never deleted: callbacks already planned keep their step). Callbacks already written
    keep their due dates; the plan shapes the next handovers and milestones."""
    plan_steps()
    existing = {step.pk: step for step in CallbackStep.objects.select_for_update()}
    cleaned, seen = [], set()
    for number, row in enumerate(rows, start=1):
        values = _clean_step(row, number)
        pk = row.get("id")
        if pk not in (None, ""):
            try:
                pk = int(pk)
            except (TypeError, ValueError):
                pk = None
            if pk not in existing or pk in seen:
                raise ValidationError(_("Step %(number)s is not a step of this plan.") % {"number": number})
            seen.add(pk)
        else:
            pk = None
        cleaned.append((pk, values))
    position = 0
    saved = []
    for pk, values in cleaned:
        position += 1
        step = existing[pk] if pk else CallbackStep()
        for name, value in values.items():
            setattr(step, name, value)
        step.position = position
        step.save()
        saved.append(step)
    # Left out: kept for the callbacks that name them, switched off, and listed after the plan.
    for step in sorted((s for pk, s in existing.items() if pk not in seen), key=lambda s: (s.position, s.pk)):
        position += 1
        step.is_active, step.position = False, position
        step.save(update_fields=["is_active", "position"])
    return plan_steps()


# Writing the callbacks when their anchor happens ---------------------------------------------------------------


def due_on(step: CallbackStep, anchor_day: date) -> date:
    """The day a step falls due, counted from the anchor day each time (never chained from another step)."""
    if step.unit == Step.Unit.MONTHS:
        return add_months(anchor_day, step.offset)
    if step.unit == Step.Unit.WORKING_DAYS:
        return add_working_days(anchor_day, step.offset)
    return anchor_day + timedelta(days=step.offset)


def _write_callbacks(*, worksite: Worksite, steps: list[CallbackStep], anchor_day: date) -> int:
    if not steps:
        return 0
    project = worksite.project
    rows = [
        Callback(
            project=project,
            worksite=worksite,
            customer_id=project.customer_id,
            step=step,
            name=step.name,
            due_on=due_on(step, anchor_day),
            method=step.method,
            status=Callback.Status.SCHEDULED,
        )
        for step in steps
    ]
    # The unique key (firm, project, step) makes a repeated event write nothing twice.
    Callback.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def on_project_handed_over(event) -> None:
    """``project.handed_over``, in the handover's own transaction: the callbacks of every active handover
    step, due from the handover date. A handover that rolls back leaves none."""
    payload = event.payload
    worksite = Worksite.objects.select_related("project").get(pk=payload["worksite_id"])
    steps = [s for s in plan_steps() if s.is_active and s.anchor == Step.Anchor.HANDOVER]
    _write_callbacks(worksite=worksite, steps=steps, anchor_day=date.fromisoformat(payload["handed_over_on"]))


def on_phase_completed(event) -> None:
    """``worksite.phase_completed``, in the same transaction: the callbacks of the active milestone steps
    that follow this kind of phase, due from the phase's actual end."""
    payload = event.payload
    steps = [
        s
        for s in plan_steps()
        if s.is_active and s.anchor == Step.Anchor.PHASE_COMPLETED and s.phase_kind == payload["kind"]
    ]
    if not steps:
        return
    worksite = Worksite.objects.select_related("project").get(pk=payload["worksite_id"])
    _write_callbacks(worksite=worksite, steps=steps, anchor_day=date.fromisoformat(payload["actual_end"]))


# Messages ------------------------------------------------------------------------------------------------------


def _staff_url(callback: Callback) -> str:
    try:
        return f"{django_settings.SITE_URL}{reverse('callbacks:detail', args=[callback.pk])}"
    except NoReverseMatch:
        return ""


def _tell_agent(callback: Callback, agent, *, key: str) -> Notification | None:
    tenant = require_current_tenant()
    with translation.override(tenant.language):
        context = {
            "name": callback.name,
            "customer": callback.customer.name,
            "project": callback.project.name,
            "due": callback.due_on.isoformat(),
            "method": Method(callback.method).label,
        }
        subject = _("Callback due: %(customer)s — %(name)s") % context
        body = _("Callback due on %(due)s: %(name)s for %(customer)s (%(project)s), by %(method)s.") % context
        url = _staff_url(callback)
        if url:
            body += " " + url
    return notify_staff(agent, subject=subject, body=body, idempotency_key=key)


# The homeowner's survey link -------------------------------------------------------------------------------------


def survey_link_token(callback: Callback) -> str:
    """A fresh token (it carries the time it was made: each SMS starts its own validity)."""
    return links.make_token(callback, salt=SURVEY_SALT)


def survey_link_url(callback: Callback) -> str:
    return f"/portal/survey/{survey_link_token(callback)}/"


def survey_link_absolute_url(callback: Callback, *, base_url: str) -> str:
    return f"{base_url.rstrip('/')}{survey_link_url(callback)}"


@contextmanager
def open_survey_link(token: str):
    """Yields (callback, "") inside the callback's firm — audited as ``survey-link:<id>`` — or (None, why):
    "invalid" (tampered, unknown, cancelled, the firm gone), "expired" (older than the firm's
    survey_link_days) or "answered" (the survey is in)."""
    firm, callback_id, refused = links.read_token(token, salt=SURVEY_SALT)
    if refused:
        yield None, "invalid"
        return
    with tenant_context(firm, request_id=f"survey-link:{callback_id}"):
        callback = (
            Callback.objects.select_related("customer", "project", "worksite", "tenant").filter(pk=callback_id).first()
        )
        if callback is None or callback.status in (Callback.Status.CANCELLED, Callback.Status.SCHEDULED):
            yield None, "invalid"
            return
        if callback.status == Callback.Status.COMPLETED or Survey.objects.filter(callback=callback).exists():
            yield None, "answered"
            return
        max_age = timedelta(days=callback_settings_get().survey_link_days)
        try:
            signing.loads(token, salt=SURVEY_SALT, max_age=max_age)
        except signing.SignatureExpired:
            yield None, "expired"
            return
        yield callback, ""


def _sms_key(callback: Callback) -> str:
    return f"callback:{callback.pk}:sms:{callback.attempts}"


def _sms_body(callback: Callback, *, base_url: str, settings: CallbackSettings | None = None) -> str:
    tenant = require_current_tenant()
    settings = settings or callback_settings_get()
    with translation.override(tenant.language):
        agent = callback.assigned_to
        values = {
            "customer_name": callback.customer.name,
            "firm_name": tenant.name,
            "agent_name": str(agent) if agent is not None else _("customer service"),
            "firm_phone": tenant.phone,
            "survey_link": survey_link_absolute_url(callback, base_url=base_url),
        }
        return SURVEY_SMS.render(settings.sms_template, values)


# Working a callback ----------------------------------------------------------------------------------------------


def _locked(callback: Callback) -> Callback:
    return (
        Callback.objects.select_for_update(of=("self",))
        .select_related("customer", "project", "worksite", "assigned_to", "step")
        .get(pk=callback.pk)
    )


def _require_open(callback: Callback) -> None:
    if callback.status == Callback.Status.SCHEDULED:
        raise ValidationError(
            _("This callback is due on %(day)s; it opens then.") % {"day": callback.due_on.isoformat()}
        )
    if callback.status not in OPEN_FOR_WORK:
        raise ValidationError(_("This callback is closed (%(status)s).") % {"status": callback.get_status_display()})


@transaction.atomic
def callback_sms_send(*, callback: Callback, by=None, base_url: str | None = None) -> Notification:
    """Text the homeowner the survey link, once per attempt number (the idempotency key): sending again
    before another attempt is recorded returns the message already sent."""
    callback = _locked(callback)
    _require_open(callback)
    key = _sms_key(callback)
    already = Notification.objects.filter(idempotency_key=key).first()
    if already is not None:
        return already
    notification = notification_send(
        channel=Notification.Channel.SMS,
        recipient=callback.customer.mobile,
        body=_sms_body(callback, base_url=base_url or django_settings.SITE_URL),
        idempotency_key=key,
    )
    CallbackAttempt.objects.create(
        callback=callback, method=Method.SMS, outcome=CallbackAttempt.Outcome.SMS_SENT, at=timezone.now(), by=by
    )
    return notification


@transaction.atomic
def callback_assign(*, callback: Callback, agent, by=None) -> Callback:
    """Give the callback to a customer-service agent (or an admin); a released callback tells them."""
    callback = _locked(callback)
    if callback.status in CLOSED:
        raise ValidationError(_("This callback is closed."))
    if agent is None:
        raise ValidationError({"agent": _("Choose the agent.")})
    require_staff_role(agent, roles=AGENT_ROLES, field="agent")
    if callback.assigned_to_id == agent.pk:
        return callback
    callback.assigned_to = agent
    callback.save(update_fields=["assigned_to"])
    if callback.status != Callback.Status.SCHEDULED:
        _tell_agent(callback, agent, key=f"callback:{callback.pk}:assigned:{agent.pk}")
    return callback


@transaction.atomic
def callback_attempt_record(
    *, callback: Callback, outcome: str, note: str = "", by=None, method: str | None = None
) -> Callback:
    """Record a try to reach the homeowner. Reached: the survey follows. No answer, busy or a wrong
    number count an attempt: the callback waits ``retry_after_hours`` and comes back to the agent, or after
    ``max_attempts`` it is closed as unreachable."""
    callback = _locked(callback)
    _require_open(callback)
    if outcome == CallbackAttempt.Outcome.SMS_SENT:
        raise ValidationError({"outcome": _("Send the survey link with “Send SMS”.")})
    if outcome not in CallbackAttempt.Outcome.values:
        raise ValidationError({"outcome": _("Choose what happened.")})
    method = method or callback.method
    if method not in Method.values:
        raise ValidationError({"method": _("Choose phone, SMS or a visit.")})
    now = timezone.now()
    CallbackAttempt.objects.create(callback=callback, method=method, outcome=outcome, note=note.strip(), at=now, by=by)
    if outcome == CallbackAttempt.Outcome.REACHED:
        callback.status, callback.next_attempt_at = Callback.Status.OPEN, None
    else:
        settings = callback_settings_get()
        callback.attempts += 1
        if callback.attempts >= settings.max_attempts:
            callback.status, callback.next_attempt_at = Callback.Status.UNREACHABLE, None
            with translation.override(require_current_tenant().language):
                callback.closed_reason = _("Not reached after %(count)s attempts (last: %(outcome)s).") % {
                    "count": callback.attempts,
                    "outcome": CallbackAttempt.Outcome(outcome).label,
                }
        else:
            callback.status = Callback.Status.RETRY
            callback.next_attempt_at = now + timedelta(hours=settings.retry_after_hours)
    callback.save(update_fields=["status", "attempts", "next_attempt_at", "closed_reason"])
    return callback


@transaction.atomic
def callback_visit_schedule(*, callback: Callback, at: datetime, by=None) -> Callback:
    """Book an on-site visit (上门回访): the callback becomes a visit and the homeowner gets the time by SMS."""
    callback = _locked(callback)
    _require_open(callback)
    if at is None:
        raise ValidationError({"at": _("Choose the day and time of the visit.")})
    if timezone.is_naive(at):
        at = timezone.make_aware(at, require_current_tenant().zone)
    if at <= timezone.now():
        raise ValidationError({"at": _("The visit must be in the future.")})
    callback.appointment_at, callback.method = at, Method.VISIT
    if callback.status == Callback.Status.RETRY:
        callback.status, callback.next_attempt_at = Callback.Status.OPEN, None
    callback.save(update_fields=["appointment_at", "method", "status", "next_attempt_at"])
    tenant = require_current_tenant()
    local = timezone.localtime(at, tenant.zone)
    with translation.override(tenant.language):
        body = _("%(firm)s: we will visit you on %(day)s at %(time)s for your after-sales callback.") % {
            "firm": tenant.name,
            "day": local.date().isoformat(),
            "time": local.strftime("%H:%M"),
        }
        if tenant.phone:
            body += " " + _("To change the time: %(phone)s") % {"phone": tenant.phone}
    notification_send(
        channel=Notification.Channel.SMS,
        recipient=callback.customer.mobile,
        body=body,
        idempotency_key=f"callback:{callback.pk}:visit:{local.isoformat()}",
    )
    return callback


@transaction.atomic
def callback_cancel(*, callback: Callback, reason: str, by=None) -> Callback:
    """Call off a callback that will not happen (the homeowner asked not to be called, the house was sold)."""
    callback = _locked(callback)
    if callback.status in CLOSED:
        raise ValidationError(_("This callback is already closed."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the callback is cancelled.")})
    if len(reason) > 200:
        raise ValidationError({"reason": _("A reason has at most 200 characters.")})
    callback.status, callback.closed_reason, callback.next_attempt_at = Callback.Status.CANCELLED, reason, None
    callback.save(update_fields=["status", "closed_reason", "next_attempt_at"])
    return callback


# The sweeper ------------------------------------------------------------------------------------------------------


class _Assigner:
    """Picks the agent of each released callback in a batch, reading the firm's members (with their users,
    who are told) once. The settings row is locked for the batch, so two sweeps never hand out the same
    round-robin turn."""

    def __init__(self):
        settings = CallbackSettings.objects.select_for_update().first()
        if settings is None:  # the firm's first sweep
            settings = CallbackSettings.objects.select_for_update().get(pk=callback_settings_get().pk)
        self.settings = settings
        members = Membership.objects.filter(
            tenant=require_current_tenant(), is_active=True, user__is_active=True
        ).select_related("user")
        self.users = {member.user_id: member.user for member in members}
        self.active = set(self.users)
        self.agents = sorted(member.user_id for member in members if member.role == Role.CUSTOMER_SERVICE)
        self.last = self.settings.last_assigned_id
        self.turns = 0

    def next_in_turn(self) -> int | None:
        if not self.agents:
            return None
        later = [user_id for user_id in self.agents if self.last is None or user_id > self.last]
        self.last = later[0] if later else self.agents[0]
        self.turns += 1
        return self.last

    def pick(self, callback: Callback) -> int | None:
        if callback.assigned_to_id in self.active:
            return callback.assigned_to_id  # assigned ahead by staff
        if self.settings.assignment == CallbackSettings.Assignment.PROJECT_AGENT:
            own = callback.worksite.customer_service_id
            if own in self.active:
                return own
        return self.next_in_turn()

    def save(self) -> None:
        if self.turns:
            self.settings.last_assigned_id = self.last
            self.settings.save(update_fields=["last_assigned"])


def _release_one(callback: Callback, *, agent, now: datetime) -> None:
    """Open one claimed callback in memory; its batch writes them all with one UPDATE."""
    callback.status, callback.released_at, callback.assigned_to = Callback.Status.OPEN, now, agent


def _open_released(callbacks: list[Callback], *, now: datetime) -> None:
    """One UPDATE for the batch (the audit trigger still records each row)."""
    table = connection.ops.quote_name(Callback._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS c SET status = %s, released_at = %s, assigned_to_id = r.agent_id "  # noqa: S608 - the model's table
            "FROM unnest(%s::bigint[], %s::bigint[]) AS r(id, agent_id) WHERE c.id = r.id AND c.tenant_id = %s",
            [
                Callback.Status.OPEN,
                now,
                [callback.pk for callback in callbacks],
                [callback.assigned_to_id for callback in callbacks],
                require_current_tenant().pk,
            ],
        )


def _queue_url() -> str:
    try:
        return f"{django_settings.SITE_URL}{reverse('callbacks:list')}?agent=mine"
    except NoReverseMatch:
        return ""


def _agent_notices(released: list[Callback], users: dict) -> list[dict]:
    """One message per agent for the whole batch: how many callbacks are now theirs, and their queue."""
    firsts, counts = {}, Counter()
    for callback in released:
        if callback.assigned_to_id is not None:
            agent_id = callback.assigned_to_id
            counts[agent_id] += 1
            firsts[agent_id] = min(firsts.get(agent_id, callback.pk), callback.pk)
    url = _queue_url()
    notices = []
    with translation.override(require_current_tenant().language):
        for agent_id, count in counts.items():
            values = {"count": count}
            subject = (
                ngettext("%(count)s callback released to you", "%(count)s callbacks released to you", count) % values
            )
            body = (
                ngettext(
                    "%(count)s callback is due and waits in your queue.",
                    "%(count)s callbacks are due and wait in your queue.",
                    count,
                )
                % values
            )
            if url:
                body += " " + url
            # A callback is released once (nothing puts it back to scheduled), by one batch, to one agent: so
            # the smallest id released to this agent in this batch names this release and no other.
            notice = staff_message(
                users.get(agent_id),
                subject=subject,
                body=body,
                idempotency_key=f"callback:{firsts[agent_id]}:released:{agent_id}",
            )
            if notice is not None:
                notices.append(notice)
    return notices


def _survey_link_texts(callbacks: list[Callback], *, settings: CallbackSettings) -> list[dict]:
    """The homeowner's survey link for each SMS callback, keyed like ``callback_sms_send``'s."""
    base_url = django_settings.SITE_URL
    return [
        {
            "channel": Notification.Channel.SMS,
            "recipient": callback.customer.mobile,
            "body": _sms_body(callback, base_url=base_url, settings=settings),
            "idempotency_key": _sms_key(callback),
        }
        for callback in callbacks
        if callback.method == Method.SMS
    ]


@transaction.atomic(savepoint=False)
def _release_batch(*, now: datetime, today: date, limit: int, sweep: Sweep) -> int:
    due = list(
        sweep.batch(
            Callback.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("customer", "worksite")
            .filter(status=Callback.Status.SCHEDULED, due_on__lte=today)
            .order_by("due_on", "id"),
            size=limit,
        )
    )
    if not due:
        return 0
    try:
        with transaction.atomic():
            _release(due, now=now)
    except Exception:  # noqa: BLE001 - a callback the batch could not release: one by one, so it alone waits
        ids = [callback.pk for callback in due]
        return sum(sweep.run(pk, _release_again, pk, now=now) or 0 for pk in ids)
    for callback in due:
        sweep.succeeded(callback.pk)
    return len(due)


def _release(due: list[Callback], *, now: datetime) -> None:
    assigner = _Assigner()
    for callback in due:
        agent_id = assigner.pick(callback)
        _release_one(callback, agent=assigner.users.get(agent_id), now=now)
    _open_released(due, now=now)
    assigner.save()
    texts = _survey_link_texts(due, settings=assigner.settings)
    sent = notifications_send_many(_agent_notices(due, assigner.users) + texts)
    at = timezone.now()
    CallbackAttempt.objects.bulk_create(
        [
            CallbackAttempt(callback=callback, method=Method.SMS, outcome=CallbackAttempt.Outcome.SMS_SENT, at=at)
            for callback in due
            if callback.method == Method.SMS and _sms_key(callback) in sent
        ]
    )


def _release_again(pk: int, *, now: datetime) -> int:
    """Release one callback of a batch that failed, read afresh (the failed attempt left its marks in memory)."""
    _release([Callback.objects.select_related("customer", "worksite").get(pk=pk)], now=now)
    return 1


@transaction.atomic(savepoint=False)
def _resend_due_links(*, now: datetime, limit: int, sweep: Sweep) -> int:
    """SMS callbacks whose retry is due get the link again, once per attempt number: the rows whose key
    has no message yet. Each in its own savepoint: one that fails waits out its backoff alone."""
    key = Concat(
        Value("callback:"),
        Cast("pk", CharField()),
        Value(":sms:"),
        Cast("attempts", CharField()),
        output_field=CharField(),
    )
    due = list(
        sweep.batch(
            Callback.objects.select_for_update(skip_locked=True, of=("self",))
            .annotate(sms_key=key)
            .filter(status=Callback.Status.RETRY, method=Method.SMS, next_attempt_at__lte=now)
            .exclude(Exists(Notification.objects.filter(idempotency_key=OuterRef("sms_key"))))
            .order_by("next_attempt_at", "id"),
            size=limit,
        )
    )
    for callback in due:
        sweep.run(callback.pk, callback_sms_send, callback=callback)
    return len(due)


def callbacks_release_due(
    *, now: datetime | None = None, limit: int = BATCH_SIZE, max_batches: int = MAX_BATCHES
) -> int:
    """THE SWEEPER. Release every scheduled callback due by the firm's today, oldest first, ``limit`` per
    batch: assign the agents, open the callbacks, tell each agent once how many are now theirs and, for an
    SMS callback, text the homeowner the survey link — each batch in its own transaction (or in the caller's
    when it holds one, as a task does: it runs one batch), rows claimed with SKIP LOCKED so concurrent sweeps
    share the work and never double it. A batch that fails is released again one callback at a time, each in
    its own savepoint: the one that fails is recorded and retried later with backoff (``renocrm.sweeps``)
    while the others go out. Then re-send the link of SMS callbacks whose retry is due, the same way. Returns
    how many callbacks were released."""
    tenant = require_current_tenant()
    now = now or timezone.now()
    today = timezone.localtime(now, tenant.zone).date()
    sweep = Sweep(RELEASE_SWEEP, batch_size=limit)
    released = 0
    for _batch in range(max_batches):
        count = _release_batch(now=now, today=today, limit=limit, sweep=sweep)
        released += count
        if count < limit:
            break
    _resend_due_links(now=now, limit=limit, sweep=Sweep(LINK_RESEND_SWEEP, batch_size=limit))
    return released


# The survey -------------------------------------------------------------------------------------------------------


def _clean_answers(answers: dict) -> dict:
    """The answers as the survey row stores them, checked by the row's own field rules (the 5-level scales,
    NPS 0–10, lengths), so a bad one is an error on its field."""
    unknown = set(answers) - set(ANSWER_FIELDS)
    if unknown:
        raise TypeError(f"Unknown survey answers: {', '.join(sorted(unknown))}")
    cleaned = {field: answers.get(field) for field in ANSWER_FIELDS}
    cleaned["contact_confirmed"] = answers.get("contact_confirmed", True) is not False
    for field in ("contact_update", "materials_feedback", "suggestions", "expectation"):
        cleaned[field] = str(cleaned[field] or "").strip()
    if cleaned["contact_confirmed"]:
        cleaned["contact_update"] = ""
    answered = Survey(**cleaned)
    answered.clean_fields(exclude=[f.name for f in Survey._meta.concrete_fields if f.name not in ANSWER_FIELDS])
    return {field: getattr(answered, field) for field in ANSWER_FIELDS}


def _clean_defects(defects) -> list[SurveyDefect]:
    rows = []
    for defect in defects or ():
        trade, kind = defect.get("trade") or "", defect.get("kind") or ""
        note = str(defect.get("note") or "").strip()
        if trade not in TradeCategory.values:
            raise ValidationError({"defects": _("Choose the trade of each defect.")})
        if kind not in SurveyDefect.Kind.values:
            raise ValidationError({"defects": _("Choose what kind of defect it is.")})
        if len(note) > 300:
            raise ValidationError({"defects": _("A defect note has at most 300 characters.")})
        rows.append(SurveyDefect(trade=trade, kind=kind, note=note))
    return rows


def _clean_demands(demands, note: str) -> list[str]:
    kinds = []
    for kind in demands or ():
        if kind not in SecondaryDemand.values:
            raise ValidationError({"demands": _("Choose among partial renovation, furniture and soft furnishing.")})
        if kind not in kinds:
            kinds.append(kind)
    if note.strip() and not kinds:
        raise ValidationError({"demands": _("Tick what the homeowner is interested in; the note goes with it.")})
    return kinds


def _sales_owner(project: Project):
    """The customer manager who won the project, if still an active sales member: they know the family."""
    from leads.selectors import CUSTOMER_MANAGER_ROLES

    user = project.lead.assigned_to if project.lead_id else None
    if user is None:
        return None
    try:
        require_staff_role(user, roles=CUSTOMER_MANAGER_ROLES, field="assigned_to")
    except ValidationError:
        return None
    return user


def _start_lead(*, callback: Callback, kinds: list[str], note: str, by):
    from leads.models import Lead
    from leads.services import lead_create

    project = Project.objects.select_related("lead__assigned_to", "property").get(pk=callback.project_id)
    with translation.override(require_current_tenant().language):
        needs = _("Secondary demand from the callback “%(step)s”: %(kinds)s.") % {
            "step": callback.name,
            "kinds": ", ".join(str(SecondaryDemand(kind).label) for kind in kinds),
        }
    if note.strip():
        needs = f"{needs}\n{note.strip()}"
    lead, _linked = lead_create(
        channel=Lead.Channel.AFTERCARE,
        customer=callback.customer,
        property=project.property,
        core_needs=needs,
        assigned_to=_sales_owner(project),
        by=by,
    )
    return lead


def _nested(key: str, error: ValidationError) -> ValidationError:
    """Another part's refusal, shown on the survey's section it came from."""
    return ValidationError({key: error.messages})


@transaction.atomic
def survey_submit(
    *,
    callback: Callback,
    via: str,
    by=None,
    defects: list[dict] = (),
    demands: list[str] = (),
    demand_note: str = "",
    repair: dict | None = None,
    grievance: dict | None = None,
    **answers,
) -> Survey:
    """Record the homeowner's answers and complete the callback. A secondary demand becomes one new lead
    for sales; a reported defect may become a repair request and a grievance a complaint — each linked on
    the survey. All of it or none of it."""
    callback = _locked(callback)
    if callback.status == Callback.Status.COMPLETED or Survey.objects.filter(callback=callback).exists():
        raise ValidationError(_("This callback's survey is already in."), code="answered")
    if callback.status == Callback.Status.CANCELLED:
        raise ValidationError(_("This callback was cancelled."))
    if via not in Survey.Via.values:
        raise ValidationError({"via": _("Say how the survey was answered.")})
    cleaned = _clean_answers(answers)
    defect_rows = _clean_defects(defects)
    kinds = _clean_demands(demands, demand_note or "")
    worksite = callback.worksite
    now = timezone.now()

    survey = Survey(
        callback=callback,
        via=via,
        submitted_at=now,
        submitted_by=by,
        **cleaned,
        **{field: getattr(worksite, field) for field in SurveyStaff.values},
    )
    if kinds:
        survey.lead = _start_lead(callback=callback, kinds=kinds, note=demand_note or "", by=by)
    if repair:
        try:
            survey.repair_request = repair_request_open(
                project=callback.project,
                area=repair.get("area") or "",
                trade=repair.get("trade") or "",
                description=repair.get("description") or "",
                source="callback",
                created_by=by,
            )
        except ValidationError as error:
            raise _nested("repair", error) from error
    if grievance:
        try:
            survey.complaint = complaint_open(
                customer=callback.customer,
                channel="callback",
                category=grievance.get("category") or "",
                description=grievance.get("description") or "",
                project=callback.project,
                opened_by=by,
            )
        except ValidationError as error:
            raise _nested("grievance", error) from error
    survey.save()
    for row in defect_rows:
        row.survey = survey
    SurveyDefect.objects.bulk_create(defect_rows)
    SurveyDemand.objects.bulk_create([SurveyDemand(survey=survey, kind=kind) for kind in kinds])

    if not cleaned["contact_confirmed"] and cleaned["contact_update"]:
        # The old mobile stays (it is the customer's key); the new details go with the other contacts.
        customer = callback.customer
        customer.refresh_from_db(fields=["other_contacts"])
        with translation.override(require_current_tenant().language):
            line = _("%(day)s, callback survey: %(contact)s") % {
                "day": timezone.localdate(now, require_current_tenant().zone).isoformat(),
                "contact": cleaned["contact_update"],
            }
        customer.other_contacts = f"{customer.other_contacts}\n{line}".strip()
        customer.save(update_fields=["other_contacts", "updated_at"])

    callback.status, callback.completed_at, callback.completed_by = Callback.Status.COMPLETED, now, by
    callback.next_attempt_at = None
    callback.save(update_fields=["status", "completed_at", "completed_by", "next_attempt_at"])
    event_emit(
        event_type="survey.submitted",
        payload={"id": survey.pk, "callback_id": callback.pk, "overall": survey.overall, "nps": survey.nps},
    )
    event_emit(
        event_type="callback.completed",
        payload={
            "id": callback.pk,
            "project_id": callback.project_id,
            "customer_id": callback.customer_id,
            "step": callback.step_id,
            "method": callback.method,
        },
    )
    return survey
