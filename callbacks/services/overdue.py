"""Once a day, from 09:00 firm time, the firm hears how many callbacks are overdue: one ``callbacks.overdue``
event, which the firm's WeCom robots for overdue callbacks post to their groups and webhooks receive. The due
callbacks sweep calls it on every run; the event of the day is its own marker."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Count, Min
from django.utils import timezone

from callbacks.models import Callback, CallbackSettings
from callbacks.services.plan import callback_settings_get
from renocrm.outbox.models import OutboxEvent
from renocrm.outbox.services import event_emit
from renocrm.tenancy.context import require_current_tenant

EVENT = "callbacks.overdue"
# The sweeper's name in renocrm.sweeps (its failure and backoff).
OVERDUE_SWEEP = "callbacks-overdue"
ANNOUNCE_FROM_HOUR = 9


def callbacks_overdue_announce(*, now: datetime | None = None) -> OutboxEvent | None:
    """Emit today's ``callbacks.overdue`` (the queue's "overdue" tab: opened on an earlier day and not yet
    worked) unless it was emitted already or nothing is overdue."""
    tenant = require_current_tenant()
    local = timezone.localtime(now or timezone.now(), tenant.zone)
    if local.hour < ANNOUNCE_FROM_HOUR:
        return None
    today = local.date().isoformat()
    announced = OutboxEvent.objects.filter(event_type=EVENT, payload__on=today)
    if announced.exists():
        return None
    with transaction.atomic():
        # The firm's settings row is the lock: two sweeps at once announce the day once.
        CallbackSettings.objects.select_for_update().get(pk=callback_settings_get().pk)
        if announced.exists():
            return None
        overdue = Callback.objects.filter(status=Callback.Status.OPEN, due_on__lt=local.date()).aggregate(
            count=Count("pk"), oldest=Min("due_on")
        )
        if not overdue["count"]:
            return None
        return event_emit(
            event_type="callbacks.overdue",
            payload={"on": today, "count": overdue["count"], "oldest_due_on": overdue["oldest"].isoformat()},
        )
