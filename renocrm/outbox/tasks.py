"""Thin tasks: take ids, run one service in the firm's context. Sweepers catch up on whatever a stopped
worker or broker left behind; everything they do is safe to repeat."""

import logging
from datetime import timedelta

from celery import Task, shared_task
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from renocrm.celery import FirmTask, each_active_firm
from renocrm.sweeps.services import Sweep
from renocrm.tenancy.context import TenantScopeError, tenant_context
from renocrm.tenancy.models import Tenant

from . import receipts, services, staff_notices
from .enqueue import enqueue
from .models import Notification, OutboxEvent

logger = logging.getLogger(__name__)

# The sweepers' names in renocrm.sweeps (its failures and backoff).
OUTBOX_SWEEP = "outbox-dispatch"
NOTIFICATION_SWEEP = "notification-resend"
STAFF_NOTICE_PURGE_SWEEP = "staff-notice-purge"


# What a partner waits for goes on WEBHOOK_QUEUE (settings.CELERY_TASK_ROUTES); everything else on the default.
WEBHOOK_TASKS = {
    "renocrm.outbox.tasks.dispatch_event",
    "renocrm.outbox.tasks.deliver_webhook",
    "renocrm.outbox.tasks.sweep_webhook_deliveries",
    "renocrm.outbox.tasks.sweep_firm_webhook_deliveries",
}


def route(name, args, kwargs, options, task=None, **kw):
    """Celery's router: the queue of the tasks in WEBHOOK_TASKS, read from the settings when a task is sent."""
    return {"queue": settings.WEBHOOK_QUEUE} if name in WEBHOOK_TASKS else None


def _grace() -> timedelta:
    # Leave fresh rows to the tasks queued on commit; only pick up what they apparently missed (a worker
    # that died, a broker that was down when the row was written).
    return timedelta(seconds=settings.OUTBOX_SWEEP_GRACE_SECONDS)


class FirmStepsTask(FirmTask):
    """A FirmTask whose service opens the firm's transactions itself, one per step (``tenant_context`` around
    each), instead of running whole inside one: what a step commits (an attempt recorded before a gateway is
    called, a receipt fetched) stays committed whatever happens in the next, a worker killed included. The
    task function receives the firm as ``tenant``."""

    abstract = True

    def __call__(self, *args, **kwargs):
        tenant_id = kwargs.pop("tenant_id", None)
        if tenant_id is None:
            raise TenantScopeError(f"Task {self.name} was sent without a tenant_id.")
        return Task.__call__(self, *args, tenant=Tenant.objects.get(pk=tenant_id), **kwargs)


@shared_task(base=FirmStepsTask)
def dispatch_event(event_id, tenant=None):
    """Queued when an event commits, on the webhooks queue. First its deliveries are created and their first
    attempts queued, in a transaction of their own; then the in-process handlers run, which a failure leaves to
    the outbox sweeper (``event_dispatch``) without holding up a webhook."""
    with tenant_context(tenant):
        services.event_deliveries_create(event_id=event_id)
    with tenant_context(tenant):
        services.event_handle(event_id=event_id)


@shared_task(base=FirmTask)
def deliver_webhook(delivery_id):
    services.webhook_deliver(delivery_id=delivery_id)


@shared_task(base=FirmStepsTask)
def deliver_notification(notification_id, tenant=None):
    services.notification_deliver(notification_id=notification_id, tenant=tenant)


@shared_task(base=FirmStepsTask)
def deliver_notifications(notification_ids, tenant=None):
    """Messages queued together (a sweeper's batch), each sent in its own transactions as
    ``deliver_notification`` sends one: a message that fails waits for the sweeper's retry without holding up
    the others, and one already sent is skipped."""
    for notification_id in notification_ids:
        services.notification_deliver(notification_id=notification_id, tenant=tenant)


@shared_task
def sweep_outbox():
    each_active_firm(sweep_firm_outbox)


@shared_task
def sweep_webhook_deliveries():
    """Every WEBHOOK_SWEEP_SECONDS, on the webhooks queue: each active firm's lost webhook attempts queued again
    (``services.webhook_deliveries_sweep``). The firms are swept one after another in this one task, each in its
    own context and transaction, rather than fanned out as a task per firm: hundreds of firm tasks every 20
    seconds would queue ahead of the very deliveries they are there to rescue. A firm whose sweep fails is
    logged and swept again on the next run."""
    for tenant in Tenant.objects.filter(is_active=True).order_by("pk"):
        try:
            with tenant_context(tenant):
                services.webhook_deliveries_sweep()
        except Exception:  # one firm's failure must not leave the other firms' deliveries unswept
            logger.exception("Webhook sweep of firm %s failed", tenant.pk)


@shared_task(base=FirmTask)
def sweep_firm_webhook_deliveries():
    """One firm's webhook sweep as a task of its own (the beat task sweeps every firm in one)."""
    return services.webhook_deliveries_sweep()


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


# The notification sweeper queues one task per row: each row is sent in that task's own transaction, and a failed
# send is recorded on the row itself (attempts, last error, next attempt), so one row that fails never holds up
# the others. Queueing goes through the sweep all the same, so a row whose task raises when run in place (eager)
# is recorded and waits its backoff like any other.


@shared_task(base=FirmTask)
def sweep_firm_notifications():
    now = timezone.now()
    # Not one another worker is sending (until its lease runs out), nor one told to wait.
    pending = Notification.objects.filter(
        Q(sending_since__isnull=True) | Q(sending_since__lte=now - services.SENDING_LEASE),
        Q(retry_after__isnull=True) | Q(retry_after__lte=now),
        status=Notification.Status.PENDING,
        created_at__lt=now - _grace(),
    )
    sweep = Sweep(NOTIFICATION_SWEEP, batch_size=1000)
    for notification_id in sweep.batch(pending.values_list("pk", flat=True)):
        sweep.run(notification_id, enqueue, deliver_notification, notification_id=notification_id)
    # Notices in the app past their retention, a bounded batch a run (one indexed DELETE, most runs of nothing).
    Sweep(STAFF_NOTICE_PURGE_SWEEP).run("purge", staff_notices.staff_notices_purge, now=now)


@shared_task
def sweep_sms_receipts():
    each_active_firm(sweep_firm_sms_receipts)


@shared_task(base=FirmStepsTask)
def sweep_firm_sms_receipts(rounds: int = 0, tenant=None):
    """One batch of the firm's texts whose gateway receipt is due to be asked for (renocrm.outbox.receipts),
    each receipt in its own transaction."""
    with tenant_context(tenant):
        sweep = Sweep(receipts.RECEIPT_SWEEP, batch_size=200)
    done = receipts.sms_receipts_check(sweep=sweep, tenant=tenant)
    with tenant_context(tenant):
        sweep.continue_with(sweep_firm_sms_receipts, rounds)
    return done
