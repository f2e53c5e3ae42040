"""A row a worksites sweeper cannot handle (the database refuses its write) is recorded with its error and
tried again after its backoff, while the firm's other rows go through; once mended it goes through once."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from renocrm.outbox.models import Notification
from renocrm.sweeps.models import SweepFailure
from renocrm.tenancy.context import tenant_context
from tests.poison import cure, poison, poisoned_tables
from tests.worksites.test_handover_sweep import member, overdue_item
from tests.worksites.test_portal_services import portal_worksite
from worksites.models import RectificationItem
from worksites.tasks import handover as handover_tasks
from worksites.tasks import portal as portal_tasks

# Monday 7 December 2026, 09:05 in Shanghai.
MONDAY_0905_SHANGHAI = datetime(2026, 12, 7, 1, 5, tzinfo=UTC)

poisonable = poisoned_tables(("worksites_rectificationitem", "id"), ("worksites_portallink", "worksite_id"))
pytestmark = pytest.mark.usefixtures("poisonable")


def run(task, firm, moment):
    with time_machine.travel(moment, tick=False):
        return task.delay(tenant_id=firm.pk).get()


def test_a_poisoned_rectification_item_is_retried_later_and_the_others_are_raised(firm_a):
    owner = member(firm_a, email="owner@example.com")
    good, bad = (overdue_item(firm_a, deadline=date(2027, 3, 9), owner=owner) for _ in range(2))
    poison("worksites_rectificationitem", bad.pk)
    moment = datetime(2027, 3, 10, 3, 0, tzinfo=UTC)

    assert run(handover_tasks.raise_overdue_rectifications, firm_a, moment) == 1
    with tenant_context(firm_a):
        assert RectificationItem.objects.get(pk=good.pk).overdue_raised_on == date(2027, 3, 10)
        assert RectificationItem.objects.get(pk=bad.pk).overdue_raised_on is None
        assert not Notification.objects.filter(idempotency_key__startswith=f"rectification-overdue:{bad.pk}:").exists()
        failure = SweepFailure.objects.get()
        assert (failure.sweeper, failure.row_key) == ("overdue-rectifications", str(bad.pk))
        assert "poisoned row" in failure.error

    cure("worksites_rectificationitem")
    assert run(handover_tasks.raise_overdue_rectifications, firm_a, moment + timedelta(minutes=5)) == 0
    assert run(handover_tasks.raise_overdue_rectifications, firm_a, moment + timedelta(minutes=10)) == 1
    with tenant_context(firm_a):
        assert RectificationItem.objects.get(pk=bad.pk).overdue_raised_on == date(2027, 3, 10)
        assert Notification.objects.filter(idempotency_key__startswith=f"rectification-overdue:{bad.pk}:").count() == 1
        assert not SweepFailure.objects.exists()


def test_a_poisoned_weekly_digest_is_retried_later_and_the_others_go(firm_a):
    with time_machine.travel(MONDAY_0905_SHANGHAI - timedelta(days=1), tick=False), tenant_context(firm_a):
        good, bad = portal_worksite(), portal_worksite(mobile="13900139000")
    poison("worksites_portallink", bad.pk)

    assert run(portal_tasks.send_firm_weekly_digests, firm_a, MONDAY_0905_SHANGHAI) == 1
    with tenant_context(firm_a):
        keys = list(Notification.objects.values_list("idempotency_key", flat=True))
        assert keys == [f"weekly-digest:{good.pk}:2026-W50"]
        assert SweepFailure.objects.get().row_key == str(bad.pk)

    cure("worksites_portallink")
    assert run(portal_tasks.send_firm_weekly_digests, firm_a, MONDAY_0905_SHANGHAI + timedelta(minutes=5)) == 0
    assert run(portal_tasks.send_firm_weekly_digests, firm_a, MONDAY_0905_SHANGHAI + timedelta(minutes=10)) == 1
    with tenant_context(firm_a):
        assert Notification.objects.filter(idempotency_key=f"weekly-digest:{bad.pk}:2026-W50").count() == 1
        assert not SweepFailure.objects.exists()
