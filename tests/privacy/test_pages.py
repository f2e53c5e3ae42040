"""The personal-data page (retention, exports, request log, contact reveals) and the customer page's export
and erase actions, for the firm's admins only."""

import io
import json
import zipfile

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from leads.models import Customer
from renocrm.privacy.models import DataRequest, PrivacySettings
from renocrm.tenancy.context import tenant_context
from tests.contracts.factories import ProjectFactory
from tests.factories import MembershipFactory
from tests.leads.factories import CustomerFactory, LeadFactory
from tests.privacy.factories import ContactRevealFactory, DataRequestFactory, FirmExportFactory

pytestmark = pytest.mark.usefixtures("english")

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def member(firm, role):
    client = Client()
    client.force_login(MembershipFactory(tenant=firm, role=role).user)
    return client


def test_the_page_shows_the_setting_exports_requests_and_reveals(firm_a, staff_client):
    with tenant_context(firm_a):
        FirmExportFactory(requested_by=staff_client.membership.user, status="done", archive="firm-exports/x.zip")
        DataRequestFactory(kind="erasure", subject_id="42", note="Asked by phone")
        ContactRevealFactory(record_id="7", page="/leads/customers/7/")
    response = staff_client.get("/privacy/", **EN)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'value="730"' in page
    assert "Export all our data" in page and "Download" in page
    # The customers are named as the firm calls them (these ids name none of its records: no link).
    assert "Customer #42" in page and "Asked by phone" in page
    assert "Customer #7" in page and "/leads/customers/7/" in page and "leads.customer" not in page


def test_the_nav_entry_reaches_the_page(firm_a, staff_client):
    page = staff_client.get("/", **EN).content.decode()
    assert 'href="/privacy/"' in page


def test_the_retention_form_saves_and_shows_field_errors(firm_a, staff_client):
    refused = staff_client.post("/privacy/", {"lost_lead_retention_days": "10"}, **EN)
    assert refused.status_code == 200
    assert "greater than or equal to 30" in refused.content.decode()
    saved = staff_client.post("/privacy/", {"lost_lead_retention_days": "400"}, **EN)
    assert saved.status_code == 302
    with tenant_context(firm_a):
        assert PrivacySettings.objects.get().lost_lead_retention_days == 400


@pytest.mark.parametrize("count", [3, 60])
def test_contact_reveals_are_keyset_paged_in_constant_queries(
    firm_a, staff_client, count, django_assert_max_num_queries
):
    with tenant_context(firm_a):
        for n in range(count):
            ContactRevealFactory(record_id=str(n))
    with django_assert_max_num_queries(20):
        response = staff_client.get("/privacy/", **EN)
    rows = response.content.decode().count('data-testid="contact-reveal"')
    assert rows == min(count, 50)
    assert ('data-testid="reveals-older"' in response.content.decode()) == (count > 50)


def _fill_lists(firm, user, count):
    with tenant_context(firm):
        for n in range(count):
            FirmExportFactory(requested_by=user, status="done", archive=f"firm-exports/{n}.zip")
            DataRequestFactory(subject_id=str(n), requested_by=user)
            ContactRevealFactory(record_id=str(n), user=user)


def _page_queries(client, url="/privacy/"):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **EN)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_the_three_lists_take_the_same_queries_at_any_size(firm_a, staff_client):
    user = staff_client.membership.user
    _fill_lists(firm_a, user, 2)
    few, _page = _page_queries(staff_client)
    _fill_lists(firm_a, user, 70)
    many, page = _page_queries(staff_client)
    assert many == few
    assert page.count('data-testid="firm-export"') == 20
    assert page.count('data-testid="data-request"') == 50
    assert page.count('data-testid="contact-reveal"') == 50


def test_exports_and_requests_are_keyset_paged_on_their_own(firm_a, staff_client):
    with tenant_context(firm_a):
        exports = [FirmExportFactory(requested_by=staff_client.membership.user) for _n in range(21)]
        data_requests = [DataRequestFactory(subject_id=str(n)) for n in range(51)]
    first = staff_client.get("/privacy/", **EN).content.decode()
    assert f"?exports_before={exports[1].pk}" in first
    assert f"?requests_before={data_requests[1].pk}" in first
    assert 'data-testid="reveals-older"' not in first
    older = staff_client.get(
        f"/privacy/?exports_before={exports[1].pk}&requests_before={data_requests[1].pk}", **EN
    ).content.decode()
    assert older.count('data-testid="firm-export"') == 1
    assert older.count('data-testid="data-request"') == 1
    assert 'data-testid="exports-older"' not in older and 'data-testid="requests-older"' not in older


def test_the_page_is_for_firm_admins(firm_a):
    for role in ("sales", "customer_service", "designer"):
        assert member(firm_a, role).get("/privacy/").status_code == 403


def test_the_customer_page_offers_export_and_erase_to_admins_only(firm_a, staff_client):
    with tenant_context(firm_a):
        customer = CustomerFactory()
    url = f"/leads/customers/{customer.pk}/"
    assert 'data-testid="personal-data-actions"' in staff_client.get(url, **EN).content.decode()
    sales = member(firm_a, "sales")
    assert 'data-testid="personal-data-actions"' not in sales.get(url, **EN).content.decode()
    assert sales.post(f"/leads/customers/{customer.pk}/export/").status_code == 403
    assert sales.get(f"/leads/customers/{customer.pk}/erase/").status_code == 403


def test_the_export_button_downloads_the_zip(firm_a, staff_client):
    with tenant_context(firm_a):
        customer = CustomerFactory(name="王芳", mobile="13800001234")
    response = staff_client.post(f"/leads/customers/{customer.pk}/export/", {"note": "By e-mail"})
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert f"customer-{customer.pk}.zip" in response["Content-Disposition"]
    document = json.loads(zipfile.ZipFile(io.BytesIO(response.content)).read("customer.json"))
    assert document["customer"]["mobile"] == "13800001234"
    with tenant_context(firm_a):
        assert DataRequest.objects.get().note == "By e-mail"


def test_erasing_from_the_page_after_confirming(firm_a, staff_client):
    with tenant_context(firm_a):
        customer = CustomerFactory(name="王芳", mobile="13800001234")
    url = f"/leads/customers/{customer.pk}/erase/"
    confirm = staff_client.get(url, **EN).content.decode()
    assert "This cannot be undone." in confirm and 'name="note"' in confirm
    response = staff_client.post(url, {"note": "Asked in writing"}, **EN)
    assert response.status_code == 302 and response["Location"] == f"/leads/customers/{customer.pk}/"
    with tenant_context(firm_a):
        erased = Customer.objects.get(pk=customer.pk)
        assert erased.anonymised_at is not None and erased.mobile != "13800001234"
        assert DataRequest.objects.get(kind="erasure").note == "Asked in writing"
    assert "already been erased" in staff_client.get(url, **EN).content.decode()


def test_a_blocked_erasure_shows_the_reason(firm_a, staff_client):
    with tenant_context(firm_a):
        lead = LeadFactory()
        ProjectFactory(lead=lead, customer=lead.customer, status="in_construction")
    url = f"/leads/customers/{lead.customer_id}/erase/"
    page = staff_client.get(url, **EN).content.decode()
    assert 'data-testid="erase-blocked"' in page and "not yet handed over" in page
    refused = staff_client.post(url, {"note": ""}, **EN)
    assert refused.status_code == 200 and "not yet handed over" in refused.content.decode()
    with tenant_context(firm_a):
        assert Customer.objects.get(pk=lead.customer_id).anonymised_at is None


def test_another_firms_customer_is_404(firm_a, firm_b, staff_client):
    with tenant_context(firm_b):
        theirs = CustomerFactory()
    assert staff_client.post(f"/leads/customers/{theirs.pk}/export/").status_code == 404
    assert staff_client.get(f"/leads/customers/{theirs.pk}/erase/").status_code == 404
    assert staff_client.post(f"/leads/customers/{theirs.pk}/erase/", {"note": ""}).status_code == 404
    with tenant_context(firm_b):
        assert Customer.objects.get(pk=theirs.pk).anonymised_at is None
