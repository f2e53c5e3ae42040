"""A callback the release sweep cannot release, or whose survey link it cannot send again (the database
refuses the write), is recorded with its error and tried again after its backoff, while the rest go through;
once mended it goes through once."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from callbacks import tasks
from callbacks.models import Callback, Method
from callbacks.services import actions
from callbacks.services import release as services
from renocrm.outbox.models import Notification
from renocrm.sweeps.models import SweepFailure
from renocrm.tenancy.context import tenant_context
from tests.callbacks.conftest import member
from tests.callbacks.test_sweeper import due_callbacks
from tests.poison import cure, poison, poisoned_tables

# 12:00 in Shanghai on Wednesday 4 February 2026.
FEB_4 = datetime(2026, 2, 4, 4, 0, tzinfo=UTC)

poisonable = poisoned_tables(("callbacks_callback", "id"), ("outbox_notification", "idempotency_key"))
pytestmark = pytest.mark.usefixtures("poisonable")


def run(firm, moment):
    with time_machine.travel(moment, tick=False):
        return tasks.sweep_firm_due_callbacks.delay(tenant_id=firm.pk).get()


def statuses(firm):
    with tenant_context(firm):
        return dict(Callback.objects.values_list("pk", "status"))


def test_a_poisoned_callback_waits_and_the_rest_of_its_batch_is_released(firm_a):
    agent = member(firm_a, "customer_service", phone="13800000001")
    first, bad, last = due_callbacks(firm_a, 3, due_on=date(2026, 2, 4), customer_service=agent)
    poison("callbacks_callback", bad.pk)

    assert run(firm_a, FEB_4) == 2
    assert statuses(firm_a) == {first.pk: "open", bad.pk: "scheduled", last.pk: "open"}
    with tenant_context(firm_a):
        failure = SweepFailure.objects.get()
        assert (failure.sweeper, failure.row_key, failure.attempts) == ("callbacks-due", str(bad.pk), 1)
        assert "poisoned row" in failure.error

    cure("callbacks_callback")
    assert run(firm_a, FEB_4 + timedelta(minutes=5)) == 0, "still backing off"
    assert statuses(firm_a)[bad.pk] == "scheduled"
    assert run(firm_a, FEB_4 + timedelta(minutes=10)) == 1
    assert set(statuses(firm_a).values()) == {"open"}
    with tenant_context(firm_a):
        assert Callback.objects.get(pk=bad.pk).assigned_to == agent
        assert not SweepFailure.objects.exists()


def test_a_poisoned_link_resend_waits_and_the_other_links_go_again(firm_a):
    agent = member(firm_a, "customer_service", phone="13800000001")
    good, bad = due_callbacks(firm_a, 2, due_on=date(2026, 2, 4), method=Method.SMS, customer_service=agent)
    with time_machine.travel(FEB_4, tick=False), tenant_context(firm_a):
        services.callbacks_release_due()
        for callback in (good, bad):
            actions.callback_attempt_record(
                callback=Callback.objects.get(pk=callback.pk), outcome="no_answer", by=agent
            )
    poison("outbox_notification", f"callback:{bad.pk}:sms:1")
    retry = FEB_4 + timedelta(hours=25)

    def resent():
        with tenant_context(firm_a):
            return set(
                Notification.objects.filter(idempotency_key__endswith=":sms:1").values_list(
                    "idempotency_key", flat=True
                )
            )

    run(firm_a, retry)
    assert resent() == {f"callback:{good.pk}:sms:1"}
    with tenant_context(firm_a):
        failure = SweepFailure.objects.get()
        assert (failure.sweeper, failure.row_key) == ("callback-link-resend", str(bad.pk))

    cure("outbox_notification")
    run(firm_a, retry + timedelta(minutes=5))
    assert f"callback:{bad.pk}:sms:1" not in resent(), "still backing off"
    run(firm_a, retry + timedelta(minutes=10))
    assert resent() == {f"callback:{good.pk}:sms:1", f"callback:{bad.pk}:sms:1"}
    with tenant_context(firm_a):
        assert not SweepFailure.objects.exists()
