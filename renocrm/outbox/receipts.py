"""Sending one SMS through the firm's backend, and the receipts of those the mainland gateways took.

A text is sent in the three steps of ``services.notification_deliver``. ``sms_prepare`` runs in the claiming
transaction: it chooses the backend and, for a mainland gateway, marks the text's ``SmsReceipt`` "no answer"
(UNKNOWN, ``maybe_sent_at``) before that transaction commits. ``sms_send`` calls the gateway with no
transaction open. ``sms_keep`` records what the gateway said in a second transaction: the id it gave the
message, its refusal, or no answer. So a worker that dies while the gateway is taking the message leaves the
text marked "maybe sent", never "not sent".

"Maybe sent" is kept apart from the last answer (``maybe_sent_at``): a later refusal (a rate limit) says
nothing about an earlier attempt that got no answer, so every attempt after one first asks the gateway for
a message carrying the notification's idempotency key (Alibaba Cloud's OutId, Tencent Cloud's
SessionContext), and sends only if there is none. A message found is recorded with the time it went out and,
when the carrier has reported, its receipt. Tencent Cloud finds a message only once its carrier receipt is
in (``GatewayBackend.finds_unreported``): there a text is not sent again before SMS_RECEIPT_WAIT_HOURS have
passed since the attempt without an answer; meanwhile it is looked for again on the receipts' schedule.

A refusal the gateway calls final fails the notification at once; any other refusal, and no answer, leaves
it pending for ``notification_deliver``'s retries under the same idempotency key.

Receipts are pulled, not pushed: the ``sms-receipts`` sweep asks the gateway about each message still
waiting (QuerySendDetails; PullSmsSendStatusByPhoneNumber), after 1, 2, 5, 10, 30 and 60 minutes and then
hourly, until the carrier has reported or SMS_RECEIPT_WAIT_HOURS have passed. Each receipt is asked for and
kept in its own transaction, a gateway that does not answer is not asked again in the same run, and a run
stops after ``RECEIPT_TIME_BUDGET`` seconds: a gateway outage neither holds locks for long nor undoes the
receipts already fetched. Pulling needs no address the gateways can reach, runs in the firm's own context
with the firm's own credentials, and asking twice changes nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from renocrm.sweeps.services import Sweep
from renocrm.tenancy.context import require_current_tenant, tenant_context

from .models import NoticeSettings, Notification, SmsReceipt
from .sms import BaseBackend, SmsAccepted, SmsMessage, SmsRefused, SmsUnanswered
from .sms_gateways import GatewayBackend, firm_gateway, sms_backend

RECEIPT_SWEEP = "sms-receipts"
CHECK_AFTER = (1, 2, 5, 10, 30, 60)  # minutes after acceptance, then every hour
RECEIPT_TIME_BUDGET = 60.0  # seconds one run of the receipts sweep may spend asking gateways


def _next_check(checks: int) -> timedelta:
    return timedelta(minutes=CHECK_AFTER[checks] if checks < len(CHECK_AFTER) else 60)


class SmsHeld(Exception):  # noqa: N818 - an outcome, not a programming error
    """Not sent now: an earlier attempt may have sent the text and the gateway cannot tell yet. Nothing was
    sent, so the attempt does not count; the text is looked for again at ``until``."""

    def __init__(self, until: datetime, resend_at: datetime):
        super().__init__(
            "An earlier attempt got no answer and the gateway lists a text only once its receipt is in: "
            f"not sent again before {resend_at:%Y-%m-%d %H:%M} UTC unless its receipt shows it went out."
        )
        self.until = until


@dataclass(frozen=True)
class SmsAttempt:
    """What step 1 chose for one attempt at a text, for steps 2 and 3."""

    backend: BaseBackend
    message: SmsMessage
    started_at: datetime
    # The first attempt whose outcome is unknown, before this one: then this one looks the text up first.
    unknown_since: datetime | None = None

    @property
    def gateway(self) -> bool:
        return isinstance(self.backend, GatewayBackend)


def sms_prepare(notification: Notification, *, now: datetime) -> SmsAttempt:
    """Step 1, in the claiming transaction: the text's backend (the installation's for a message about a staff
    member's own account) and, for a gateway, the receipt marked "no answer" until the answer is kept."""
    backend = sms_backend(notification.sms_template, NoticeSettings.objects.first())
    message = SmsMessage(
        notification.recipient,
        notification.body,
        notification.idempotency_key,
        template=notification.sms_template,
        params=notification.sms_params or {},
    )
    if not isinstance(backend, GatewayBackend):
        return SmsAttempt(backend, message, now)
    receipt = SmsReceipt.objects.select_for_update().filter(notification=notification).first()
    receipt = receipt or SmsReceipt(notification=notification)
    unknown_since = receipt.maybe_sent_at
    if unknown_since is None and receipt.status == SmsReceipt.Status.UNKNOWN:
        unknown_since = notification.created_at  # recorded before ``maybe_sent_at`` existed
    receipt.provider, receipt.through_installation = backend.provider, not backend.config.own
    receipt.status, receipt.maybe_sent_at = SmsReceipt.Status.UNKNOWN, unknown_since or now
    receipt.save()
    return SmsAttempt(backend, message, now, unknown_since)


def sms_send(attempt: SmsAttempt) -> SmsAccepted | None:
    """Step 2, with no transaction open: the text through its backend; after an attempt without an answer,
    the message found at the gateway instead, if there is one. Raises when it did not go: SmsRefused (this
    attempt sent nothing), SmsHeld (nothing sent, the gateway cannot tell yet), anything else (no answer)."""
    backend, message = attempt.backend, attempt.message
    if not attempt.gateway:
        backend.send(message)
        return None
    if attempt.unknown_since is not None:
        found = backend.find_sent(message, since=attempt.unknown_since)
        if found is not None:
            return replace(found, found=True)
        if not backend.finds_unreported:
            now = timezone.now()
            resend_at = attempt.unknown_since + timedelta(hours=settings.SMS_RECEIPT_WAIT_HOURS)
            if now < resend_at:
                raise SmsHeld(min(resend_at, _next_lookup(attempt.unknown_since, now)), resend_at)
    return backend.send(message)


def _next_lookup(since: datetime, now: datetime) -> datetime:
    """When to look for a text again: on the receipts' schedule counted from ``since``, then hourly."""
    for minutes in CHECK_AFTER:
        if since + timedelta(minutes=minutes) > now:
            return since + timedelta(minutes=minutes)
    return now + timedelta(minutes=60)


def sms_keep(notification: Notification, attempt: SmsAttempt, outcome, *, now: datetime) -> None:
    """Step 3, in the recording transaction: the gateway's answer (``outcome``: what ``sms_send`` returned or
    raised) as the text's receipt."""
    if not attempt.gateway:
        return
    receipt = SmsReceipt.objects.select_for_update().filter(notification=notification).first()
    receipt = receipt or SmsReceipt(notification=notification, provider=attempt.backend.provider)
    if isinstance(outcome, SmsAccepted):
        receipt.provider, receipt.message_id = outcome.provider, outcome.message_id
        receipt.through_installation = not attempt.backend.config.own
        receipt.maybe_sent_at = None
        receipt.error_code = receipt.error_message = ""
        # A message found by a look-up went out when the gateway says, else no earlier than the attempt
        # that got no answer: the receipt is asked for from then on.
        receipt.accepted_at = outcome.accepted_at or (attempt.unknown_since if outcome.found else now)
        receipt.checks = 0
        report = outcome.report
        if report is not None:  # found by its receipt, already in
            receipt.status, receipt.next_check_at = report.status, None
            receipt.error_code, receipt.error_message = report.error_code[:100], report.error_message[:300]
            receipt.received_at = report.received_at
            receipt.message_id = receipt.message_id or report.message_id
        else:
            receipt.status, receipt.next_check_at = SmsReceipt.Status.WAITING, now + _next_check(0)
    elif isinstance(outcome, SmsHeld):
        receipt.status, receipt.maybe_sent_at = SmsReceipt.Status.UNKNOWN, attempt.unknown_since
    elif isinstance(outcome, SmsRefused):
        # This attempt sent nothing; an earlier one without an answer may have.
        receipt.status, receipt.maybe_sent_at = SmsReceipt.Status.REFUSED, attempt.unknown_since
        receipt.error_code, receipt.error_message = outcome.code[:100], outcome.message[:300]
    else:
        receipt.status = SmsReceipt.Status.UNKNOWN
        receipt.maybe_sent_at = attempt.unknown_since or attempt.started_at
        receipt.error_code = ""
        receipt.error_message = str(outcome)[:300] if isinstance(outcome, SmsUnanswered) else type(outcome).__name__
    receipt.save()


# Receipts ------------------------------------------------------------------------------------------------------


def sms_receipts_check(
    *, now: datetime | None = None, sweep: Sweep | None = None, tenant=None, budget: float = RECEIPT_TIME_BUDGET
) -> int:
    """Ask the gateways about one batch of the firm's messages whose receipt is due; returns how many got
    their final receipt now. Each receipt in its own transaction (in its own savepoint when the caller holds
    one), its failure recorded by ``renocrm.sweeps``; a gateway account that did not answer is not asked again
    in this run, and the run stops once ``budget`` seconds have gone: the rest stay due for the next."""
    tenant = tenant or require_current_tenant()
    now = now or timezone.now()
    with tenant_context(tenant):
        sweep = sweep or Sweep(RECEIPT_SWEEP, batch_size=200)
        firm_settings = NoticeSettings.objects.first()
        due = (
            SmsReceipt.objects.filter(status=SmsReceipt.Status.WAITING, next_check_at__lte=now)
            .order_by("next_check_at", "id")
            .values_list("pk", "provider", "through_installation")
        )
        due = list(sweep.batch(due))
    gateways: dict[tuple[str, bool], GatewayBackend | None] = {}
    silent: set[tuple[str, bool]] = set()
    deadline = time.monotonic() + budget
    done = 0
    for index, (pk, provider, through_installation) in enumerate(due):
        if index and time.monotonic() > deadline:
            break
        account = (provider, through_installation)
        if account in silent:
            continue
        if account not in gateways:
            gateways[account] = firm_gateway(provider, firm_settings, through_installation=through_installation)
        with tenant_context(tenant):
            finished, answered = sweep.run(pk, _check, pk, gateways[account], now=now) or (0, True)
        done += finished
        if not answered:
            silent.add(account)
    return done


def _check(pk: int, gateway: GatewayBackend | None, *, now: datetime) -> tuple[int, bool]:
    """One receipt, locked for its check: (1 if it got its final receipt, whether the gateway answered)."""
    receipt = (
        SmsReceipt.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("notification")
        .filter(pk=pk, status=SmsReceipt.Status.WAITING, next_check_at__lte=now)
        .first()
    )
    if receipt is None:  # checked meanwhile, or another run holds it
        return 0, True
    waited = now - receipt.accepted_at if receipt.accepted_at else None
    give_up = waited is None or waited > timedelta(hours=settings.SMS_RECEIPT_WAIT_HOURS)
    if gateway is None:
        receipt.status, receipt.next_check_at = SmsReceipt.Status.NO_RECEIPT, None
        receipt.error_message = "The firm no longer reaches this gateway."
        receipt.save()
        return 1, True
    answered = True
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
        answered = not isinstance(error, SmsUnanswered)
    receipt.checks += 1
    if report is None:
        if give_up:
            receipt.status, receipt.next_check_at = SmsReceipt.Status.NO_RECEIPT, None
            receipt.save()
            return 1, answered
        receipt.next_check_at = now + _next_check(receipt.checks)
        receipt.save()
        return 0, answered
    receipt.status, receipt.next_check_at = report.status, None
    receipt.error_code, receipt.error_message = report.error_code[:100], report.error_message[:300]
    receipt.received_at = report.received_at
    receipt.message_id = receipt.message_id or report.message_id
    receipt.save()
    return 1, answered
