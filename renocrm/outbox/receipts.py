"""Sending one SMS through the firm's backend, and the receipts of those the mainland gateways took.

A gateway's answer is kept as the notification's ``SmsReceipt``: the id it gave the message, or its refusal,
or "no answer". A refusal the gateway calls final fails the notification at once; any other refusal, and no
answer, leaves it pending for ``notification_deliver``'s retries under the same idempotency key. After no
answer the message may have gone out, so the next try first asks the gateway for a message carrying that key
(Alibaba Cloud's OutId, Tencent Cloud's SessionContext) and sends only if there is none.

Receipts are pulled, not pushed: the ``sms-receipts`` sweep asks the gateway about each message still
waiting (QuerySendDetails; PullSmsSendStatusByPhoneNumber), after 1, 2, 5, 10, 30 and 60 minutes and then
hourly, until the carrier has reported or SMS_RECEIPT_WAIT_HOURS have passed. Pulling needs no address the
gateways can reach, runs in the firm's own context with the firm's own credentials, and asking twice
changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from renocrm.sweeps.services import Sweep

from .models import NoticeSettings, Notification, SmsReceipt
from .sms import SmsMessage, SmsRefused, SmsUnanswered
from .sms_gateways import GatewayBackend, firm_gateway, firm_sms_backend

RECEIPT_SWEEP = "sms-receipts"
CHECK_AFTER = (1, 2, 5, 10, 30, 60)  # minutes after acceptance, then every hour


def _next_check(checks: int) -> timedelta:
    return timedelta(minutes=CHECK_AFTER[checks] if checks < len(CHECK_AFTER) else 60)


def sms_deliver(notification: Notification) -> None:
    """Send one SMS notification through the current firm's backend. Raises when it did not go: a refusal with
    ``final`` set fails the notification at once, anything else is tried again."""
    backend = firm_sms_backend(NoticeSettings.objects.first())
    message = SmsMessage(
        notification.recipient,
        notification.body,
        notification.idempotency_key,
        template=notification.sms_template,
        params=notification.sms_params or {},
    )
    if not isinstance(backend, GatewayBackend):
        backend.send(message)
        return
    receipt = SmsReceipt.objects.filter(notification=notification).first()
    accepted = None
    if receipt is not None and receipt.status == SmsReceipt.Status.UNKNOWN:
        accepted = backend.find_sent(message, since=notification.created_at)
    try:
        accepted = accepted or backend.send(message)
    except SmsRefused as refusal:
        _keep(receipt, notification, backend.provider, SmsReceipt.Status.REFUSED, refusal.code, refusal.message)
        raise
    except SmsUnanswered as silence:
        _keep(receipt, notification, backend.provider, SmsReceipt.Status.UNKNOWN, "", str(silence))
        raise
    now = timezone.now()
    receipt = receipt or SmsReceipt(notification=notification)
    receipt.provider, receipt.message_id = backend.provider, accepted.message_id
    receipt.status = SmsReceipt.Status.WAITING
    receipt.error_code = receipt.error_message = ""
    receipt.accepted_at, receipt.checks, receipt.next_check_at = now, 0, now + _next_check(0)
    receipt.save()


def _keep(receipt, notification, provider: str, status: str, code: str, text: str) -> None:
    receipt = receipt or SmsReceipt(notification=notification)
    receipt.provider, receipt.status = provider, status
    receipt.error_code, receipt.error_message = code[:100], text[:300]
    receipt.save()


@transaction.atomic
def sms_receipts_check(*, now: datetime | None = None, sweep: Sweep | None = None) -> int:
    """Ask the gateways about one batch of the firm's messages whose receipt is due; returns how many got
    their final receipt now. Each row in its own savepoint (``renocrm.sweeps``)."""
    now = now or timezone.now()
    sweep = sweep or Sweep(RECEIPT_SWEEP, batch_size=200)
    firm_settings = NoticeSettings.objects.first()
    gateways: dict[str, GatewayBackend | None] = {}
    due = (
        SmsReceipt.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("notification")
        .filter(status=SmsReceipt.Status.WAITING, next_check_at__lte=now)
        .order_by("next_check_at", "id")
    )
    done = 0
    for receipt in sweep.batch(due):
        if receipt.provider not in gateways:
            gateways[receipt.provider] = firm_gateway(receipt.provider, firm_settings)
        done += sweep.run(receipt.pk, _check, receipt, gateways[receipt.provider], now=now) or 0
    return done


def _check(receipt: SmsReceipt, gateway: GatewayBackend | None, *, now: datetime) -> int:
    waited = now - receipt.accepted_at if receipt.accepted_at else None
    give_up = waited is None or waited > timedelta(hours=settings.SMS_RECEIPT_WAIT_HOURS)
    if gateway is None:
        receipt.status, receipt.next_check_at = SmsReceipt.Status.NO_RECEIPT, None
        receipt.error_message = "The firm no longer reaches this gateway."
        receipt.save()
        return 1
    try:
        report = gateway.report(
            recipient=receipt.notification.recipient,
            message_id=receipt.message_id,
            idempotency_key=receipt.notification.idempotency_key,
            accepted_at=receipt.accepted_at,
        )
    except (SmsRefused, SmsUnanswered) as error:
        # The gateway could not say now: asked again later, like a receipt not in yet.
        report, receipt.error_message = None, str(error)[:300]
    receipt.checks += 1
    if report is None:
        if give_up:
            receipt.status, receipt.next_check_at = SmsReceipt.Status.NO_RECEIPT, None
            receipt.save()
            return 1
        receipt.next_check_at = now + _next_check(receipt.checks)
        receipt.save()
        return 0
    receipt.status, receipt.next_check_at = report.status, None
    receipt.error_code, receipt.error_message = report.error_code[:100], report.error_message[:300]
    receipt.received_at = report.received_at
    receipt.message_id = receipt.message_id or report.message_id
    receipt.save()
    return 1
