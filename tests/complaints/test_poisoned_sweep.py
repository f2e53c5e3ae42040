"""A complaint the escalation sweep cannot move (its row refuses the write) is recorded with its error and
tried again after its backoff, while every other overdue complaint moves up on time; once mended it moves."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from complaints import tasks
from complaints.models import ComplaintEscalation
from renocrm.outbox.models import Notification
from renocrm.sweeps.models import SweepFailure
from renocrm.tenancy.context import tenant_context
from tests.complaints.test_services import open_complaint
from tests.poison import cure, poison, poisoned_tables

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
OVERDUE = T0 + timedelta(hours=5)  # level 1 has 4 hours to respond

poisonable = poisoned_tables(("complaints_complaint", "id"))
pytestmark = pytest.mark.usefixtures("poisonable")


def sweep(firm, at):
    with time_machine.travel(at, tick=False), tenant_context(firm):
        return tasks.escalate_complaints.delay(tenant_id=firm.pk).get()


def test_a_poisoned_complaint_is_retried_later_and_the_others_move_up(firm_a, team):
    with time_machine.travel(T0, tick=False), tenant_context(firm_a):
        first, bad, last = (open_complaint(team) for _ in range(3))
    poison("complaints_complaint", bad.pk)

    assert sweep(firm_a, OVERDUE) == 2
    with tenant_context(firm_a):
        moved = set(ComplaintEscalation.objects.values_list("complaint_id", flat=True))
        assert moved == {first.pk, last.pk}
        assert not Notification.objects.filter(idempotency_key__startswith=f"complaint-escalated:{bad.pk}:").exists()
        failure = SweepFailure.objects.get()
        assert (failure.sweeper, failure.row_key, failure.attempts) == ("complaint-escalation", str(bad.pk), 1)
        assert "poisoned row" in failure.error
        assert failure.next_attempt_at == OVERDUE + timedelta(minutes=10)

    cure("complaints_complaint")
    assert sweep(firm_a, OVERDUE + timedelta(minutes=5)) == 0, "its backoff has not passed"
    with tenant_context(firm_a):
        assert SweepFailure.objects.get().attempts == 1

    assert sweep(firm_a, OVERDUE + timedelta(minutes=10)) == 1
    with tenant_context(firm_a):
        assert ComplaintEscalation.objects.filter(complaint=bad).count() == 1
        assert Notification.objects.filter(idempotency_key=f"complaint-escalated:{bad.pk}:1:1").count() == 1
        assert not SweepFailure.objects.exists()
    assert sweep(firm_a, OVERDUE + timedelta(minutes=15)) == 0, "each breach still counts once"


def test_a_row_failing_again_waits_twice_as_long(firm_a, team):
    with time_machine.travel(T0, tick=False), tenant_context(firm_a):
        bad = open_complaint(team)
    poison("complaints_complaint", bad.pk)
    assert sweep(firm_a, OVERDUE) == 0
    assert sweep(firm_a, OVERDUE + timedelta(minutes=10)) == 0
    with tenant_context(firm_a):
        failure = SweepFailure.objects.get()
        assert failure.attempts == 2
        assert failure.next_attempt_at == OVERDUE + timedelta(minutes=30)
        assert not ComplaintEscalation.objects.exists()
