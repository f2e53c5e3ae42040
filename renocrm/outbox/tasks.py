"""Thin tasks: take ids, run one service in the firm's context. Sweepers catch up on whatever a stopped
worker or broker left behind; everything they do is safe to repeat."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from renocrm.celery import FirmTask, each_active_firm
from renocrm.sweeps.services import Sweep

from . import receipts, services
from .enqueue import enqueue
from .models import Notification, OutboxEvent, WebhookDelivery

# The sweepers' names in renocrm.sweeps (its failures and backoff).
OUTBOX_SWEEP = "outbox-dispatch"
WEBHOOK_SWEEP = "webhook-redelivery"
NOTIFICATION_SWEEP = "notification-resend"


def _grace() -> timedelta:
    # Leave fresh rows to the tasks queued on commit; only pick up what they apparently missed (a worker
    # that died, a broker that was down when the row was written).
    return timedelta(seconds=settings.OUTBOX_SWEEP_GRACE_SECONDS)


@shared_task(base=FirmTask)
def dispatch_event(event_id):
    services.event_dispatch(event_id=event_id)


@shared_task(base=FirmTask)
def deliver_webhook(delivery_id):
    services.webhook_deliver(delivery_id=delivery_id)


@shared_task(base=FirmTask)
def deliver_notification(notification_id):
    services.notification_deliver(notification_id=notification_id)


@shared_task(base=FirmTask)
def deliver_notifications(notification_ids):
    """Messages queued together (a sweeper's batch), each sent in its own transaction as
    ``deliver_notification`` sends one: a message that fails waits for the sweeper's retry without holding up
    the others, and one already sent is skipped."""
    for notification_id in notification_ids:
        services.notification_deliver(notification_id=notification_id)


@shared_task
def sweep_outbox():
    each_active_firm(sweep_firm_outbox)


@shared_task
def sweep_webhook_deliveries():
    each_active_firm(sweep_firm_webhook_deliveries)


@shared_task
def sweep_notifications():
    each_active_firm(sweep_firm_notifications)


@shared_task(base=FirmTask)
def sweep_firm_outbox(rounds: int = 0):
    """One bounded batch of events still undispatched, each in its own savepoint: an event whose handler
    fails is recorded and retried with backoff (``renocrm.sweeps``) instead of undoing and blocking the rest."""
    sweep = Sweep(OUTBOX_SWEEP, batch_size=1000)
    cutoff = timezone.now() - _grace()
    undispatched = OutboxEvent.objects.filter(dispatched_at__isnull=True, created_at__lt=cutoff).order_by("pk")
    for event_id in sweep.batch(undispatched.values_list("pk", flat=True)):
        sweep.run(event_id, services.event_dispatch, event_id=event_id)
    sweep.continue_with(sweep_firm_outbox, rounds)
    return sweep.tried - sweep.failed


# The webhook and notification sweepers queue one task per row: each row is sent in that task's own
# transaction, and a failed send is recorded on the row itself (attempts, last error, next attempt), so one
# row that fails never holds up the others. Queueing goes through the sweep all the same, so a row whose task
# raises when run in place (eager) is recorded and waits its backoff like any other.


@shared_task(base=FirmTask)
def sweep_firm_webhook_deliveries():
    now = timezone.now()
    # Retries wait here as rows, not in the broker; first attempts were enqueued on commit.
    due = WebhookDelivery.objects.filter(
        Q(attempts__gt=0) | Q(created_at__lt=now - _grace()),
        next_attempt_at__lte=now,
        delivered_at__isnull=True,
        given_up_at__isnull=True,
        endpoint__is_active=True,
    )
    sweep = Sweep(WEBHOOK_SWEEP, batch_size=1000)
    for delivery_id in sweep.batch(due.values_list("pk", flat=True)):
        sweep.run(delivery_id, enqueue, deliver_webhook, delivery_id=delivery_id)


@shared_task(base=FirmTask)
def sweep_firm_notifications():
    pending = Notification.objects.filter(status=Notification.Status.PENDING, created_at__lt=timezone.now() - _grace())
    sweep = Sweep(NOTIFICATION_SWEEP, batch_size=1000)
    for notification_id in sweep.batch(pending.values_list("pk", flat=True)):
        sweep.run(notification_id, enqueue, deliver_notification, notification_id=notification_id)


@shared_task
def sweep_sms_receipts():
    each_active_firm(sweep_firm_sms_receipts)


@shared_task(base=FirmTask)
def sweep_firm_sms_receipts(rounds: int = 0):
    """One batch of the firm's texts whose gateway receipt is due to be asked for (renocrm.outbox.receipts)."""
    sweep = Sweep(receipts.RECEIPT_SWEEP, batch_size=200)
    done = receipts.sms_receipts_check(sweep=sweep)
    sweep.continue_with(sweep_firm_sms_receipts, rounds)
    return done
