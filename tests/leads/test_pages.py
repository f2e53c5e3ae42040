import pytest

from leads.models import Customer, Lead
from renocrm.tenancy.context import tenant_context
from tests.factories import MembershipFactory
from tests.leads.factories import CustomerFactory, LeadFactory


@pytest.fixture
def sales(client, firm_a):
    client.force_login(MembershipFactory(tenant=firm_a, role="sales").user)
    return client


@pytest.mark.parametrize("url", ["/leads/", "/leads/new/"])
def test_pages_open_for_sales_and_are_refused_to_qc(client, sales, firm_a, url):
    assert sales.get(url).status_code == 200
    client.force_login(MembershipFactory(tenant=firm_a, role="qc").user)
    assert client.get(url).status_code == 403


def test_create_a_lead_through_the_form_and_a_known_mobile_links(sales, firm_a):
    with tenant_context(firm_a):
        known = CustomerFactory(mobile="13800138000", name="王芳")
    response = sales.post(
        "/leads/new/", {"name": "王芳", "mobile": "138 0013 8000", "channel": "showroom"}, follow=True
    )
    assert response.status_code == 200
    assert "王芳" in response.content.decode()
    with tenant_context(firm_a):
        lead = Lead.objects.get()
        assert lead.customer_id == known.pk and Customer.objects.count() == 1
    assert [str(m) for m in response.context["messages"]]


def test_bad_mobile_shows_the_error_and_writes_nothing(sales, firm_a):
    response = sales.post("/leads/new/", {"name": "王", "mobile": "12345", "channel": "online"})
    assert response.status_code == 200
    assert response.context["form"].errors["mobile"]
    with tenant_context(firm_a):
        assert not Lead.objects.exists()


def test_follow_up_and_status_forms_on_the_detail_page(sales, firm_a):
    with tenant_context(firm_a):
        lead = LeadFactory()
    url = f"/leads/{lead.pk}/"
    sales.post(url, {"follow_up": "1", "fu-kind": "call", "fu-outcome": "约量房", "fu-next_contact_on": "2026-12-01"})
    refused = sales.post(url, {"st-status": "lost", "st-reason": ""})
    assert refused.context["status_form"].errors["reason"]
    sales.post(url, {"st-status": "measured"})
    with tenant_context(firm_a):
        lead.refresh_from_db()
    assert (lead.status, str(lead.next_follow_up_on)) == ("measured", "2026-12-01")
    assert "约量房" in sales.get(url).content.decode()


def test_another_firms_lead_is_404(sales, firm_b):
    with tenant_context(firm_b):
        lead = LeadFactory()
    assert sales.get(f"/leads/{lead.pk}/").status_code == 404


def test_list_filters_and_query_count(sales, firm_a, django_assert_max_num_queries):
    with tenant_context(firm_a):
        LeadFactory(status="proposal")
        LeadFactory()
    with django_assert_max_num_queries(12) as few:
        page = sales.get("/leads/", {"status": "proposal"})
    assert len(page.context["leads"]) == 1
    with tenant_context(firm_a):
        for _ in range(30):
            LeadFactory(status="proposal")
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = sales.get("/leads/", {"status": "proposal"})
    assert len(page.context["leads"]) == 31
