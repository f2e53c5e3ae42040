"""The outbox: events written with the change they report, delivered after commit to webhooks and to
in-process handlers; and notifications sent once per idempotency key."""

from __future__ import annotations

import json
import logging
import random
import secrets
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from renocrm.privacy.masking import mask_address, mask_mobile, mask_text
from renocrm.tenancy.context import require_current_tenant, tenant_context

from . import egress, receipts, webhooks, wecom
from .enqueue import BROKER_ERRORS, enqueue_on_commit
from .models import Notification, OutboxEvent, SmsReceipt, WebhookDelivery, WebhookEndpoint
from .sms import SmsAccepted, SmsRefused
from .sms_messages import CREDENTIAL_MESSAGES
from .staff_notices import staff_notice_record, staff_notices_record

logger = logging.getLogger(__name__)

_handlers: dict[str, list[Callable[[OutboxEvent], None]]] = defaultdict(list)
_same_transaction_handlers: dict[str, list[Callable[[OutboxEvent], None]]] = defaultdict(list)


def register_handler(
    event_type: str, handler: Callable[[OutboxEvent], None], *, same_transaction: bool = False
) -> None:
    """Later lifecycle apps react to earlier ones' events through handlers registered in their
    ``AppConfig.ready``. A handler runs in the firm's context and must be idempotent (an event may be
    dispatched again after a crash): use notification idempotency keys and unique constraints.

    By default a handler runs when the event is dispatched, after the emitting transaction committed. With
    ``same_transaction=True`` it runs inside ``event_emit``, in the emitting transaction: what it writes
    commits or rolls back together with the change the event reports (a handover and its callback plan),
    and an error in it refuses that change."""
    handlers = _same_transaction_handlers if same_transaction else _handlers
    if handler not in handlers[event_type]:
        handlers[event_type].append(handler)


# Events ---------------------------------------------------------------------------------------------------


def event_emit(*, event_type: str, payload: dict) -> OutboxEvent:
    """Record an event in the caller's transaction; it is dispatched only if that transaction commits."""
    from .tasks import dispatch_event

    tenant = require_current_tenant()
    event = OutboxEvent.objects.create(event_type=event_type, payload=payload)
    for handler in _same_transaction_handlers.get(event_type, []):
        handler(event)
    enqueue_on_commit(dispatch_event, event_id=event.pk, tenant_id=tenant.pk)
    return event


@transaction.atomic
def event_dispatch(*, event_id: int) -> list[WebhookDelivery]:
    """Fan an event out to its webhook endpoints and handlers, once: the event is claimed with a
    conditional update, so a concurrent or repeated dispatch does nothing. Deliveries its dispatch task already
    created (``event_deliveries_create``) are not created or queued again."""
    event = _event_claim(event_id)
    if event is None:
        return []
    _deliveries_create([event])
    _event_handlers_run(event)
    return list(WebhookDelivery.objects.filter(event=event, delivered_at__isnull=True, endpoint__is_active=True))


@transaction.atomic
def event_handle(*, event_id: int) -> bool:
    """The dispatch task's second step, once ``event_deliveries_create`` made the deliveries: the event claimed as
    dispatched and its in-process handlers run, once. False when it was dispatched already."""
    event = _event_claim(event_id)
    if event is None:
        return False
    _event_handlers_run(event)
    return True


def _event_claim(event_id: int) -> OutboxEvent | None:
    claimed = OutboxEvent.objects.filter(pk=event_id, dispatched_at__isnull=True).update(dispatched_at=timezone.now())
    return OutboxEvent.objects.get(pk=event_id) if claimed else None


def _event_handlers_run(event: OutboxEvent) -> None:
    for handler in _handlers.get(event.event_type, []):
        handler(event)


@transaction.atomic
def event_deliveries_create(*, event_id: int) -> list[WebhookDelivery]:
    """An event's webhook deliveries, created and their first attempts queued after commit: the first step of
    its dispatch task, committed before the handlers run, so a handler that fails or takes its time never holds
    up a webhook. Safe to repeat: a delivery is created once per event and endpoint. Returns those created."""
    event = OutboxEvent.objects.filter(pk=event_id).first()
    return _deliveries_create([event]) if event is not None else []


def _deliveries_create(events: list[OutboxEvent]) -> list[WebhookDelivery]:
    """The deliveries ``events`` do not have yet, one per subscribed endpoint, each due now; those to an active
    endpoint are queued after commit. Returns the deliveries created."""
    if not events:
        return []
    # An endpoint turned off automatically after failures still collects its deliveries, so they go out once it
    # is turned back on; one turned off by hand receives nothing meanwhile.
    receiving = list(WebhookEndpoint.objects.filter(Q(is_active=True) | Q(disabled_at__isnull=False)))
    if not receiving:
        return []
    have = set(WebhookDelivery.objects.filter(event__in=events).values_list("event_id", "endpoint_id"))
    now = timezone.now()
    new = [
        WebhookDelivery(event=event, endpoint=endpoint, next_attempt_at=now)
        for event in events
        for endpoint in receiving
        if endpoint.subscribes_to(event.event_type) and (event.pk, endpoint.pk) not in have
    ]
    if not new:
        return []
    try:
        with transaction.atomic():
            WebhookDelivery.objects.bulk_create(new)
    except IntegrityError:
        # Another dispatch of the same event created them a moment ago and queues them. Should it have made
        # only some, the rest are made here unqueued, and the webhook sweeper queues them shortly.
        WebhookDelivery.objects.bulk_create(new, ignore_conflicts=True)
        return []
    _queue_attempts([delivery.pk for delivery in new if delivery.endpoint.is_active])
    return new


def _queue_attempts(delivery_ids: list[int], *, at=None) -> None:
    """After commit, queue an attempt of each delivery: at once, or with a countdown to ``at`` (a retry's time)."""
    if delivery_ids:
        tenant_id = require_current_tenant().pk
        transaction.on_commit(lambda: _send_attempts(delivery_ids, tenant_id=tenant_id, at=at))


def _send_attempts(delivery_ids: list[int], *, tenant_id: int, at=None) -> int:
    """Queue an attempt of each delivery now (rows already committed). A wait longer than
    WEBHOOK_RETRY_QUEUED_WITHIN_SECONDS is left to the webhook sweeper, and so is everything once the broker
    cannot be reached: the rows say what is due, a task only brings its attempt forward. Returns how many."""
    from .tasks import deliver_webhook

    countdown = None
    if at is not None:
        countdown = (at - timezone.now()).total_seconds()
        if countdown > settings.WEBHOOK_RETRY_QUEUED_WITHIN_SECONDS:
            return 0
        countdown = countdown if countdown > 0 else None
    for sent, delivery_id in enumerate(delivery_ids):
        try:
            deliver_webhook.apply_async(
                kwargs={"delivery_id": delivery_id, "tenant_id": tenant_id}, countdown=countdown
            )
        except BROKER_ERRORS as error:
            logger.warning("Broker unavailable, webhook deliveries left for the sweeper: %s", error)
            return sent
    return len(delivery_ids)


def event_envelope(event: OutboxEvent) -> dict:
    return {
        "id": event.pk,
        "type": event.event_type,
        "created_at": event.created_at.isoformat(),
        "firm": event.tenant.slug,
        "data": event.payload,
    }


# Keys under which an event's data would carry a contact detail; any other text has its mobile numbers masked.
_CONTACT_KEYS = {"mobile": mask_mobile, "phone": mask_mobile, "address": mask_address}


def masked_payload(value, key: str = ""):
    """An event's data as a partner without contact details sees it: a ``mobile``/``phone`` or ``address``
    value masked whole, mobile numbers masked inside every other text, at any depth."""
    if isinstance(value, str):
        return _CONTACT_KEYS.get(key, mask_text)(value)
    if isinstance(value, dict):
        return {name: masked_payload(item, name) for name, item in value.items()}
    if isinstance(value, list):
        return [masked_payload(item, key) for item in value]
    return value


def partner_envelope(event: OutboxEvent, endpoint: WebhookEndpoint) -> dict:
    """The envelope as ``endpoint`` receives it: contact details in the data (a mobile number written into an
    inspection's findings or a cancellation reason, a ``mobile`` or ``address`` field) masked as for anyone
    without the contacts permission, unless the endpoint was entitled to them by someone who holds it."""
    envelope = event_envelope(event)
    if not endpoint.include_contacts:
        envelope["data"] = masked_payload(envelope["data"])
    return envelope


# Webhooks -------------------------------------------------------------------------------------------------


def _new_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


def _check_url(url: str) -> None:
    try:
        egress.check_url(url)
    except egress.RefusedURL as refusal:
        raise ValidationError({"url": str(refusal)}) from refusal


def _refuse_contacts() -> ValidationError:
    return ValidationError(
        {"include_contacts": _("Only someone who may see customers' contact details can send them to an endpoint.")}
    )


@transaction.atomic
def webhook_endpoint_create(
    *,
    url: str,
    event_types: list[str] | None = None,
    description: str = "",
    is_active: bool = True,
    include_contacts: bool = False,
    contacts_allowed: bool = False,
) -> WebhookEndpoint:
    """``contacts_allowed``: whether the caller may see contact details (a staff member with the contacts
    permission, a key with ``contacts:read``); only then may the endpoint receive them."""
    if include_contacts and not contacts_allowed:
        raise _refuse_contacts()
    _check_url(url)
    return WebhookEndpoint.objects.create(
        url=url,
        event_types=event_types or [],
        description=description,
        is_active=is_active,
        include_contacts=include_contacts,
        secret=_new_secret(),
    )


@transaction.atomic
def webhook_endpoint_update(*, endpoint: WebhookEndpoint, contacts_allowed: bool = False, **fields) -> WebhookEndpoint:
    """Change an endpoint. A caller not entitled to contact details may turn ``include_contacts`` off but not
    on, nor move an endpoint that receives them to another URL (that would send them where the caller likes)."""
    if not contacts_allowed:
        if fields.get("include_contacts") and not endpoint.include_contacts:
            raise _refuse_contacts()
        receives_contacts = fields.get("include_contacts", endpoint.include_contacts)
        if receives_contacts and "url" in fields and fields["url"] != endpoint.url:
            raise ValidationError(
                {"url": _("This endpoint receives contact details: only someone who may see them can change its URL.")}
            )
    if "url" in fields:
        _check_url(fields["url"])
    was_active = endpoint.is_active
    for name in ("url", "event_types", "description", "is_active", "include_contacts"):
        if name in fields:
            setattr(endpoint, name, fields[name])
    if fields.get("is_active"):
        # Turning an endpoint back on clears its failure streak.
        endpoint.disabled_at, endpoint.consecutive_failures = None, 0
    elif "is_active" in fields:
        # Turned off by hand: no longer "off after failures", so events stop waiting for it.
        endpoint.disabled_at = None
    endpoint.save()
    if endpoint.is_active and not was_active:
        # What waited for it goes out now rather than at the sweeper's next pass (the rest of a long backlog does).
        waiting = WebhookDelivery.objects.filter(
            endpoint=endpoint, delivered_at__isnull=True, given_up_at__isnull=True, next_attempt_at__lte=timezone.now()
        ).order_by("next_attempt_at")
        _queue_attempts(list(waiting.values_list("pk", flat=True)[:1000]))
    return endpoint


@transaction.atomic
def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint, grace: timedelta | None = None) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = timezone.now() + (grace or timedelta(hours=24))
    endpoint.secret = _new_secret()
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
    return endpoint


def webhook_retry_nominal(attempts: int) -> timedelta:
    """The documented wait after a delivery's ``attempts``-th failed attempt: 1, 2, 4, 8 … minutes
    (WEBHOOK_RETRY_FIRST_SECONDS doubling), at most WEBHOOK_RETRY_MAX_SECONDS."""
    seconds = settings.WEBHOOK_RETRY_FIRST_SECONDS * 2 ** min(max(attempts - 1, 0), 30)
    return timedelta(seconds=min(seconds, settings.WEBHOOK_RETRY_MAX_SECONDS))


def webhook_retry_delay(attempts: int) -> timedelta:
    """The wait actually used: the nominal one ± WEBHOOK_RETRY_JITTER_PERCENT (never over the maximum), so the
    deliveries that failed together in a receiver's outage come back spread out rather than all at once."""
    jitter = settings.WEBHOOK_RETRY_JITTER_PERCENT / 100
    seconds = webhook_retry_nominal(attempts).total_seconds() * random.uniform(1 - jitter, 1 + jitter)
    return timedelta(seconds=min(seconds, settings.WEBHOOK_RETRY_MAX_SECONDS))


# A queued retry runs when its countdown ends, by the worker's clock: one that fires a moment before the time on
# the row is on time, not early.
DUE_TOLERANCE = timedelta(seconds=1)


@transaction.atomic
def webhook_deliver(*, delivery_id: int) -> WebhookDelivery | None:
    """Attempt one delivery, if it is still to be attempted now. Returns None, attempting nothing, when it was
    delivered or given up, is not due yet (a retry waiting for its time: the sweeper or a duplicate task came
    early), or another worker is attempting it right now. The delivery's row alone is locked (SKIP LOCKED) until
    the outcome is recorded, so a queued retry, the sweeper and a redelivery can never make two attempts of one
    delivery at once, while the firm's other deliveries, to this endpoint or another, go out meanwhile.

    A failed attempt sets the next one's time on the row (``webhook_retry_delay``) and queues it with a countdown
    to that time; the row stays the truth and the sweeper queues the attempt again should that task be lost."""
    now = timezone.now()
    delivery = (
        WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("event", "endpoint", "event__tenant")
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now + DUE_TOLERANCE))
        .filter(pk=delivery_id, delivered_at__isnull=True, given_up_at__isnull=True)
        .first()
    )
    if delivery is None:
        return None
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        return delivery
    body = json.dumps(partner_envelope(delivery.event, endpoint), ensure_ascii=False, separators=(",", ":")).encode()
    signing = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_expires_at and endpoint.previous_secret_expires_at > now:
        signing.append(endpoint.previous_secret)
    # A manual redelivery is a new delivery of the same event: its own id, naming the original. Receivers
    # deduplicate on the event's id (the envelope's "id", X-RenoCRM-Event-Id).
    delivery_id = str(delivery.pk) if not delivery.redeliveries else f"{delivery.pk}-r{delivery.redeliveries}"
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "RenoCRM-Webhooks/1",
        webhooks.HEADER: webhooks.signature_header(signing, body, delivery_id=delivery_id),
        "X-RenoCRM-Event": delivery.event.event_type,
        "X-RenoCRM-Event-Id": str(delivery.event_id),
        "X-RenoCRM-Delivery": delivery_id,
        "X-RenoCRM-Attempt": str(delivery.attempts + 1),
    }
    if delivery.redeliveries:
        headers["X-RenoCRM-Redelivery-Of"] = str(delivery.pk)
    # The URL is checked again here, whatever it was when saved: the answer is a refusal, not a connection,
    # when it now resolves inside the network. A refusal or a redirect counts as a failed attempt.
    with translation.override(delivery.event.tenant.language):
        answer = egress.post(endpoint.url, body, headers, timeout=settings.WEBHOOK_TIMEOUT_SECONDS)
    status = answer.status
    delivery.attempts += 1
    delivery.last_status_code, delivery.last_response_body, delivery.last_error = status, answer.body, answer.error
    # The endpoint's failure streak is counted on its row as it is now, locked only from here to the commit:
    # other deliveries to it may have counted theirs while this one waited for its answer.
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    delivery.endpoint = endpoint
    if status is not None and 200 <= status < 300:
        delivery.delivered_at, delivery.next_attempt_at = now, None
        endpoint.consecutive_failures = 0
    else:
        endpoint.consecutive_failures += 1
        if delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
            delivery.given_up_at, delivery.next_attempt_at = now, None
        else:
            delivery.next_attempt_at = timezone.now() + webhook_retry_delay(delivery.attempts)
        if endpoint.consecutive_failures >= settings.WEBHOOK_DISABLE_AFTER_FAILURES and endpoint.is_active:
            endpoint.is_active, endpoint.disabled_at = False, now
            logger.warning(
                "Webhook endpoint %s disabled after %s consecutive failures", endpoint.pk, endpoint.consecutive_failures
            )
            _tell_admins_endpoint_disabled(endpoint, delivery)
    delivery.save()
    endpoint.save(update_fields=["consecutive_failures", "is_active", "disabled_at"])
    if delivery.next_attempt_at is not None and endpoint.is_active:
        _queue_attempts([delivery.pk], at=delivery.next_attempt_at)
    return delivery


def webhook_deliveries_sweep(*, batch_size: int = 1000) -> int:
    """The current firm's safety net for attempts whose task was lost (a worker killed while holding it, a broker
    down at commit): every delivery overdue by more than WEBHOOK_SWEEP_SLACK_SECONDS is queued again, and the
    deliveries of an event whose dispatch task never ran are created and queued. Anything queued on time has
    been attempted by then, so the slack keeps the sweeper from queueing it twice; should it, the attempt refuses
    to run twice (``webhook_deliver``). Returns how many attempts it queued."""
    overdue = timezone.now() - timedelta(seconds=settings.WEBHOOK_SWEEP_SLACK_SECONDS)
    stale = list(
        OutboxEvent.objects.filter(dispatched_at__isnull=True, created_at__lt=overdue).order_by("pk")[:batch_size]
    )
    created = _deliveries_create(stale)
    due = list(
        WebhookDelivery.objects.filter(
            next_attempt_at__lte=overdue,
            delivered_at__isnull=True,
            given_up_at__isnull=True,
            endpoint__is_active=True,
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:batch_size]
    )
    # These rows are committed: queued now, not after this sweep's commit.
    queued = _send_attempts(due, tenant_id=require_current_tenant().pk)
    return queued + sum(1 for delivery in created if delivery.endpoint.is_active)


def _tell_admins_endpoint_disabled(endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> None:
    """Every firm admin hears once per disabling (the key carries when it happened), in the firm's language,
    with the endpoint's last answer and the page where it is turned back on."""
    from renocrm.accounts.staff import firm_admins

    firm = delivery.event.tenant
    path = reverse("integrations:webhook", args=[endpoint.pk])
    link = settings.SITE_URL + path
    with translation.override(firm.language):
        if delivery.last_status_code is not None:
            answer = _("HTTP %(status)s") % {"status": delivery.last_status_code}
        else:
            answer = delivery.last_error or _("no answer")
        values = {
            "url": endpoint.url,
            "failures": endpoint.consecutive_failures,
            "answer": answer,
            "link": link,
            "firm": firm.name,
        }
        subject = _("Webhook endpoint turned off: %(url)s") % values
        body = (
            _(
                "RenoCRM stopped sending events to %(url)s after %(failures)s failed deliveries in a row. "
                "Last answer: %(answer)s. Undelivered events wait; turn the endpoint back on once it answers "
                "again: %(link)s — %(firm)s"
            )
            % values
        )
        for admin in firm_admins():
            notify_staff(
                admin,
                subject=subject,
                body=body,
                idempotency_key=f"webhook-disabled:{endpoint.pk}:{endpoint.disabled_at:%Y%m%d%H%M%S}:{admin.pk}",
                link=path,
            )


@transaction.atomic
def webhook_delivery_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again now, whatever happened to it before: a new delivery of its event, with its own
    id (``<id>-r<n>``) naming the original."""
    from .tasks import deliver_webhook

    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        delivered_at=None, given_up_at=None, next_attempt_at=timezone.now(), redeliveries=F("redeliveries") + 1
    )
    tenant_id = delivery.tenant_id
    enqueue_on_commit(deliver_webhook, delivery_id=delivery.pk, tenant_id=tenant_id)
    delivery.refresh_from_db()
    return delivery


# Notifications ----------------------------------------------------------------------------------------------


def notification_send(
    *,
    channel: str,
    recipient: str,
    body: str,
    idempotency_key: str,
    subject: str = "",
    attachment: tuple[str, bytes, str] | None = None,
    sms_template: str = "",
    sms_params: dict | None = None,
    credential: bool = False,
) -> Notification:
    """Queue a message; the same idempotency key never sends twice, however often this is called. An e-mail
    may carry one ``attachment`` as (file name, content, MIME type). An SMS names its approved-template key
    (``sms_template``, one of renocrm.outbox.sms_messages) and the values of its parameters (``sms_params``):
    a mainland gateway sends those, the other backends ``body``. ``credential``: the body holds a credential
    (a sign-in link), blanked once the message is sent or given up, as for the messages in
    ``sms_messages.CREDENTIAL_MESSAGES``."""
    from .tasks import deliver_notification

    name, content, mimetype = attachment or ("", b"", "")
    if channel != Notification.Channel.SMS:
        sms_template, sms_params = "", None
    credential = credential or sms_template in CREDENTIAL_MESSAGES
    with transaction.atomic():
        notification, created = Notification.objects.get_or_create(
            idempotency_key=idempotency_key,
            defaults={
                "channel": channel,
                "recipient": recipient,
                "body": body,
                "subject": subject,
                "attachment_name": name,
                "attachment": content,
                "attachment_type": mimetype,
                "sms_template": sms_template,
                "sms_params": _plain(sms_params),
                "holds_credential": credential,
            },
        )
    if created:
        tenant_id = notification.tenant_id
        enqueue_on_commit(deliver_notification, notification_id=notification.pk, tenant_id=tenant_id)
    return notification


@dataclass(frozen=True)
class Told:
    """What reached a staff member (``notify_staff``): the notice in the app (the bell), and the text or
    e-mail that carries it (None for someone with neither phone nor e-mail)."""

    in_app: bool
    message: Notification | None


def notify_staff(user, *, subject: str, body: str, idempotency_key: str, link: str = "") -> Told | None:
    """Tell a staff member: a notice in the app (the bell), linking to ``link`` (a path in the app, or a URL
    of this site), and a text to their phone if they have one, else an e-mail (with the subject). Returns
    what reached them; a notice in the app alone counts, as the bell is where staff look. None when nothing
    did: nobody, someone gone, or someone outside the firm with neither phone nor e-mail."""
    in_app = staff_notice_record(user, subject=subject, body=body, idempotency_key=idempotency_key, link=link)
    message = staff_message(user, subject=subject, body=body, idempotency_key=idempotency_key)
    sent = notification_send(**message) if message is not None else None
    return Told(in_app=in_app, message=sent) if in_app or sent is not None else None


def notify_staff_many(notices: list[dict]) -> list[dict]:
    """``notify_staff`` for a sweeper's batch of notices (each ``notify_staff``'s keywords, with ``user``):
    every notice recorded in the app with one INSERT, and the texts and e-mails that carry them returned,
    for the caller to queue with its own messages in one ``notifications_send_many``."""
    staff_notices_record(notices)
    messages = (
        staff_message(notice["user"], **{key: notice[key] for key in ("subject", "body", "idempotency_key")})
        for notice in notices
    )
    return [message for message in messages if message is not None]


def staff_message(user, *, subject: str, body: str, idempotency_key: str) -> dict | None:
    """What ``notify_staff`` would text or e-mail ``user`` (the notice in the app aside: this records none), as
    ``notification_send``'s keywords: a text to their phone if they have one, else an e-mail (with the
    subject). None when the person is gone (inactive) or has neither."""
    if user is None or not user.is_active:
        return None
    if user.phone:
        channel, address = Notification.Channel.SMS, user.phone
    elif user.email:
        channel, address = Notification.Channel.EMAIL, user.email
    else:
        return None
    message = {
        "channel": channel,
        "recipient": address,
        "subject": subject if channel == Notification.Channel.EMAIL else "",
        "body": body,
        "idempotency_key": idempotency_key,
    }
    if channel == Notification.Channel.SMS:
        message.update(sms_template="staff.notice", sms_params={"subject": subject, "body": body})
    return message


def _plain(params: dict | None) -> dict:
    """An SMS's parameter values as JSON keeps them: text, whatever they were (a date, a lazy translation)."""
    return {str(name): "" if value is None else str(value) for name, value in (params or {}).items()}


def notifications_send_many(messages: list[dict]) -> dict[str, int]:
    """``notification_send`` for many messages at once (a sweeper's batch), each given as its keywords
    (without attachments): one look-up of the keys and one INSERT, and after commit one task that delivers the new
    ones. A key that already has its message sends nothing again, as with ``notification_send``. Returns
    the new messages' ids by idempotency key."""
    from .tasks import deliver_notifications

    tenant = require_current_tenant()
    rows = [
        Notification(
            tenant=tenant,
            channel=message["channel"],
            recipient=message["recipient"],
            subject=message.get("subject", ""),
            body=message["body"],
            idempotency_key=message["idempotency_key"],
            sms_template=message.get("sms_template", "") if message["channel"] == Notification.Channel.SMS else "",
            sms_params=_plain(message.get("sms_params")) if message["channel"] == Notification.Channel.SMS else {},
            holds_credential=bool(message.get("credential"))
            or (message["channel"] == Notification.Channel.SMS and message.get("sms_template") in CREDENTIAL_MESSAGES),
        )
        for message in messages
    ]
    if not rows:
        return {}
    keys = [row.idempotency_key for row in rows]
    taken = set(Notification.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", flat=True))
    fresh = list({row.idempotency_key: row for row in rows if row.idempotency_key not in taken}.values())
    # A key written meanwhile by another transaction fails this one whole (unique key), to be retried by its
    # caller's next run; the callers' batches are claimed with SKIP LOCKED, so that does not happen to them.
    Notification.objects.bulk_create(fresh)
    created = {row.idempotency_key: row.pk for row in fresh}
    if created:
        enqueue_on_commit(deliver_notifications, notification_ids=sorted(created.values()), tenant_id=tenant.pk)
    return created


MAX_NOTIFICATION_ATTEMPTS = 5
# How long a claimed attempt keeps other attempts off the message: longer than any task may run, so a worker
# still sending is never overtaken; past it, the worker is taken to have died with the outcome unknown.
SENDING_LEASE = timedelta(seconds=getattr(settings, "CELERY_TASK_TIME_LIMIT", None) or 600) + timedelta(minutes=1)


def notification_deliver(*, notification_id: int, tenant=None) -> Notification | None:
    """Send one pending message (of ``tenant``, by default the current firm), in three steps, so that an
    attempt is never lost whatever happens to the worker:

    1. In one transaction the row is claimed (``SELECT … FOR UPDATE SKIP LOCKED``), the attempt counted and the
       row marked in flight (``sending_since``); a mainland gateway's text is marked "maybe sent"
       (renocrm.outbox.receipts). This commits before anything is sent.
    2. The backend is called with no transaction open and no row locked.
    3. The outcome is recorded in a second transaction: sent, or the error (a refusal that cannot mend, or
       the last attempt, fails the message), and the in-flight mark cleared.

    A message in flight is left alone until ``SENDING_LEASE`` has passed; then its worker is taken to have
    died and the next attempt treats that one's outcome as unknown: a gateway's text is looked up before it
    is sent again (other backends cannot be asked and send again). Returns None when there was nothing to do
    (sent or failed already, another worker on it, not due)."""
    tenant = tenant or require_current_tenant()
    with tenant_context(tenant):
        claimed = _notification_claim(notification_id)
    if claimed is None or isinstance(claimed, Notification):
        return claimed
    send, sms_attempt = claimed
    try:
        outcome = send()
    except Exception as error:  # the outcome, whatever it is, is recorded below
        outcome = error
    with tenant_context(tenant):
        return _notification_record(notification_id, outcome, sms_attempt)


def _notification_claim(notification_id: int):
    """Step 1: None (nothing to do), the message when it was settled here, or (what step 2 calls, the text's
    attempt). Everything step 2 needs is read here, so it touches no table."""
    now = timezone.now()
    notification = (
        Notification.objects.select_for_update(skip_locked=True)
        .filter(pk=notification_id, status=Notification.Status.PENDING)
        .first()
    )
    if notification is None or (notification.retry_after and notification.retry_after > now):
        return None
    if notification.sending_since and notification.sending_since > now - SENDING_LEASE:
        return None  # another worker is sending it
    interrupted = notification.sending_since is not None
    notification.sending_since, notification.retry_after = now, None
    if interrupted and notification.attempts >= MAX_NOTIFICATION_ATTEMPTS:
        # The last attempt was cut off (its worker died) and no attempt is left to find out whether it went.
        notification.sending_since = None
        notification.status = Notification.Status.FAILED
        notification.last_error = "The last attempt was interrupted: whether the message went out is unknown."
        _settle(notification)
        notification.save()
        return notification
    notification.attempts += 1
    sms_attempt = None
    try:
        if notification.channel == Notification.Channel.SMS:
            sms_attempt = receipts.sms_prepare(notification, now=now)
            send = partial(receipts.sms_send, sms_attempt)
        elif notification.channel == Notification.Channel.WECOM:
            robot = wecom.robot_for(notification)
            message_format = notification.subject or robot.message_format
            send = partial(wecom.robot_post, robot, message_format=message_format, text=notification.body)
        else:
            email = EmailMessage(notification.subject, notification.body, to=[notification.recipient])
            if notification.attachment_name:
                email.attach(notification.attachment_name, bytes(notification.attachment), notification.attachment_type)
            send = email.send
    except (wecom.RobotRefused, SmsRefused) as refusal:  # refused before anything was sent
        send = partial(_raise, refusal)
    notification.save(update_fields=["attempts", "sending_since", "retry_after"])
    return send, sms_attempt


def _raise(error: Exception):
    raise error


def _notification_record(notification_id: int, outcome, sms_attempt) -> Notification:
    """Step 3: the outcome of step 2 (what it returned, or the exception it raised) on the message, read
    afresh: what changed meanwhile (an erasure scrubbing the text) stays."""
    now = timezone.now()
    notification = Notification.objects.select_for_update().get(pk=notification_id)
    if sms_attempt is not None:
        receipts.sms_keep(notification, sms_attempt, outcome, now=now)
    notification.sending_since = None
    if isinstance(outcome, receipts.SmsHeld):
        # Nothing was sent: the attempt does not count, and the message is looked for again later.
        notification.attempts = max(notification.attempts - 1, 0)
        notification.retry_after, notification.last_error = outcome.until, str(outcome)
    elif isinstance(outcome, Exception):
        # Gateway answers may quote the number: masked, as in every log line.
        error = mask_text(str(outcome)) or type(outcome).__name__
        logger.warning("Notification %s failed: %s", notification.pk, error)
        notification.last_error = error[:500]
        # A refusal that no retry can mend (an invalid number, a robot removed) fails at once.
        if notification.attempts >= MAX_NOTIFICATION_ATTEMPTS or getattr(outcome, "final", False):
            notification.status = Notification.Status.FAILED
    else:
        found = outcome if isinstance(outcome, SmsAccepted) and outcome.found else None
        notification.status = Notification.Status.SENT
        notification.sent_at = (found and found.accepted_at) or now
    _settle(notification)
    notification.save()
    return notification


def _settle(notification: Notification) -> None:
    """Once no retry will send it, sent or given up: no template values (the customer's name among them), no
    attached file (a PDF with the homeowner's name and address) and no credential are kept."""
    if notification.status == Notification.Status.PENDING:
        return
    notification.sms_params = {}
    notification.attachment = b""
    if notification.holds_credential:
        notification.body = ""


def notification_errors_forget(*, notifications) -> int:
    """Forget what the gateways said about these messages (their errors may quote the recipient's number):
    for a customer's erasure. Returns how many messages it touched."""
    SmsReceipt.objects.filter(notification__in=notifications).update(error_message="")
    return notifications.update(last_error="")
