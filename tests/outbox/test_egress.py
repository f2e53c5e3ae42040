"""Where webhooks may go: https only (plain http by setting), never to an address inside the network, checked
when an endpoint is saved and again at every send, connected to the address that was checked (no DNS
rebinding), no redirects followed, only a snippet of the answer kept."""

import ipaddress
import json
import shutil
import socket
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse

from aftercare.services import repairs as aftercare_services
from renocrm.outbox import egress, services
from renocrm.outbox.models import OutboxEvent, WebhookDelivery, WebhookEndpoint
from renocrm.tenancy.context import tenant_context
from tests.aftercare.factories import RepairRequestFactory
from tests.factories import ApiKeyFactory

pytestmark = pytest.mark.usefixtures("english")

PRIVATE = "This URL resolves to a private address: webhooks are sent only to public addresses."
HTTPS_REQUIRED = "The URL must use https."


class Answering:
    """A receiver on loopback that answers every POST with ``status``, ``body`` and ``headers``, and keeps what
    it was sent (the Host header among it). ``tls``: an SSL context to serve https with."""

    def __init__(self, status=200, body=b"ok", headers=(), tls=None):
        self.calls = []
        self.server_names = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                payload = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.calls.append({"host": self.headers["Host"], "path": self.path, "body": payload})
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port
        if tls is not None:
            tls.sni_callback = lambda sock, name, context: self.server_names.append(name)
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.url = f"http://127.0.0.1:{self.port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def answering():
    made = []

    def make(**kwargs):
        made.append(Answering(**kwargs))
        return made[-1]

    yield make
    for each in made:
        each.close()


@pytest.fixture
def dns(monkeypatch):
    """Names of our own in the resolver: ``dns["hooks.partner.test"] = ["1.1.1.1", "127.0.0.1"]`` answers the
    first lookup of that name with the first address, the next with the second, and so on (the last repeats).
    ``dns.lookups`` counts the lookups of each name. Every other name goes to the real resolver."""
    real = socket.getaddrinfo

    class Names(dict):
        lookups: dict

    names = Names()
    names.lookups = {}

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in names:
            return real(host, port, *args, **kwargs)
        names.lookups[host] = names.lookups.get(host, 0) + 1
        answers = names[host]
        address = answers.pop(0) if len(answers) > 1 else answers[0]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sockaddr = (address, port, 0, 0) if family == socket.AF_INET6 else (address, port)
        return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr)]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return names


def post_endpoint(client, headers=None, **body):
    # In English, to compare the reasons word for word (the firm's own language is Chinese).
    headers = {"HTTP_ACCEPT_LANGUAGE": "en", **(headers or {})}
    return client.post("/api/v1/webhooks/", body, content_type="application/json", **headers)


# Saving an endpoint ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/readyz",
        "http://localhost/hook",
        "http://10.0.0.5/hook",
        "http://172.16.3.4/hook",
        "http://192.168.1.1/hook",
        "http://100.64.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://224.0.0.1/hook",
        "http://0.0.0.0/hook",
        "http://240.0.0.1/hook",
        "http://[::1]/hook",
        "http://[fd00::1]/hook",
        "http://[fe80::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[::ffff:169.254.169.254]/hook",
    ],
)
def test_a_url_inside_the_network_is_refused_with_the_reason_on_the_url_field(staff_client, firm_a, settings, url):
    assert settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS is False  # the test settings' default, like production's
    response = post_endpoint(staff_client, url=url)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["fields"] == {"url": [PRIVATE]}
    with tenant_context(firm_a):
        assert not WebhookEndpoint.objects.exists()


def test_a_name_that_resolves_inside_the_network_is_refused_and_so_is_moving_an_endpoint_there(
    staff_client, firm_a, dns
):
    dns["intranet.partner.test"] = ["10.1.2.3"]
    dns["hooks.partner.test"] = ["93.184.215.14"]
    assert post_endpoint(staff_client, url="https://intranet.partner.test/hook").json()["error"]["fields"] == {
        "url": [PRIVATE]
    }
    created = post_endpoint(staff_client, url="https://hooks.partner.test/hook")
    assert created.status_code == 201, created.content
    moved = staff_client.patch(
        f"/api/v1/webhooks/{created.json()['id']}/",
        {"url": "https://intranet.partner.test/hook"},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert moved.status_code == 400 and moved.json()["error"]["fields"] == {"url": [PRIVATE]}
    with tenant_context(firm_a):
        assert WebhookEndpoint.objects.get().url == "https://hooks.partner.test/hook"


def test_https_is_required_unless_plain_http_is_allowed(staff_client, firm_a, settings, dns):
    dns["hooks.partner.test"] = ["93.184.215.14"]
    settings.WEBHOOK_ALLOW_HTTP = False  # as in production
    for url in ("http://hooks.partner.test/hook", "ftp://hooks.partner.test/hook"):
        response = post_endpoint(staff_client, url=url)
        assert response.status_code == 400 and response.json()["error"]["fields"] == {"url": [HTTPS_REQUIRED]}
    assert post_endpoint(staff_client, url="https://hooks.partner.test/hook").status_code == 201
    settings.WEBHOOK_ALLOW_HTTP = True
    assert post_endpoint(staff_client, url="http://hooks.partner.test/other").status_code == 201


def test_the_page_says_why_a_url_is_refused(staff_client, firm_a, settings):
    settings.WEBHOOK_ALLOW_HTTP = False
    create = reverse("integrations:webhook-create")
    page = staff_client.post(create, {"url": "http://169.254.169.254/latest/"}, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and HTTPS_REQUIRED in page.content.decode()
    page = staff_client.post(create, {"url": "https://127.0.0.1/", "description": "kept"}, HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert PRIVATE in text and 'value="kept"' in text
    with tenant_context(firm_a):
        assert not WebhookEndpoint.objects.exists()


def test_public_addresses_pass_and_every_kind_of_internal_one_is_refused():
    public = ["8.8.8.8", "93.184.215.14", "2606:4700:4700::1111", "::ffff:8.8.8.8"]
    internal = [
        "127.0.0.1",
        "10.0.0.1",
        "172.31.255.255",
        "192.168.0.1",
        "100.64.0.1",
        "100.127.255.254",
        "169.254.169.254",
        "224.0.0.251",
        "239.255.255.250",
        "0.0.0.0",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "ff02::1",
        "::ffff:10.0.0.1",
        "::ffff:127.0.0.1",
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    ]
    assert [a for a in public if not egress.is_public(ipaddress.ip_address(a))] == []
    assert [a for a in internal if egress.is_public(ipaddress.ip_address(a))] == []


# Sending -----------------------------------------------------------------------------------------------------


def test_an_endpoint_saved_while_private_networks_were_allowed_is_refused_at_the_next_send(
    firm_a, settings, answering, django_capture_on_commit_callbacks
):
    firm_a.language = "en"
    firm_a.save(update_fields=["language"])
    hook = answering()
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    with tenant_context(firm_a):
        endpoint = services.webhook_endpoint_create(url=hook.url)
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    with tenant_context(firm_a), django_capture_on_commit_callbacks(execute=True):
        services.event_emit(event_type="lead.created", payload={"id": 1})
    assert hook.calls == []
    with tenant_context(firm_a):
        delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert (delivery.attempts, delivery.last_status_code, delivery.delivered_at) == (1, None, None)
    assert delivery.last_error == PRIVATE
    assert delivery.next_attempt_at is not None  # a failed attempt, retried like any other


def test_the_connection_goes_to_the_checked_address_with_the_urls_host_name(firm_a, settings, answering, dns):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    hook = answering()
    dns["hooks.partner.test"] = ["127.0.0.1"]
    answer = egress.post(f"http://hooks.partner.test:{hook.port}/in?x=1", b"{}", {}, timeout=5)
    assert (answer.status, answer.body, answer.error) == (200, "ok", "")
    assert hook.calls == [{"host": f"hooks.partner.test:{hook.port}", "path": "/in?x=1", "body": b"{}"}]
    assert dns.lookups == {"hooks.partner.test": 1}


def test_a_name_that_turns_private_after_the_check_is_not_followed_there(firm_a, settings, answering, dns):
    """DNS rebinding: the name answers a public address to the check and loopback to whatever looks it up
    next. The connection goes to the public address that was checked; the receiver on loopback hears nothing."""
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    hook = answering()
    dns["rebind.partner.test"] = ["1.1.1.1", "127.0.0.1"]
    answer = egress.post(f"http://rebind.partner.test:{hook.port}/hook", b"{}", {}, timeout=1)
    assert answer.status is None and answer.error
    assert hook.calls == [] and dns.lookups == {"rebind.partner.test": 1}


def test_a_redirect_is_a_failed_attempt_and_is_not_followed(
    firm_a, settings, answering, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    inside = answering(body=b"internal page")
    hook = answering(status=302, body=b"moved", headers=[("Location", inside.url)])
    with tenant_context(firm_a):
        services.webhook_endpoint_create(url=hook.url)
    with tenant_context(firm_a), django_capture_on_commit_callbacks(execute=True):
        services.event_emit(event_type="lead.created", payload={"id": 1})
    assert len(hook.calls) == 1 and inside.calls == []
    with tenant_context(firm_a):
        delivery = WebhookDelivery.objects.get()
    assert (delivery.last_status_code, delivery.last_response_body, delivery.delivered_at) == (302, "moved", None)
    assert delivery.last_error and delivery.next_attempt_at is not None


def test_only_a_snippet_of_the_answer_is_kept_and_served(
    staff_client, firm_a, settings, answering, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    hook = answering(status=500, body=("页" * 300 + "x" * 5000).encode())
    with tenant_context(firm_a):
        services.webhook_endpoint_create(url=hook.url)
    with tenant_context(firm_a), django_capture_on_commit_callbacks(execute=True):
        services.event_emit(event_type="lead.created", payload={"id": 1})
    [logged] = staff_client.get("/api/v1/webhook-deliveries/").json()["results"]
    assert logged["last_status_code"] == 500
    assert logged["last_response_body"] == "页" * egress.RESPONSE_SNIPPET_CHARS


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for hooks.partner.test: (the server's context, a client context trusting it)."""
    if shutil.which("openssl") is None:
        pytest.skip("no openssl")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-keyout", str(key)]
        + ["-out", str(cert), "-subj", "/CN=hooks.partner.test", "-addext", "subjectAltName=DNS:hooks.partner.test"],
        check=True,
        capture_output=True,
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    return server, client


def test_https_is_pinned_too_with_sni_and_the_certificate_checked_for_the_host_name(
    firm_a, settings, answering, dns, certificate
):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    server_context, client_context = certificate
    hook = answering(tls=server_context)
    dns["hooks.partner.test"] = ["127.0.0.1"]
    dns["other.partner.test"] = ["127.0.0.1"]

    answer = egress.post(
        f"https://hooks.partner.test:{hook.port}/hook", b"{}", {}, timeout=5, tls_context=client_context
    )
    assert (answer.status, answer.error) == (200, "")
    assert hook.server_names == ["hooks.partner.test"]
    assert hook.calls[0]["host"] == f"hooks.partner.test:{hook.port}"

    # The same address under a name the certificate does not carry: refused before anything is sent.
    answer = egress.post(
        f"https://other.partner.test:{hook.port}/hook", b"{}", {}, timeout=5, tls_context=client_context
    )
    assert answer.status is None and "certificate" in answer.error.lower()
    assert len(hook.calls) == 1


# What an endpoint may ask for --------------------------------------------------------------------------------


def test_an_unknown_event_type_is_refused_naming_the_valid_ones(staff_client, firm_a):
    response = post_endpoint(
        staff_client, url="https://erp.example.com/hook", event_types=["lead.created", "lead.bogus"]
    )
    assert response.status_code == 400
    [message] = response.json()["error"]["fields"]["event_types"]
    assert message.startswith("Unknown event types: lead.bogus. Valid types: lead.created, lead.status_changed,")
    assert "complaint.resolved" in message
    with tenant_context(firm_a):
        assert not WebhookEndpoint.objects.exists()
    assert post_endpoint(staff_client, url="https://erp.example.com/hook", event_types=["*"]).status_code == 201


def test_an_endpoint_created_inactive_stays_inactive_and_receives_nothing(
    staff_client, firm_a, settings, answering, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    hook = answering()
    response = post_endpoint(staff_client, url=hook.url, is_active=False)
    assert response.status_code == 201 and response.json()["is_active"] is False
    with tenant_context(firm_a), django_capture_on_commit_callbacks(execute=True):
        assert WebhookEndpoint.objects.get().is_active is False
        services.event_emit(event_type="lead.created", payload={"id": 1})
    assert hook.calls == []


# Contact details in payloads ---------------------------------------------------------------------------------


def test_contact_details_in_event_data_go_out_masked_unless_the_endpoint_is_entitled(
    firm_a, settings, answering, django_capture_on_commit_callbacks
):
    """No event carries a mobile or address field today, but free text does (an inspection's findings, a
    cancellation reason): a number written there reaches only an endpoint entitled to contact details."""
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    masked, entitled = answering(), answering()
    with tenant_context(firm_a):
        services.webhook_endpoint_create(url=masked.url, event_types=["repair.cancelled"])
        services.webhook_endpoint_create(
            url=entitled.url, event_types=["repair.cancelled"], include_contacts=True, contacts_allowed=True
        )
        repair = RepairRequestFactory()
    with tenant_context(firm_a), django_capture_on_commit_callbacks(execute=True):
        aftercare_services.repair_request_cancel(repair=repair, reason="业主已自行修好，有事打 13912345678")

    [to_masked], [to_entitled] = masked.calls, entitled.calls
    assert json.loads(to_masked["body"])["data"]["reason"] == "业主已自行修好，有事打 139****5678"
    assert "13912345678" not in to_masked["body"].decode()
    assert json.loads(to_entitled["body"])["data"]["reason"] == "业主已自行修好，有事打 13912345678"
    with tenant_context(firm_a):
        # The event itself keeps the full text: in-process handlers and the firm's own records need it.
        assert "13912345678" in OutboxEvent.objects.get(event_type="repair.cancelled").payload["reason"]


def test_fields_named_for_contacts_are_masked_whole_and_numbers_elsewhere_too():
    data = {
        "id": 13800138000,
        "mobile": "13800138000",
        "address": "上海市浦东新区世纪大道100号",
        "visits": [{"phone": "13900139000", "note": "call 13700137000"}],
        "total": "9999999999.99",
    }
    assert services.masked_payload(data) == {
        "id": 13800138000,
        "mobile": "138****8000",
        "address": "上海市浦东新****",
        "visits": [{"phone": "139****9000", "note": "call 137****7000"}],
        "total": "9999999999.99",
    }


def test_only_a_caller_who_may_see_contacts_can_send_them_to_an_endpoint(client, firm_a, dns):
    dns["hooks.partner.test"] = ["93.184.215.14"]
    dns["elsewhere.test"] = ["93.184.215.15"]
    with tenant_context(firm_a):
        plain = ApiKeyFactory(scopes=["integrations:read", "integrations:write"])
        trusted = ApiKeyFactory(scopes=["integrations:read", "integrations:write", "contacts:read"])
    as_plain = {"HTTP_AUTHORIZATION": f"Api-Key {plain.raw_key}"}
    as_trusted = {"HTTP_AUTHORIZATION": f"Api-Key {trusted.raw_key}"}

    refused = post_endpoint(client, as_plain, url="https://hooks.partner.test/h", include_contacts=True)
    assert refused.status_code == 400 and list(refused.json()["error"]["fields"]) == ["include_contacts"]
    created = post_endpoint(client, as_trusted, url="https://hooks.partner.test/h", include_contacts=True)
    assert created.status_code == 201 and created.json()["include_contacts"] is True
    detail = f"/api/v1/webhooks/{created.json()['id']}/"

    # Without contacts:read a key may not send them elsewhere, but may stop sending them.
    moved = client.patch(detail, {"url": "https://elsewhere.test/h"}, content_type="application/json", **as_plain)
    assert moved.status_code == 400 and list(moved.json()["error"]["fields"]) == ["url"]
    stopped = client.patch(
        detail,
        {"url": "https://elsewhere.test/h", "include_contacts": False},
        content_type="application/json",
        **as_plain,
    )
    assert stopped.status_code == 200 and stopped.json()["include_contacts"] is False
    again = client.patch(detail, {"include_contacts": True}, content_type="application/json", **as_plain)
    assert again.status_code == 400
    with tenant_context(firm_a):
        endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.url, endpoint.include_contacts) == ("https://elsewhere.test/h", False)


def test_a_firm_admin_turns_contacts_on_from_the_page(staff_client, firm_a, dns):
    dns["hooks.partner.test"] = ["93.184.215.14"]
    create = reverse("integrations:webhook-create")
    assert 'name="include_contacts"' in staff_client.get(create).content.decode()
    staff_client.post(create, {"url": "https://hooks.partner.test/h", "include_contacts": "on"})
    with tenant_context(firm_a):
        endpoint = WebhookEndpoint.objects.get()
    assert endpoint.include_contacts
    page = staff_client.get(reverse("integrations:webhook", args=[endpoint.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert "Sent in full" in page.content.decode()
