"""The personal-data registry and the customer export through the API: allowed for a session with
contacts.view and leads.view, or a key with leads:read and contacts:read; 403 otherwise; 404 for another
firm's customer; the schema describes the binary answer."""

import io
import json
import zipfile

import pytest
from django.test import Client

from renocrm.privacy import registry
from renocrm.privacy.models import DataRequest
from renocrm.tenancy.context import tenant_context
from tests.factories import ApiKeyFactory, MembershipFactory
from tests.leads.factories import CustomerFactory


@pytest.fixture
def customer(firm_a):
    with tenant_context(firm_a):
        return CustomerFactory(name="王芳", mobile="13800001234")


def url(customer):
    return f"/api/v1/customers/{customer.pk}/export/"


def key_headers(firm, scopes):
    with tenant_context(firm):
        key = ApiKeyFactory(name="Partner CRM", scopes=scopes)
    return {"HTTP_AUTHORIZATION": f"Api-Key {key.raw_key}"}


def session(firm, role):
    client = Client()
    client.force_login(MembershipFactory(tenant=firm, role=role).user)
    return client


def test_a_key_with_both_scopes_gets_the_zip(client, firm_a, customer):
    response = client.get(url(customer), **key_headers(firm_a, ["leads:read", "contacts:read"]))
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="customer-{customer.pk}.zip"'
    document = json.loads(zipfile.ZipFile(io.BytesIO(response.content)).read("customer.json"))
    assert document["customer"]["mobile"] == "13800001234"
    with tenant_context(firm_a):
        request = DataRequest.objects.get()
        assert request.kind == "export" and request.requested_by is None and request.note == "API: Partner CRM"


@pytest.mark.parametrize("scopes", [["leads:read"], ["contacts:read"], ["contracts:read", "contacts:read"]])
def test_a_key_without_both_scopes_is_refused(client, firm_a, customer, scopes):
    assert client.get(url(customer), **key_headers(firm_a, scopes)).status_code == 403


# Like the customer page's export button: a firm admin's.
@pytest.mark.parametrize(("role", "status"), [("admin", 200), ("sales", 403), ("customer_service", 403)])
def test_sessions_export_only_as_a_firm_admin(firm_a, customer, role, status):
    assert session(firm_a, role).get(url(customer)).status_code == status


@pytest.mark.parametrize("role", ["finance", "qc", "project_manager"])
def test_sessions_without_both_permissions_are_refused(firm_a, customer, role):
    # finance and QC see no contacts; project managers see contacts but not leads.
    assert session(firm_a, role).get(url(customer)).status_code == 403


def test_another_firms_customer_is_404(client, firm_a, firm_b, customer):
    headers = key_headers(firm_b, ["leads:read", "contacts:read"])
    foreign = client.get(url(customer), **headers)
    missing = client.get(f"/api/v1/customers/{customer.pk + 10**9}/export/", **headers)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["error"]["code"] == missing.json()["error"]["code"]


def test_the_schema_describes_a_binary_zip(staff_client):
    schema = staff_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    operation = schema.json()["paths"]["/api/v1/customers/{id}/export/"]["get"]
    assert operation["responses"]["200"]["content"]["application/zip"]["schema"] == {
        "type": "string",
        "format": "binary",
    }


def test_a_section_registered_twice_replaces_itself():
    before = len(registry.sections())
    section = registry.sections()[0]
    registry.register(
        section.name,
        export=section.export,
        erase=section.erase,
        files=section.files,
        blocks_erasure=section.blocks_erasure,
        holds=section.holds,
    )
    assert len(registry.sections()) == before


def test_plain_rows_are_json_ready(firm_a):
    with tenant_context(firm_a):
        customer = CustomerFactory(birthday="1990-05-01")
        [row] = registry.rows(type(customer).objects.filter(pk=customer.pk), "birthday", "created_at")
    assert row["birthday"] == "1990-05-01" and isinstance(row["created_at"], str)
    assert json.dumps(row)
    assert registry.data_url_bytes("data:image/png;base64,AAE=") == b"\x00\x01"
    assert registry.data_url_bytes("not a data url") is None
