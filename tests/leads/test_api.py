import pytest

from leads.models import Customer
from renocrm.tenancy.context import tenant_context
from tests.factories import ApiKeyFactory, MembershipFactory
from tests.leads.factories import CustomerFactory, LeadFactory


@pytest.fixture
def sales(client, firm_a):
    membership = MembershipFactory(tenant=firm_a, role="sales")
    client.force_login(membership.user)
    client.user = membership.user
    return client


def post(client, url, body, **headers):
    return client.post(url, body, content_type="application/json", **headers)


def test_staff_creates_a_lead_and_a_known_mobile_links_the_customer(sales, firm_a):
    with tenant_context(firm_a):
        known = CustomerFactory(mobile="13800138000")
    response = post(
        sales,
        "/api/v1/leads/",
        {
            "channel": "showroom",
            "name": "王芳",
            "mobile": "138 0013 8000",
            "budget_min": "150000",
            "budget_max": "250000",
            "style_preferences": "新中式",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["customer"] == known.pk and body["linked_existing_customer"] is True
    assert body["status"] == "new"


def test_partner_creates_leads_and_a_repeat_returns_the_existing_one(client, firm_a):
    with tenant_context(firm_a):
        key = ApiKeyFactory(scopes=["leads:read", "leads:write"])
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {key.raw_key}"}
    first = post(client, "/api/v1/leads/", {"name": "李雷", "mobile": "13900139000", "channel": "online"}, **headers)
    assert first.status_code == 201
    assert first.json()["channel"] == "partner"
    repeat = post(client, "/api/v1/leads/", {"name": "李雷", "mobile": "13900139000"}, **headers)
    assert repeat.status_code == 200 and repeat.json()["id"] == first.json()["id"]
    status = client.get(f"/api/v1/leads/{first.json()['id']}/", **headers).json()["status"]
    assert status == "new"


def test_read_scope_cannot_create(client, firm_a):
    with tenant_context(firm_a):
        key = ApiKeyFactory(scopes=["leads:read"])
    response = post(
        client, "/api/v1/leads/", {"name": "李雷", "mobile": "13900139000"}, HTTP_AUTHORIZATION=f"Api-Key {key.raw_key}"
    )
    assert response.status_code == 403


def test_bad_input_gets_field_errors(sales, firm_b):
    with tenant_context(firm_b):
        foreign = CustomerFactory()
    response = post(
        sales,
        "/api/v1/leads/",
        {"channel": "referral", "name": "王", "mobile": "12345", "referrer": foreign.pk, "budget_min": "abc"},
    )
    assert response.status_code == 400
    assert {"referrer", "budget_min"} <= set(response.json()["error"]["fields"])
    response = post(sales, "/api/v1/leads/", {"channel": "online", "name": "王", "mobile": "12345"})
    assert list(response.json()["error"]["fields"]) == ["mobile"]
    response = post(
        sales,
        "/api/v1/leads/",
        {"channel": "online", "name": "王", "mobile": "13800138000", "budget_min": "3", "budget_max": "2"},
    )
    assert "budget_max" in response.json()["error"]["fields"]


def test_status_change_through_the_api(sales, firm_a):
    with tenant_context(firm_a):
        lead = LeadFactory()
    url = f"/api/v1/leads/{lead.pk}/change-status/"
    refused = post(sales, url, {"status": "lost"}, HTTP_ACCEPT_LANGUAGE="en")
    assert refused.json()["error"]["fields"] == {"reason": ["Say why the lead was lost."]}
    assert post(sales, url, {"status": "lost", "reason": "Budget"}).json()["status"] == "lost"


def test_tenant_and_id_in_a_body_change_nothing(sales, firm_a, firm_b):
    response = post(
        sales, "/api/v1/customers/", {"name": "王", "mobile": "13800138000", "tenant": firm_b.pk, "id": 424242}
    )
    assert response.status_code == 201
    assert response.json()["id"] != 424242
    with tenant_context(firm_a):
        assert Customer.objects.get(pk=response.json()["id"]).tenant_id == firm_a.pk


def test_customer_search_and_duplicate_mobile(sales, firm_a):
    post(sales, "/api/v1/customers/", {"name": "王芳", "mobile": "13800138000"})
    duplicate = post(sales, "/api/v1/customers/", {"name": "王芳2", "mobile": "+8613800138000"})
    assert duplicate.status_code == 400 and "mobile" in duplicate.json()["error"]["fields"]
    found = sales.get("/api/v1/customers/", {"q": "0013"}).json()["results"]
    assert [c["name"] for c in found] == ["王芳"]


def test_filters(sales, firm_a):
    with tenant_context(firm_a):
        LeadFactory(channel="phone", status="proposal")
        LeadFactory(channel="online")
    results = sales.get("/api/v1/leads/", {"status": "proposal", "channel": "phone"}).json()["results"]
    assert [(r["status"], r["channel"]) for r in results] == [("proposal", "phone")]


@pytest.mark.parametrize(
    "url",
    ["/api/v1/leads/", "/api/v1/customers/", "/api/v1/follow-ups/", "/api/v1/referral-rewards/", "/api/v1/properties/"],
)
def test_list_query_count_does_not_grow_with_rows(sales, firm_a, django_assert_max_num_queries, url):
    from tests.leads.factories import FollowUpFactory, PropertyFactory, ReferralRewardFactory

    def add(n):
        with tenant_context(firm_a):
            for _ in range(n):
                FollowUpFactory()
                PropertyFactory()
                ReferralRewardFactory()

    add(2)
    with django_assert_max_num_queries(10) as small:
        assert sales.get(url).status_code == 200
    add(20)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert sales.get(url).status_code == 200


def test_another_firms_lead_is_404(sales, firm_b):
    with tenant_context(firm_b):
        lead = LeadFactory()
    assert sales.get(f"/api/v1/leads/{lead.pk}/").status_code == 404
