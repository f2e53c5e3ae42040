"""The sweeper that releases due callbacks: assignment, the agent's message (one per agent and batch) and
the homeowner's survey link, each exactly once — however often it runs, however many run at once, and
after a beat that was down."""

import threading
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext

from callbacks import tasks
from callbacks.models import Callback, CallbackAttempt, CallbackSettings, CallbackStep, Method
from callbacks.services import actions, plan
from callbacks.services import release as services
from renocrm.outbox.models import Notification
from renocrm.tenancy.context import tenant_context
from tests.callbacks.conftest import member
from tests.callbacks.factories import CallbackFactory
from tests.worksites.factories import WorksiteFactory

# 12:00 in Shanghai on Wednesday 4 February 2026, the day the fixture's first callback is due.
FEB_4 = datetime(2026, 2, 4, 4, 0, tzinfo=UTC)


def sweep(firm, now=None, **kwargs):
    with tenant_context(firm):
        return services.callbacks_release_due(now=now, **kwargs)


def due_callbacks(firm, count, *, due_on, method=Method.PHONE, customer_service=None):
    """``count`` scheduled callbacks due on ``due_on``, on one worksite (one plan step each)."""
    with tenant_context(firm):
        worksite = WorksiteFactory(customer_service=customer_service)
        start = (CallbackStep.objects.order_by("-position").values_list("position", flat=True).first() or 0) + 1
        steps = CallbackStep.objects.bulk_create(
            [
                CallbackStep(name=f"Step {n}", offset=1, unit="days", position=start + n, method=method)
                for n in range(count)
            ]
        )
        return Callback.objects.bulk_create(
            [
                Callback(
                    project=worksite.project,
                    worksite=worksite,
                    customer=worksite.project.customer,
                    step=step,
                    name=step.name,
                    due_on=due_on,
                    method=method,
                )
                for step in steps
            ]
        )


def released_key(callbacks, agent):
    """The key of the message telling ``agent`` about a batch: it names the batch's first callback."""
    return f"callback:{min(c.pk for c in callbacks)}:released:{agent.pk}"


def notices(firm):
    """The agents' release messages, by key."""
    with tenant_context(firm):
        return {n.idempotency_key: n for n in Notification.objects.filter(idempotency_key__contains=":released:")}


def keys(firm, prefix="callback:"):
    with tenant_context(firm):
        return Counter(
            Notification.objects.filter(idempotency_key__startswith=prefix).values_list("idempotency_key", flat=True)
        )


def test_a_due_callback_goes_to_the_projects_agent_once(firm, agent, handed_over):
    with time_machine.travel(FEB_4, tick=False):
        assert services.callbacks_release_due() == 1
        assert services.callbacks_release_due() == 0
    first = Callback.objects.get(worksite=handed_over, due_on=date(2026, 2, 4))
    assert (first.status, first.assigned_to, first.released_at) == (Callback.Status.OPEN, agent, FEB_4)
    assert Callback.objects.filter(worksite=handed_over, status=Callback.Status.SCHEDULED).count() == 4
    [message] = Notification.objects.filter(recipient="13700000001")
    assert (message.channel, message.idempotency_key) == ("sms", released_key([first], agent))
    assert message.body.endswith("/callbacks/?agent=mine"), "the link to the agent's queue"


def test_an_agent_hears_once_per_batch_however_many_callbacks_are_theirs(firm, agent):
    """A real agent does not want one text per callback: one message says how many are now in their queue."""
    other = member(firm, name="Li Na", email="li@example.com", phone="")
    theirs = due_callbacks(firm, 7, due_on=date(2026, 2, 4), customer_service=agent)
    others = due_callbacks(firm, 3, due_on=date(2026, 2, 3), customer_service=other)
    firm.language = "en"
    firm.save(update_fields=["language"])
    assert services.callbacks_release_due(now=FEB_4) == 10
    assert Callback.objects.filter(assigned_to=agent, status=Callback.Status.OPEN).count() == 7
    assert Callback.objects.filter(assigned_to=other, status=Callback.Status.OPEN).count() == 3
    sent = notices(firm)
    assert set(sent) == {released_key(theirs, agent), released_key(others, other)}
    to_agent, to_other = sent[released_key(theirs, agent)], sent[released_key(others, other)]
    assert (to_agent.channel, to_agent.recipient) == ("sms", "13700000001")
    assert (to_other.channel, to_other.recipient, to_other.subject) == (
        "email",
        "li@example.com",
        "3 callbacks released to you",
    ), "an agent without a phone gets an e-mail, in the firm's language"
    assert to_agent.body.startswith("7 callbacks are due") and "/callbacks/?agent=mine" in to_agent.body
    assert services.callbacks_release_due(now=FEB_4) == 0
    assert len(notices(firm)) == 2


def test_due_is_judged_by_the_firms_own_day(firm, handed_over):
    """00:30 on 4 February in Shanghai is still 3 February in UTC."""
    with time_machine.travel(datetime(2026, 2, 3, 15, 59, tzinfo=UTC), tick=False):
        assert services.callbacks_release_due() == 0
    with time_machine.travel(datetime(2026, 2, 3, 16, 30, tzinfo=UTC), tick=False):
        assert services.callbacks_release_due() == 1


def test_round_robin_takes_turns_among_active_customer_service_agents(firm):
    agents = sorted([member(firm, phone=f"1370000010{n}") for n in range(3)], key=lambda u: u.pk)
    member(firm, role="sales")  # not a callback agent
    gone = member(firm)
    gone.memberships.update(is_active=False)
    plan.callback_settings_save(assignment="round_robin")
    callbacks = due_callbacks(firm, 4, due_on=date(2026, 2, 4))
    services.callbacks_release_due(now=FEB_4)
    assigned = [c.assigned_to_id for c in Callback.objects.filter(pk__in=[c.pk for c in callbacks]).order_by("id")]
    assert assigned == [agents[0].pk, agents[1].pk, agents[2].pk, agents[0].pk]
    assert CallbackSettings.objects.get().last_assigned_id == agents[0].pk
    due_callbacks(firm, 1, due_on=date(2026, 2, 4))
    services.callbacks_release_due(now=FEB_4)
    assert Callback.objects.order_by("-id").first().assigned_to_id == agents[1].pk, "the next turn after a restart"


def test_a_project_agent_who_left_falls_back_to_round_robin(firm):
    left, on_duty = member(firm), member(firm)
    left.memberships.update(is_active=False)
    [callback] = due_callbacks(firm, 1, due_on=date(2026, 2, 4), customer_service=left)
    services.callbacks_release_due(now=FEB_4)
    callback.refresh_from_db()
    assert callback.assigned_to == on_duty


def test_with_no_agent_at_all_the_callback_is_still_released_unassigned(firm):
    [callback] = due_callbacks(firm, 1, due_on=date(2026, 2, 4))
    assert services.callbacks_release_due(now=FEB_4) == 1
    callback.refresh_from_db()
    assert (callback.status, callback.assigned_to) == (Callback.Status.OPEN, None)
    assert not Notification.objects.exists()


def test_an_sms_callback_texts_the_homeowner_the_link_on_release(firm, agent, sms_outbox):
    [callback] = due_callbacks(firm, 1, due_on=date(2026, 2, 4), method=Method.SMS, customer_service=agent)
    services.callbacks_release_due(now=FEB_4)
    services.callbacks_release_due(now=FEB_4)
    sms_key = f"callback:{callback.pk}:sms:0"
    assert keys(firm) == {released_key([callback], agent): 1, sms_key: 1}
    message = Notification.objects.get(idempotency_key=sms_key)
    assert message.recipient == callback.customer.mobile and "/portal/survey/" in message.body
    assert list(CallbackAttempt.objects.filter(callback=callback).values_list("outcome", flat=True)) == ["sms_sent"]


def test_an_sms_callback_due_for_retry_gets_the_link_again_once(firm, agent):
    [callback] = due_callbacks(firm, 1, due_on=date(2026, 2, 4), method=Method.SMS, customer_service=agent)
    with time_machine.travel(FEB_4, tick=False):
        services.callbacks_release_due()
        actions.callback_attempt_record(callback=callback, outcome="no_answer", by=agent)
        services.callbacks_release_due()  # the retry is not due for 24 hours
    assert f"callback:{callback.pk}:sms:1" not in keys(firm)
    with time_machine.travel(FEB_4 + timedelta(hours=25), tick=False):
        assert services.callbacks_release_due() == 0, "a re-sent link is not a release"
        services.callbacks_release_due()
    assert keys(firm, f"callback:{callback.pk}:sms:") == {
        f"callback:{callback.pk}:sms:0": 1,
        f"callback:{callback.pk}:sms:1": 1,
    }
    assert CallbackAttempt.objects.filter(callback=callback, outcome="sms_sent").count() == 2
    callback.refresh_from_db()
    assert callback.status == Callback.Status.RETRY, "still waiting for the homeowner's answer"


def test_cancelled_and_completed_callbacks_are_never_released(firm, agent):
    cancelled = CallbackFactory(due_on=date(2026, 2, 1), status=Callback.Status.CANCELLED)
    done = CallbackFactory(due_on=date(2026, 2, 1), status=Callback.Status.COMPLETED)
    assert services.callbacks_release_due(now=FEB_4) == 0
    for callback in (cancelled, done):
        callback.refresh_from_db()
        assert callback.released_at is None
    assert not Notification.objects.exists()


def test_a_beat_down_for_30_days_catches_up_on_its_next_sweep(firm, agent):
    """Callbacks fell due on each of the 30 days the beat was down: the first sweep back releases every
    one of them once (in several batches) and nothing due later."""
    start = date(2026, 3, 1)
    for day in range(30):
        due_callbacks(firm, 3, due_on=start + timedelta(days=day), customer_service=agent)
    later = due_callbacks(firm, 2, due_on=date(2026, 3, 31), customer_service=agent)
    back = datetime(2026, 3, 30, 4, 0, tzinfo=UTC)  # noon on 30 March in Shanghai
    with time_machine.travel(back, tick=False):
        assert services.callbacks_release_due(limit=25) == 90
        assert services.callbacks_release_due(limit=25) == 0
    opened = Callback.objects.filter(status=Callback.Status.OPEN)
    assert opened.count() == 90 and set(opened.values_list("released_at", flat=True)) == {back}
    # Four batches of at most 25, oldest first: the agent hears once per batch.
    batches = [sorted(opened, key=lambda c: (c.due_on, c.pk))[n : n + 25] for n in range(0, 90, 25)]
    assert keys(firm) == {released_key(batch, agent): 1 for batch in batches}
    assert set(Callback.objects.filter(pk__in=[c.pk for c in later]).values_list("status", flat=True)) == {"scheduled"}


def test_the_beat_task_releases_each_firms_callbacks_in_that_firm(firm_a, firm_b):
    a = due_callbacks(firm_a, 2, due_on=date(2026, 2, 4))
    b = due_callbacks(firm_b, 3, due_on=date(2026, 2, 4))
    with time_machine.travel(FEB_4, tick=False):
        tasks.sweep_due_callbacks.delay()
    for firm, rows in ((firm_a, a), (firm_b, b)):
        with tenant_context(firm):
            assert Callback.objects.filter(status=Callback.Status.OPEN).count() == len(rows)


def test_a_batch_costs_the_same_queries_however_many_callbacks_it_releases(firm, agent):
    """The batch is written set-wise: its rows, the agents and the settings are read once, the callbacks
    opened with one UPDATE, the agents' notices in the app with one INSERT, the messages with another and the
    attempts with a third — the same statements for 2 callbacks as for 12."""

    def statements(count):
        due_callbacks(firm, count, due_on=date(2026, 2, 4), method=Method.SMS, customer_service=agent)
        with CaptureQueriesContext(connection) as captured:
            assert services.callbacks_release_due(now=FEB_4) == count
        return [q["sql"].split(" ", 1)[0] for q in captured.captured_queries]

    statements(1)  # the settings row is created on first use
    few, many = statements(2), statements(12)
    assert few == many
    assert few.count("UPDATE") == 1 and few.count("INSERT") == 3
    assert CallbackAttempt.objects.filter(outcome="sms_sent").count() == 15


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_release_and_send_nothing_twice(firm_a, monkeypatch, sms_outbox):
    """Two sweeps in two threads (two database connections) over the same due callbacks, each slowed down
    per row so they overlap: every callback is released by exactly one of them, and every message is
    recorded and sent once."""
    with tenant_context(firm_a):
        agents = [member(firm_a, phone=f"1370000020{n}") for n in range(2)]
        plan.callback_settings_save(assignment="round_robin")
    rows = due_callbacks(firm_a, 30, due_on=date(2026, 2, 4), method=Method.SMS)
    rows += due_callbacks(firm_a, 30, due_on=date(2026, 2, 4))
    release_one = services._release_one

    def slow(*args, **kwargs):
        time.sleep(0.01)
        return release_one(*args, **kwargs)

    monkeypatch.setattr(services, "_release_one", slow)
    barrier, results, errors = threading.Barrier(2), [], []

    def run():
        try:
            barrier.wait()
            results.append(sweep(firm_a, now=FEB_4, limit=10))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert sum(results) == 60 and all(results), results
    with tenant_context(firm_a):
        assert Callback.objects.filter(status=Callback.Status.OPEN).count() == 60
        counts = Counter(Callback.objects.values_list("assigned_to_id", flat=True))
        assert counts == {agents[0].pk: 30, agents[1].pk: 30}, "round robin turns are not handed out twice"
        assert CallbackAttempt.objects.filter(outcome="sms_sent").count() == 30
        opened = {c.pk: c.assigned_to_id for c in Callback.objects.all()}
    sent = keys(firm_a)
    assert set(sent.values()) == {1}
    assert {k for k in sent if ":sms:" in k} == {f"callback:{c.pk}:sms:0" for c in rows[:30]}
    told = [k.split(":") for k in sent if ":released:" in k]
    assert {int(agent_id) for _c, _first, _r, agent_id in told} == {a.pk for a in agents}
    assert all(opened[int(first)] == int(agent_id) for _c, first, _r, agent_id in told), "named by their callback"
    # Six full batches of 10, and each sweep may end on a short one: at most one message per agent and batch.
    assert len(told) <= 2 * (60 // 10 + 2)
    texts = Counter(message.idempotency_key for message in sms_outbox)
    assert set(texts.values()) == {1}
    assert {k for k in texts if ":sms:" in k} == {f"callback:{c.pk}:sms:0" for c in rows[:30]}
