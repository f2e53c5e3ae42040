import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from renocrm.outbox import services, sms, tasks, webhooks
from renocrm.outbox.models import Notification, OutboxEvent, WebhookDelivery
from renocrm.tenancy.context import tenant_context


class Receiver:
    """A real HTTP endpoint on loopback that verifies each delivery's signature."""

    def __init__(self, statuses=(200,)):
        self.statuses = list(statuses)
        self.calls = []
        self.secret = ""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.calls.append(
                    {
                        "body": json.loads(body),
                        "verified": webhooks.verify(receiver.secret, self.headers[webhooks.HEADER], body),
                        "event": self.headers["X-RenoCRM-Event"],
                    }
                )
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"try later")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def receiver(settings):
    # The receiver listens on loopback: deliberately allowed here, refused by default.
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    made = []

    def make(statuses=(200,)):
        made.append(Receiver(statuses))
        return made[-1]

    yield make
    for r in made:
        r.close()


@pytest.fixture
def firm(firm_a):
    with tenant_context(firm_a):
        yield firm_a


def test_rollback_leaves_no_event_and_sends_nothing(firm, receiver, django_capture_on_commit_callbacks):
    hook = receiver()
    endpoint = services.webhook_endpoint_create(url=hook.url)
    hook.secret = endpoint.secret
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.event_emit(event_type="lead.created", payload={"id": 1})
        raise RuntimeError("the change failed")
    assert callbacks == []
    assert not OutboxEvent.objects.exists()
    assert hook.calls == []


def test_event_is_delivered_signed_to_subscribed_endpoints(firm, receiver, django_capture_on_commit_callbacks):
    hook, other = receiver(), receiver()
    endpoint = services.webhook_endpoint_create(url=hook.url, event_types=["lead.created"])
    services.webhook_endpoint_create(url=other.url, event_types=["contract.signed"])
    hook.secret = endpoint.secret
    with django_capture_on_commit_callbacks(execute=True):
        event = services.event_emit(event_type="lead.created", payload={"id": 7})
    assert len(hook.calls) == 1 and other.calls == []
    call = hook.calls[0]
    assert call["verified"] and call["event"] == "lead.created"
    assert call["body"] == {
        "id": event.pk,
        "type": "lead.created",
        "created_at": call["body"]["created_at"],
        "firm": firm.slug,
        "data": {"id": 7},
    }
    delivery = WebhookDelivery.objects.get()
    assert delivery.delivered_at is not None and delivery.last_status_code == 200


def test_dispatch_twice_creates_one_delivery_per_endpoint(firm, receiver):
    hook = receiver()
    services.webhook_endpoint_create(url=hook.url)
    event = OutboxEvent.objects.create(event_type="lead.created", payload={})
    assert len(services.event_dispatch(event_id=event.pk)) == 1
    assert services.event_dispatch(event_id=event.pk) == []
    assert WebhookDelivery.objects.count() == 1


def test_failed_delivery_is_retried_with_backoff_and_the_sweeper_takes_up_a_lost_retry(
    firm, receiver, settings, django_capture_on_commit_callbacks
):
    hook = receiver(statuses=(500, 200))
    endpoint = services.webhook_endpoint_create(url=hook.url)
    hook.secret = endpoint.secret
    with django_capture_on_commit_callbacks(execute=True):  # the retry queued too, run early here: it refuses
        services.event_emit(event_type="lead.created", payload={"id": 1})
    delivery = WebhookDelivery.objects.get()
    assert (delivery.attempts, delivery.last_status_code, delivery.delivered_at) == (1, 500, None)
    assert delivery.last_response_body == "try later"
    first_retry = delivery.next_attempt_at
    assert timedelta(seconds=53) < first_retry - timezone.now() <= timedelta(seconds=66)  # 1 minute ± 10 %
    tasks.sweep_firm_webhook_deliveries.delay(tenant_id=firm.pk)  # not yet due: nothing happens
    assert len(hook.calls) == 1
    with time_machine.travel(first_retry + timedelta(seconds=1)):
        tasks.sweep_firm_webhook_deliveries.delay(tenant_id=firm.pk)  # due, but its queued retry may yet come
    assert len(hook.calls) == 1
    with time_machine.travel(first_retry + timedelta(seconds=settings.WEBHOOK_SWEEP_SLACK_SECONDS + 1)):
        tasks.sweep_firm_webhook_deliveries.delay(tenant_id=firm.pk)
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.delivered_at is not None
    assert all(call["verified"] for call in hook.calls)


def test_gives_up_after_max_attempts_and_disables_a_failing_endpoint(firm, receiver, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 3
    hook = receiver(statuses=(503,))
    endpoint = services.webhook_endpoint_create(url=hook.url)
    event = OutboxEvent.objects.create(event_type="lead.created", payload={})
    services.event_dispatch(event_id=event.pk)
    delivery = WebhookDelivery.objects.get()
    for _ in range(3):
        with time_machine.travel(WebhookDelivery.objects.get().next_attempt_at):
            services.webhook_deliver(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    endpoint.refresh_from_db()
    assert delivery.attempts == 3 and delivery.given_up_at is not None and delivery.next_attempt_at is None
    assert not endpoint.is_active and endpoint.disabled_at is not None
    assert services.webhook_deliver(delivery_id=delivery.pk) is None  # given up: left alone
    assert len(hook.calls) == 3


def test_events_wait_for_an_endpoint_turned_off_after_failures_but_not_for_one_turned_off_by_hand(
    firm, receiver, django_capture_on_commit_callbacks
):
    hook = receiver()
    failed = services.webhook_endpoint_create(url=hook.url)
    failed.is_active, failed.disabled_at = False, timezone.now()
    failed.save()
    paused = services.webhook_endpoint_create(url=hook.url)
    services.webhook_endpoint_update(endpoint=paused, is_active=False)
    hook.secret = failed.secret

    with django_capture_on_commit_callbacks(execute=True):
        services.event_emit(event_type="lead.created", payload={"id": 7})
    waiting = WebhookDelivery.objects.get()
    assert waiting.endpoint_id == failed.pk and waiting.attempts == 0 and hook.calls == []

    services.webhook_endpoint_update(endpoint=failed, is_active=True)
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        tasks.sweep_firm_webhook_deliveries.delay(tenant_id=firm.pk)
    waiting.refresh_from_db()
    assert waiting.delivered_at is not None
    assert [call["body"]["data"] for call in hook.calls] == [{"id": 7}] and hook.calls[0]["verified"]


def test_a_delivery_that_does_not_turn_the_endpoint_off_reads_nothing_about_the_admins(firm, receiver, settings):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 3
    hook = receiver(statuses=(500, 200))
    services.webhook_endpoint_create(url=hook.url)
    event = OutboxEvent.objects.create(event_type="lead.created", payload={})
    [delivery] = services.event_dispatch(event_id=event.pk)
    counts = []
    for _ in range(2):  # a failure below the limit, then a success
        with (
            time_machine.travel(WebhookDelivery.objects.get().next_attempt_at),
            CaptureQueriesContext(connection) as queries,
        ):
            services.webhook_deliver(delivery_id=delivery.pk)
        assert not any("accounts_membership" in query["sql"] for query in queries)
        counts.append(len(queries))
    delivery.refresh_from_db()
    assert delivery.delivered_at is not None and counts[0] == counts[1]
    assert not Notification.objects.filter(idempotency_key__startswith="webhook-disabled:").exists()


def test_a_delivery_redelivered_while_its_endpoint_is_off_goes_out_once_it_is_back_on(
    firm, receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 1
    hook = receiver(statuses=(503, 200))
    endpoint = services.webhook_endpoint_create(url=hook.url)
    hook.secret = endpoint.secret
    with django_capture_on_commit_callbacks(execute=True):
        services.event_emit(event_type="lead.created", payload={"id": 8})
    delivery = WebhookDelivery.objects.get()
    endpoint.refresh_from_db()
    assert delivery.given_up_at is not None and not endpoint.is_active and endpoint.disabled_at is not None

    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_delivery_redeliver(delivery=delivery)
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        tasks.sweep_firm_webhook_deliveries.delay(tenant_id=firm.pk)
    delivery.refresh_from_db()
    assert len(hook.calls) == 1 and delivery.given_up_at is None and delivery.delivered_at is None

    services.webhook_endpoint_update(endpoint=endpoint, is_active=True)
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        tasks.sweep_firm_webhook_deliveries.delay(tenant_id=firm.pk)
    delivery.refresh_from_db()
    assert len(hook.calls) == 2 and hook.calls[1]["verified"] and delivery.delivered_at is not None


def test_rotation_signs_with_both_secrets_during_the_grace_period(firm, receiver):
    hook = receiver()
    endpoint = services.webhook_endpoint_create(url=hook.url)
    old_secret = endpoint.secret
    endpoint = services.webhook_endpoint_rotate_secret(endpoint=endpoint)
    event = OutboxEvent.objects.create(event_type="lead.created", payload={})
    services.event_dispatch(event_id=event.pk)
    for secret in (old_secret, endpoint.secret):
        hook.secret = secret
        services.webhook_delivery_redeliver(delivery=WebhookDelivery.objects.get())
        services.webhook_deliver(delivery_id=WebhookDelivery.objects.get().pk)
        assert hook.calls[-1]["verified"], secret


def test_signature_verification_rejects_tampering_and_old_timestamps():
    body = b'{"id":1}'
    header = webhooks.signature_header(["whsec_x"], body, timestamp=1_700_000_000)
    assert webhooks.verify("whsec_x", header, body, now=1_700_000_100)
    assert not webhooks.verify("whsec_x", header, b'{"id":2}', now=1_700_000_100)
    assert not webhooks.verify("whsec_y", header, body, now=1_700_000_100)
    assert not webhooks.verify("whsec_x", header, body, now=1_700_001_000)
    # v2 signs the delivery id with the body: another id, or a header without v2, does not verify.
    signed = webhooks.signature_header(["whsec_x"], body, timestamp=1_700_000_000, delivery_id="41-r2")
    assert webhooks.verify("whsec_x", signed, body, now=1_700_000_100, delivery_id="41-r2")
    assert webhooks.verify("whsec_x", signed, body, now=1_700_000_100)  # v1 still there for older receivers
    assert not webhooks.verify("whsec_x", signed, body, now=1_700_000_100, delivery_id="41")
    assert not webhooks.verify("whsec_x", header, body, now=1_700_000_100, delivery_id="41-r2")


def test_handlers_run_once_per_event(firm):
    seen = []
    services.register_handler("test.happened", lambda event: seen.append(event.pk))
    event = OutboxEvent.objects.create(event_type="test.happened", payload={})
    services.event_dispatch(event_id=event.pk)
    services.event_dispatch(event_id=event.pk)
    assert seen == [event.pk]


def test_same_transaction_handlers_commit_and_roll_back_with_the_event(firm, django_capture_on_commit_callbacks):
    def write_note(event):
        Notification.objects.create(
            channel=Notification.Channel.SMS, recipient="13800000000", body="x", idempotency_key=f"note:{event.pk}"
        )

    services.register_handler("test.written", write_note, same_transaction=True)
    with (
        django_capture_on_commit_callbacks(execute=False) as queued,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.event_emit(event_type="test.written", payload={})
        assert Notification.objects.filter(idempotency_key__startswith="note:").count() == 1
        raise RuntimeError("the change is refused after the event")
    assert not OutboxEvent.objects.filter(event_type="test.written").exists()
    assert not Notification.objects.filter(idempotency_key__startswith="note:").exists()
    assert queued == [], "nothing was queued for the broker"

    with transaction.atomic():
        event = services.event_emit(event_type="test.written", payload={})
    assert Notification.objects.filter(idempotency_key=f"note:{event.pk}").exists()


def test_the_outbox_sweeper_dispatches_what_the_worker_missed(firm, receiver, django_capture_on_commit_callbacks):
    hook = receiver()
    services.webhook_endpoint_create(url=hook.url)
    with time_machine.travel(timezone.now() - timedelta(minutes=5)):
        OutboxEvent.objects.create(event_type="lead.created", payload={})
    with django_capture_on_commit_callbacks(execute=True):
        tasks.sweep_firm_outbox.delay(tenant_id=firm.pk)
    assert OutboxEvent.objects.get().dispatched_at is not None
    assert len(hook.calls) == 1


def test_a_notification_key_sends_once(firm, django_capture_on_commit_callbacks):
    sms.outbox.clear()
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            services.notification_send(
                channel="sms", recipient="13800138000", body="您好，王先生", idempotency_key="callback-41"
            )
    assert [m.idempotency_key for m in sms.outbox] == ["callback-41"]
    assert Notification.objects.get().status == "sent"
    assert services.notification_deliver(notification_id=Notification.objects.get().pk) is None


def test_email_notifications_go_through_django_mail(firm, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.notification_send(
            channel="email", recipient="wang@example.com", subject="回访", body="您好", idempotency_key="mail-1"
        )
    assert [(m.subject, m.to) for m in mail.outbox] == [("回访", ["wang@example.com"])]


def test_file_backend_writes_one_file_per_message(tmp_path, settings):
    settings.SMS_FILE_PATH = str(tmp_path)
    sms.FileBackend().send(sms.SmsMessage("13800138000", "您好", "callback/7"))
    written = list(Path(tmp_path).iterdir())
    assert [p.name for p in written] == ["callback_7.txt"]
    assert "13800138000" in written[0].read_text(encoding="utf-8")


def test_a_failing_backend_leaves_the_notification_pending_for_the_sweeper(firm, settings):
    settings.SMS_BACKEND = "tests.outbox.test_services.BrokenBackend"
    notification = Notification.objects.create(channel="sms", recipient="1", body="x", idempotency_key="k")
    services.notification_deliver(notification_id=notification.pk)
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("pending", 1)
    assert "gateway down" in notification.last_error


class BrokenBackend(sms.BaseBackend):
    def send(self, message):
        raise ConnectionError("gateway down")


def test_turning_an_endpoint_off_by_hand_after_failures_stops_keeping_events_for_it(
    firm, receiver, django_capture_on_commit_callbacks
):
    endpoint = services.webhook_endpoint_create(url=receiver().url)
    endpoint.is_active, endpoint.disabled_at = False, timezone.now()
    endpoint.save()

    services.webhook_endpoint_update(endpoint=endpoint, is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        services.event_emit(event_type="lead.created", payload={"id": 8})

    endpoint.refresh_from_db()
    assert endpoint.disabled_at is None
    assert not WebhookDelivery.objects.exists()


def test_many_notifications_go_in_one_insert_and_one_task_and_a_key_still_sends_once(
    firm, django_capture_on_commit_callbacks
):
    sms.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.notification_send(channel="sms", recipient="13800138000", body="已发送", idempotency_key="k-1")
    sms.outbox.clear()
    messages = [
        {"channel": "sms", "recipient": "13800138000", "body": "again", "idempotency_key": "k-1"},
        {"channel": "sms", "recipient": "13800138001", "body": "您好", "idempotency_key": "k-2"},
        {"channel": "email", "recipient": "li@example.com", "subject": "回访", "body": "3", "idempotency_key": "k-3"},
    ]
    with django_capture_on_commit_callbacks(execute=True) as queued, CaptureQueriesContext(connection) as captured:
        created = services.notifications_send_many(messages)
    assert set(created) == {"k-2", "k-3"}, "the key already sent is left as it was"
    assert [q["sql"].split(" ", 1)[0] for q in captured.captured_queries] == ["SELECT", "INSERT"]
    assert len(queued) == 1, "one task for the whole batch"
    assert [(m.idempotency_key, m.body) for m in sms.outbox] == [("k-2", "您好")]
    assert [(m.subject, m.to) for m in mail.outbox] == [("回访", ["li@example.com"])]
    assert Notification.objects.get(idempotency_key="k-1").body == "已发送"
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}
    with django_capture_on_commit_callbacks(execute=True) as queued:
        assert services.notifications_send_many(messages) == {}
        assert services.notifications_send_many(messages[1:2]) == {}, "a single message too"
    assert not queued and len(sms.outbox) == 1


def test_a_batch_of_notifications_whose_task_never_ran_is_sent_by_the_sweeper(firm, settings):
    """The transaction's end never queues the task here (as when the broker was down): the rows stay
    pending like any other, and the notification sweeper sends them once."""
    sms.outbox.clear()
    messages = [
        {"channel": "sms", "recipient": f"1380013800{n}", "body": "x", "idempotency_key": f"b-{n}"} for n in range(3)
    ]
    assert len(services.notifications_send_many(messages)) == 3
    assert set(Notification.objects.values_list("status", flat=True)) == {"pending"}
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.OUTBOX_SWEEP_GRACE_SECONDS + 1)):
        tasks.sweep_firm_notifications.delay(tenant_id=firm.pk)
        tasks.sweep_firm_notifications.delay(tenant_id=firm.pk)
    assert sorted(m.idempotency_key for m in sms.outbox) == ["b-0", "b-1", "b-2"]


def test_the_batch_task_sends_each_pending_notification_once(firm, settings):
    settings.SMS_BACKEND = "tests.outbox.test_services.BrokenBackend"
    rows = [
        Notification.objects.create(channel="sms", recipient="1", body="x", idempotency_key=f"t-{n}") for n in range(2)
    ]
    tasks.deliver_notifications.delay(notification_ids=[r.pk for r in rows], tenant_id=firm.pk)
    assert {(r.status, r.attempts) for r in Notification.objects.all()} == {("pending", 1)}, "each fails on its own"
    settings.SMS_BACKEND = "renocrm.outbox.sms.LocmemBackend"
    sms.outbox.clear()
    for _ in range(2):
        tasks.deliver_notifications.delay(notification_ids=[r.pk for r in rows], tenant_id=firm.pk)
    assert sorted(m.idempotency_key for m in sms.outbox) == ["t-0", "t-1"]
