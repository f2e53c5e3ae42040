"""The worker drill shared by aftercare and complaints: a real Celery worker (tests/aftercare/slow_sweeps.py)
is killed with SIGKILL in the middle of a sweep after the beat was down for a week, started again, and sent
one sweep; the test then checks every due item was handled exactly once."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings

from renocrm.celery import app as celery_app
from renocrm.outbox.models import Notification
from renocrm.outbox.services import notification_deliver
from tests.ops.servers import CeleryWorker, url_of, wait_until


class DrillWorker:
    def __init__(self, workdir: Path):
        tag = os.getpid()
        self.queue, self.parked = f"test-drill-{tag}", f"test-drill-parked-{tag}"
        self.progress_key = f"test-drill-progress-{tag}"
        self.redis = redis.Redis.from_url(settings.REDIS_URL)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "renocrm.settings.test",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "DATABASE_URL": url_of(settings.DATABASES["default"]),
            "DATABASE_OWNER_URL": url_of(settings.DATABASES["owner"]),
            "REDIS_URL": settings.REDIS_URL,
            "DRILL_QUEUE": self.queue,
            "DRILL_PARKED_QUEUE": self.parked,
            "DRILL_PROGRESS_KEY": self.progress_key,
            "DRILL_DELAY": "0.3",
        }
        self.workdir = workdir
        self.worker = CeleryWorker(env, workdir, queues=self.queue, imports=("tests.aftercare.slow_sweeps",))

    @property
    def progress(self) -> int:
        return int(self.redis.get(self.progress_key) or 0)

    def start(self) -> None:
        self.redis.delete(self.progress_key)
        self.worker.start()

    def send(self, task, tenant) -> None:
        task.apply_async(kwargs={"tenant_id": tenant.pk}, queue=self.queue)

    def kill_during_sweep(self, *, after: int, of: int) -> None:
        """SIGKILL once ``after`` of the sweep's ``of`` items were started."""
        wait_until(
            lambda: self.worker.process.check_running() and self.progress >= after,
            what="the sweep's first items",
            timeout=90,
            log=self.worker.log,
            interval=0.05,
        )
        assert self.progress < of, "the sweep ended before the kill"
        self.worker.process.kill()

    def stop(self) -> None:
        self.worker.stop()
        self.redis.delete(self.queue, self.parked, self.progress_key)


@pytest.fixture
def drill_worker():
    """A slowed real worker on its own queues; Celery in this process sends instead of running tasks."""
    workdir = Path(tempfile.mkdtemp(prefix="renocrm-worker-drill-"))
    drill = DrillWorker(workdir)
    celery_app.conf.task_always_eager = False
    try:
        yield drill
    finally:
        celery_app.conf.task_always_eager = True
        drill.stop()
        for path in workdir.iterdir():
            path.unlink()
        workdir.rmdir()


def deliver_parked_notifications() -> None:
    """Send what the worker's sweep queued for sending (in the firm's context), counting texts in sms.outbox."""
    for pk in Notification.objects.filter(status=Notification.Status.PENDING).values_list("pk", flat=True):
        notification_deliver(notification_id=pk)


def settle(check, *, what: str, log: Path) -> None:
    """Wait for the restarted worker's sweep, then a moment more: a second, late run must not add anything."""
    wait_until(check, what=what, timeout=90, log=log)
    time.sleep(1)
