"""A real Celery worker killed with SIGKILL in the middle of a sweep: nothing it had released is lost or
released again, nothing it had not released is skipped, and every message exists and is sent once."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.conf import settings

from callbacks import tasks
from callbacks.models import Callback, CallbackAttempt, Method
from callbacks.services import plan
from callbacks.services import release as services
from renocrm.celery import app as celery_app
from renocrm.outbox.models import Notification
from renocrm.outbox.services import notification_deliver
from renocrm.tenancy.context import tenant_context
from renocrm.tenancy.time import firm_today
from tests.callbacks.conftest import member
from tests.callbacks.test_sweeper import due_callbacks
from tests.celery.test_tasks import _url

ROOT = Path(__file__).resolve().parents[2]
BATCH, DELAY = 25, 0.04


@pytest.fixture
def slow_worker():
    """A real worker on its own queue, started in its own process group, with the slow sweeper."""
    queue, parked = f"test-callbacks-{os.getpid()}", f"test-callbacks-parked-{os.getpid()}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "renocrm.settings.test",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DATABASE_URL": _url(settings.DATABASES["default"]),
        "DATABASE_OWNER_URL": _url(settings.DATABASES["owner"]),
        "REDIS_URL": settings.REDIS_URL,
        "CALLBACKS_TEST_QUEUE": queue,
        "CALLBACKS_TEST_PARKED_QUEUE": parked,
        "CALLBACKS_TEST_BATCH": str(BATCH),
        "CALLBACKS_TEST_DELAY": str(DELAY),
    }
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "renocrm",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "-I",
            "tests.callbacks.slow_worker",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=WARNING",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    celery_app.conf.task_always_eager = False
    try:
        yield process, queue
    finally:
        celery_app.conf.task_always_eager = True
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)
        redis.Redis.from_url(settings.REDIS_URL).delete(queue, parked)


def released(firm) -> int:
    with tenant_context(firm):
        return Callback.objects.filter(status=Callback.Status.OPEN).count()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_loses_nothing_and_doubles_nothing(slow_worker, firm_a, sms_outbox):
    process, queue = slow_worker
    with tenant_context(firm_a):
        agents = [member(firm_a, phone=f"1370000030{n}") for n in range(3)]
        plan.callback_settings_save(assignment="round_robin")
        today = firm_today()
    rows = due_callbacks(firm_a, 150, due_on=today, method=Method.SMS)
    rows += due_callbacks(firm_a, 150, due_on=today - timedelta(days=3))

    tasks.sweep_firm_due_callbacks.apply_async(kwargs={"tenant_id": firm_a.pk}, queue=queue)
    deadline = time.monotonic() + 90
    while released(firm_a) < 2 * BATCH and time.monotonic() < deadline:
        assert process.poll() is None, "the worker stopped by itself"
        time.sleep(0.05)
    time.sleep(BATCH * DELAY / 2)  # well into the next batch
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=15)

    before = released(firm_a)
    assert 2 * BATCH <= before < len(rows), "killed in the middle of the sweep"
    assert before % BATCH == 0, "a batch commits whole or not at all"

    with tenant_context(firm_a):
        assert services.callbacks_release_due() == len(rows) - before
        assert services.callbacks_release_due() == 0
        # The messages the worker's batches recorded were queued for a sender that never ran: send them now.
        for pk in Notification.objects.filter(status=Notification.Status.PENDING).values_list("pk", flat=True):
            notification_deliver(notification_id=pk)

        callbacks = list(Callback.objects.order_by("id"))
        assert len(callbacks) == len(rows)
        assert {c.status for c in callbacks} == {Callback.Status.OPEN}
        assert all(c.released_at is not None and c.assigned_to_id is not None for c in callbacks)
        turns = Counter(c.assigned_to_id for c in callbacks)
        assert set(turns) == {a.pk for a in agents} and max(turns.values()) - min(turns.values()) <= 1
        recorded = Counter(Notification.objects.values_list("idempotency_key", flat=True))
        assert set(recorded.values()) == {1}
        texts_recorded = {k for k in recorded if ":sms:" in k}
        assert texts_recorded == {f"callback:{c.pk}:sms:0" for c in callbacks if c.method == Method.SMS}
        # Each agent heard once per batch, the message named by a callback of that batch given to them.
        told = [key.split(":") for key in recorded if key not in texts_recorded]
        owner = {c.pk: c.assigned_to_id for c in callbacks}
        assert all(kind == "released" and owner[int(first)] == int(agent) for _c, first, kind, agent in told)
        assert {int(agent) for *_key, agent in told} == {a.pk for a in agents}
        assert len(told) <= len(agents) * (len(rows) // BATCH + 1)
        assert set(Notification.objects.values_list("status", flat=True)) == {Notification.Status.SENT}
        sms_sent = Counter(CallbackAttempt.objects.values_list("callback_id", "outcome"))
        assert sms_sent == Counter({(c.pk, "sms_sent"): 1 for c in callbacks if c.method == Method.SMS})
    texts = Counter(message.idempotency_key for message in sms_outbox)
    assert set(texts.values()) == {1}
    assert {k for k in texts if ":sms:" in k} == {f"callback:{c.pk}:sms:0" for c in rows[:150]}
