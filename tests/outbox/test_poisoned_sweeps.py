"""An event the outbox sweep cannot dispatch (the database refuses its write) is recorded with its error and
tried again after its backoff, while the other events missed by the worker are dispatched."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from renocrm.outbox import tasks
from renocrm.outbox.models import OutboxEvent
from renocrm.sweeps.models import SweepFailure
from renocrm.tenancy.context import tenant_context
from tests.poison import cure, poison, poisoned_tables

poisonable = poisoned_tables(("outbox_outboxevent", "id"))
pytestmark = pytest.mark.usefixtures("poisonable")


def run(firm, moment):
    with time_machine.travel(moment, tick=False):
        return tasks.sweep_firm_outbox.delay(tenant_id=firm.pk).get()


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
