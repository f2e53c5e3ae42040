"""Complaint escalation after the beat was down for a week, with the worker killed (SIGKILL) in the middle of
the catch-up sweep: once it is started again, one sweep escalates each overdue complaint exactly once — one
escalation per breach, one text to the new owner and one event each — and nothing twice."""

from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from complaints import tasks
from complaints.models import Complaint, ComplaintEscalation
from complaints.services import escalation as services
from renocrm.outbox import sms
from renocrm.outbox.models import Notification, OutboxEvent
from renocrm.tenancy.context import tenant_context
from tests.aftercare.worker_drill import deliver_parked_notifications, drill_worker, settle  # noqa: F401
from tests.complaints.test_services import open_complaint

OPENED = 12  # one every twelve hours over the past week; every level-1 response clock (4 hours) ran out


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_catch_up_escalates_each_breach_once(drill_worker, firm_a, team):  # noqa: F811
    week_ago = timezone.now() - timedelta(days=7)
    complaints = []
    for n in range(OPENED):
        with time_machine.travel(week_ago + timedelta(hours=12 * n), tick=False), tenant_context(firm_a):
            complaints.append(open_complaint(team).pk)
    sms.outbox.clear()

    drill_worker.start()
    drill_worker.send(tasks.escalate_complaints, firm_a)
    drill_worker.kill_during_sweep(after=OPENED // 2, of=OPENED)
    with tenant_context(firm_a):
        assert not ComplaintEscalation.objects.exists(), "a killed sweep wrote nothing"
        assert set(Complaint.objects.values_list("level", flat=True)) == {1}

    drill_worker.start()
    drill_worker.send(tasks.escalate_complaints, firm_a)

    def swept():
        with tenant_context(firm_a):
            return ComplaintEscalation.objects.exists()

    settle(swept, what="the escalation sweep after the restart", log=drill_worker.worker.log)
    with tenant_context(firm_a):
        assert services.complaints_escalate_overdue() == 0, "the sweep left a breach behind"
        deliver_parked_notifications()
        escalations = Counter(ComplaintEscalation.objects.values_list("complaint_id", "from_level", "to_level"))
        assert escalations == {(pk, 1, 2): 1 for pk in complaints}
        assert set(Complaint.objects.values_list("level", "owner_id")) == {(2, team.head.pk)}
        keys = Counter(Notification.objects.values_list("idempotency_key", flat=True))
        assert {k: v for k, v in keys.items() if k.startswith("complaint-escalated:")} == {
            f"complaint-escalated:{pk}:1:1": 1 for pk in complaints
        }
        events = Counter(e.payload["id"] for e in OutboxEvent.objects.filter(event_type="complaint.escalated"))
        assert events == dict.fromkeys(complaints, 1)
    texts = Counter(m.idempotency_key for m in sms.outbox if m.idempotency_key.startswith("complaint-escalated:"))
    assert texts == {f"complaint-escalated:{pk}:1:1": 1 for pk in complaints}, "a text missing or sent twice"
