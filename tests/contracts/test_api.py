import pytest
from django.test import Client

from contracts.models import QuotationVersion
from renocrm.tenancy.context import tenant_context
from tests.contracts.factories import ContractFactory, QuotationFactory
from tests.factories import MembershipFactory
from tests.leads.factories import LeadFactory

ITEMS = [
    {"category": "masonry", "name": "Floor tiles laying", "unit": "m²", "quantity": "80", "unit_price": "65"},
    {"category": "painting", "name": "Wall paint", "unit": "m²", "quantity": "200", "unit_price": "25"},
]


@pytest.fixture
def designer(client, firm_a):
    membership = MembershipFactory(tenant=firm_a, role="designer")
    client.force_login(membership.user)
    return client


def post(client, url, body=None, **headers):
    return client.post(url, body or {}, content_type="application/json", **headers)


def test_lead_to_signed_contract_through_the_api(designer, firm_a):
    with tenant_context(firm_a):
        lead = LeadFactory()
    quotation = post(designer, "/api/v1/quotations/", {"lead": lead.pk, "title": "Flat 3-2", "items": ITEMS})
    assert quotation.status_code == 201, quotation.content
    v1 = quotation.json()["versions"][0]
    assert v1["total"] == "10200.00"
    assert post(designer, f"/api/v1/quotation-versions/{v1['id']}/send/").status_code == 200
    # A sent version is frozen; a copy is a new draft.
    frozen = post(
        designer,
        f"/api/v1/quotation-versions/{v1['id']}/set-items/",
        {"items": ITEMS[:1]},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert frozen.status_code == 400
    assert "can no longer change" in frozen.json()["error"]["fields"]["non_field_errors"][0]
    v2 = post(designer, f"/api/v1/quotation-versions/{v1['id']}/copy/").json()
    edited = post(
        designer, f"/api/v1/quotation-versions/{v2['id']}/set-items/", {"items": [{**ITEMS[0], "unit_price": "70"}]}
    )
    assert edited.json()["total"] == "5600.00"
    diff = designer.get(f"/api/v1/quotation-versions/{v1['id']}/compare/", {"with": v2["id"]}).json()
    assert diff["total_difference"] == "-4600.00"
    assert [item["name"] for item in diff["removed"]] == ["Wall paint"]

    post(designer, f"/api/v1/quotation-versions/{v2['id']}/send/")
    accepted = post(designer, f"/api/v1/quotation-versions/{v2['id']}/accept/", {"name": "王芳"})
    assert accepted.json()["status"] == "accepted"
    contract = post(
        designer,
        "/api/v1/contracts/",
        {
            "quotation_version": v2["id"],
            "number": "HT-2026-001",
            "package_type": "full",
            "planned_start": "2026-12-01",
            "planned_end": "2027-03-01",
            "signed_on": "2026-11-24",
            "main_materials": [
                {
                    "name": "Tiles",
                    "brand_model": "Marco Polo 800×800",
                    "unit": "m²",
                    "quantity": "80",
                    "unit_price": "120",
                }
            ],
        },
    )
    assert contract.status_code == 201, contract.content
    body = contract.json()
    assert body["amount"] == "5600.00"
    assert [i["amount"] for i in body["instalments"]] == ["1680.00", "3360.00", "560.00"]
    assert body["main_materials"][0]["amount"] == "9600.00"
    assert designer.get(f"/api/v1/leads/{lead.pk}/").json()["status"] == "won"


def test_bad_input_gets_field_errors_and_writes_nothing(designer, firm_a):
    with tenant_context(firm_a):
        lead = LeadFactory()
    response = post(
        designer,
        "/api/v1/quotations/",
        {
            "lead": lead.pk,
            "title": "x",
            "items": [{"category": "masonry", "name": "t", "unit": "m²", "quantity": "-1", "unit_price": "abc"}],
        },
    )
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]["items"]["0"]) == {"quantity", "unit_price"}
    with tenant_context(firm_a):
        assert not QuotationVersion.objects.exists()


def test_another_firms_lead_or_version_is_refused(designer, firm_b):
    with tenant_context(firm_b):
        foreign_lead = LeadFactory()
        foreign_version = QuotationFactory().versions.create(number=1, status="accepted")
    response = post(designer, "/api/v1/quotations/", {"lead": foreign_lead.pk, "title": "x", "items": ITEMS})
    assert response.status_code == 400
    assert "lead" in response.json()["error"]["fields"]
    response = post(
        designer,
        "/api/v1/contracts/",
        {
            "quotation_version": foreign_version.pk,
            "number": "X",
            "package_type": "half",
            "planned_start": "2026-12-01",
            "planned_end": "2027-01-01",
            "signed_on": "2026-11-24",
        },
    )
    assert response.status_code == 400
    assert "quotation_version" in response.json()["error"]["fields"]
    assert post(designer, f"/api/v1/quotation-versions/{foreign_version.pk}/accept/", {"name": "x"}).status_code == 404


def test_change_order_over_threshold_is_refused_with_a_clear_message(designer, firm_a):
    with tenant_context(firm_a):
        contract = ContractFactory(amount=10000, original_amount=10000)
        contract.instalments.create(sequence=1, kind="final", amount=10000, trigger="acceptance")
    order = post(
        designer,
        "/api/v1/change-orders/",
        {
            "contract": contract.pk,
            "reason": "Bigger kitchen",
            "lines": [
                {
                    "kind": "addition",
                    "category": "carpentry",
                    "name": "Cabinets",
                    "unit": "m",
                    "quantity": "3",
                    "unit_price": "500",
                }
            ],
        },
    )
    assert order.status_code == 201, order.content
    assert order.json()["needs_requote"] is True and order.json()["needs_manager_approval"] is True
    manager = Client()
    manager.force_login(MembershipFactory(tenant=firm_a, role="admin").user)
    refused = post(manager, f"/api/v1/change-orders/{order.json()['id']}/approve/", HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 400
    assert "new quotation version" in refused.json()["error"]["fields"]["non_field_errors"][0]


@pytest.mark.parametrize("size", [2, 8])
def test_contract_list_query_count_does_not_grow(designer, firm_a, django_assert_max_num_queries, size):
    with tenant_context(firm_a):
        for _ in range(size):
            ContractFactory()
    with django_assert_max_num_queries(12):
        response = designer.get("/api/v1/contracts/")
    assert len(response.json()["results"]) == size


def test_finance_reads_but_qc_cannot_see_contracts(client, firm_a):
    with tenant_context(firm_a):
        ContractFactory()
    qc = MembershipFactory(tenant=firm_a, role="qc")
    client.force_login(qc.user)
    assert client.get("/api/v1/contracts/").status_code == 403
    finance = MembershipFactory(tenant=firm_a, role="finance")
    client.force_login(finance.user)
    assert client.get("/api/v1/contracts/").status_code == 200
