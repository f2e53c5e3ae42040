"""Thin tasks: take ids, run one service in the firm's context. Sweepers catch up on whatever a stopped
worker or broker left behind; everything they do is safe to repeat."""

from datetime import timedelta

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from renocrm.celery import FirmTask, each_active_firm

from . import services
from .models import Notification, OutboxEvent, WebhookDelivery

# Leave fresh rows to the on-commit tasks; only pick up what they apparently missed.
GRACE = timedelta(minutes=1)


@shared_task(base=FirmTask)
def dispatch_event(event_id):
    services.event_dispatch(event_id=event_id)


@shared_task(base=FirmTask)
def deliver_webhook(delivery_id):
    services.webhook_deliver(delivery_id=delivery_id)


@shared_task(base=FirmTask)
def deliver_notification(notification_id):
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
    cutoff = timezone.now() - GRACE
    for event_id in OutboxEvent.objects.filter(dispatched_at__isnull=True, created_at__lt=cutoff).values_list(
        "pk", flat=True
    )[:1000]:
        services.event_dispatch(event_id=event_id)


@shared_task(base=FirmTask)
def sweep_firm_webhook_deliveries():
    now = timezone.now()
    # Retries wait here as rows, not in the broker; first attempts were enqueued on commit.
    due = WebhookDelivery.objects.filter(
        Q(attempts__gt=0) | Q(created_at__lt=now - GRACE),
        next_attempt_at__lte=now,
        delivered_at__isnull=True,
        given_up_at__isnull=True,
        endpoint__is_active=True,
    )
    for delivery_id in due.values_list("pk", flat=True)[:1000]:
        deliver_webhook.delay(delivery_id=delivery_id)


@shared_task(base=FirmTask)
def sweep_firm_notifications():
    pending = Notification.objects.filter(status=Notification.Status.PENDING, created_at__lt=timezone.now() - GRACE)
    for notification_id in pending.values_list("pk", flat=True)[:1000]:
        deliver_notification.delay(notification_id=notification_id)
