"""A real worker is killed with SIGKILL while Alibaba Cloud's gateway (a local fake) holds the text it has
just taken: the attempt and "maybe sent" were committed before the call, so the next attempt finds the text
at the gateway and does not send it again."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
import redis
import time_machine
from django.conf import settings as django_settings
from django.utils import timezone

from renocrm.celery import app as celery_app
from renocrm.outbox import services
from renocrm.outbox.models import Notification, SmsReceipt
from renocrm.outbox.tasks import deliver_notification
from renocrm.tenancy.context import tenant_context
from tests.ops.servers import CeleryWorker, url_of, wait_until
from tests.outbox.texts import MOBILE, SURVEY


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_while_the_gateway_holds_the_text_does_not_send_it_twice(aliyun, firm_a, settings):
    queue = f"test-sms-drill-{os.getpid()}"
    workdir = Path(tempfile.mkdtemp(prefix="renocrm-sms-drill-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.outbox.worker_settings",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DATABASE_URL": url_of(django_settings.DATABASES["default"]),
        "DATABASE_OWNER_URL": url_of(django_settings.DATABASES["owner"]),
        "REDIS_URL": django_settings.REDIS_URL,
        "DRILL_SMS_ENDPOINT": aliyun.url,
        "DRILL_SMS_TEMPLATES": json.dumps(settings.SMS_TEMPLATES),
    }
    worker = CeleryWorker(env, workdir, queues=queue, name="sms-drill-worker")
    celery_app.conf.task_always_eager = False
    aliyun.stall = 30  # the gateway takes the text and keeps the worker waiting for its answer
    try:
        worker.start()
        with tenant_context(firm_a):
            note = Notification.objects.create(
                channel=Notification.Channel.SMS,
                recipient=MOBILE,
                body="王先生您好",
                idempotency_key="callback:7:sms:0",
                sms_template="callbacks.survey_link",
                sms_params=SURVEY,
            )
        deliver_notification.apply_async(kwargs={"notification_id": note.pk, "tenant_id": firm_a.pk}, queue=queue)
        wait_until(lambda: worker.process.check_running() and aliyun.sent, what="the gateway taking the text")
        worker.process.kill()
    finally:
        celery_app.conf.task_always_eager = True
        worker.stop()
        redis.Redis.from_url(django_settings.REDIS_URL).delete(queue)
        for path in workdir.iterdir():
            path.unlink()
        workdir.rmdir()
    aliyun.stall = 0

    with tenant_context(firm_a):
        note.refresh_from_db()
        receipt = SmsReceipt.objects.get(notification=note)
    assert (note.status, note.attempts) == (Notification.Status.PENDING, 1), "the attempt was committed"
    assert note.sending_since is not None
    assert receipt.status == SmsReceipt.Status.UNKNOWN and receipt.maybe_sent_at is not None

    with time_machine.travel(timezone.now() + services.SENDING_LEASE + timedelta(seconds=1), tick=False):
        services.notification_deliver(notification_id=note.pk, tenant=firm_a)
    with tenant_context(firm_a):
        note.refresh_from_db()
    assert (note.status, note.attempts) == (Notification.Status.SENT, 2)
    assert len(aliyun.sent) == 1 and len(aliyun.sends()) == 1, "found at the gateway, not sent again"
