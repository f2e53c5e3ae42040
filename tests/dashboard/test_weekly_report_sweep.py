"""An admin whose weekly report cannot be queued (the database refuses the e-mail's row) is recorded with
the error and tried again after the backoff, while the firm's other admins get theirs."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from renocrm.accounts.roles import Role
from renocrm.dashboard import tasks
from renocrm.outbox.models import Notification
from renocrm.sweeps.models import SweepFailure
from renocrm.tenancy.context import tenant_context
from tests.dashboard.report_fixtures import member
from tests.poison import cure, poison, poisoned_tables

MONDAY_0845_SHANGHAI = datetime(2026, 11, 23, 0, 45, tzinfo=UTC)

poisonable = poisoned_tables(("outbox_notification", "recipient"))
pytestmark = pytest.mark.usefixtures("poisonable")


def run(firm, moment):
    with time_machine.travel(moment, tick=False):
        return tasks.send_weekly_callback_report.delay(tenant_id=firm.pk).get()


def recipients(firm):
    with tenant_context(firm):
        return set(Notification.objects.values_list("recipient", flat=True))


def test_a_poisoned_recipient_waits_and_the_other_admins_get_the_report(firm_a):
    boss = member(firm_a, Role.ADMIN, username="boss", email="boss@example.com")
    bad = member(firm_a, Role.ADMIN, username="deputy", email="deputy@example.com")
    poison("outbox_notification", "deputy@example.com")

    assert run(firm_a, MONDAY_0845_SHANGHAI) == 1
    assert recipients(firm_a) == {boss.email}
    with tenant_context(firm_a):
        failure = SweepFailure.objects.get()
        assert (failure.sweeper, failure.row_key) == ("weekly-callback-report", f"2026-11-16:{bad.pk}")
        assert "poisoned row" in failure.error

    cure("outbox_notification")
    assert run(firm_a, MONDAY_0845_SHANGHAI + timedelta(minutes=5)) == 0, "still backing off"
    assert run(firm_a, MONDAY_0845_SHANGHAI + timedelta(minutes=10)) == 1
    assert recipients(firm_a) == {boss.email, bad.email}
    with tenant_context(firm_a):
        assert not SweepFailure.objects.exists()
