"""A lead taken from its first call to a signed contract through the staff pages, with the homeowner
accepting the quotation on a phone through the signed link, in a real browser."""

import pytest
from playwright.sync_api import expect

from contracts.models import Contract
from leads.models import Lead
from renocrm.accounts.roles import Role
from renocrm.tenancy.context import tenant_context
from tests.factories import MembershipFactory, TenantFactory, UserFactory
from tests.ui.browser import SCREENSHOTS, go, log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def sales(transactional_db):
    firm = TenantFactory(name="安居装饰", slug="anju")
    user = UserFactory(username="lina", name="李娜", language="en")
    MembershipFactory(user=user, tenant=firm, role=Role.SALES)
    return firm


def fill_row(page, prefix, n, values):
    for field, value in values.items():
        locator = page.locator(f"[name={prefix}-{n}-{field}]")
        if locator.evaluate("el => el.tagName") == "SELECT":
            locator.select_option(value)
        else:
            locator.fill(value)


def test_lead_to_signed_contract(browser, live_server, sales):
    page = browser.new_page(locale="en-US", viewport={"width": 1280, "height": 900})
    page.set_extra_http_headers({"Accept-Language": "en"})
    log_in(page, live_server, "lina")

    # A showroom visitor becomes a lead.
    page.goto(f"{live_server.url}/leads/new/")
    page.locator("[name=name]").fill("王芳")
    page.locator("[name=mobile]").fill("138 0013 8000")
    page.locator("[name=channel]").select_option("showroom")
    page.locator("[name=style_preferences]").fill("Modern, light wood")
    go(page, page.get_by_role("button", name="Save"))
    expect(page.locator("h1")).to_contain_text("王芳")

    # The first call, then the measurement.
    page.locator("[name=fu-kind]").select_option("call")
    page.locator("[name=fu-outcome]").fill("Booked the measurement for Saturday")
    go(page, page.get_by_role("button", name="Save follow-up"))
    expect(page.locator("h1")).to_contain_text("Contacted")
    page.locator("[name=st-status]").select_option("measured")
    go(page, page.get_by_role("button", name="Change status"))
    expect(page.locator("h1")).to_contain_text("Measured")

    # A quotation with two lines; the total is computed to the cent.
    go(page, page.get_by_role("link", name="New quotation"))
    page.locator("[name=title]").fill("Three-bedroom flat")
    go(page, page.get_by_role("button", name="Save"))
    fill_row(
        page,
        "items",
        0,
        {"category": "masonry", "name": "Floor tiles laying", "unit": "m²", "quantity": "80", "unit_price": "65"},
    )
    # Enter saves the line without a page load and opens the next blank line.
    page.locator("[name=items-0-quantity]").press("Enter")
    expect(page.locator("[name=items-1-name]")).to_be_focused()
    fill_row(
        page,
        "items",
        1,
        {"category": "plumbing_electrical", "name": "Rewiring", "unit": "m", "quantity": "12.5", "unit_price": "33.33"},
    )
    page.get_by_role("button", name="Save line items").click()
    expect(page.get_by_test_id("version-total")).to_have_text("¥5616.63")
    page.screenshot(path=SCREENSHOTS / "quotation-draft.png", full_page=True)
    go(page, page.get_by_role("button", name="Mark as sent (handed over in person)"))
    expect(page.get_by_test_id("version-status")).to_have_text("Sent")
    link = page.get_by_test_id("homeowner-link").input_value()
    version_url = page.url

    # The homeowner opens the link on a phone, with no account, and signs with a finger.
    phone = browser.new_context(
        locale="zh-CN", viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True
    ).new_page()
    phone.goto(link)
    expect(phone.get_by_test_id("items")).to_contain_text("Floor tiles laying")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    phone.locator("[name=agree]").check()
    go(phone, phone.locator("button[type=submit]").last)
    expect(phone.locator(".field__error")).to_have_count(1)  # nothing drawn yet: asked to sign
    phone.get_by_test_id("signature-pad").scroll_into_view_if_needed()
    pad = phone.get_by_test_id("signature-pad").bounding_box()
    phone.mouse.move(pad["x"] + 20, pad["y"] + 30)
    phone.mouse.down()
    for step in range(1, 12):
        phone.mouse.move(pad["x"] + 20 + step * 25, pad["y"] + 30 + (step % 3) * 15)
    phone.mouse.up()
    phone.locator("[name=agree]").check()
    phone.screenshot(path=SCREENSHOTS / "homeowner-accept-phone.png", full_page=True)
    go(phone, phone.locator("button[type=submit]").last)
    expect(phone.get_by_test_id("accepted")).to_contain_text("¥5616.63")

    # Back in the office: the acceptance is there with the signature; sign the contract.
    page.goto(version_url)
    expect(page.get_by_test_id("version-status")).to_have_text("Accepted")
    expect(page.get_by_test_id("acceptance")).to_contain_text("王芳")
    expect(page.locator("img.signature")).to_be_visible()
    go(page, page.get_by_role("link", name="Sign the contract"))
    page.locator("[name=package_type]").select_option("full")
    page.locator("[name=planned_start]").fill("2026-12-01")
    page.locator("[name=planned_end]").fill("2026-11-01")
    go(page, page.get_by_role("button", name="Sign the contract"))
    expect(page.locator(".field__error")).to_contain_text("before the planned start")
    page.locator("[name=planned_end]").fill("2027-03-01")
    go(page, page.get_by_role("button", name="Sign the contract"))
    expect(page.locator("h1")).to_contain_text("Contract HT")
    expect(page.get_by_test_id("contract-amount")).to_have_text("¥5616.63")
    expect(page.get_by_test_id("instalments").locator("tbody tr")).to_have_count(3)
    page.screenshot(path=SCREENSHOTS / "contract-signed.png", full_page=True)

    with tenant_context(sales):
        contract = Contract.objects.select_related("project__lead").get()
        assert contract.project.lead.status == Lead.Status.WON
        assert sum(i.amount for i in contract.instalments.all()) == contract.amount
        assert contract.quotation_version.accepted_via == "homeowner_link"
