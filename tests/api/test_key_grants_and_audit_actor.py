"""A key may hand on only what it holds, and the audit trail names the key behind every API write."""

import pytest

from renocrm.api.models import ApiKey
from renocrm.audit.models import AuditEvent
from renocrm.tenancy.context import tenant_context
from tests.factories import ApiKeyFactory

KEYS = "/api/v1/api-keys/"


@pytest.fixture
def integrator(firm_a):
    """A key trusted only with the integration settings."""
    with tenant_context(firm_a):
        api_key = ApiKeyFactory(name="setup tool", scopes=["integrations:read", "integrations:write"])
    api_key.headers = {"HTTP_AUTHORIZATION": f"Api-Key {api_key.raw_key}"}
    return api_key


def create_key(client, headers, **body):
    return client.post(KEYS, {"name": "new", **body}, content_type="application/json", **headers)


def test_a_key_cannot_grant_a_scope_it_does_not_hold(client, integrator, firm_a):
    response = create_key(client, integrator.headers, scopes=["integrations:read", "contacts:read", "leads:read"])
    assert response.status_code == 400
    message = " ".join(response.json()["error"]["fields"]["scopes"])
    assert "contacts:read" in message and "leads:read" in message
    with tenant_context(firm_a):
        assert list(ApiKey.objects.values_list("name", flat=True)) == ["setup tool"]


def test_a_key_can_grant_a_subset_of_its_own_scopes(client, integrator):
    response = create_key(client, integrator.headers, scopes=["integrations:read"])
    assert response.status_code == 201, response.content
    assert response.json()["scopes"] == ["integrations:read"]


def test_a_key_without_integrations_write_cannot_create_keys(client, firm_a):
    with tenant_context(firm_a):
        reader = ApiKeyFactory(scopes=["integrations:read", "leads:read"])
    response = create_key(client, {"HTTP_AUTHORIZATION": f"Api-Key {reader.raw_key}"}, scopes=["leads:read"])
    assert response.status_code == 403


def test_a_firm_admin_signed_in_may_grant_any_scope(staff_client):
    response = staff_client.post(
        KEYS, {"name": "crm sync", "scopes": ["contacts:read", "leads:read"]}, content_type="application/json"
    )
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("rate", ["0/min", "00/s", "0/hour"])
def test_a_rate_of_zero_is_refused(client, partner, rate):
    response = create_key(client, partner.headers, scopes=["leads:read"], rate=rate)
    assert response.status_code == 400
    assert "rate" in response.json()["error"]["fields"]


def test_the_integrations_page_refuses_a_zero_rate(staff_client, firm_a):
    response = staff_client.post("/integrations/keys/new/", {"name": "x", "scopes": ["leads:read"], "rate": "0/min"})
    assert response.status_code == 200  # the form again, with its error
    with tenant_context(firm_a):
        assert not ApiKey.objects.exists()


def test_an_api_write_names_its_key_in_the_audit_trail(client, partner, firm_a):
    response = client.post(
        "/api/v1/customers/",
        {"name": "王芳", "mobile": "13800002222"},
        content_type="application/json",
        **partner.headers,
    )
    assert response.status_code == 201
    customer_id = str(response.json()["id"])
    with tenant_context(firm_a):
        event = AuditEvent.objects.get(table_name="leads_customer", row_id=customer_id, action="insert")
    assert event.api_key_id == partner.pk
    assert event.actor_id is None
    listed = client.get("/api/v1/audit-events/", {"api_key": partner.pk}, **partner.headers).json()["results"]
    assert {row["api_key"] for row in listed} == {partner.pk}
    assert customer_id in {row["row_id"] for row in listed}


def test_the_audit_page_shows_the_key_by_name(client, partner, staff_client, firm_a):
    client.post(
        "/api/v1/customers/",
        {"name": "王芳", "mobile": "13800002222"},
        content_type="application/json",
        **partner.headers,
    )
    page = staff_client.get("/audit/", {"table": "leads_customer"}).content.decode()
    assert partner.name in page and partner.prefix in page


def test_a_staff_write_has_no_key(staff_client, firm_a):
    response = staff_client.post(
        "/api/v1/customers/", {"name": "李雷", "mobile": "13800003333"}, content_type="application/json"
    )
    assert response.status_code == 201
    with tenant_context(firm_a):
        event = AuditEvent.objects.get(table_name="leads_customer", row_id=str(response.json()["id"]), action="insert")
    assert event.api_key_id is None
    assert event.actor_id == staff_client.membership.user_id
