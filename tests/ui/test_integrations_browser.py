"""The integrations pages in a real browser: a firm admin creates a partner's key with the grouped scope
checkboxes and copies it from the one page that shows it; the guide fits a phone (code scrolls inside)."""

import pytest
from playwright.sync_api import expect

from renocrm.api.models import ApiKey, hash_key
from renocrm.tenancy.context import tenant_context
from tests.factories import MembershipFactory, TenantFactory, UserFactory
from tests.ui.browser import SCREENSHOTS, go, log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def firm(transactional_db):
    firm = TenantFactory(name="安居装饰", slug="anju", language="en")
    MembershipFactory(user=UserFactory(username="boss", name="Wang Fang"), tenant=firm)
    return firm


def test_an_admin_creates_a_key_and_copies_it_once(browser, live_server, firm):
    page = browser.new_page(locale="en-GB", viewport={"width": 1280, "height": 900})
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    log_in(page, live_server, "boss")
    page.goto(f"{live_server.url}/integrations/")
    go(page, page.get_by_role("link", name="Manage API keys"))
    go(page, page.get_by_role("link", name="New API key"))

    page.get_by_label("Name").fill("Expo lead form")
    page.locator("input[value='leads:write']").check()
    page.get_by_label("Rate limit").fill("every minute")
    go(page, page.get_by_role("button", name="Create the key"))
    # Refused: what was typed and ticked is still there.
    expect(page.locator(".field__error")).to_contain_text("Use a rate such as 600/min")
    expect(page.get_by_label("Name")).to_have_value("Expo lead form")
    expect(page.locator("input[value='leads:write']")).to_be_checked()
    page.get_by_label("Rate limit").fill("120/min")
    go(page, page.get_by_role("button", name="Create the key"))

    secret = page.get_by_test_id("secret")
    raw_key = secret.input_value()
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == raw_key
    page.screenshot(path=SCREENSHOTS / "integrations-key-once.png", full_page=True)
    with tenant_context(firm):
        api_key = ApiKey.objects.get()
    assert api_key.hashed_key == hash_key(raw_key) and api_key.rate == "120/min"
    assert sorted(api_key.scopes) == ["leads:read", "leads:write"]

    go(page, page.get_by_role("link", name="Done"))
    expect(page.get_by_test_id(f"api-key-{api_key.pk}")).to_contain_text("Expo lead form")
    assert raw_key not in page.content()


def test_the_guide_fits_a_phone(browser, live_server, firm):
    page = browser.new_page(locale="en-GB", viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True)
    log_in(page, live_server, "boss")
    page.goto(f"{live_server.url}/integrations/guide/")
    expect(page.get_by_test_id("create-lead-curl")).to_contain_text(f"{live_server.url}/api/v1/leads/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=SCREENSHOTS / "integrations-guide-phone.png", full_page=True)
