"""The firm admin's integrations pages: API keys (shown once), webhook endpoints and their delivery log,
the integration guide; who may open them and what another firm's ids answer."""

import html
import inspect
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from renocrm.accounts.roles import Role
from renocrm.api import guide_examples
from renocrm.api.models import ApiKey, hash_key
from renocrm.outbox.events import EVENT_TYPES
from renocrm.outbox.models import WebhookEndpoint
from renocrm.tenancy.context import tenant_context
from tests.factories import ApiKeyFactory, MembershipFactory, TenantFactory
from tests.outbox.factories import WebhookDeliveryFactory, WebhookEndpointFactory

pytestmark = pytest.mark.usefixtures("english")

KEYS = reverse("integrations:keys")
NEW_KEY = reverse("integrations:key-create")
WEBHOOKS = reverse("integrations:webhooks")
NEW_WEBHOOK = reverse("integrations:webhook-create")
GUIDE = reverse("integrations:guide")


def shown_secret(response) -> str:
    match = re.search(r'value="([^"]+)" data-testid="secret"', response.content.decode())
    assert match, "the page shows the secret"
    return html.unescape(match.group(1))


def en(client, url, data=None):
    if data is None:
        return client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    return client.post(url, data, HTTP_ACCEPT_LANGUAGE="en")


# API keys ---------------------------------------------------------------------------------------------------


def test_a_new_key_is_shown_once_and_only_its_digest_is_stored(staff_client, firm_a):
    response = en(staff_client, NEW_KEY, {"name": "Expo lead form", "scopes": ["leads:read", "leads:write"]})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    raw_key = shown_secret(response)
    assert raw_key.startswith("rck_")
    with tenant_context(firm_a):
        api_key = ApiKey.objects.get()
    assert (api_key.name, api_key.scopes, api_key.rate) == ("Expo lead form", ["leads:read", "leads:write"], "")
    assert api_key.hashed_key == hash_key(raw_key) and raw_key.split("_")[1] == api_key.prefix
    assert raw_key not in str(dict(staff_client.session.items()))

    listing = en(staff_client, KEYS).content.decode()
    assert "Expo lead form" in listing and f"rck_{api_key.prefix}_…" in listing
    assert raw_key not in listing
    # The key works at once, with the scopes ticked.
    partner = Client()
    assert partner.get("/api/v1/leads/", HTTP_AUTHORIZATION=f"Api-Key {raw_key}").status_code == 200
    assert partner.get("/api/v1/audit-events/", HTTP_AUTHORIZATION=f"Api-Key {raw_key}").status_code == 403


def test_revoking_asks_first_then_the_key_stops_working(staff_client, firm_a):
    with tenant_context(firm_a):
        api_key = ApiKeyFactory(name="Old ERP")
    url = reverse("integrations:key-revoke", args=[api_key.pk])
    page = en(staff_client, url)
    assert page.status_code == 200 and "Revoke the key Old ERP" in page.content.decode()
    with tenant_context(firm_a):
        assert ApiKey.objects.get().revoked_at is None

    response = en(staff_client, url, {})
    assert response.status_code == 302 and response["Location"] == KEYS
    with tenant_context(firm_a):
        assert ApiKey.objects.get().revoked_at is not None
    assert "Revoked" in en(staff_client, KEYS).content.decode()
    # Last: a 401 outside any firm marks the test's own transaction for rollback.
    assert Client().get("/api/v1/leads/", HTTP_AUTHORIZATION=f"Api-Key {api_key.raw_key}").status_code == 401


def test_bad_scopes_and_rate_are_field_errors_and_nothing_typed_is_lost(staff_client, firm_a):
    response = en(staff_client, NEW_KEY, {"name": "CRM sync", "scopes": [], "rate": "fast"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Tick at least one scope." in page
    assert "Use a rate such as 600/min, 10/s or 5000/hour." in page
    assert 'value="CRM sync"' in page and 'value="fast"' in page

    response = en(
        staff_client,
        NEW_KEY,
        {"name": "CRM sync", "scopes": ["leads:write", "contacts:read", "payments:write"], "rate": "600/"},
    )
    page = response.content.decode()
    assert "Use a rate such as 600/min, 10/s or 5000/hour." in page
    assert 'value="leads:write" checked' in page and 'value="contacts:read" checked' in page
    assert 'value="payments:write" checked' in page
    assert 'value="leads:read" checked' not in page

    response = en(staff_client, NEW_KEY, {"name": "CRM sync", "scopes": ["lead:write"]})
    assert "Select a valid choice. lead:write is not one of the available choices." in response.content.decode()
    with tenant_context(firm_a):
        assert not ApiKey.objects.exists()


@pytest.mark.parametrize(
    ("rate", "accepted"),
    [
        ("600/min", True),
        ("10/s", True),
        ("5000/hour", True),
        ("2/day", True),
        ("30/m", True),
        ("fast", False),
        ("600", False),
        ("600/", False),
        ("600/week", False),
        ("600/MIN", False),
        ("-5/min", False),
    ],
)
def test_the_page_accepts_a_rate_exactly_when_the_api_does(staff_client, firm_a, rate, accepted):
    page = en(staff_client, NEW_KEY, {"name": "ERP", "scopes": ["leads:read"], "rate": rate})
    api = staff_client.post(
        "/api/v1/api-keys/", {"name": "ERP", "scopes": ["leads:read"], "rate": rate}, content_type="application/json"
    )
    assert ('data-testid="secret"' in page.content.decode()) is accepted
    assert api.status_code == (201 if accepted else 400)
    with tenant_context(firm_a):
        assert ApiKey.objects.count() == (2 if accepted else 0)
        assert set(ApiKey.objects.values_list("rate", flat=True)) == ({rate} if accepted else set())


def test_the_key_list_costs_the_same_queries_for_two_keys_as_for_twelve(staff_client, firm_a):
    def count():
        with CaptureQueriesContext(connection) as queries:
            assert en(staff_client, KEYS).status_code == 200
        return len(queries)

    with tenant_context(firm_a):
        ApiKeyFactory.create_batch(2)
    few = count()
    with tenant_context(firm_a):
        ApiKeyFactory.create_batch(10)
    assert count() == few


# Webhooks ---------------------------------------------------------------------------------------------------


def test_a_new_endpoint_shows_its_secret_once_and_subscribes_to_the_ticked_events(staff_client, firm_a):
    response = en(
        staff_client,
        NEW_WEBHOOK,
        {"url": "https://erp.example.com/renocrm", "description": "ERP", "event_types": ["lead.created"]},
    )
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    secret = shown_secret(response)
    with tenant_context(firm_a):
        endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.url, endpoint.description, endpoint.event_types) == (
        "https://erp.example.com/renocrm",
        "ERP",
        ["lead.created"],
    )
    assert endpoint.secret == secret
    detail = en(staff_client, reverse("integrations:webhook", args=[endpoint.pk])).content.decode()
    assert "https://erp.example.com/renocrm" in detail and secret not in detail
    assert secret not in en(staff_client, WEBHOOKS).content.decode()


def test_no_event_ticked_means_every_event_and_an_unknown_one_is_refused(staff_client, firm_a):
    en(staff_client, NEW_WEBHOOK, {"url": "https://erp.example.com/all"})
    response = en(staff_client, NEW_WEBHOOK, {"url": "https://erp.example.com/x", "event_types": ["lead.eaten"]})
    assert "Select a valid choice." in response.content.decode()
    bad_url = en(staff_client, NEW_WEBHOOK, {"url": "not a url", "description": "kept"})
    assert "Enter a valid URL." in bad_url.content.decode() and 'value="kept"' in bad_url.content.decode()
    with tenant_context(firm_a):
        assert list(WebhookEndpoint.objects.values_list("url", "event_types")) == [("https://erp.example.com/all", [])]
    assert "All events" in en(staff_client, WEBHOOKS).content.decode()
    # Every known type is a checkbox.
    form = en(staff_client, NEW_WEBHOOK).content.decode()
    assert all(f'value="{name}"' in form for name, _label in EVENT_TYPES)


def test_editing_keeps_event_types_set_through_the_api(staff_client, firm_a):
    with tenant_context(firm_a):
        endpoint = WebhookEndpointFactory(event_types=["lead.created", "partner.custom"])
    url = reverse("integrations:webhook-edit", args=[endpoint.pk])
    page = en(staff_client, url).content.decode()
    assert 'value="partner.custom"' in page
    response = en(
        staff_client,
        url,
        {"url": "https://erp.example.com/v2", "event_types": ["contract.signed", "partner.custom"]},
    )
    assert response.status_code == 302
    with tenant_context(firm_a):
        endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.event_types) == ("https://erp.example.com/v2", ["contract.signed", "partner.custom"])


def test_turning_off_and_back_on_by_hand(staff_client, firm_a):
    with tenant_context(firm_a):
        endpoint = WebhookEndpointFactory(consecutive_failures=4)
    url = reverse("integrations:webhook-active", args=[endpoint.pk])
    assert en(staff_client, url, {}).status_code == 302
    with tenant_context(firm_a):
        endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.disabled_at is None
    page = en(staff_client, reverse("integrations:webhook", args=[endpoint.pk])).content.decode()
    assert 'data-testid="disabled-banner"' in page and "This endpoint is turned off" in page
    home = en(staff_client, reverse("integrations:home")).content.decode()
    assert f'data-testid="disabled-endpoint-{endpoint.pk}"' not in home  # turned off by hand: no alarm
    en(staff_client, url, {"active": "1"})
    with tenant_context(firm_a):
        endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.consecutive_failures == 0


def test_the_delivery_log_escapes_bodies_and_pages_by_key(staff_client, firm_a):
    with tenant_context(firm_a):
        endpoint = WebhookEndpointFactory()
        oldest = WebhookDeliveryFactory(
            endpoint=endpoint, attempts=1, last_status_code=502, last_response_body="<script>alert(1)</script>"
        )
        newer = [WebhookDeliveryFactory(endpoint=endpoint) for _ in range(50)]
    url = reverse("integrations:webhook", args=[endpoint.pk])
    first = en(staff_client, url)
    assert len(first.context["deliveries"]) == 50 and first.context["older"] == newer[0].pk
    assert f'data-testid="delivery-{oldest.pk}"' not in first.content.decode()
    second = en(staff_client, f"{url}?before={first.context['older']}").content.decode()
    assert f'data-testid="delivery-{oldest.pk}"' in second
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in second and "<script>alert(1)" not in second


def test_webhook_pages_cost_the_same_queries_at_two_sizes(staff_client, firm_a):
    with tenant_context(firm_a):
        endpoint = WebhookEndpointFactory()
        WebhookDeliveryFactory.create_batch(2, endpoint=endpoint, attempts=1, last_status_code=500)
        WebhookEndpointFactory(is_active=False, disabled_at=timezone.now())

    def counts():
        result = []
        home = reverse("integrations:home")
        for url in (home, WEBHOOKS, reverse("integrations:webhook", args=[endpoint.pk])):
            with CaptureQueriesContext(connection) as queries:
                assert en(staff_client, url).status_code == 200
            result.append(len(queries))
        return result

    few = counts()
    with tenant_context(firm_a):
        for _ in range(5):
            WebhookDeliveryFactory.create_batch(3, endpoint=WebhookEndpointFactory(), attempts=2)
        WebhookDeliveryFactory.create_batch(20, endpoint=endpoint)
        WebhookEndpointFactory.create_batch(3, is_active=False, disabled_at=timezone.now())
    assert counts() == few


# Access -----------------------------------------------------------------------------------------------------


@pytest.fixture
def firm_a_integrations(firm_a):
    with tenant_context(firm_a):
        delivery = WebhookDeliveryFactory()
        api_key = ApiKeyFactory()
    return {"key": api_key.pk, "endpoint": delivery.endpoint_id, "delivery": delivery.pk}


def page_urls(ids):
    return [
        ("get", reverse("integrations:home")),
        ("get", KEYS),
        ("get", NEW_KEY),
        ("post", NEW_KEY),
        ("get", reverse("integrations:key-revoke", args=[ids["key"]])),
        ("post", reverse("integrations:key-revoke", args=[ids["key"]])),
        ("get", WEBHOOKS),
        ("post", NEW_WEBHOOK),
        ("get", reverse("integrations:webhook", args=[ids["endpoint"]])),
        ("post", reverse("integrations:webhook-edit", args=[ids["endpoint"]])),
        ("post", reverse("integrations:webhook-active", args=[ids["endpoint"]])),
        ("post", reverse("integrations:webhook-rotate", args=[ids["endpoint"]])),
        ("post", reverse("integrations:redeliver", args=[ids["delivery"]])),
        ("get", GUIDE),
    ]


@pytest.mark.parametrize("role", [role for role in Role if role != Role.ADMIN])
def test_other_roles_get_403_and_change_nothing(client, firm_a, firm_a_integrations, role):
    client.force_login(MembershipFactory(tenant=firm_a, role=role).user)
    for method, url in page_urls(firm_a_integrations):
        assert getattr(client, method)(url, {}).status_code == 403, (method, url)
    with tenant_context(firm_a):
        assert ApiKey.objects.filter(revoked_at__isnull=True).count() == 1
        assert WebhookEndpoint.objects.filter(is_active=True).count() == 1


def test_another_firms_key_endpoint_and_delivery_are_404(firm_a, firm_b, firm_a_integrations):
    b_admin = Client()
    b_admin.force_login(MembershipFactory(tenant=firm_b).user)
    with_ids = [(m, url) for m, url in page_urls(firm_a_integrations) if re.search(r"/\d+/", url)]
    assert len(with_ids) == 7
    for method, url in with_ids:
        assert getattr(b_admin, method)(url, {}).status_code == 404, (method, url)
    with tenant_context(firm_a):
        assert ApiKey.objects.get().revoked_at is None
        assert WebhookEndpoint.objects.get().is_active


# The guide --------------------------------------------------------------------------------------------------


def test_the_guide_shows_the_tested_code_and_this_sites_settings(staff_client, firm_a, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api_key": "42/min"}}
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 7
    home = en(staff_client, reverse("integrations:home")).content.decode()
    assert f'href="{GUIDE}"' in home
    page = en(staff_client, GUIDE).content.decode()
    text = html.unescape(page)
    assert inspect.getsource(guide_examples.verify_signature) in text
    assert inspect.getsource(guide_examples.list_all).replace("  # noqa: S310", "") in text
    assert guide_examples.CREATE_LEAD_CURL.format(base_url="http://testserver") in text
    assert "A key's limit is 42/min" in text and "fails 7 times in a row" in text
    assert "X-RenoCRM-Signature: t=" in text and text.count(",v1=") >= 2
    # The error shown is the API's own answer, in its one shape.
    assert '"code": "invalid"' in text and '"rate": [' in text and '"request_id":' in text
    assert "Retry-After: 17" in text and '"code": "throttled"' in text
    assert all(name in text for name, _label in EVENT_TYPES)


def test_the_guide_is_for_firm_admins(client, firm_a):
    client.force_login(MembershipFactory(tenant=firm_a, role=Role.CUSTOMER_SERVICE).user)
    assert client.get(GUIDE).status_code == 403
    assert Client().get(GUIDE).status_code == 302  # to the login page


def test_the_guides_python_examples_work_against_the_live_api(live_server, transactional_db):
    firm = TenantFactory(name="Anju", slug="anju")
    with tenant_context(firm):
        raw_key = ApiKeyFactory(scopes=["leads:read", "leads:write"]).raw_key
    lead = {"name": "王先生", "mobile": "13800138000", "core_needs": "kitchen and two baths"}
    first = guide_examples.create_lead(live_server.url, raw_key, lead, idempotency_key="expo-2026-0042")
    again = guide_examples.create_lead(live_server.url, raw_key, lead, idempotency_key="expo-2026-0042")
    assert first == again and first["channel"] == "partner"
    other = guide_examples.create_lead(
        live_server.url, raw_key, {"name": "李女士", "mobile": "13900139000"}, idempotency_key="expo-2026-0043"
    )
    rows = list(guide_examples.list_all(live_server.url, raw_key, "/api/v1/leads/", page_size=1))
    assert [row["id"] for row in rows] == [other["id"], first["id"]]


def test_a_refused_post_with_an_idempotency_key_is_answered_400(client, partner):
    response = client.post(
        "/api/v1/leads/",
        {"name": "无号码"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="expo-2026-0044",
        **partner.headers,
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"mobile": ["Give the customer's name and mobile number."]}
