"""The quotation editor in a real browser: lines picked from the item library by typing and Enter, saved
without a page load, an error shown on its line with what was typed, and the lines as cards on a phone."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from contracts.services import quotations
from renocrm.accounts.roles import Role
from renocrm.tenancy.context import tenant_context
from tests.contracts.factories import PriceItemFactory
from tests.factories import MembershipFactory, TenantFactory, UserFactory
from tests.leads.factories import LeadFactory
from tests.ui.browser import SCREENSHOTS, log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def draft(transactional_db):
    firm = TenantFactory(name="安居装饰", slug="anju")
    admin = UserFactory(username="zhang", name="张经理", language="en")
    MembershipFactory(user=admin, tenant=firm, role=Role.ADMIN)
    with tenant_context(firm):
        PriceItemFactory(
            code="YQ-01",
            name="Wall latex paint",
            trade="painting",
            unit="m²",
            unit_price=Decimal("38.00"),
            cost_price=Decimal("17.77"),
        )
        PriceItemFactory(
            code="WG-01",
            name="Floor tiles laying",
            trade="masonry",
            unit="m²",
            unit_price=Decimal("65.00"),
            cost_price=Decimal("41.00"),
        )
        quotation = quotations.quotation_create(lead=LeadFactory(), title="Three-bedroom flat", by=admin)
        return quotation.versions.get()


def test_lines_are_picked_from_the_library_by_keyboard_and_saved_without_a_page_load(browser, live_server, draft):
    page = browser.new_page(locale="en-US", viewport={"width": 1280, "height": 900})
    page.set_extra_http_headers({"Accept-Language": "en"})
    log_in(page, live_server, "zhang")
    page.goto(f"{live_server.url}/contracts/versions/{draft.pk}/")
    page.evaluate("window.loadedOnce = true")  # gone if the page reloads

    page.locator("[name=items-0-room]").fill("Living room")
    name = page.locator("[name=items-0-name]")
    name.click()
    name.press_sequentially("paint", delay=30)
    expect(page.locator("#items-0-suggest li")).to_have_count(1)
    name.press("Enter")
    expect(page.locator("[name=items-0-quantity]")).to_be_focused()
    expect(page.locator("[name=items-0-unit_price]")).to_have_value("38.00")
    expect(page.locator("[name=items-0-category]")).to_have_value("painting")
    page.locator("[name=items-0-quantity]").fill("10")
    page.keyboard.press("Enter")

    # Saved: the next blank line is ready in the same room, the total updated, the page never reloaded.
    expect(page.locator("[name=items-1-name]")).to_be_focused()
    expect(page.locator("[name=items-1-room]")).to_have_value("Living room")
    expect(page.get_by_test_id("version-total")).to_have_text("¥380.00")
    page.keyboard.type("WG", delay=30)
    expect(page.locator("#items-1-suggest li")).to_have_count(1)
    page.keyboard.press("Enter")
    page.keyboard.type("12.5")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("version-total")).to_have_text("¥1192.50")

    # A free line with a discount larger than the line: refused on the line, what was typed kept.
    page.locator("[name=items-2-room]").fill("Kitchen")
    page.locator("[name=items-2-name]").fill("Custom shelf")
    page.locator("[name=items-2-category]").select_option("carpentry")
    page.locator("[name=items-2-unit]").fill("pc")
    page.locator("[name=items-2-quantity]").fill("1")
    page.locator("[name=items-2-unit_price]").fill("200")
    page.locator("[name=items-2-discount]").fill("250")
    page.keyboard.press("Enter")
    expect(page.locator(".q-line--error")).to_have_count(1)
    expect(page.locator("[name=items-2-name]")).to_have_value("Custom shelf")
    expect(page.locator("[name=items-2-discount]")).to_be_focused()
    page.locator("[name=items-2-discount]").fill("20")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("version-total")).to_have_text("¥1372.50")
    expect(page.get_by_test_id("room")).to_have_count(2)
    assert page.evaluate("window.loadedOnce") is True
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    page.screenshot(path=SCREENSHOTS / "quotation-editor.png", full_page=True)

    phone = browser.new_page(locale="en-US", viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True)
    phone.set_extra_http_headers({"Accept-Language": "en"})
    log_in(phone, live_server, "zhang")
    phone.goto(f"{live_server.url}/contracts/versions/{draft.pk}/")
    expect(phone.locator("[name=items-0-name]")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    phone.screenshot(path=SCREENSHOTS / "quotation-editor-phone.png", full_page=True)
