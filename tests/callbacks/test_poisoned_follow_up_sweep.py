"""A feedback follow-up the overdue sweep cannot raise (its row refuses the write) is recorded with its error
and tried again after its backoff, while every other overdue follow-up is raised on time; once mended it is
raised once."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from callbacks import tasks
from callbacks.models import FeedbackFollowUp
from renocrm.outbox.models import Notification
from renocrm.sweeps.models import SweepFailure
from renocrm.tenancy.context import tenant_context
from tests.callbacks.conftest import member
from tests.callbacks.factories import FeedbackFollowUpFactory
from tests.poison import cure, poison, poisoned_tables

# 10:00 in Shanghai on Thursday 12 March 2026: follow-ups due on the 11th are overdue.
MAR_12 = datetime(2026, 3, 12, 2, 0, tzinfo=UTC)

poisonable = poisoned_tables(("callbacks_feedbackfollowup", "id"))
pytestmark = pytest.mark.usefixtures("poisonable")


def sweep(firm, at):
    with time_machine.travel(at, tick=False), tenant_context(firm):
        return tasks.raise_overdue_follow_ups.delay(tenant_id=firm.pk).get()


def raised(firm):
    with tenant_context(firm):
        return set(FeedbackFollowUp.objects.filter(overdue_raised_at__isnull=False).values_list("pk", flat=True))


def test_a_poisoned_follow_up_waits_and_the_others_are_raised(firm_a):
    with tenant_context(firm_a):
        head = member(firm_a, role="admin", phone="13900000000")
        first, bad, last = (FeedbackFollowUpFactory(owner=head, due_on=date(2026, 3, 11)) for _ in range(3))
        FeedbackFollowUpFactory(owner=head, due_on=date(2026, 3, 12))  # due today: not late yet
    poison("callbacks_feedbackfollowup", bad.pk)

    assert sweep(firm_a, MAR_12) == 2
    assert raised(firm_a) == {first.pk, last.pk}
    with tenant_context(firm_a):
        assert not Notification.objects.filter(idempotency_key__startswith=f"feedback-follow-up:{bad.pk}:").exists()
        failure = SweepFailure.objects.get()
        assert (failure.sweeper, failure.row_key, failure.attempts) == ("feedback-follow-up-overdue", str(bad.pk), 1)
        assert "poisoned row" in failure.error

    cure("callbacks_feedbackfollowup")
    assert sweep(firm_a, MAR_12 + timedelta(minutes=5)) == 0, "its backoff has not passed"
    assert sweep(firm_a, MAR_12 + timedelta(minutes=10)) == 1
    assert raised(firm_a) == {first.pk, bad.pk, last.pk}
    with tenant_context(firm_a):
        key = f"feedback-follow-up:{bad.pk}:overdue:{head.pk}"
        assert Notification.objects.filter(idempotency_key=key).count() == 1
        assert not SweepFailure.objects.exists()
    assert sweep(firm_a, MAR_12 + timedelta(minutes=15)) == 0, "each follow-up is raised once"
