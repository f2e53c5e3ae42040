"""The quotation builder through the API: lines by room with the new fields, fees and computed amounts, room and
trade subtotals, cost and margin only with costs:read, the discount approval refused to its author, to staff
without the right and to keys, copy lines and fill from a package."""

from decimal import Decimal

import pytest
from django.test import Client

from contracts.services import quotations
from renocrm.accounts.roles import SCOPES
from renocrm.tenancy.context import tenant_context
from tests.contracts.factories import PriceItemFactory, PricePackageFactory, PricePackageLineFactory
from tests.factories import ApiKeyFactory, MembershipFactory
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.usefixtures("english")


def member(firm, role):
    client = Client()
    membership = MembershipFactory(tenant=firm, role=role)
    client.force_login(membership.user)
    client.user = membership.user
    return client


def key_client(firm, scopes):
    with tenant_context(firm):
        api_key = ApiKeyFactory(scopes=scopes)
    client = Client(HTTP_AUTHORIZATION=f"Api-Key {api_key.raw_key}")
    return client


def post(client, url, body=None):
    return client.post(url, body or {}, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def paint(firm_a):
    with tenant_context(firm_a):
        return PriceItemFactory(
            code="YQ-01", name="墙面乳胶漆", unit_price=Decimal("38.00"), cost_price=Decimal("17.77")
        )


def test_a_draft_is_built_with_rooms_fees_and_amounts(firm_a, paint):
    admin = member(firm_a, "admin")
    with tenant_context(firm_a):
        lead = LeadFactory()
    created = post(
        admin,
        "/api/v1/quotations/",
        {
            "lead": lead.pk,
            "title": "三居室",
            "items": [
                {"room": "客厅", "price_item": paint.pk, "quantity": "10"},
                # An older client's line: no room, no library item.
                {"category": "masonry", "name": "地砖铺贴", "unit": "m²", "quantity": "12.5", "unit_price": "33.33"},
            ],
        },
    )
    assert created.status_code == 201, created.content
    version = created.json()["versions"][0]
    url = f"/api/v1/quotation-versions/{version['id']}/"
    fees = post(
        admin,
        f"{url}set-fees/",
        {
            "management_fee_percent": "8",
            "design_fee": "500",
            "tax_percent": "1",
            "discount": "23.63",
            "discount_reason": "老客户",
        },
    )
    assert fees.status_code == 200, fees.content
    body = admin.get(url).json()
    line = body["items"][0]
    assert {k: line[k] for k in ("room", "price_item", "code", "name", "category", "unit_price", "cost_price")} == {
        "room": "客厅",
        "price_item": paint.pk,
        "code": "YQ-01",
        "name": "墙面乳胶漆",
        "category": "painting",
        "unit_price": "38.00",
        "cost_price": "17.77",
    }
    assert body["items"][1]["room"] == ""
    # 380 + 416.63 = 796.63; fee 63.73 (63.7304); 796.63 + 63.73 + 500 − 23.63 = 1336.73; tax 13.37 (13.3673).
    assert (body["subtotal"], body["management_fee"], body["before_tax"], body["tax"], body["total"]) == (
        "796.63",
        "63.73",
        "1336.73",
        "13.37",
        "1350.10",
    )
    assert body["cost"] == "177.70" and body["margin"] == "1159.03" and body["margin_percent"] == "86.7"
    assert body["room_subtotals"] == [
        {"room": "客厅", "lines": 1, "subtotal": "380.00"},
        {"room": "", "lines": 1, "subtotal": "416.63"},
    ]
    assert [(t["trade"], t["subtotal"]) for t in body["trade_subtotals"]] == [
        ("masonry", "416.63"),
        ("painting", "380.00"),
    ]
    assert body["discount_percent"] == "2.97" and body["discount_needs_approval"] is False
    assert body["created_by"] == admin.user.pk


def test_costs_only_with_costs_read(firm_a, paint):
    with tenant_context(firm_a):
        quotation = quotations.quotation_create(
            lead=LeadFactory(), title="x", items=[{"room": "客厅", "price_item": paint.pk, "quantity": "10"}]
        )
        version = quotation.versions.get()
    url = f"/api/v1/quotation-versions/{version.pk}/"
    for client in (member(firm_a, "sales"), key_client(firm_a, ["contracts:read", "contracts:write"])):
        body = client.get(url).json()
        assert body["cost"] is None and body["margin"] is None and body["margin_percent"] is None
        assert body["items"][0]["cost_price"] is None
        listed = client.get("/api/v1/quotations/").json()["results"][0]["versions"][0]
        assert listed["cost"] is None and listed["items"][0]["cost_price"] is None
        # Setting a cost price needs costs:read; leaving it out keeps the line's own.
        refused = post(
            client, f"{url}set-items/", {"items": [{"price_item": paint.pk, "quantity": "2", "cost_price": "1"}]}
        )
        assert refused.status_code == 400 and "cost_price" in refused.json()["error"]["fields"]
        line = {"id": body["items"][0]["id"], "room": "客厅", "price_item": paint.pk, "quantity": "12"}
        saved = post(client, f"{url}set-items/", {"items": [line]})
        assert saved.status_code == 200, saved.content
        assert saved.json()["items"][0]["cost_price"] is None
        with tenant_context(firm_a):
            assert version.items.get().cost_price == Decimal("17.77")
    with_costs = key_client(firm_a, ["contracts:read", "costs:read"])
    assert with_costs.get(url).json()["items"][0]["cost_price"] == "17.77"


def test_the_discount_approval_is_refused_to_the_author_to_staff_without_the_right_and_to_keys(firm_a):
    author, sales, manager = member(firm_a, "admin"), member(firm_a, "sales"), member(firm_a, "admin")
    with tenant_context(firm_a):
        lead = LeadFactory()
    created = post(
        author,
        "/api/v1/quotations/",
        {
            "lead": lead.pk,
            "title": "x",
            "items": [
                {
                    "category": "painting",
                    "name": "墙漆",
                    "unit": "m²",
                    "quantity": "10",
                    "unit_price": "38",
                    "discount": "38",
                }
            ],
        },
    ).json()
    url = f"/api/v1/quotation-versions/{created['versions'][0]['id']}/"
    assert author.get(url).json()["discount_needs_approval"] is True
    refused = post(author, f"{url}send/")
    assert refused.status_code == 400 and "must approve them" in refused.json()["error"]["fields"]["discount"][0]

    own = post(author, f"{url}approve-discount/")
    assert own.status_code == 400
    assert "You wrote this version" in own.json()["error"]["fields"]["discount_approved_by"][0]
    assert post(sales, f"{url}approve-discount/").status_code == 403
    assert post(key_client(firm_a, list(SCOPES)), f"{url}approve-discount/").status_code == 403

    approved = post(manager, f"{url}approve-discount/")
    assert approved.status_code == 200 and approved.json()["discount_approved_by"] == manager.user.pk
    assert approved.json()["discount_needs_approval"] is False
    # A later change asks again.
    post(author, f"{url}set-fees/", {"design_fee": "10"})
    assert author.get(url).json()["discount_approved_at"] is None
    post(manager, f"{url}approve-discount/")
    assert post(author, f"{url}send/").json()["status"] == "sent"


def test_copy_lines_and_fill_from_a_package(firm_a, firm_b, paint):
    designer = member(firm_a, "designer")
    with tenant_context(firm_a):
        other = quotations.quotation_create(
            lead=LeadFactory(),
            title="o",
            items=[
                {
                    "room": "书房",
                    "category": "carpentry",
                    "name": "书柜",
                    "unit": "项",
                    "quantity": "1",
                    "unit_price": "3000",
                }
            ],
        ).versions.get()
        draft = quotations.quotation_create(
            lead=LeadFactory(with_property=True, property__area=Decimal("90")), title="d"
        ).versions.get()
        package = PricePackageFactory()
        PricePackageLineFactory(package=package, room="全屋", price_item=paint, quantity=Decimal("2.5"))
    with tenant_context(firm_b):
        theirs = quotations.quotation_create(
            lead=LeadFactory(),
            title="t",
            items=[{"category": "carpentry", "name": "别家", "unit": "项", "quantity": "1", "unit_price": "1"}],
        ).versions.get()
        their_package = PricePackageFactory()
    url = f"/api/v1/quotation-versions/{draft.pk}/"
    assert post(designer, f"{url}copy-lines/", {"source": theirs.pk}).status_code == 400
    assert post(designer, f"{url}fill-from-package/", {"package": their_package.pk}).status_code == 400
    copied = post(designer, f"{url}copy-lines/", {"source": other.pk})
    assert copied.status_code == 200 and [i["name"] for i in copied.json()["items"]] == ["书柜"]
    filled = post(designer, f"{url}fill-from-package/", {"package": package.pk})
    assert filled.status_code == 200, filled.content
    lines = filled.json()["items"]
    assert [(i["room"], i["name"], i["quantity"]) for i in lines] == [
        ("书房", "书柜", "1.00"),
        ("全屋", "墙面乳胶漆", "225.00"),
    ]
    assert filled.json()["subtotal"] == "11550.00"  # 3000 + 225 × 38
    assert post(designer, f"{url}fill-from-package/", {"package": package.pk, "area": "10"}).json()["subtotal"] == (
        "12500.00"
    )


def test_the_compare_answer_has_room_and_trade_subtotals(firm_a):
    designer = member(firm_a, "designer")
    with tenant_context(firm_a):
        v1 = quotations.quotation_create(
            lead=LeadFactory(),
            title="x",
            items=[
                {
                    "room": "厨房",
                    "category": "masonry",
                    "name": "地砖",
                    "unit": "m²",
                    "quantity": "10",
                    "unit_price": "65",
                }
            ],
        ).versions.get()
        v2 = quotations.quotation_version_copy(version=quotations.quotation_version_send(version=v1))
        quotations.quotation_version_set_items(
            version=v2,
            items=[
                {
                    "room": "厨房",
                    "category": "masonry",
                    "name": "地砖",
                    "unit": "m²",
                    "quantity": "12",
                    "unit_price": "65",
                }
            ],
        )
    diff = designer.get(f"/api/v1/quotation-versions/{v1.pk}/compare/", {"with": v2.pk}).json()
    assert diff["rooms"] == [
        {"room": "厨房", "label": "厨房", "old": "650.00", "new": "780.00", "difference": "130.00"}
    ]
    assert diff["trades"][0]["trade"] == "masonry" and diff["trades"][0]["difference"] == "130.00"
    assert diff["changed"][0]["room"] == "厨房"
