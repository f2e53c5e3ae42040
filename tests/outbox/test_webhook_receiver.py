"""Webhooks end to end against a real HTTP receiver on loopback that checks signatures with the code the
integration guide shows (renocrm.api.guide_examples.verify_signature): delivery, the delivery log, automatic
disabling with the admins told once, turning back on and redelivering from the page, secret rotation.
Also: the list of event types is complete, and the guide's openssl line signs as RenoCRM does."""

import json
import re
import shutil
import subprocess
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from renocrm.accounts.roles import Role
from renocrm.api.guide_examples import SIGN_SHELL, verify_signature
from renocrm.outbox import services, webhooks
from renocrm.outbox.events import EVENT_TYPE_NAMES, EVENT_TYPES
from renocrm.outbox.models import Notification, OutboxEvent, WebhookDelivery, WebhookEndpoint
from renocrm.tenancy.context import tenant_context
from tests.factories import MembershipFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]
LIFECYCLE_APPS = ("leads", "contracts", "worksites", "aftercare", "callbacks", "complaints")


class Receiver:
    """A partner's endpoint: answers with the next of ``statuses`` (the last one repeats) and checks every
    delivery's signature against each secret it holds, exactly as the guide tells partners to."""

    def __init__(self, statuses=(200,), answer=b'{"received": true}'):
        self.statuses, self.answer = list(statuses), answer
        self.secrets: dict[str, str] = {}
        self.calls = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                header, delivery = self.headers[webhooks.HEADER], self.headers["X-RenoCRM-Delivery"]
                receiver.calls.append(
                    {
                        "body": body,
                        "header": header,
                        # v2: the signature covers the delivery id as well as the body.
                        "verified": {
                            name: verify_signature(s, header, body, delivery_id=delivery)
                            for name, s in receiver.secrets.items()
                        },
                        "event": self.headers["X-RenoCRM-Event"],
                        "event_id": self.headers["X-RenoCRM-Event-Id"],
                        "delivery": delivery,
                        "attempt": self.headers["X-RenoCRM-Attempt"],
                        "redelivery_of": self.headers.get("X-RenoCRM-Redelivery-Of"),
                    }
                )
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(receiver.answer if status < 300 else b"down for maintenance")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/renocrm"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    # The receiver listens on loopback: deliberately allowed here, refused by default.
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    made = []

    def make(**kwargs):
        made.append(Receiver(**kwargs))
        return made[-1]

    yield make
    for each in made:
        each.close()


@pytest.fixture
def firm(firm_a):
    firm_a.language = "en"
    firm_a.save(update_fields=["language"])
    return firm_a


def add_endpoint(staff_client, url, **fields) -> tuple[WebhookEndpoint, str]:
    """Add an endpoint on the integrations page; the secret is the one the page shows."""
    response = staff_client.post(reverse("integrations:webhook-create"), {"url": url, **fields})
    secret = re.search(r'value="([^"]+)" data-testid="secret"', response.content.decode()).group(1)
    return WebhookEndpoint.objects.get(url=url), secret


def emit(firm, django_capture_on_commit_callbacks, event_type="lead.created", payload=None) -> OutboxEvent:
    # Celery is eager in tests: committing dispatches the event and sends its deliveries right away.
    with tenant_context(firm), django_capture_on_commit_callbacks(execute=True):
        return services.event_emit(event_type=event_type, payload=payload or {"id": 42, "status": "new"})


def test_a_real_receiver_gets_one_signed_envelope_and_the_log_keeps_its_answer(
    staff_client, firm, receiver, django_capture_on_commit_callbacks
):
    hook = receiver()
    with tenant_context(firm):
        endpoint, secret = add_endpoint(staff_client, hook.url, event_types=["lead.created"])
    hook.secrets["current"] = secret
    event = emit(firm, django_capture_on_commit_callbacks)
    emit(firm, django_capture_on_commit_callbacks, event_type="repair.opened")  # not subscribed

    assert len(hook.calls) == 1
    call = hook.calls[0]
    assert call["verified"] == {"current": True} and call["event"] == "lead.created"
    with tenant_context(firm):
        delivery = WebhookDelivery.objects.get()
        envelope = services.event_envelope(OutboxEvent.objects.get(pk=event.pk))
    assert (
        json.loads(call["body"])
        == envelope
        == {
            "id": event.pk,
            "type": "lead.created",
            "created_at": envelope["created_at"],
            "firm": "firm-a",
            "data": {"id": 42, "status": "new"},
        }
    )
    assert call["delivery"] == str(delivery.pk)
    assert (delivery.attempts, delivery.last_status_code, delivery.last_response_body) == (
        1,
        200,
        '{"received": true}',
    )
    assert delivery.delivered_at is not None
    page = staff_client.get(reverse("integrations:webhook", args=[endpoint.pk]), HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert '<strong data-testid="status-code">200</strong>' in text
    assert "{&quot;received&quot;: true}" in text and "Delivered" in text
    # A signature under another secret, or of another body, does not verify.
    assert not verify_signature("whsec_someone_else", call["header"], call["body"])
    assert not verify_signature(secret, call["header"], call["body"] + b" ")


def test_a_failing_receiver_is_turned_off_the_admins_hear_once_and_redelivery_works_after_turning_it_on(
    staff_client, firm, receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 3
    settings.WEBHOOK_MAX_ATTEMPTS = 8
    second_admin = MembershipFactory(tenant=firm, user=UserFactory(username="gm", phone="13900139000")).user
    MembershipFactory(tenant=firm, role=Role.SALES)  # not an admin: not told
    hook = receiver(statuses=(500,))
    with tenant_context(firm):
        endpoint, secret = add_endpoint(staff_client, hook.url)
    hook.secrets["current"] = secret

    emit(firm, django_capture_on_commit_callbacks)
    with tenant_context(firm):
        delivery = WebhookDelivery.objects.get()
        # The sweeper's retries, each when due.
        for _ in range(2):
            with time_machine.travel(WebhookDelivery.objects.get().next_attempt_at + timedelta(seconds=1)):
                services.webhook_deliver(delivery_id=delivery.pk)
        delivery.refresh_from_db()
        endpoint.refresh_from_db()
    assert len(hook.calls) == 3 and all(call["verified"] == {"current": True} for call in hook.calls)
    # Retries are attempts of one delivery: the same delivery id, the attempt counted, the event's id to dedupe on.
    assert [(call["delivery"], call["attempt"]) for call in hook.calls] == [
        (str(delivery.pk), str(n)) for n in (1, 2, 3)
    ]
    assert {call["event_id"] for call in hook.calls} == {str(delivery.event_id)}
    assert {json.loads(call["body"])["id"] for call in hook.calls} == {delivery.event_id}
    assert (delivery.attempts, delivery.last_status_code, delivery.last_response_body) == (
        3,
        500,
        "down for maintenance",
    )
    assert delivery.delivered_at is None and delivery.given_up_at is None and delivery.next_attempt_at is not None
    assert not endpoint.is_active and endpoint.disabled_at is not None and endpoint.consecutive_failures == 3

    # Nothing more goes out, and nobody hears twice: neither a retry nor a new event sends or notifies.
    with tenant_context(firm):
        services.webhook_deliver(delivery_id=delivery.pk)
    emit(firm, django_capture_on_commit_callbacks)
    assert len(hook.calls) == 3
    with tenant_context(firm):
        notices = list(Notification.objects.filter(idempotency_key__startswith=f"webhook-disabled:{endpoint.pk}:"))
    admins = {staff_client.membership.user.email, second_admin.phone}
    assert sorted(n.recipient for n in notices) == sorted(admins)
    sms = next(n for n in notices if n.channel == Notification.Channel.SMS)
    assert f"stopped sending events to {hook.url} after 3 failed deliveries in a row" in sms.body
    assert "Last answer: HTTP 500." in sms.body
    assert f"{settings.SITE_URL}/integrations/webhooks/{endpoint.pk}/" in sms.body
    email = next(n for n in notices if n.channel == Notification.Channel.EMAIL)
    assert email.subject == f"Webhook endpoint turned off: {hook.url}"

    # The page says why, and turns it back on.
    url = reverse("integrations:webhook", args=[endpoint.pk])
    page = staff_client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "after 3 failed deliveries in a row" in page and "The last answer was HTTP 500." in page
    listing = staff_client.get(reverse("integrations:home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'data-testid="disabled-endpoint-{endpoint.pk}"' in listing
    staff_client.post(reverse("integrations:webhook-active", args=[endpoint.pk]), {"active": "1"})
    with tenant_context(firm):
        endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.disabled_at is None and endpoint.consecutive_failures == 0

    hook.statuses = [200]
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(reverse("integrations:redeliver", args=[delivery.pk]))
    assert response.status_code == 302 and response["Location"] == url
    with tenant_context(firm):
        delivery.refresh_from_db()
        assert Notification.objects.filter(idempotency_key__startswith="webhook-disabled:").count() == 2
    assert len(hook.calls) == 4 and hook.calls[-1]["verified"] == {"current": True}
    assert (delivery.attempts, delivery.last_status_code, delivery.delivered_at is not None) == (4, 200, True)
    # A manual redelivery is a new delivery of the same event, naming the one it repeats.
    redelivered = hook.calls[-1]
    assert (redelivered["delivery"], redelivered["redelivery_of"], redelivered["attempt"]) == (
        f"{delivery.pk}-r1",
        str(delivery.pk),
        "4",
    )
    assert redelivered["event_id"] == str(delivery.event_id) and delivery.redeliveries == 1
    # The delivery id is signed: a receiver told another id rejects the request.
    assert not verify_signature(secret, redelivered["header"], redelivered["body"], delivery_id=str(delivery.pk))


def test_after_a_rotation_both_secrets_sign_until_the_grace_period_ends(
    staff_client, firm, receiver, django_capture_on_commit_callbacks
):
    hook = receiver()
    with tenant_context(firm):
        endpoint, old_secret = add_endpoint(staff_client, hook.url)
    response = staff_client.post(reverse("integrations:webhook-rotate", args=[endpoint.pk]))
    new_secret = re.search(r'value="([^"]+)" data-testid="secret"', response.content.decode()).group(1)
    assert new_secret != old_secret
    hook.secrets.update(old=old_secret, new=new_secret)

    emit(firm, django_capture_on_commit_callbacks)
    call = hook.calls[-1]
    assert call["header"].count("v1=") == 2 and call["header"].count("v2=") == 2
    assert call["verified"] == {"old": True, "new": True}
    page = staff_client.get(reverse("integrations:webhook", args=[endpoint.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert "still signs until" in page.content.decode()

    with tenant_context(firm):
        expires = WebhookEndpoint.objects.get().previous_secret_expires_at
    with time_machine.travel(expires + timedelta(minutes=1)):
        emit(firm, django_capture_on_commit_callbacks)
        call = hook.calls[-1]
        assert call["header"].count("v1=") == 1
        assert call["verified"] == {"old": False, "new": True}
    assert expires - timezone.now() > timedelta(hours=23)


def test_every_emitted_event_type_is_in_the_list_and_nothing_else():
    emitted = set()
    for app in LIFECYCLE_APPS:
        for path in (ROOT / app).rglob("*.py"):
            source = path.read_text()
            # event_emit(event_type="a.b" …) — also a conditional of two literals — and aftercare's _emit("a.b", …)
            for expression in re.findall(r"event_type=([^\n]+)", source) + re.findall(
                r"_emit\(\s*(\"[^\"]+\")", source
            ):
                emitted.update(re.findall(r"\"([a-z_]+\.[a-z_]+)\"", expression.split("payload=")[0]))
    assert emitted == EVENT_TYPE_NAMES
    assert len(EVENT_TYPES) == len(EVENT_TYPE_NAMES)  # no type listed twice


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl")
def test_the_guides_openssl_line_signs_as_renocrm_does():
    secret, body = "whsec_abc123", '{"id":1,"type":"lead.created","data":{"id":42}}'
    script = f"secret='{secret}'\nbody='{body}'\n{SIGN_SHELL}\necho \"$t $sig\""
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout.split()  # noqa: S603,S607
    timestamp, signature = int(out[0]), out[1]
    assert signature == webhooks.sign(secret, timestamp, body.encode())
    assert verify_signature(secret, f"t={timestamp},v1={signature}", body.encode())
