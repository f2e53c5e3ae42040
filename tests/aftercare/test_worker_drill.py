"""Warranty-expiry reminders after the beat was down for a week, with the worker killed (SIGKILL) in the middle
of the catch-up sweep: once it is started again, one sweep sends exactly one reminder per coverage and lead
time — one text to the homeowner, one to customer service and one event each — and nothing twice."""

from collections import Counter
from datetime import timedelta

import pytest

from aftercare import tasks
from aftercare.models import WarrantyReminder
from aftercare.services import policy as policy_services
from aftercare.services import reminders as reminders_services
from renocrm.outbox import sms
from renocrm.outbox.models import Notification, OutboxEvent
from renocrm.tenancy.context import tenant_context
from renocrm.tenancy.time import firm_today
from tests.aftercare.conftest import staff
from tests.aftercare.factories import CoverageFactory
from tests.aftercare.worker_drill import deliver_parked_notifications, drill_worker, settle  # noqa: F401
from tests.worksites.factories import WorksiteFactory

# Days from today to each coverage's end. With reminders 30 and 7 days before, the last beat run a week ago
# sent the 30-day reminder of those ending within 23 days; the week since made the 7-day reminder of
# 1–7 and the 30-day reminder of 24–30 due: 14 reminders for the catch-up sweep.
ENDS_IN = [*range(1, 8), 10, 20, *range(24, 31)]
DUE_THIS_WEEK = {days: 7 if days <= 7 else 30 for days in ENDS_IN if days <= 7 or days >= 24}


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_catch_up_sends_each_warranty_reminder_once(drill_worker, firm_a):  # noqa: F811
    with tenant_context(firm_a):
        assert policy_services.aftercare_settings_get().warranty_reminder_days == [30, 7]
        worksite = WorksiteFactory(customer_service=staff(firm_a, phone="13800000009"))
        today = firm_today()
        coverages = {
            days: CoverageFactory(
                project=worksite.project, starts_on=today - timedelta(days=700), ends_on=today + timedelta(days=days)
            )
            for days in ENDS_IN
        }
        reminders_services.warranty_reminders_send(today=today - timedelta(days=7))  # the beat's last run
        before = set(WarrantyReminder.objects.values_list("pk", flat=True))
    sms.outbox.clear()

    drill_worker.start()
    drill_worker.send(tasks.send_warranty_reminders, firm_a)
    drill_worker.kill_during_sweep(after=len(DUE_THIS_WEEK) // 2, of=len(DUE_THIS_WEEK))
    with tenant_context(firm_a):
        assert set(WarrantyReminder.objects.values_list("pk", flat=True)) == before, "a killed sweep wrote nothing"

    drill_worker.start()
    drill_worker.send(tasks.send_warranty_reminders, firm_a)

    def swept():
        with tenant_context(firm_a):
            return WarrantyReminder.objects.exclude(pk__in=before).exists()

    settle(swept, what="the warranty sweep after the restart", log=drill_worker.worker.log)
    with tenant_context(firm_a):
        assert reminders_services.warranty_reminders_send() == 0, "the sweep left a due reminder behind"
        deliver_parked_notifications()
        new = WarrantyReminder.objects.exclude(pk__in=before).filter(skipped=False)
        sent = Counter((r.coverage_id, r.days_before) for r in new)
        expected = {(coverages[days].pk, lead): 1 for days, lead in DUE_THIS_WEEK.items()}
        assert sent == expected
        keys = Counter(
            Notification.objects.filter(idempotency_key__startswith="warranty-reminder:").values_list(
                "idempotency_key", flat=True
            )
        )
        assert set(keys.values()) == {1}
        for coverage_id, lead in expected:
            assert f"warranty-reminder:{coverage_id}:{lead}" in keys
            assert f"warranty-reminder:{coverage_id}:{lead}:staff" in keys
        events = Counter(
            (e.payload["coverage_id"], e.payload["days_before"])
            for e in OutboxEvent.objects.filter(event_type="warranty.expiring")
        )
        assert {key: count for key, count in events.items() if key in expected} == expected
        assert set(events.values()) == {1}
    texts = Counter(message.idempotency_key for message in sms.outbox)
    assert set(texts.values()) == {1}, "a text sent twice"
    assert {f"warranty-reminder:{c}:{lead}" for c, lead in expected} <= set(texts)
