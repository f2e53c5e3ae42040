"""When webhook attempts happen: the first once the event commits, each retry at its time on the documented
schedule (± its jitter), a lost one picked up by the sweeper within a minute of its time, and never two attempts
of one delivery at once — with real PostgreSQL, a local receiver and, where it matters, a real Celery worker."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
import redis
import time_machine
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from renocrm.celery import app as celery_app
from renocrm.outbox import services, tasks
from renocrm.outbox.models import OutboxEvent, WebhookDelivery
from renocrm.tenancy.context import tenant_context
from tests.ops.servers import CeleryWorker, tail, url_of, wait_until
from tests.outbox.receivers import TimingReceiver

# The documented waits after attempts 1 … 7: 1, 2, 4, 8, 16, 32, 64 minutes.
SCHEDULE_MINUTES = [1, 2, 4, 8, 16, 32, 64]
JITTER = 0.10


@pytest.fixture
def hook(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True  # the receiver listens on loopback
    made = []

    def make(statuses=(200,), hold=0):
        made.append(TimingReceiver(statuses, hold=hold))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


@pytest.fixture
def firm(firm_a):
    with tenant_context(firm_a):
        yield firm_a


def _sweep(firm) -> int:
    """The firm's webhook sweep run here, as the beat's task runs it; its count of attempts queued. Run in place
    rather than .delay().get(): a worker another test started in this process makes Celery refuse a join."""
    return tasks.sweep_firm_webhook_deliveries.apply(kwargs={"tenant_id": firm.pk}).result


def endpoint_for(receiver):
    endpoint = services.webhook_endpoint_create(url=receiver.url)
    receiver.secret = endpoint.secret
    return endpoint


def lost_delivery(endpoint, *, due, **fields):
    """A delivery due at ``due`` whose task never ran (nothing queued it)."""
    event = OutboxEvent.objects.create(event_type="lead.created", payload={"id": 1})
    return WebhookDelivery.objects.create(event=event, endpoint=endpoint, next_attempt_at=due, **fields)


# The schedule -------------------------------------------------------------------------------------------------


def test_each_failed_attempt_sets_the_next_on_the_documented_schedule_within_its_jitter(firm, hook, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 8
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 100
    receiver = hook(statuses=(503,))
    endpoint_for(receiver)
    event = OutboxEvent.objects.create(event_type="lead.created", payload={})
    [delivery] = services.event_dispatch(event_id=event.pk)
    for attempt in range(1, 9):
        due = WebhookDelivery.objects.get().next_attempt_at
        with time_machine.travel(due, tick=False):
            services.webhook_deliver(delivery_id=delivery.pk)
        delivery.refresh_from_db()
        assert delivery.attempts == attempt
        if attempt < 8:
            wait = (delivery.next_attempt_at - due).total_seconds()
            nominal = SCHEDULE_MINUTES[attempt - 1] * 60
            assert nominal * (1 - JITTER) <= wait <= nominal * (1 + JITTER), (attempt, wait)
    assert delivery.given_up_at is not None and delivery.next_attempt_at is None
    assert [call["attempt"] for call in receiver.calls] == list(range(1, 9))
    assert len({call["delivery"] for call in receiver.calls}) == 1 and all(call["verified"] for call in receiver.calls)


def test_retry_waits_are_spread_within_the_jitter_and_never_over_six_hours():
    waits = [services.webhook_retry_delay(3).total_seconds() for _ in range(500)]
    assert 240 * (1 - JITTER) <= min(waits) <= max(waits) <= 240 * (1 + JITTER)
    assert max(waits) - min(waits) > 240 * JITTER, "spread, not all at the same moment"
    assert [services.webhook_retry_nominal(n) for n in range(1, 8)] == [
        timedelta(minutes=minutes) for minutes in SCHEDULE_MINUTES
    ]
    assert max(services.webhook_retry_delay(30) for _ in range(50)) <= timedelta(hours=6)


def test_a_failed_attempt_queues_its_retry_with_a_countdown_to_its_time(
    firm, hook, settings, django_capture_on_commit_callbacks
):
    receiver = hook(statuses=(500,))
    endpoint = endpoint_for(receiver)
    delivery = lost_delivery(endpoint, due=timezone.now())
    with (
        mock.patch.object(tasks.deliver_webhook, "apply_async") as queued,
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.webhook_deliver(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    [call] = queued.call_args_list
    assert call.kwargs["kwargs"] == {"delivery_id": delivery.pk, "tenant_id": firm.pk}
    assert call.kwargs["countdown"] == pytest.approx((delivery.next_attempt_at - timezone.now()).total_seconds(), abs=2)
    assert 54 <= call.kwargs["countdown"] <= 66

    # The 64-minute wait after the 7th attempt is longer than a waiting task may be held (the broker's visibility
    # timeout): not queued, the sweeper queues it once due.
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 100
    seventh = lost_delivery(endpoint, due=timezone.now(), attempts=6)
    with (
        mock.patch.object(tasks.deliver_webhook, "apply_async") as queued,
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.webhook_deliver(delivery_id=seventh.pk)
    seventh.refresh_from_db()
    assert seventh.attempts == 7 and seventh.next_attempt_at - timezone.now() > timedelta(minutes=57)
    assert queued.call_args_list == []
    with (
        time_machine.travel(seventh.next_attempt_at + timedelta(seconds=settings.WEBHOOK_SWEEP_SLACK_SECONDS + 1)),
        mock.patch.object(tasks.deliver_webhook, "apply_async") as queued,
    ):
        services.webhook_deliveries_sweep()
    assert seventh.pk in [call.kwargs["kwargs"]["delivery_id"] for call in queued.call_args_list]


def test_a_queued_attempt_not_yet_due_delivered_or_given_up_attempts_nothing(firm, hook):
    receiver = hook()
    endpoint = endpoint_for(receiver)
    later = timezone.now() + timedelta(seconds=30)
    delivery = lost_delivery(endpoint, due=later, attempts=1)

    tasks.deliver_webhook.delay(delivery_id=delivery.pk, tenant_id=firm.pk)  # e.g. a duplicate, or the sweeper's
    delivery.refresh_from_db()
    assert receiver.calls == [] and delivery.attempts == 1

    with time_machine.travel(later):
        tasks.deliver_webhook.delay(delivery_id=delivery.pk, tenant_id=firm.pk)
    delivery.refresh_from_db()
    assert delivery.delivered_at is not None and [call["attempt"] for call in receiver.calls] == [2]

    tasks.deliver_webhook.delay(delivery_id=delivery.pk, tenant_id=firm.pk)  # delivered: nothing more
    given_up = lost_delivery(endpoint, due=timezone.now(), attempts=8, given_up_at=timezone.now())
    tasks.deliver_webhook.delay(delivery_id=given_up.pk, tenant_id=firm.pk)
    assert len(receiver.calls) == 1


# The sweeper: lost tasks ----------------------------------------------------------------------------------------


def test_the_sweeper_queues_a_lost_attempt_once_it_is_overdue_by_its_slack(firm, hook, settings):
    receiver = hook()
    due = timezone.now()
    delivery = lost_delivery(endpoint_for(receiver), due=due)
    slack = settings.WEBHOOK_SWEEP_SLACK_SECONDS
    assert slack + settings.WEBHOOK_SWEEP_SECONDS < 60, "a lost attempt is found less than a minute late"
    entry = django_settings.CELERY_BEAT_SCHEDULE["webhook-redelivery"]
    assert entry["schedule"] == timedelta(seconds=settings.WEBHOOK_SWEEP_SECONDS)
    # A run held up behind a backlog expires rather than queueing again what is queued, not lost.
    assert entry["options"]["expires"] <= slack

    with time_machine.travel(due + timedelta(seconds=slack - 1)):
        assert _sweep(firm) == 0  # its task may yet come
    assert receiver.calls == []
    with time_machine.travel(due + timedelta(seconds=slack + 1)):
        assert _sweep(firm) == 1
    delivery.refresh_from_db()
    assert delivery.delivered_at is not None and len(receiver.calls) == 1 and receiver.calls[0]["verified"]


def test_one_beat_run_sweeps_every_active_firm(firm, firm_b, hook, settings):
    receiver = hook()
    due = timezone.now() - timedelta(minutes=1)
    a = lost_delivery(endpoint_for(receiver), due=due)
    with tenant_context(firm_b):
        b = lost_delivery(services.webhook_endpoint_create(url=receiver.url), due=due)
    tasks.sweep_webhook_deliveries.delay()
    assert sorted(call["delivery"] for call in receiver.calls) == sorted([str(a.pk), str(b.pk)])


def test_the_sweeper_sends_the_deliveries_of_an_event_whose_dispatch_task_was_lost(
    firm, hook, settings, django_capture_on_commit_callbacks
):
    receiver = hook()
    endpoint_for(receiver)
    with time_machine.travel(timezone.now() - timedelta(seconds=settings.WEBHOOK_SWEEP_SLACK_SECONDS + 5)):
        event = OutboxEvent.objects.create(event_type="lead.created", payload={"id": 3})
    with django_capture_on_commit_callbacks(execute=True):
        assert _sweep(firm) == 1
    assert [(call["event_id"], call["attempt"]) for call in receiver.calls] == [(event.pk, 1)]
    event.refresh_from_db()
    assert event.dispatched_at is None, "its handlers are still the outbox sweeper's to run"

    with django_capture_on_commit_callbacks(execute=True):
        tasks.sweep_firm_webhook_deliveries.delay(tenant_id=firm.pk)
        with time_machine.travel(timezone.now() + timedelta(seconds=settings.OUTBOX_SWEEP_GRACE_SECONDS + 1)):
            tasks.sweep_firm_outbox.delay(tenant_id=firm.pk)
    event.refresh_from_db()
    assert event.dispatched_at is not None and len(receiver.calls) == 1 and WebhookDelivery.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_failing_handler_does_not_hold_up_the_events_webhooks(firm_a, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    receiver = TimingReceiver()

    def broken(event):
        raise RuntimeError("the handler broke")

    services.register_handler("test.handled", broken)
    try:
        with tenant_context(firm_a):
            endpoint_for(receiver)
        # Committed: the dispatch task (eager here) sends the webhook, then its handler step fails.
        with pytest.raises(RuntimeError, match="the handler broke"), tenant_context(firm_a):
            event = services.event_emit(event_type="test.handled", payload={})
        assert [call["event_id"] for call in receiver.calls] == [event.pk]
        with tenant_context(firm_a):
            assert WebhookDelivery.objects.get().delivered_at is not None
            assert OutboxEvent.objects.get().dispatched_at is None, "the handlers wait for the outbox sweeper"
    finally:
        services._handlers["test.handled"].remove(broken)
        receiver.close()


# One attempt at a time ----------------------------------------------------------------------------------------


def _deliver_in_thread(firm, delivery_id: int, results: list) -> threading.Thread:
    def run():
        try:
            with tenant_context(firm):
                results.append(services.webhook_deliver(delivery_id=delivery_id))
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_two_attempts_of_one_delivery_at_once_make_one_request(firm_a, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    receiver = TimingReceiver(hold=1)
    try:
        with tenant_context(firm_a):
            delivery = lost_delivery(endpoint_for(receiver), due=timezone.now() - timedelta(minutes=1))
        results = []
        first = _deliver_in_thread(firm_a, delivery.pk, results)
        assert receiver.wait_for(1), "the first attempt reached the receiver"

        # While it waits for its answer: a second task of the same delivery, and the sweeper's pass.
        with tenant_context(firm_a):
            assert services.webhook_deliver(delivery_id=delivery.pk) is None
        assert _sweep(firm_a) == 1  # queued; it refuses
        time.sleep(0.3)
        assert len(receiver.calls) == 1

        receiver.release()
        first.join(15)
        with tenant_context(firm_a):
            delivery.refresh_from_db()
            assert services.webhook_deliver(delivery_id=delivery.pk) is None  # delivered: nothing more
        assert len(receiver.calls) == 1 and results[0] is not None
        assert delivery.attempts == 1 and delivery.delivered_at is not None
    finally:
        receiver.close()


@pytest.mark.django_db(transaction=True)
def test_while_one_delivery_waits_for_its_answer_the_firms_other_deliveries_and_writes_go_ahead(firm_a, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    receiver = TimingReceiver(hold=1)
    try:
        with tenant_context(firm_a):
            endpoint = endpoint_for(receiver)
            slow = lost_delivery(endpoint, due=timezone.now())
            other = lost_delivery(endpoint, due=timezone.now())
        results = []
        first = _deliver_in_thread(firm_a, slow.pk, results)
        assert receiver.wait_for(1)

        with tenant_context(firm_a):
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            # Not passed over because the first holds a lock on its endpoint or the firm …
            assert services.webhook_deliver(delivery_id=other.pk).delivered_at is not None
            # … and the firm's writes are not held up by one (a row referencing the firm takes a share lock on it).
            OutboxEvent.objects.create(event_type="lead.created", payload={})
        assert [call["delivery"] for call in receiver.calls] == [str(slow.pk), str(other.pk)]

        receiver.release()
        first.join(15)
        with tenant_context(firm_a):
            assert WebhookDelivery.objects.filter(delivered_at__isnull=False).count() == 2
            endpoint.refresh_from_db()
            assert endpoint.consecutive_failures == 0
    finally:
        receiver.close()


# Queues ---------------------------------------------------------------------------------------------------------


def test_events_and_webhooks_go_on_their_own_queue_which_a_worker_without_q_consumes_too():
    router = celery_app.amqp.router
    for name in tasks.WEBHOOK_TASKS:
        assert router.route({}, name)["queue"].name == "webhooks", name
    for name in ("renocrm.outbox.tasks.sweep_outbox", "renocrm.outbox.tasks.deliver_notification"):
        assert router.route({}, name)["queue"].name == "celery", name
    queues = celery_app.amqp.queues
    assert {"celery", "webhooks"} <= set(queues)
    # On Redis's direct exchange, queues bound by one routing key would each receive every message.
    assert [queues[name].routing_key for name in ("celery", "webhooks")] == ["celery", "webhooks"]


# A real worker ---------------------------------------------------------------------------------------------------


@pytest.fixture
def webhook_worker(settings):
    """A real Celery worker on a queue of this test run's own, taking the webhook tasks (WEBHOOK_QUEUE), with
    retries 1, 2, 4 … seconds apart instead of minutes. No beat and no sweeper run: what arrives was queued."""
    queue = f"test-webhooks-{os.getpid()}"
    workdir = Path(tempfile.mkdtemp(prefix="renocrm-webhook-worker-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "renocrm.settings.test",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DATABASE_URL": url_of(django_settings.DATABASES["default"]),
        "DATABASE_OWNER_URL": url_of(django_settings.DATABASES["owner"]),
        "REDIS_URL": django_settings.REDIS_URL,
        "WEBHOOK_QUEUE": queue,
        "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true",
        "WEBHOOK_RETRY_FIRST_SECONDS": "1",
    }
    settings.WEBHOOK_QUEUE = queue
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    worker = CeleryWorker(env, workdir, queues=queue, name="webhook-worker")
    celery_app.conf.task_always_eager = False
    try:
        worker.start()
        yield worker
    finally:
        celery_app.conf.task_always_eager = True
        worker.stop()
        redis.Redis.from_url(django_settings.REDIS_URL).delete(queue)
        shutil.rmtree(workdir, ignore_errors=True)


def _delivered(firm, count: int) -> bool:
    with tenant_context(firm):
        return WebhookDelivery.objects.filter(delivered_at__isnull=False).count() >= count


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_with_a_real_worker_a_committed_events_first_attempt_arrives_within_seconds(webhook_worker, firm_a):
    receiver = TimingReceiver()
    try:
        with tenant_context(firm_a):
            endpoint_for(receiver)
        committed = {}
        for number in range(5):
            with tenant_context(firm_a):
                event = services.event_emit(event_type="lead.created", payload={"id": number})
            committed[event.pk] = time.time()
        assert receiver.wait_for(5, timeout=30), tail(webhook_worker.log)
        assert sorted(call["event_id"] for call in receiver.calls) == sorted(committed)
        for call in receiver.calls:
            assert call["attempt"] == 1 and call["verified"]
            assert call["at"] - committed[call["event_id"]] < 10, "a generous bound: seconds, not the sweeper's minute"
        wait_until(lambda: _delivered(firm_a, 5), what="the deliveries recorded", timeout=10, log=webhook_worker.log)
    finally:
        receiver.close()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_with_a_real_worker_a_receiver_that_fails_for_a_while_gets_its_retries_then_the_delivery(
    webhook_worker, firm_a
):
    receiver = TimingReceiver(statuses=(503, 503, 503, 200))
    try:
        with tenant_context(firm_a):
            endpoint_for(receiver)
            event = services.event_emit(event_type="lead.created", payload={"id": 9})
        assert receiver.wait_for(4, timeout=40), tail(webhook_worker.log)
        wait_until(lambda: _delivered(firm_a, 1), what="the delivery recorded", timeout=10, log=webhook_worker.log)
        calls = receiver.calls
        assert [(call["event_id"], call["attempt"]) for call in calls] == [(event.pk, n) for n in (1, 2, 3, 4)]
        assert len({call["delivery"] for call in calls}) == 1 and all(call["verified"] for call in calls)
        # Retries 1, 2, 4 seconds apart here (WEBHOOK_RETRY_FIRST_SECONDS=1), each ± 10 %, queued for their time.
        for attempt, (before, after) in enumerate(zip(calls, calls[1:]), start=1):
            nominal = 2 ** (attempt - 1)
            gap = after["at"] - before["at"]
            assert nominal * (1 - JITTER) - 0.05 <= gap <= nominal * (1 + JITTER) + 2, (attempt, gap)
        assert len(receiver.calls) == 4
        with tenant_context(firm_a):
            delivery = WebhookDelivery.objects.get()
        assert delivery.attempts == 4 and delivery.last_status_code == 200
    finally:
        receiver.close()
