"""The firm's item library and packages: services, the XLSX round trip, the pages, the type-ahead and the API,
with cost prices kept from everyone not entitled to them."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import F
from django.test import Client
from openpyxl import Workbook, load_workbook

from contracts import library_selectors, library_xlsx
from contracts.library_xlsx import price_items_workbook, read_price_item_rows
from contracts.models import PriceItem, PricePackage, PricePackageLine
from contracts.services import library
from renocrm.accounts.access import may_see_costs
from renocrm.accounts.roles import COSTS_SCOPE, SCOPES, role_has
from renocrm.tenancy.context import tenant_context
from tests.contracts.factories import PriceItemFactory, PricePackageFactory, PricePackageLineFactory
from tests.factories import ApiKeyFactory, MembershipFactory

pytestmark = pytest.mark.usefixtures("english")

XLSX = library_xlsx.XLSX_TYPE


def session(firm, role="admin") -> Client:
    client = Client()
    client.force_login(MembershipFactory(tenant=firm, role=role).user)
    return client


def key_headers(firm, scopes) -> dict:
    with tenant_context(firm):
        key = ApiKeyFactory(scopes=scopes)
    return {"HTTP_AUTHORIZATION": f"Api-Key {key.raw_key}"}


def upload(content: bytes, name="library.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=XLSX)


def sheet(rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def item_data(**overrides):
    return {
        "code": "SD-001",
        "name": "给水管改造（PPR）",
        "trade": "plumbing_electrical",
        "unit": "m",
        "unit_price": Decimal("85.00"),
        "cost_price": Decimal("55.00"),
        **overrides,
    }


# Permissions and scopes -----------------------------------------------------------------------------------------


def test_library_manage_and_costs_view_are_given_by_default_to_the_right_roles():
    assert role_has("admin", "library.manage") and not role_has("designer", "library.manage")
    assert not role_has("sales", "library.manage") and not role_has("finance", "library.manage")
    assert role_has("admin", "costs.view") and role_has("finance", "costs.view")
    assert not any(role_has(role, "costs.view") for role in ("sales", "designer", "project_manager", "qc"))
    assert COSTS_SCOPE == "costs:read" and COSTS_SCOPE in SCOPES


def test_may_see_costs_follows_the_role_or_the_scope(firm_a, rf):
    for role, expected in (("finance", True), ("sales", False)):
        request = rf.get("/")
        request.membership = MembershipFactory(tenant=firm_a, role=role)
        assert may_see_costs(request) is expected
    request = rf.get("/")
    request.api_key_presented = True
    request.auth = type("Key", (), {"scopes": ["contracts:read"]})()
    assert may_see_costs(request) is False


# Services ---------------------------------------------------------------------------------------------------------


def test_codes_are_unique_in_a_firm_with_a_field_error(firm_a, firm_b):
    with tenant_context(firm_a):
        library.price_item_create(**item_data())
        with pytest.raises(ValidationError) as refused:
            library.price_item_create(**item_data(name="another"))
        assert refused.value.error_dict["code"][0].code == "unique"
        other = library.price_item_create(**item_data(code="SD-002"))
        with pytest.raises(ValidationError) as renamed:
            library.price_item_update(item=other, code="SD-001")
        assert "code" in renamed.value.error_dict
    with tenant_context(firm_b):
        assert library.price_item_create(**item_data()).code == "SD-001"  # another firm's own library


def test_prices_are_exact_to_the_cent_and_never_negative(firm_a):
    with tenant_context(firm_a):
        for bad in ("12.345", "-1", "abc"):
            with pytest.raises(ValidationError) as refused:
                library.price_item_create(**item_data(unit_price=bad))
            assert "unit_price" in refused.value.error_dict
        with pytest.raises(ValidationError) as missing:
            library.price_item_create(**item_data(name=" ", trade="flying"))
        assert {"name", "trade"} <= set(missing.value.error_dict)
        item = library.price_item_create(**item_data(unit_price="85.5", code="  SD-009 "))
        assert item.unit_price == Decimal("85.50") and item.code == "SD-009"


def test_retire_and_reactivate_an_item(firm_a):
    with tenant_context(firm_a):
        item = PriceItemFactory(code="YQ-001")
        library.price_item_retire(item=item)
        item.refresh_from_db()
        assert not item.is_active
        assert [found.code for found in library_selectors.price_item_suggestions("YQ")] == []
        library.price_item_reactivate(item=item)
        assert [found.code for found in library_selectors.price_item_suggestions("YQ")] == ["YQ-001"]


def test_package_lines_for_an_area_round_per_m2_quantities_half_up_and_keep_fixed_ones(firm_a):
    with tenant_context(firm_a):
        paint = PriceItemFactory(code="YQ-003", name="墙面乳胶漆", unit="m²", unit_price=Decimal("22.00"))
        tiles = PriceItemFactory(
            code="ZC-001",
            name="地砖 800×800",
            trade="main_materials",
            kind="main_material",
            unit="m²",
            unit_price=Decimal("168.00"),
            cost_price=Decimal("118.00"),
            brand_model="东鹏瓷砖 800×800",
        )
        toilet = PriceItemFactory(code="ZC-009", trade="main_materials", unit="套", unit_price=Decimal("1680.00"))
        package = library.price_package_create(
            name="全包 按面积",
            package_type="full",
            lines=[
                {"room": "全屋", "price_item": paint, "basis": "per_area", "quantity": Decimal("2.6")},
                {"room": "客厅", "price_item": tiles, "basis": "per_area", "quantity": Decimal("0.125")},
                {"room": "卫生间", "price_item": toilet, "basis": "fixed", "quantity": Decimal("1.5")},
            ],
        )
        lines = library.package_lines_for(package, Decimal("89.10"))
        small = library.package_lines_for(package, Decimal("1.00"))

    assert [line["quantity"] for line in lines] == [Decimal("231.66"), Decimal("11.14"), Decimal("1.50")]
    # 0.125 × 1 = 0.125: half up gives 0.13 (banker's rounding would give 0.12).
    assert small[1]["quantity"] == Decimal("0.13")
    assert lines[1] == {
        "room": "客厅",
        "category": "main_materials",
        "price_item": tiles.pk,
        "code": "ZC-001",
        "name": "地砖 800×800",
        "unit": "m²",
        "quantity": Decimal("11.14"),
        "unit_price": Decimal("168.00"),
        "cost_price": Decimal("118.00"),
        "brand_model": "东鹏瓷砖 800×800",
        "note": "",
        "discount": Decimal("0.00"),
    }
    assert str(lines[0]["discount"]) == "0.00" and [line["room"] for line in lines] == ["全屋", "客厅", "卫生间"]


def test_package_lines_are_checked_and_replaced_in_order(firm_a):
    with tenant_context(firm_a):
        item, retired = PriceItemFactory(), PriceItemFactory(is_active=False)
        with pytest.raises(ValidationError) as refused:
            library.price_package_create(
                name="半包",
                package_type="half",
                lines=[
                    {"price_item": item, "basis": "fixed", "quantity": Decimal("1.125")},
                    {"price_item": retired, "basis": "fixed", "quantity": Decimal("1")},
                ],
            )
        messages = refused.value.message_dict["lines"]
        assert messages[0].startswith("Line 1:") and messages[1].startswith("Line 2:")
        assert not PricePackage.objects.exists()
        package = library.price_package_create(
            name="半包", package_type="half", lines=[{"price_item": item, "basis": "per_area", "quantity": "1.125"}]
        )
        library.price_package_update(
            package=package,
            lines=[
                {"price_item": item, "room": "厨房", "basis": "fixed", "quantity": "2"},
                {"price_item": item, "room": "卫生间", "basis": "fixed", "quantity": "3"},
            ],
        )
        assert list(package.lines.values_list("position", "room")) == [(1, "厨房"), (2, "卫生间")]
        with pytest.raises(ValidationError):
            library.price_package_create(name="半包", package_type="half")


# XLSX -------------------------------------------------------------------------------------------------------------


def test_an_export_imported_again_changes_nothing(firm_a):
    with tenant_context(firm_a):
        PriceItemFactory(code="=SUM(A1)", name="+formula-looking name", description="-1 first")
        PriceItemFactory(code="ZC-001", trade="main_materials", kind="main_material", brand_model="马可波罗 岩板")
        PriceItemFactory(code="CG-001", trade="demolition", kind="labour", unit_price=Decimal("0.10"), is_active=False)
        before = list(PriceItem.objects.order_by("code").values())
        content = price_items_workbook(library_selectors.price_item_list(), with_costs=True)
        result = library.price_items_import(rows=read_price_item_rows(upload(content), with_costs=True))
        after = list(PriceItem.objects.order_by("code").values())

    assert (result.created, result.updated, result.unchanged) == (0, 0, 3)
    assert after == before
    header = [cell.value for cell in load_workbook(io.BytesIO(content)).worksheets[0][1]]
    assert header[0] == "Code (code)" and "Cost price (cost_price)" in header


def test_an_import_with_errors_changes_nothing_and_names_every_wrong_row(firm_a):
    with tenant_context(firm_a):
        PriceItemFactory(code="YQ-001", unit_price=Decimal("30.00"))
        content = sheet(
            [
                ["编码 (code)", "名称", "工种", "单位", "单价", "启用"],
                ["YQ-001", "墙面乳胶漆", "油漆", "m²", 32, "是"],
                ["NW-001", "地面找平", "泥瓦", "m²", "abc", ""],
                ["SD-001", "水路改造", "flying", "m", 85, ""],
                [None, None, None, None, None, None],
                ["YQ-001", "墙面乳胶漆", "Painting", "m²", 33, "maybe"],
            ]
        )
        with pytest.raises(ValidationError) as refused:
            library.price_items_import(rows=read_price_item_rows(upload(content), with_costs=True))
        assert PriceItem.objects.get(code="YQ-001").unit_price == Decimal("30.00")
        assert PriceItem.objects.count() == 1

    errors = refused.value.message_dict["file"]
    assert errors[0] == "Row 3: unit price must be a number."
    assert errors[1].startswith("Row 4: the trade category “flying”")
    assert any(error.startswith("Row 6: the code YQ-001 is also on row 2") for error in errors)
    assert any(error.startswith("Row 6: “maybe”") for error in errors)


def test_an_import_reads_trades_and_kinds_in_either_language_and_updates_by_code(firm_a):
    with tenant_context(firm_a):
        existing = PriceItemFactory(code="YQ-001", unit_price=Decimal("30.00"), description="keep")
        content = sheet(
            [
                ["code", "Item", "Trade category", "类型", "Unit", "Unit price", "成本价", "Active"],
                ["YQ-001", "墙面乳胶漆", "Painting", "人工辅材", "m²", "1,032.5", None, "no"],
                ["NW-001", "地面找平", "泥瓦", "Labour", "m²", 45, 29, ""],
                [1001, "水路改造", "plumbing_electrical", "main_material", "m", 85.1, "55", "启用"],
            ]
        )
        result = library.price_items_import(rows=read_price_item_rows(upload(content), with_costs=True))
        existing.refresh_from_db()
        new = {item.code: item for item in PriceItem.objects.exclude(pk=existing.pk)}

    assert (result.created, result.updated, result.unchanged) == (2, 1, 0)
    assert existing.unit_price == Decimal("1032.50") and not existing.is_active and existing.description == "keep"
    assert new["NW-001"].trade == "masonry" and new["NW-001"].kind == "labour"
    assert new["1001"].unit_price == Decimal("85.10") and new["1001"].kind == "main_material"


def test_an_import_marks_the_items_it_changes_as_updated_and_leaves_the_others(firm_a):
    long_ago = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    with tenant_context(firm_a):
        with time_machine.travel(long_ago, tick=False):
            changed = PriceItemFactory(code="YQ-001", name="墙面乳胶漆", unit_price=Decimal("30.00"))
            same = PriceItemFactory(code="YQ-002", name="顶面乳胶漆", unit_price=Decimal("28.00"))
        content = sheet([["code", "unit_price"], ["YQ-001", 32], ["YQ-002", 28]])
        result = library.price_items_import(rows=read_price_item_rows(upload(content), with_costs=True))
        changed.refresh_from_db()
        same.refresh_from_db()
    assert (result.updated, result.unchanged) == (1, 1)
    assert changed.unit_price == Decimal("32.00") and changed.updated_at > long_ago
    assert same.updated_at == long_ago


def test_files_that_are_not_xlsx_or_too_large_are_refused(firm_a, monkeypatch):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("hello.txt", "not a workbook")
    for content in (b"code,name\nA,B\n", archive.getvalue(), b"PK\x03\x04broken"):
        with pytest.raises(ValidationError) as refused:
            read_price_item_rows(upload(content), with_costs=True)
        assert "XLSX" in refused.value.message_dict["file"][0]
    monkeypatch.setattr(library_xlsx, "MAX_ROWS", 2)
    with pytest.raises(ValidationError) as too_many:
        read_price_item_rows(upload(sheet([["code"], ["A"], ["B"], ["C"]])), with_costs=True)
    assert "5,000 rows" in too_many.value.message_dict["file"][0]
    with pytest.raises(ValidationError) as costs:
        read_price_item_rows(upload(sheet([["code", "cost_price"], ["A", 1]])), with_costs=False)
    assert "cost price" in costs.value.message_dict["file"][0]


# Pages ------------------------------------------------------------------------------------------------------------


def test_the_list_filters_and_shows_costs_only_to_those_who_may_see_them(firm_a):
    with tenant_context(firm_a):
        PriceItemFactory(code="SD-001", name="水路改造", trade="plumbing_electrical", cost_price=Decimal("55.55"))
        PriceItemFactory(code="YQ-001", name="乳胶漆", cost_price=Decimal("24.50"))
        PriceItemFactory(code="YQ-002", name="旧乳胶漆", is_active=False)
    admin, sales = session(firm_a), session(firm_a, "sales")

    page = admin.get("/contracts/price-items/", {"trade": "plumbing_electrical"}).content.decode()
    assert "SD-001" in page and "YQ-001" not in page and "55.55" in page
    page = sales.get("/contracts/price-items/", {"q": "乳胶"}).content.decode()
    assert "YQ-001" in page and "YQ-002" not in page and "24.50" not in page and "Cost price" not in page
    assert "YQ-002" in sales.get("/contracts/price-items/", {"status": "retired"}).content.decode()
    assert "New item" not in page
    exported = load_workbook(io.BytesIO(sales.get("/contracts/price-items/export/").content)).worksheets[0]
    assert "Cost price (cost_price)" not in [cell.value for cell in exported[1]] and exported.max_row == 4


def test_the_list_pages_in_code_order(firm_a, monkeypatch):
    monkeypatch.setattr(library_selectors, "PAGE_SIZE", 2)
    with tenant_context(firm_a):
        for code in ("C", "A", "B"):
            PriceItemFactory(code=code)
    admin = session(firm_a)
    first = admin.get("/contracts/price-items/")
    assert [item.code for item in first.context["items"]] == ["A", "B"] and first.context["next_after"] == "B"
    assert [item.code for item in admin.get("/contracts/price-items/?after=B").context["items"]] == ["C"]


def test_an_admin_creates_edits_and_retires_an_item_on_the_pages(firm_a):
    admin = session(firm_a)
    data = {"code": "MG-001", "name": "石膏板吊顶", "kind": "labour_material", "trade": "carpentry", "unit": "m²"}
    bad = admin.post("/contracts/price-items/new/", {**data, "unit_price": "145.123", "cost_price": "95"})
    assert bad.status_code == 200 and bad.context["form"].errors["unit_price"]
    assert (
        admin.post("/contracts/price-items/new/", {**data, "unit_price": "145", "cost_price": "95"}).status_code == 302
    )
    with tenant_context(firm_a):
        item = PriceItem.objects.get(code="MG-001")
    assert item.cost_price == Decimal("95.00")
    taken = admin.post("/contracts/price-items/new/", {**data, "unit_price": "1"})
    assert "already used" in taken.context["form"].errors["code"][0]
    admin.post(f"/contracts/price-items/{item.pk}/", {**data, "unit_price": "150", "cost_price": "96"})
    admin.post(f"/contracts/price-items/{item.pk}/retire/")
    with tenant_context(firm_a):
        item.refresh_from_db()
    assert item.unit_price == Decimal("150.00") and not item.is_active


def test_a_role_without_library_manage_reads_but_may_not_change_the_library(firm_a):
    with tenant_context(firm_a):
        item = PriceItemFactory(cost_price=Decimal("24.50"))
        package = PricePackageLineFactory(package__name="全包").package
    designer = session(firm_a, "designer")
    assert designer.get("/contracts/price-items/").status_code == 200
    page = designer.get(f"/contracts/price-items/{item.pk}/")
    assert page.status_code == 200 and "24.50" not in page.content.decode() and page.context["form"] is None
    for url in ("/contracts/price-items/new/", "/contracts/price-items/import/", "/contracts/packages/new/"):
        assert designer.get(url).status_code == 403, url
    assert designer.post(f"/contracts/price-items/{item.pk}/", {"code": "X"}).status_code == 403
    assert designer.post(f"/contracts/price-items/{item.pk}/retire/").status_code == 403
    assert designer.post(f"/contracts/packages/{package.pk}/retire/").status_code == 403
    assert designer.get(f"/contracts/packages/{package.pk}/").status_code == 200
    customer_service = session(firm_a, "customer_service")
    assert customer_service.get("/contracts/price-items/").status_code == 403


def test_the_import_page_shows_counts_or_the_rows_to_fix(firm_a):
    admin = session(firm_a)
    assert admin.get("/contracts/price-items/import/").status_code == 200
    good = sheet([["code", "name", "trade", "unit", "unit_price"], ["FS-001", "卫生间防水", "防水", "m²", 85]])
    done = admin.post("/contracts/price-items/import/", {"file": upload(good)})
    assert done.status_code == 200 and done.context["result"].created == 1
    bad = sheet([["code", "name", "trade", "unit", "unit_price"], ["FS-002", "厨房防水", "防水", "m²", "x"]])
    refused = admin.post("/contracts/price-items/import/", {"file": upload(bad)})
    assert refused.status_code == 400 and "Row 2: unit price must be a number." in refused.content.decode()
    not_xlsx = admin.post("/contracts/price-items/import/", {"file": upload(b"hello", name="a.csv")})
    assert not_xlsx.status_code == 400 and "not an XLSX file" in not_xlsx.content.decode()
    with tenant_context(firm_a):
        assert list(PriceItem.objects.values_list("code", flat=True)) == ["FS-001"]


def test_the_suggestions_put_code_matches_first_and_hide_costs(firm_a):
    with tenant_context(firm_a):
        PriceItemFactory(code="AB-100", name="石膏板 SD 辅料")
        PriceItemFactory(code="SD-002", name="电路改造", cost_price=Decimal("24.00"), brand_model="公牛 BV2.5")
        PriceItemFactory(code="SD-001", name="水路改造")
        PriceItemFactory(code="SD-003", name="旧项目", is_active=False)
    found = session(firm_a, "sales").get("/contracts/price-items/suggest/", {"q": "sd"}).json()["results"]
    assert [row["code"] for row in found] == ["SD-001", "SD-002", "AB-100"]
    assert found[1] == {
        "id": found[1]["id"],
        "code": "SD-002",
        "name": "电路改造",
        "kind": "labour_material",
        "unit": "m²",
        "unit_price": "38.00",
        "cost_price": None,
        "trade": "painting",
        "trade_label": "Painting",
        "brand_model": "公牛 BV2.5",
    }
    finance = session(firm_a, "finance").get("/contracts/price-items/suggest/", {"q": "SD-002"}).json()
    assert finance["results"][0]["cost_price"] == "24.00"
    limited = session(firm_a).get("/contracts/price-items/suggest/", {"q": "", "limit": "1"}).json()
    assert len(limited["results"]) == 1


def test_an_admin_builds_a_package_with_lines_on_the_page(firm_a):
    with tenant_context(firm_a):
        paint = PriceItemFactory(code="YQ-003", unit_price=Decimal("22.00"))
        toilet = PriceItemFactory(code="ZC-009", unit="套", unit_price=Decimal("1680.00"))
    admin = session(firm_a)
    form = admin.get("/contracts/packages/new/")
    # Each line picks its item with the library's type-ahead: the page does not list the whole library.
    page = form.content.decode()
    assert form.status_code == 200 and 'data-suggest-url="/contracts/price-items/suggest/"' in page
    assert 'name="lines-0-item"' in page and 'type="hidden" name="lines-0-price_item"' in page
    assert "YQ-003" not in page and "ZC-009" not in page
    post = {
        "name": "全包 按面积",
        "package_type": "full",
        "description": "",
        "lines-TOTAL_FORMS": "3",
        "lines-INITIAL_FORMS": "0",
        "lines-0-price_item": str(toilet.pk),
        "lines-0-room": "卫生间",
        "lines-0-basis": "fixed",
        "lines-0-quantity": "1",
        "lines-0-ORDER": "2",
        "lines-1-price_item": str(paint.pk),
        "lines-1-room": "全屋",
        "lines-1-basis": "per_area",
        "lines-1-quantity": "2.6",
        "lines-1-ORDER": "1",
        "lines-2-basis": "fixed",
    }
    created = admin.post("/contracts/packages/new/", post)
    assert created.status_code == 302, created.context and created.context["formset"].errors
    with tenant_context(firm_a):
        package = PricePackage.objects.get()
        assert list(package.lines.values_list("room", "basis")) == [("全屋", "per_area"), ("卫生间", "fixed")]
    preview = admin.get(f"/contracts/packages/{package.pk}/", {"area": "100"})
    assert preview.context["per_m2"] == Decimal("57.20") and preview.context["preview_total"] == Decimal("7400.00")
    # The saved lines show their items: code and name, the id in the hidden field.
    shown = preview.content.decode()
    assert "YQ-003" in shown and "ZC-009" in shown and f'name="lines-0-price_item" value="{paint.pk}"' in shown
    # Removing a line: tick its delete box.
    edit = {
        **post,
        "lines-TOTAL_FORMS": "2",
        "lines-INITIAL_FORMS": "2",
        "lines-0-price_item": str(paint.pk),
        "lines-0-ORDER": "1",
        "lines-0-basis": "per_area",
        "lines-0-quantity": "2.6",
        "lines-0-room": "全屋",
        "lines-1-price_item": str(toilet.pk),
        "lines-1-ORDER": "2",
        "lines-1-DELETE": "on",
    }
    assert admin.post(f"/contracts/packages/{package.pk}/", edit).status_code == 302
    with tenant_context(firm_a):
        assert package.lines.count() == 1
    assert "全包 按面积" in admin.get("/contracts/packages/").content.decode()


def test_another_firms_items_and_packages_are_not_found(firm_a, firm_b):
    with tenant_context(firm_a):
        item = PriceItemFactory(code="A-1")
        package = PricePackageFactory()
    intruder = session(firm_b)
    for url in (f"/contracts/price-items/{item.pk}/", f"/contracts/packages/{package.pk}/"):
        assert intruder.get(url).status_code == 404
    assert intruder.post(f"/contracts/price-items/{item.pk}/retire/").status_code == 404
    assert intruder.get("/contracts/price-items/suggest/", {"q": "A"}).json() == {"results": []}
    headers = key_headers(firm_b, list(SCOPES))
    assert Client().get(f"/api/v1/price-items/{item.pk}/", **headers).status_code == 404
    assert Client().get(f"/api/v1/price-packages/{package.pk}/", **headers).status_code == 404
    with tenant_context(firm_a):
        other_item = PriceItemFactory()
    line = {"price_item": other_item.pk, "basis": "fixed", "quantity": "1"}
    made = Client().post(
        "/api/v1/price-packages/",
        {"name": "x", "package_type": "half", "lines": [line]},
        content_type="application/json",
        **headers,
    )
    assert made.status_code == 400 and "lines" in made.json()["error"]["fields"]


def test_a_package_line_names_an_item_of_the_firm_and_a_retired_one_only_if_the_package_has_it(firm_a, firm_b):
    with tenant_context(firm_a):
        kept = PriceItemFactory(code="OLD-1")
        package = PricePackageLineFactory(package__name="半包", price_item=kept, quantity=Decimal("1")).package
        library.price_item_retire(item=kept)
        retired = PriceItemFactory(code="OLD-2", is_active=False)
    with tenant_context(firm_b):
        theirs = PriceItemFactory(code="B-1")
    admin = session(firm_a)
    page = admin.get(f"/contracts/packages/{package.pk}/").content.decode()
    assert "OLD-1" in page and "Retired" in page

    def post(*price_items):
        data = {
            "name": "半包",
            "package_type": "half",
            "description": "",
            "lines-TOTAL_FORMS": str(len(price_items)),
            "lines-INITIAL_FORMS": "0",
        }
        for number, pk in enumerate(price_items):
            data.update(
                {
                    f"lines-{number}-price_item": str(pk),
                    f"lines-{number}-item": "typed",
                    f"lines-{number}-basis": "fixed",
                    f"lines-{number}-quantity": "2",
                    f"lines-{number}-ORDER": str(number + 1),
                }
            )
        return admin.post(f"/contracts/packages/{package.pk}/", data)

    for unknown in (theirs.pk, ""):
        refused = post(kept.pk, unknown)
        assert refused.status_code == 200
        assert refused.context["formset"].forms[1].errors["item"] == ["Choose an item from the library."]
    refused = post(kept.pk, retired.pk)
    errors = refused.context["formset"].non_form_errors()
    assert refused.status_code == 200 and errors == [
        f"Line 2: {retired} is retired; reactivate it in the library first."
    ]
    assert post(kept.pk).status_code == 302
    with tenant_context(firm_a):
        assert list(package.lines.values_list("price_item__code", "quantity")) == [("OLD-1", Decimal("2.000"))]


def test_a_reader_sees_the_package_without_its_form_and_an_admin_retires_and_reactivates(firm_a):
    with tenant_context(firm_a):
        item = PriceItemFactory(code="YQ-009", is_active=False)
        package = PricePackageLineFactory(package__name="全包", price_item=item).package
    designer = session(firm_a, "designer")
    read = designer.get(f"/contracts/packages/{package.pk}/")
    assert read.status_code == 200 and read.context["form"] is None and read.context["formset"] is None
    assert "YQ-009" in read.content.decode() and "package-form" not in read.content.decode()
    admin = session(firm_a)
    page = admin.get(f"/contracts/packages/{package.pk}/").content.decode()
    assert f"/contracts/packages/{package.pk}/retire/" in page
    assert admin.post(f"/contracts/packages/{package.pk}/retire/").status_code == 302
    page = admin.get(f"/contracts/packages/{package.pk}/").content.decode()
    assert f"/contracts/packages/{package.pk}/reactivate/" in page and 'data-testid="package-retired"' in page
    assert admin.post(f"/contracts/packages/{package.pk}/reactivate/").status_code == 302
    item_page = admin.get(f"/contracts/price-items/{item.pk}/").content.decode()
    assert f"/contracts/price-items/{item.pk}/reactivate/" in item_page
    assert admin.post(f"/contracts/price-items/{item.pk}/reactivate/").status_code == 302
    assert (
        f"/contracts/price-items/{item.pk}/retire/" in admin.get(f"/contracts/price-items/{item.pk}/").content.decode()
    )
    with tenant_context(firm_a):
        package.refresh_from_db()
        item.refresh_from_db()
    assert package.is_active and item.is_active
    assert designer.post(f"/contracts/price-items/{item.pk}/retire/").status_code == 403


# API --------------------------------------------------------------------------------------------------------------


def test_the_api_lists_filters_and_leaves_costs_null_without_costs_read(firm_a):
    with tenant_context(firm_a):
        PriceItemFactory(code="SD-001", trade="plumbing_electrical", cost_price=Decimal("55.00"))
        PriceItemFactory(code="YQ-001", cost_price=Decimal("24.50"), is_active=False)
    client = Client()
    plain = client.get("/api/v1/price-items/", **key_headers(firm_a, ["contracts:read"])).json()["results"]
    assert {row["code"]: row["cost_price"] for row in plain} == {"SD-001": None, "YQ-001": None}
    with_costs = key_headers(firm_a, ["contracts:read", "costs:read"])
    rows = client.get("/api/v1/price-items/", {"trade": "plumbing_electrical"}, **with_costs).json()["results"]
    assert [(row["code"], row["cost_price"]) for row in rows] == [("SD-001", "55.00")]
    rows = client.get("/api/v1/price-items/", {"active": "false", "q": "YQ"}, **with_costs).json()["results"]
    assert [row["code"] for row in rows] == ["YQ-001"]


def test_the_api_creates_updates_and_retires_items(firm_a):
    client, writer = Client(), key_headers(firm_a, ["contracts:read", "contracts:write"])
    body = {"code": "FS-001", "name": "卫生间防水", "trade": "waterproofing", "unit": "m²", "unit_price": "85.00"}
    costly = client.post(
        "/api/v1/price-items/", {**body, "cost_price": "52"}, content_type="application/json", **writer
    )
    assert costly.status_code == 400 and "cost_price" in costly.json()["error"]["fields"]
    created = client.post("/api/v1/price-items/", body, content_type="application/json", **writer)
    assert created.status_code == 201, created.content
    assert created.json()["cost_price"] is None
    again = client.post("/api/v1/price-items/", body, content_type="application/json", **writer)
    assert again.status_code == 400 and "code" in again.json()["error"]["fields"]
    pk = created.json()["id"]
    retired = client.patch(
        f"/api/v1/price-items/{pk}/", {"is_active": False}, content_type="application/json", **writer
    )
    assert retired.status_code == 200 and retired.json()["is_active"] is False
    reader = key_headers(firm_a, ["contracts:read"])
    refused = client.patch(f"/api/v1/price-items/{pk}/", {"unit_price": "1"}, content_type="application/json", **reader)
    assert refused.status_code == 403
    # A designer may quote (contracts.manage) but not reprice the library.
    designer = session(firm_a, "designer")
    assert designer.get(f"/api/v1/price-items/{pk}/").status_code == 200
    assert (
        designer.patch(f"/api/v1/price-items/{pk}/", {"unit_price": "1"}, content_type="application/json").status_code
        == 403
    )
    admin = session(firm_a)
    patched = admin.patch(f"/api/v1/price-items/{pk}/", {"cost_price": "52.00"}, content_type="application/json")
    assert patched.status_code == 200 and patched.json()["cost_price"] == "52.00"


def test_the_api_refuses_a_cost_from_a_caller_without_costs_read_but_takes_a_null_one(firm_a):
    with tenant_context(firm_a):
        item = PriceItemFactory(code="FS-002", cost_price=Decimal("52.00"))
    client, url = Client(), f"/api/v1/price-items/{item.pk}/"
    writer = key_headers(firm_a, ["contracts:read", "contracts:write"])
    costly = client.patch(url, {"cost_price": "1.00"}, content_type="application/json", **writer)
    assert costly.status_code == 400
    assert costly.json()["error"]["fields"] == {"cost_price": ["Setting cost prices needs costs:read (costs.view)."]}
    # Null is leaving it out: the rest of the change is saved, the cost price stays.
    nulled = client.patch(url, {"cost_price": None, "unit_price": "90.00"}, content_type="application/json", **writer)
    assert nulled.status_code == 200 and nulled.json()["cost_price"] is None
    with tenant_context(firm_a):
        item.refresh_from_db()
    assert (item.unit_price, item.cost_price) == (Decimal("90.00"), Decimal("52.00"))
    # One who may see costs gives a number.
    costs = key_headers(firm_a, ["contracts:read", "contracts:write", "costs:read"])
    assert client.patch(url, {"cost_price": None}, content_type="application/json", **costs).status_code == 400
    assert client.patch(url, {"cost_price": "50"}, content_type="application/json", **costs).json()["cost_price"] == (
        "50.00"
    )


def test_the_api_import_answers_row_errors_or_counts(firm_a):
    client, writer = Client(), key_headers(firm_a, ["contracts:read", "contracts:write"])
    bad = sheet([["code", "name", "trade", "unit", "unit_price"], ["A-1", "x", "油漆", "m²", "ten"]])
    refused = client.post("/api/v1/price-items/import/", {"file": upload(bad)}, **writer)
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"]["file"] == ["Row 2: unit price must be a number."]
    good = sheet([["code", "name", "trade", "unit", "unit_price"], ["A-1", "x", "油漆", "m²", 10]])
    done = client.post("/api/v1/price-items/import/", {"file": upload(good)}, **writer)
    assert done.status_code == 200 and done.json() == {"created": 1, "updated": 0, "unchanged": 0}
    costs = sheet([["code", "cost_price"], ["A-1", 5]])
    assert client.post("/api/v1/price-items/import/", {"file": upload(costs)}, **writer).status_code == 400


def test_the_api_creates_and_replaces_package_lines(firm_a):
    with tenant_context(firm_a):
        paint, tiles = PriceItemFactory(code="YQ-003"), PriceItemFactory(code="ZC-001")
    client, writer = Client(), key_headers(firm_a, ["contracts:read", "contracts:write"])
    body = {
        "name": "全包",
        "package_type": "full",
        "lines": [
            {"room": "全屋", "price_item": paint.pk, "basis": "per_area", "quantity": "2.600"},
            {"room": "客厅", "price_item": tiles.pk, "basis": "fixed", "quantity": "30"},
        ],
    }
    created = client.post("/api/v1/price-packages/", body, content_type="application/json", **writer)
    assert created.status_code == 201, created.content
    lines = created.json()["lines"]
    assert [(line["position"], line["code"], line["quantity"]) for line in lines] == [
        (1, "YQ-003", "2.600"),
        (2, "ZC-001", "30.000"),
    ]
    pk = created.json()["id"]
    replaced = client.patch(
        f"/api/v1/price-packages/{pk}/",
        {"lines": [{"price_item": tiles.pk, "basis": "fixed", "quantity": "31"}], "is_active": False},
        content_type="application/json",
        **writer,
    )
    assert replaced.status_code == 200 and [line["code"] for line in replaced.json()["lines"]] == ["ZC-001"]
    listed = client.get("/api/v1/price-packages/", {"active": "false"}, **writer).json()["results"]
    assert [package["id"] for package in listed] == [pk]
    with tenant_context(firm_a):
        assert PricePackageLine.objects.count() == 1


def test_the_demo_library_is_realistic_and_seeds_once(firm_a):
    from contracts.demo_library import seed_price_library

    with tenant_context(firm_a):
        packages = seed_price_library()
        assert PriceItem.objects.count() >= 150
        assert set(PriceItem.objects.values_list("trade", flat=True)) >= {
            "demolition",
            "plumbing_electrical",
            "masonry",
            "waterproofing",
            "carpentry",
            "painting",
            "installation",
            "main_materials",
        }
        assert {package.package_type for package in packages} == {"full", "half"} and len(packages) == 3
        assert not PriceItem.objects.filter(cost_price__gte=F("unit_price")).exists()
        lines = library.package_lines_for(packages[0], Decimal("89.00"))
        assert len(lines) > 20 and all(line["quantity"] >= 0 for line in lines)
        seed_price_library()
        assert PricePackage.objects.count() == 3
