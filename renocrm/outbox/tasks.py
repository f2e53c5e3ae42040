"""Thin tasks: take ids, run one service in the firm's context. Sweepers catch up on whatever a stopped
worker or broker left behind; everything they do is safe to repeat."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from renocrm.celery import FirmTask, each_active_firm

from . import services
from .enqueue import enqueue
from .models import Notification, OutboxEvent, WebhookDelivery


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
def sweep_firm_outbox():
    cutoff = timezone.now() - _grace()
    for event_id in OutboxEvent.objects.filter(dispatched_at__isnull=True, created_at__lt=cutoff).values_list(
        "pk", flat=True
    )[:1000]:
        services.event_dispatch(event_id=event_id)


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
    for delivery_id in due.values_list("pk", flat=True)[:1000]:
        enqueue(deliver_webhook, delivery_id=delivery_id)


@shared_task(base=FirmTask)
def sweep_firm_notifications():
    pending = Notification.objects.filter(status=Notification.Status.PENDING, created_at__lt=timezone.now() - _grace())
    for notification_id in pending.values_list("pk", flat=True)[:1000]:
        enqueue(deliver_notification, notification_id=notification_id)
