"""Writes for working a callback: giving it to an agent, the tries to reach the homeowner, texting the
survey link, booking a visit, cancelling. One transaction each."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from callbacks.models import Callback, CallbackAttempt, Method
from callbacks.services.plan import callback_settings_get
from callbacks.services.survey_link import sms_key, sms_message
from renocrm.accounts.roles import AGENT_ROLES
from renocrm.accounts.staff import require_staff_role
from renocrm.outbox.models import Notification
from renocrm.outbox.services import Told, notification_send, notify_staff
from renocrm.tenancy.context import require_current_tenant

FAILED_OUTCOMES = (
    CallbackAttempt.Outcome.NO_ANSWER,
    CallbackAttempt.Outcome.BUSY,
    CallbackAttempt.Outcome.WRONG_NUMBER,
)
# What a callback's link or staff may still act on.
OPEN_FOR_WORK = Callback.ACTIVE_STATUSES
CLOSED = (Callback.Status.COMPLETED, Callback.Status.CANCELLED)


# Messages ------------------------------------------------------------------------------------------------------


def _staff_url(callback: Callback) -> str:
    try:
        return f"{django_settings.SITE_URL}{reverse('callbacks:detail', args=[callback.pk])}"
    except NoReverseMatch:
        return ""


def _tell_agent(callback: Callback, agent, *, key: str) -> Told | None:
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
    return notify_staff(agent, subject=subject, body=body, idempotency_key=key, link=url)


# Working a callback ----------------------------------------------------------------------------------------------


def locked(callback: Callback) -> Callback:
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
    callback = locked(callback)
    _require_open(callback)
    key = sms_key(callback)
    already = Notification.objects.filter(idempotency_key=key).first()
    if already is not None:
        return already
    notification = notification_send(
        channel=Notification.Channel.SMS,
        recipient=callback.customer.mobile,
        **sms_message(callback, base_url=base_url or django_settings.SITE_URL),
        idempotency_key=key,
    )
    CallbackAttempt.objects.create(
        callback=callback, method=Method.SMS, outcome=CallbackAttempt.Outcome.SMS_SENT, at=timezone.now(), by=by
    )
    return notification


@transaction.atomic
def callback_assign(*, callback: Callback, agent, by=None) -> Callback:
    """Give the callback to a customer-service agent (or an admin); a released callback tells them."""
    callback = locked(callback)
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


def _count_attempt(callback: Callback, *, method: str, outcome: str, at: datetime, by=None, note: str = "") -> None:
    """A call or visit to the homeowner, whatever came of it, in the log and in the callback's attempts (联系次数;
    the caller saves ``attempts``). A survey link texted is logged apart and is not an attempt: it goes once
    per attempt number (``survey_link.sms_key``)."""
    CallbackAttempt.objects.create(callback=callback, method=method, outcome=outcome, note=note, at=at, by=by)
    callback.attempts += 1


def call_completed(callback: Callback, *, at: datetime, by=None) -> None:
    """The survey taken by staff — on the phone, or on site — is the call that reached the homeowner: it
    counts as an attempt, unless that call is logged already (the last call or visit logged reached them).
    Runs in the caller's transaction, on the callback it has locked."""
    last = (
        callback.attempt_log.exclude(outcome=CallbackAttempt.Outcome.SMS_SENT)
        .order_by("-at", "-id")
        .values_list("outcome", flat=True)
        .first()
    )
    if last == CallbackAttempt.Outcome.REACHED:
        return
    _count_attempt(callback, method=callback.method, outcome=CallbackAttempt.Outcome.REACHED, at=at, by=by)
    callback.save(update_fields=["attempts"])


@transaction.atomic
def callback_attempt_record(
    *, callback: Callback, outcome: str, note: str = "", by=None, method: str | None = None
) -> Callback:
    """Record a try to reach the homeowner; every one counts in the callback's attempts. Reached: the survey
    follows. No answer, busy or a wrong number: the callback waits ``retry_after_hours`` and comes back to
    the agent, or after ``max_attempts`` such failed tries it is closed as unreachable."""
    callback = locked(callback)
    _require_open(callback)
    if outcome == CallbackAttempt.Outcome.SMS_SENT:
        raise ValidationError({"outcome": _("Send the survey link with “Send SMS”.")})
    if outcome not in CallbackAttempt.Outcome.values:
        raise ValidationError({"outcome": _("Choose what happened.")})
    method = method or callback.method
    if method not in Method.values:
        raise ValidationError({"method": _("Choose phone, SMS or a visit.")})
    now = timezone.now()
    _count_attempt(callback, method=method, outcome=outcome, note=note.strip(), at=now, by=by)
    if outcome == CallbackAttempt.Outcome.REACHED:
        callback.status, callback.next_attempt_at = Callback.Status.OPEN, None
    else:
        settings = callback_settings_get()
        failed = callback.attempt_log.filter(outcome__in=FAILED_OUTCOMES).count()
        if failed >= settings.max_attempts:
            callback.status, callback.next_attempt_at = Callback.Status.UNREACHABLE, None
            with translation.override(require_current_tenant().language):
                callback.closed_reason = _("Not reached after %(count)s attempts (last: %(outcome)s).") % {
                    "count": failed,
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
    callback = locked(callback)
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
        sms_template="callbacks.visit_scheduled",
        sms_params={
            "firm": tenant.name,
            "day": local.date().isoformat(),
            "time": local.strftime("%H:%M"),
            "phone": tenant.phone,
        },
    )
    return callback


@transaction.atomic
def callback_cancel(*, callback: Callback, reason: str, by=None) -> Callback:
    """Call off a callback that will not happen (the homeowner asked not to be called, the house was sold)."""
    callback = locked(callback)
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
