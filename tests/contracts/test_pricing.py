"""The quotation builder's services: the one rounding rule, lines by room and trade with fees, tax and
discounts, the manager's approval of a large discount, cost prices kept from those who cannot see them,
lines copied from another quotation and filled from a package."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils.translation import override

from contracts import selectors
from contracts.models import ContractSettings, QuotationItem, QuotationVersion
from contracts.services import pricing, quotations, reminders
from contracts.services.settings import contract_settings_get
from renocrm.accounts.models import Membership
from renocrm.accounts.roles import Role
from renocrm.tenancy.context import tenant_context
from tests.contracts.factories import PriceItemFactory, PricePackageFactory, PricePackageLineFactory
from tests.factories import StaffFactory
from tests.leads.factories import LeadFactory


@pytest.fixture
def firm(firm_a):
    with tenant_context(firm_a):
        yield firm_a


def line(room, category, name, quantity, unit_price, cost_price="0", discount="0", **extra):
    return {
        "room": room,
        "category": category,
        "name": name,
        "unit": "m²",
        "quantity": quantity,
        "unit_price": unit_price,
        "cost_price": cost_price,
        "discount": discount,
        **extra,
    }


def draft(items=(), by=None, lead=None):
    quotation = quotations.quotation_create(lead=lead or LeadFactory(), title="三居室", items=list(items), by=by)
    return quotation.versions.get()


@pytest.mark.parametrize(
    ("quantity", "unit_price", "discount", "amount"),
    [
        ("0.25", "0.02", "0", "0.01"),  # 0.005: half up, never to even
        ("2.5", "0.01", "0", "0.03"),  # 0.025: 0.03 (banker's rounding would give 0.02)
        ("1.5", "0.01", "0", "0.02"),  # 0.015
        ("0.15", "6.70", "0", "1.01"),  # 1.005, which a float holds as 1.00499…
        ("12.5", "33.33", "0", "416.63"),  # 416.625
        ("12.5", "33.33", "16.63", "400.00"),  # the discount comes off the rounded line
        ("12.5", "33.33", "416.63", "0.00"),  # all of it
        ("3", "0.00", "0", "0.00"),
    ],
)
def test_a_line_is_rounded_half_up_to_the_cent_then_its_discount_comes_off(quantity, unit_price, discount, amount):
    assert pricing.line_net(quantity=quantity, unit_price=unit_price, discount=discount) == Decimal(amount)


def test_a_line_discount_above_the_line_is_a_field_error():
    with override("en"), pytest.raises(ValidationError) as refused:
        pricing.line_net(quantity="12.5", unit_price="33.33", discount="416.64")
    assert "more than the line comes to (¥416.63)" in refused.value.message_dict["discount"][0]


def test_fees_and_tax_are_taken_from_the_sums_and_rounded_half_up(firm):
    version = draft([line("厨房", "masonry", "a", "10", "0.01")])  # 0.10
    version = quotations.quotation_version_set_fees(
        version=version, management_fee_percent="5", tax_percent="5", design_fee="0.00"
    )
    # 0.10 × 5 % = 0.005 → 0.01; before tax 0.11; 0.11 × 5 % = 0.0055 → 0.01.
    assert (version.subtotal, version.management_fee, version.tax, version.total) == (
        Decimal("0.10"),
        Decimal("0.01"),
        Decimal("0.01"),
        Decimal("0.12"),
    )


def forty_lines():
    """15 lines in the master bedroom (8 carpentry, 7 painting) and 15 in the living room (painting), given
    interleaved, then 10 in the kitchen (masonry), one with a discount."""
    rows = []
    for n in range(15):
        trade = "carpentry" if n < 8 else "painting"
        rows.append(line("主卧", trade, f"主卧 {n}", "3", "33.33", cost_price="20.00"))  # 99.99, cost 60.00
        rows.append(line("客厅", "painting", f"客厅 {n}", "2.5", "10.01", cost_price="6.67"))  # 25.025 → 25.03
    for n in range(10):
        # 416.625 → 416.63; cost 25.55 × 12.5 = 319.375 → 319.38
        rows.append(line("厨房", "masonry", f"厨房 {n}", "12.5", "33.33", cost_price="25.55"))
    rows[-1]["discount"] = "16.63"
    return rows


def test_forty_lines_in_three_rooms_with_fees_tax_and_discounts_add_up_to_the_cent(firm):
    ContractSettings.objects.create(management_fee_percent=Decimal("8"), tax_percent=Decimal("1"))
    version = draft(forty_lines())
    assert (version.management_fee_percent, version.tax_percent) == (Decimal("8.00"), Decimal("1.00"))
    version = quotations.quotation_version_set_fees(
        version=version,
        design_fee="1500",
        transport_fee="200",
        other_fee="88.88",
        other_fee_label="垃圾清运",
        discount="295.35",
        discount_reason="老客户",
    )
    version.refresh_from_db()
    # Lines: 15 × 99.99 = 1499.85; 15 × 25.03 = 375.45; 10 × 416.63 − 16.63 = 4149.67.
    assert version.subtotal == Decimal("6024.97") and version.line_discounts == Decimal("16.63")
    assert version.management_fee == Decimal("482.00")  # 6024.97 × 8 % = 481.9976
    # 6024.97 + 482.00 + 1500 + 200 + 88.88 − 295.35 = 8000.50; 1 % of it is 80.005 → 80.01.
    assert pricing.before_tax(version) == Decimal("8000.50")
    assert (version.tax, version.total) == (Decimal("80.01"), Decimal("8080.51"))
    # Cost: 15 × 60.00 + 15 × 16.68 (6.67 × 2.5 = 16.675) + 10 × 319.38 = 4344.00.
    assert version.cost == Decimal("4344.00")
    assert pricing.margin(version) == (Decimal("3656.50"), Decimal("45.7"))  # 3656.50 / 8000.50 = 45.703 %

    items = list(version.items.all())
    assert len(items) == 40 and [i.position for i in items] == list(range(1, 41))
    assert [room["room"] for room in selectors.quotation_rooms(items)] == ["主卧", "客厅", "厨房"]
    assert selectors.quotation_room_subtotals(items) == [
        {"room": "主卧", "lines": 15, "subtotal": Decimal("1499.85")},
        {"room": "客厅", "lines": 15, "subtotal": Decimal("375.45")},
        {"room": "厨房", "lines": 10, "subtotal": Decimal("4149.67")},
    ]
    trades = selectors.quotation_trade_subtotals(items)
    assert [(t["trade"], t["lines"], t["subtotal"]) for t in trades] == [
        ("masonry", 10, Decimal("4149.67")),
        ("carpentry", 8, Decimal("799.92")),
        ("painting", 22, Decimal("1075.38")),  # 7 × 99.99 + 375.45
    ]
    # (16.63 + 295.35) / 6041.60 = 5.16 %: over the default 5 %.
    assert pricing.discount_percent(version) == Decimal("5.16")
    assert quotations.discount_needs_approval(version)


def test_a_discount_on_the_total_larger_than_the_quotation_is_refused(firm):
    version = draft([line("", "painting", "a", "1", "100")])
    with override("en"), pytest.raises(ValidationError) as refused:
        quotations.quotation_version_set_fees(version=version, design_fee="10", discount="110.01")
    assert "more than the quotation comes to (¥110.00)" in refused.value.message_dict["discount"][0]
    with pytest.raises(ValidationError) as refused:
        quotations.quotation_version_set_fees(version=version, tax_percent="100.5")
    assert "tax_percent" in refused.value.message_dict


def test_lines_keep_old_keys_and_fill_from_the_library(firm):
    tiles = PriceItemFactory(
        code="WG-01",
        name="地砖铺贴",
        trade="masonry",
        unit="m²",
        unit_price=Decimal("65.00"),
        cost_price=Decimal("41.00"),
        brand_model="东鹏 800×800",
    )
    version = draft(
        [
            {"category": "painting", "name": "Wall paint", "unit": "m²", "quantity": "200", "unit_price": "25"},
            {"room": "厨房", "price_item": tiles.pk, "quantity": "12"},
        ]
    )
    old_style, from_library = version.items.all()
    assert (old_style.room, old_style.amount, old_style.cost_price) == ("", Decimal("5000.00"), Decimal("0.00"))
    assert (from_library.code, from_library.name, from_library.category, from_library.unit) == (
        "WG-01",
        "地砖铺贴",
        "masonry",
        "m²",
    )
    assert (from_library.unit_price, from_library.cost_price, from_library.brand_model) == (
        Decimal("65.00"),
        Decimal("41.00"),
        "东鹏 800×800",
    )
    assert version.cost == Decimal("492.00")


def test_another_firms_library_item_is_not_found(firm, firm_b):
    with tenant_context(firm_b):
        theirs = PriceItemFactory()
    with override("en"), pytest.raises(ValidationError, match="no such item"):
        draft([{"room": "", "price_item": theirs.pk, "quantity": "1"}])


def test_a_user_who_cannot_see_costs_never_changes_them(firm):
    paint = PriceItemFactory(cost_price=Decimal("24.50"))
    version = draft([line("客厅", "painting", "墙漆", "10", "38", cost_price="26.00", price_item=paint.pk)])
    kept = version.items.get()
    assert kept.cost_price == Decimal("26.00")
    quotations.quotation_version_set_items(
        version=version,
        items=[
            # The editor without costs sends no cost price, or a forged zero: both are ignored.
            {**line("客厅", "painting", "墙漆", "12", "38", cost_price="0", price_item=paint.pk), "id": kept.pk},
            line("主卧", "painting", "墙漆", "5", "38", cost_price="", price_item=paint.pk),
            line("主卧", "other", "自由项", "1", "50", cost_price="30"),
        ],
        with_costs=False,
    )
    costs = list(version.items.values_list("name", "cost_price"))
    assert costs == [("墙漆", Decimal("26.00")), ("墙漆", Decimal("24.50")), ("自由项", Decimal("0.00"))]


def people(firm):
    author = StaffFactory(membership__role=Role.DESIGNER)
    manager = StaffFactory(membership__role=Role.ADMIN)
    sales = StaffFactory(membership__role=Role.SALES)
    return author, manager, sales


def test_a_large_discount_waits_for_a_manager_who_is_not_its_author(firm):
    author, manager, sales = people(firm)
    version = draft([line("", "painting", "a", "1", "1000", discount="50")], by=author)  # 5 %: within
    assert not quotations.discount_needs_approval(version)
    version = quotations.quotation_version_set_fees(version=version, discount="0.01")  # 5.001 %: over
    with override("en"), pytest.raises(ValidationError) as refused:
        quotations.quotation_version_send(version=version)
    assert "a manager other than the version's author must approve" in refused.value.message_dict["discount"][0]

    with override("en"), pytest.raises(ValidationError) as refused:
        quotations.quotation_version_approve_discount(version=version, by=author)
    assert "You wrote this version" in refused.value.message_dict["discount_approved_by"][0]
    for nobody in (sales, None):
        with override("en"), pytest.raises(ValidationError) as refused:
            quotations.quotation_version_approve_discount(version=version, by=nobody)
        assert "right to approve discounts" in refused.value.message_dict["discount_approved_by"][0]
    # An admin who wrote the version is its author all the same.
    own = draft([line("", "painting", "a", "1", "100", discount="50")], by=manager)
    with pytest.raises(ValidationError):
        quotations.quotation_version_approve_discount(version=own, by=manager)

    approved = quotations.quotation_version_approve_discount(version=version, by=manager)
    assert approved.discount_approved_by == manager and approved.discount_approved_at
    # Saving the same lines and fees again changes nothing, so the approval stays.
    quotations.quotation_version_update(
        version=version,
        items=[{**line("", "painting", "a", "1", "1000", discount="50")}],
        fees={"discount": "0.01"},
    )
    version.refresh_from_db()
    assert version.discount_approved_by == manager
    assert quotations.quotation_version_send(version=version).status == "sent"


def test_a_change_after_the_approval_asks_again(firm):
    author, manager, _sales = people(firm)
    version = draft([line("", "painting", "a", "1", "1000", discount="100")], by=author)
    quotations.quotation_version_approve_discount(version=version, by=manager)
    quotations.quotation_version_set_items(
        version=version, items=[line("", "painting", "a", "2", "1000", discount="150")]
    )
    version.refresh_from_db()
    assert version.discount_approved_at is None and version.discount_approved_by is None
    with pytest.raises(ValidationError):
        quotations.quotation_version_send(version=version)
    quotations.quotation_version_approve_discount(version=version, by=manager)
    quotations.quotation_version_set_fees(version=version, design_fee="100")
    version.refresh_from_db()
    assert version.discount_approved_at is None


def test_nothing_to_approve_within_the_threshold(firm):
    _author, manager, _sales = people(firm)
    version = draft([line("", "painting", "a", "1", "1000")])
    with override("en"), pytest.raises(ValidationError, match="nothing to approve"):
        quotations.quotation_version_approve_discount(version=version, by=manager)


def test_a_new_version_copies_lines_fees_and_discount_but_not_the_approval(firm):
    author, manager, _sales = people(firm)
    version = draft(forty_lines(), by=author)
    quotations.quotation_version_set_fees(version=version, design_fee="1500", discount="295.35", tax_percent="1")
    quotations.quotation_version_approve_discount(version=version, by=manager)
    sent = quotations.quotation_version_send(version=version)
    copy = quotations.quotation_version_copy(version=sent, by=manager)
    assert (copy.created_by, copy.based_on, copy.discount_approved_at) == (manager, sent, None)
    for field in (*pricing.FEE_FIELDS, *pricing.Amounts.STORED):
        assert getattr(copy, field) == getattr(sent, field), field
    fields = (
        "position",
        "room",
        "category",
        "code",
        "name",
        "quantity",
        "unit_price",
        "cost_price",
        "discount",
        "amount",
    )
    assert list(copy.items.values_list(*fields)) == list(sent.items.values_list(*fields))
    assert quotations.discount_needs_approval(copy)


def test_lines_copied_from_another_quotation_are_added_after_the_drafts_own(firm):
    other = draft(
        [line("客厅", "painting", "墙漆", "10", "38", cost_price="24"), line("阳台", "masonry", "防滑砖", "4", "90")]
    )
    version = draft([line("厨房", "masonry", "地砖", "6", "65"), line("客厅", "carpentry", "吊顶", "3", "120")])
    version = quotations.quotation_version_copy_lines(version=version, source=other)
    lines = list(version.items.values_list("room", "name", "cost_price"))
    assert lines == [
        ("厨房", "地砖", Decimal("0.00")),
        ("客厅", "吊顶", Decimal("0.00")),
        ("客厅", "墙漆", Decimal("24.00")),
        ("阳台", "防滑砖", Decimal("0.00")),
    ]
    assert version.subtotal == Decimal("390.00") + Decimal("360.00") + Decimal("380.00") + Decimal("360.00")
    assert QuotationItem.objects.filter(version=other).count() == 2
    with pytest.raises(ValidationError):
        quotations.quotation_version_copy_lines(version=version, source=version)
    sent = quotations.quotation_version_send(version=version)
    with override("en"), pytest.raises(ValidationError, match="no longer change"):
        quotations.quotation_version_copy_lines(version=sent, source=other)


def test_a_package_fills_a_draft_from_the_propertys_area(firm):
    pytest.importorskip("contracts.services.library")
    package = PricePackageFactory()
    PricePackageLineFactory(package=package, room="全屋", quantity=Decimal("2.800"))
    lead = LeadFactory(with_property=True, property__area=Decimal("90"))
    version = draft(lead=lead)
    version = quotations.quotation_version_fill_from_package(version=version, package=package)
    item = version.items.get()
    assert item.room == "全屋" and item.price_item_id and item.quantity == Decimal("252.00")
    assert version.subtotal == item.amount
    assert QuotationVersion.objects.get(pk=version.pk).subtotal == item.amount


def _membership(user):
    return Membership.objects.get(user=user)


def test_whoever_last_priced_a_version_may_not_approve_its_discount(firm):
    author, manager, _sales = people(firm)
    second = StaffFactory(membership__role=Role.ADMIN)
    version = draft([line("", "painting", "a", "1", "1000")], by=author)
    assert version.priced_by == author
    # An admin raises a designer's discount: he priced it, so he may not approve it himself.
    quotations.quotation_version_update(version=version, fees={"discount": "100"}, by=manager)
    version.refresh_from_db()
    assert version.priced_by == manager and quotations.discount_needs_approval(version)
    assert not quotations.discount_may_approve(version, user=manager, membership=_membership(manager))
    assert quotations.discount_may_approve(version, user=second, membership=_membership(second))
    with override("en"), pytest.raises(ValidationError) as refused:
        quotations.quotation_version_approve_discount(version=version, by=manager)
    assert "You changed this version's prices" in refused.value.message_dict["discount_approved_by"][0]
    # A save that changes nothing leaves who priced it as it is.
    quotations.quotation_version_update(version=version, fees={"discount": "100"}, by=second)
    version.refresh_from_db()
    assert version.priced_by == manager
    assert quotations.quotation_version_approve_discount(version=version, by=second).discount_approved_by == second


@pytest.mark.parametrize("path", ["set_items", "set_fees", "copy_lines", "fill_from_package"])
def test_every_change_of_the_prices_records_who_made_it(firm, path):
    author, manager, _sales = people(firm)
    second = StaffFactory(membership__role=Role.ADMIN)
    version = draft([line("客厅", "painting", "a", "1", "1000", discount="100")], by=author)
    if path == "set_items":
        items = [line("客厅", "painting", "a", "1", "1000", discount="150")]
        quotations.quotation_version_set_items(version=version, items=items, by=manager)
    elif path == "set_fees":
        quotations.quotation_version_set_fees(version=version, discount="10", by=manager)
    elif path == "copy_lines":
        source = draft([line("厨房", "masonry", "b", "1", "10")])
        quotations.quotation_version_copy_lines(version=version, source=source, by=manager)
    else:
        package = PricePackageFactory()
        PricePackageLineFactory(package=package, room="全屋", quantity=Decimal("1"))
        quotations.quotation_version_fill_from_package(version=version, package=package, area="10", by=manager)
    version.refresh_from_db()
    assert version.priced_by == manager and quotations.discount_needs_approval(version)
    with pytest.raises(ValidationError) as refused:
        quotations.quotation_version_approve_discount(version=version, by=manager)
    assert "discount_approved_by" in refused.value.message_dict
    assert quotations.quotation_version_approve_discount(version=version, by=second).discount_approved_by == second


def test_a_copied_version_keeps_who_priced_the_original(firm):
    author, manager, _sales = people(firm)
    version = draft([line("", "painting", "a", "1", "1000")], by=author)
    quotations.quotation_version_set_fees(version=version, discount="100", by=manager)
    copy = quotations.quotation_version_copy(version=version, by=author)
    assert (copy.created_by, copy.priced_by_id) == (author, manager.pk)
    with pytest.raises(ValidationError):
        quotations.quotation_version_approve_discount(version=copy, by=manager)


def test_a_key_changing_the_prices_leaves_the_last_staff_member_on_record(firm):
    author, manager, _sales = people(firm)
    version = draft([line("", "painting", "a", "1", "1000")], by=author)
    quotations.quotation_version_set_fees(version=version, discount="100", by=manager)
    quotations.quotation_version_set_fees(version=version, design_fee="10", by=None)
    version.refresh_from_db()
    assert version.priced_by == manager


@pytest.mark.parametrize(
    ("field", "value"),
    [("design_fee", "10.005"), ("discount", "0.001"), ("management_fee_percent", "8.125"), ("tax_percent", "6.001")],
)
def test_a_fee_with_more_than_two_decimals_is_a_field_error(firm, field, value):
    version = draft([line("", "painting", "a", "1", "1000")])
    with override("en"), pytest.raises(ValidationError) as refused:
        quotations.quotation_version_set_fees(version=version, **{field: value})
    assert refused.value.message_dict == {field: ["Give at most two decimal places."]}
    version.refresh_from_db()
    assert getattr(version, field) == 0 and version.total == Decimal("1000.00")


def test_a_retired_package_does_not_fill_a_version(firm):
    package = PricePackageFactory(is_active=False)
    PricePackageLineFactory(package=package, quantity=Decimal("1"))
    version = draft()
    with override("en"), pytest.raises(ValidationError) as refused:
        quotations.quotation_version_fill_from_package(version=version, package=package, area="80")
    assert refused.value.message_dict == {"package": ["That package is retired; choose an active one."]}
    assert not version.items.exists()


def test_the_firms_settings_are_read_without_writing_a_row(firm):
    assert contract_settings_get().discount_approval_percent == Decimal("5")
    author, manager, _sales = people(firm)
    version = draft([line("", "painting", "a", "1", "1000", discount="100")], by=author)
    assert quotations.discount_needs_approval(version)
    quotations.quotation_version_approve_discount(version=version, by=manager)
    quotations.quotation_version_send(version=version)
    assert reminders.payment_reminder_days() == 3
    assert not ContractSettings.objects.exists()
    ContractSettings.objects.create(discount_approval_percent=Decimal("20"), payment_reminder_days_before=6)
    assert contract_settings_get().discount_approval_percent == Decimal("20")
    assert reminders.payment_reminder_days() == 6
    assert not quotations.discount_needs_approval(draft([line("", "painting", "a", "1", "1000", discount="100")]))
