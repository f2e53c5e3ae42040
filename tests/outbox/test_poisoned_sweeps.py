"""An event the outbox sweep cannot dispatch, or a message the resend sweep cannot send (the database refuses
its write), is recorded with its error and tried again after its backoff, while the others go out."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from renocrm.outbox import tasks
from renocrm.outbox.models import Notification, OutboxEvent
from renocrm.sweeps.models import SweepFailure
from renocrm.tenancy.context import tenant_context
from tests.poison import cure, poison, poisoned_tables

poisonable = poisoned_tables(("outbox_outboxevent", "id"), ("outbox_notification", "id"))
pytestmark = pytest.mark.usefixtures("poisonable")


def run(firm, moment, task=tasks.sweep_firm_outbox):
    with time_machine.travel(moment, tick=False):
        return task.delay(tenant_id=firm.pk).get()


def dispatched(firm):
    with tenant_context(firm):
        return set(OutboxEvent.objects.filter(dispatched_at__isnull=False).values_list("pk", flat=True))


def test_a_poisoned_event_waits_and_the_other_events_are_dispatched(firm_a):
    now = timezone.now()
    with time_machine.travel(now - timedelta(minutes=5), tick=False), tenant_context(firm_a):
        first, bad, last = (OutboxEvent.objects.create(event_type="lead.created", payload={}) for _ in range(3))
    poison("outbox_outboxevent", bad.pk)

    assert run(firm_a, now) == 2
    assert dispatched(firm_a) == {first.pk, last.pk}
    with tenant_context(firm_a):
        failure = SweepFailure.objects.get()
        assert (failure.sweeper, failure.row_key, failure.attempts) == ("outbox-dispatch", str(bad.pk), 1)
        assert "poisoned row" in failure.error

    cure("outbox_outboxevent")
    assert run(firm_a, now + timedelta(minutes=5)) == 0, "still backing off"
    assert run(firm_a, now + timedelta(minutes=10)) == 1
    assert dispatched(firm_a) == {first.pk, bad.pk, last.pk}
    with tenant_context(firm_a):
        assert not SweepFailure.objects.exists()


def sent(firm):
    with tenant_context(firm):
        return set(Notification.objects.filter(status=Notification.Status.SENT).values_list("pk", flat=True))


def test_a_poisoned_message_waits_and_the_other_pending_messages_are_sent(firm_a):
    now = timezone.now()
    with time_machine.travel(now - timedelta(minutes=5), tick=False), tenant_context(firm_a):
        first, bad, last = (
            Notification.objects.create(channel="sms", recipient="13800138000", body="Hi", idempotency_key=f"k{n}")
            for n in range(3)
        )
    poison("outbox_notification", bad.pk)

    run(firm_a, now, tasks.sweep_firm_notifications)
    assert sent(firm_a) == {first.pk, last.pk}
    with tenant_context(firm_a):
        failure = SweepFailure.objects.get()
        assert (failure.sweeper, failure.row_key) == ("notification-resend", str(bad.pk))
        assert "poisoned row" in failure.error

    cure("outbox_notification")
    run(firm_a, now + timedelta(minutes=5), tasks.sweep_firm_notifications)
    assert bad.pk not in sent(firm_a), "still backing off"
    run(firm_a, now + timedelta(minutes=10), tasks.sweep_firm_notifications)
    assert sent(firm_a) == {first.pk, bad.pk, last.pk}
    with tenant_context(firm_a):
        assert not SweepFailure.objects.exists()
