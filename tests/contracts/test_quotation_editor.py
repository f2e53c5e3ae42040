"""The quotation editor's pages: lines added and removed through htmx without a page load, errors on the line
with what was typed kept, fees and totals, costs only for those who may see them (never on the homeowner's
link), the discount approval refused to its author and to staff without the right, copy lines and packages,
and the compare page's room and trade subtotals."""

from decimal import Decimal

import pytest

from contracts import homeowner_links
from contracts.models import QuotationVersion
from contracts.services import quotations
from renocrm.tenancy.context import tenant_context
from tests.contracts.factories import PriceItemFactory, PricePackageFactory, PricePackageLineFactory
from tests.factories import MembershipFactory
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.usefixtures("english")

HTMX = {"HTTP_HX_REQUEST": "true"}


def signed_in(client, firm, role):
    membership = MembershipFactory(tenant=firm, role=role)
    client.force_login(membership.user)
    client.user = membership.user
    return client


@pytest.fixture
def designer(client, firm_a):
    return signed_in(client, firm_a, "designer")


def editor_post(lines, *, initial=0, fees=None, extra=None):
    """The editor's POST: the saved lines (``initial`` of them) then the blank row, and the fees if given."""
    data = {"items-TOTAL_FORMS": str(len(lines)), "items-INITIAL_FORMS": str(initial)}
    for n, line in enumerate(lines):
        data.update({f"items-{n}-{key}": value for key, value in line.items()})
    for key, value in (fees or {}).items():
        data[f"fees-{key}"] = value
    return {**data, **(extra or {})}


def line(**values):
    return {
        "room": "客厅",
        "category": "painting",
        "name": "墙面乳胶漆",
        "unit": "m²",
        "quantity": "10",
        "unit_price": "38",
        **values,
    }


def saved_lines(version):
    """The editor's rows for a version's saved lines, as the page rendered them."""
    return [
        {
            "id": str(item.pk),
            "price_item": str(item.price_item_id or ""),
            "room": item.room,
            "category": item.category,
            "name": item.name,
            "unit": item.unit,
            "quantity": str(item.quantity),
            "unit_price": str(item.unit_price),
            "discount": str(item.discount),
        }
        for item in version.items.all()
    ]


def new_draft(firm, by=None, items=()):
    with tenant_context(firm):
        quotation = quotations.quotation_create(lead=LeadFactory(), title="三居室", by=by, items=list(items))
        return quotation.versions.get()


def test_a_line_is_added_through_htmx_and_the_editor_comes_back_ready_for_the_next(designer, firm_a):
    version = new_draft(firm_a, by=designer.user)
    url = f"/contracts/versions/{version.pk}/"
    page = designer.get(url).content.decode()
    assert 'data-testid="add-line"' in page and "contracts/quotation_editor.js" in page
    assert "/contracts/price-items/suggest/" in page  # the type-ahead's source

    response = designer.post(url, editor_post([line(room="主卧")], extra={"save": "1"}), **HTMX)
    assert response.status_code == 200 and response.templates[0].name == "contracts/_editor.html"
    body = response.content.decode()
    assert 'data-focus="add"' in body and 'hx-swap-oob="true"' in body and "¥380.00" in body
    # The new blank row starts in the room just used.
    add_row = response.context["editor"].added_forms()[0]
    assert add_row.initial == {"room": "主卧"}
    with tenant_context(firm_a):
        version.refresh_from_db()
        assert version.total == Decimal("380.00") and version.items.get().room == "主卧"

        rows = saved_lines(version)
    response = designer.post(
        url,
        editor_post(
            [*rows, line(room="厨房", name="地砖铺贴", category="masonry", quantity="12.5", unit_price="33.33")],
            initial=1,
        ),
        **HTMX,
    )
    assert response.status_code == 200
    with tenant_context(firm_a):
        version.refresh_from_db()
        assert version.total == Decimal("796.63")  # 380 + 416.625 → 416.63
        assert list(version.items.values_list("room", flat=True)) == ["主卧", "厨房"]
        rows = saved_lines(version)
    # The × of the first line removes it.
    response = designer.post(url, editor_post([*rows, {}], initial=2, extra={"remove": "items-0"}), **HTMX)
    with tenant_context(firm_a):
        assert list(QuotationVersion.objects.get(pk=version.pk).items.values_list("name", flat=True)) == ["地砖铺贴"]


def test_forty_lines_are_saved_in_one_post(designer, firm_a):
    version = new_draft(firm_a)
    lines = [
        line(room=("客厅", "主卧", "厨房")[n % 3], name=f"项目 {n}", quantity="1", unit_price="10.01")
        for n in range(40)
    ]
    designer.post(f"/contracts/versions/{version.pk}/", editor_post([*lines, {}], initial=0), **HTMX)
    with tenant_context(firm_a):
        version.refresh_from_db()
        assert version.items.count() == 40 and version.total == Decimal("400.40")
        # Kept together by room, rooms in the order they first came.
        rooms = list(version.items.values_list("room", flat=True))
        assert rooms == ["客厅"] * 14 + ["主卧"] * 13 + ["厨房"] * 13


def test_an_error_shows_on_its_line_and_keeps_what_was_typed(designer, firm_a):
    version = new_draft(firm_a, items=[line()])
    url = f"/contracts/versions/{version.pk}/"
    with tenant_context(firm_a):
        rows = saved_lines(version)
    typed = line(room="阳台", name="防腐木地板 typed", quantity="3", unit_price="100", discount="300.01")
    response = designer.post(url, editor_post([*rows, typed], initial=1, fees={"tax_percent": "6"}), **HTMX)
    assert response.status_code == 200
    form = response.context["editor"].added_forms()[0]
    assert "more than the line comes to (¥300.00)" in form.errors["discount"][0]
    body = response.content.decode()
    assert 'value="防腐木地板 typed"' in body and 'value="300.01"' in body and 'data-focus="error"' in body
    assert "q-line--error" in body
    with tenant_context(firm_a):
        version.refresh_from_db()
        assert version.items.count() == 1 and version.tax_percent == Decimal("0.00")  # nothing saved


def test_fees_and_a_too_large_discount_show_on_the_fees_form(designer, firm_a):
    version = new_draft(firm_a, items=[line()])
    url = f"/contracts/versions/{version.pk}/"
    with tenant_context(firm_a):
        rows = saved_lines(version)
    fees = {"management_fee_percent": "10", "design_fee": "500", "tax_percent": "6", "discount": "1000"}
    response = designer.post(url, editor_post([*rows, {}], initial=1, fees=fees), **HTMX)
    assert "more than the quotation comes to (¥918.00)" in response.context["editor"].fees.errors["discount"][0]
    fees["discount"] = "18"
    response = designer.post(url, editor_post([*rows, {}], initial=1, fees=fees))
    assert response.status_code == 302
    with tenant_context(firm_a):
        version.refresh_from_db()
    # 380 + 38 + 500 − 18 = 900; 6 % tax 54.
    assert (version.management_fee, version.tax, version.total) == (
        Decimal("38.00"),
        Decimal("54.00"),
        Decimal("954.00"),
    )


def test_costs_and_margin_only_for_those_who_may_see_them(client, firm_a):
    with tenant_context(firm_a):
        paint = PriceItemFactory(cost_price=Decimal("17.77"))
    version = new_draft(firm_a, items=[line(price_item=paint.pk)])
    url = f"/contracts/versions/{version.pk}/"
    admin = signed_in(client, firm_a, "admin")
    page = admin.get(url).content.decode()
    assert "Cost price" in page and 'value="17.77"' in page and 'data-testid="totals-margin"' in page
    assert "¥177.70" in page  # the cost of 10 m²

    sales = signed_in(client, firm_a, "sales")
    page = sales.get(url).content.decode()
    assert "17.77" not in page and "177.70" not in page and "Cost price" not in page and "Margin" not in page
    # The sales editor posts no cost price (and a forged one is ignored): the line keeps its own.
    with tenant_context(firm_a):
        rows = saved_lines(version)
    rows[0].update(quantity="20", cost_price="0")
    sales.post(url, editor_post([*rows, {}], initial=1), **HTMX)
    with tenant_context(firm_a):
        item = version.items.get()
        assert (item.quantity, item.cost_price) == (Decimal("20.00"), Decimal("17.77"))
        rows = saved_lines(version)  # as the page shows them after the save
    # Nor when the line is no longer the library's.
    rows[0].update(price_item="", name="墙面乳胶漆（进口）")
    sales.post(url, editor_post([*rows, {}], initial=1), **HTMX)
    with tenant_context(firm_a):
        item = version.items.get()
        assert (item.name, item.price_item_id, item.cost_price) == ("墙面乳胶漆（进口）", None, Decimal("17.77"))


def test_the_homeowners_link_never_shows_cost_or_margin(client, firm_a):
    with tenant_context(firm_a):
        paint = PriceItemFactory(cost_price=Decimal("17.77"))
        version = new_draft(firm_a, items=[line(price_item=paint.pk, cost_price="17.77")])
        version = quotations.quotation_version_set_fees(version=version, design_fee="100", tax_percent="6")
        version = quotations.quotation_version_send(version=version)
        url = homeowner_links.url_for(version)
        assert version.cost == Decimal("177.70")
    page = client.get(url).content.decode()
    assert "墙面乳胶漆" in page and "¥508.80" in page  # (380 + 100) × 1.06
    for hidden in ("17.77", "177.70", "Cost", "Margin", "302.30"):  # 480.00 − 177.70 is the margin
        assert hidden not in page


def test_the_discount_approval_is_refused_to_its_author_and_to_staff_without_the_right(client, firm_a):
    with tenant_context(firm_a):
        author = MembershipFactory(tenant=firm_a, role="admin").user
    version = new_draft(firm_a, by=author, items=[line(discount="38")])  # 10 % of the line
    url = f"/contracts/versions/{version.pk}/"
    approve = f"/contracts/versions/{version.pk}/approve-discount/"

    client.force_login(author)
    page = client.get(url).content.decode()
    assert 'data-testid="discount-approval"' in page and approve not in page
    assert "over the firm&#x27;s 5%" in page or "over the firm's 5%" in page
    refused = client.post(approve, follow=True).content.decode()
    assert "You wrote this version" in refused
    sent = client.post(f"/contracts/versions/{version.pk}/send/", follow=True).content.decode()
    assert "must approve them before it is sent" in sent

    sales = signed_in(client, firm_a, "sales")
    assert approve not in sales.get(url).content.decode()
    assert "right to approve discounts" in sales.post(approve, follow=True).content.decode()
    with tenant_context(firm_a):
        version.refresh_from_db()
        assert version.discount_approved_at is None and version.status == "draft"

    manager = signed_in(client, firm_a, "admin")
    assert approve in manager.get(url).content.decode()
    manager.post(approve)
    assert 'data-testid="discount-approved"' in manager.get(url).content.decode()
    manager.post(f"/contracts/versions/{version.pk}/send/")
    with tenant_context(firm_a):
        version.refresh_from_db()
        assert version.status == "sent" and version.discount_approved_by_id == manager.user.pk


def test_lines_are_copied_from_another_quotation_and_filled_from_a_package(designer, firm_a, firm_b):
    other = new_draft(firm_a, items=[line(room="书房", name="书柜")])
    version = new_draft(firm_a, items=[line()])
    theirs = new_draft(firm_b, items=[line(name="别家的项目")])
    copy_url = f"/contracts/versions/{version.pk}/copy-lines/"
    page = designer.get(f"/contracts/versions/{version.pk}/").content.decode()
    assert f'value="{other.pk}"' in page and f'value="{theirs.pk}"' not in page
    refused = designer.post(copy_url, {"source": theirs.pk}, follow=True).content.decode()
    assert "Select a valid choice" in refused
    designer.post(copy_url, {"source": other.pk})
    with tenant_context(firm_a):
        assert list(version.items.values_list("name", flat=True)) == ["墙面乳胶漆", "书柜"]
        package = PricePackageFactory()
        PricePackageLineFactory(package=package, room="全屋", quantity=Decimal("2.000"))
    designer.post(f"/contracts/versions/{version.pk}/fill-from-package/", {"package": package.pk, "area": "88.5"})
    with tenant_context(firm_a):
        filled = version.items.get(room="全屋")
        assert filled.quantity == Decimal("177.00") and filled.price_item_id


def test_the_compare_page_shows_room_and_trade_subtotals_side_by_side(designer, firm_a):
    with tenant_context(firm_a):
        v1 = new_draft(firm_a, items=[line(), line(room="厨房", category="masonry", name="地砖", unit_price="65")])
        v1 = quotations.quotation_version_send(version=v1)
        v2 = quotations.quotation_version_copy(version=v1)
        quotations.quotation_version_set_items(
            version=v2, items=[line(quantity="12"), line(room="阳台", category="masonry", name="地砖", unit_price="65")]
        )
    response = designer.get(f"/contracts/versions/{v1.pk}/compare/{v2.pk}/")
    comparison = response.context["comparison"]
    assert comparison["rooms"] == [
        {"room": "客厅", "label": "客厅", "old": "380.00", "new": "456.00", "difference": "76.00"},
        {"room": "厨房", "label": "厨房", "old": "650.00", "new": "0.00", "difference": "-650.00"},
        {"room": "阳台", "label": "阳台", "old": "0.00", "new": "650.00", "difference": "650.00"},
    ]
    assert [(t["trade"], t["difference"]) for t in comparison["trades"]] == [("masonry", "0.00"), ("painting", "76.00")]
    # Matched by room: the tiles moved from the kitchen to the balcony.
    assert [i["room"] for i in comparison["removed"]] == ["厨房"] and [i["room"] for i in comparison["added"]] == [
        "阳台"
    ]
    page = response.content.decode()
    assert 'data-testid="compare-rooms"' in page and 'data-testid="compare-trades"' in page
