import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from celery import shared_task
from celery.result import EagerResult
from django.conf import settings
from django.db import connection

from renocrm.celery import FirmTask
from renocrm.celery import app as celery_app
from renocrm.outbox import services
from renocrm.outbox.models import OutboxEvent, WebhookDelivery
from renocrm.outbox.tasks import deliver_webhook
from renocrm.tenancy.context import TenantScopeError, get_current_tenant, tenant_context
from tests.outbox.test_services import Receiver

ROOT = Path(__file__).resolve().parents[2]


@shared_task(base=FirmTask)
def report_scope():
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.tenant_id', true)")
        return get_current_tenant().pk, cursor.fetchone()[0]


def test_an_eager_task_runs_in_the_callers_firm(firm_a, firm_b):
    with tenant_context(firm_b):
        assert report_scope.delay().get() == (firm_b.pk, str(firm_b.pk))
    assert report_scope.delay(tenant_id=firm_a.pk).get() == (firm_a.pk, str(firm_a.pk))


def test_a_task_sent_without_a_firm_refuses_to_run(db):
    with pytest.raises(TenantScopeError):
        report_scope.delay()


def _url(database: dict) -> str:
    password = f":{quote(database['PASSWORD'])}" if database.get("PASSWORD") else ""
    return f"postgres://{database['USER']}{password}@{database['HOST']}:{database['PORT']}/{database['NAME']}"


@pytest.fixture
def worker():
    """A real Celery worker process on its own queue, using this test run's database and Redis."""
    queue = f"test-worker-{os.getpid()}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "renocrm.settings.test",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DATABASE_URL": _url(settings.DATABASES["default"]),
        "DATABASE_OWNER_URL": _url(settings.DATABASES["owner"]),
        "REDIS_URL": settings.REDIS_URL,
        # The test's webhook receiver listens on loopback.
        "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true",
    }
    celery_app.conf.task_always_eager = False
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "renocrm",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=WARNING",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        yield queue
    finally:
        celery_app.conf.task_always_eager = True
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_a_webhook_inside_the_firm(worker, firm_a, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True  # the receiver listens on loopback
    receiver = Receiver()
    try:
        with tenant_context(firm_a):
            endpoint = services.webhook_endpoint_create(url=receiver.url)
            event = OutboxEvent.objects.create(event_type="lead.created", payload={"id": 5})
            delivery = WebhookDelivery.objects.create(event=event, endpoint=endpoint)
        receiver.secret = endpoint.secret
        result = deliver_webhook.apply_async(kwargs={"delivery_id": delivery.pk, "tenant_id": firm_a.pk}, queue=worker)
        assert not isinstance(result, EagerResult), "sent to the worker process, not run here"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not receiver.calls:
            time.sleep(0.2)
        assert receiver.calls and receiver.calls[0]["verified"]
        assert receiver.calls[0]["body"]["firm"] == firm_a.slug
        for _ in range(50):
            with tenant_context(firm_a):
                delivery.refresh_from_db()
            if delivery.delivered_at:
                break
            time.sleep(0.1)
        assert delivery.delivered_at is not None and delivery.attempts == 1
    finally:
        receiver.close()
