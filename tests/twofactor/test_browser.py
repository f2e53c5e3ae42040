"""Two-factor sign-in in a real browser: set it up from the QR page, sign out, sign in with a code."""

import base64
import re

import pytest
from playwright.sync_api import expect

from renocrm.accounts.roles import Role
from tests.factories import MembershipFactory, TenantFactory, UserFactory
from tests.twofactor.support import code_for
from tests.ui.browser import SCREENSHOTS, go, log_in
from tests.ui.conftest import browser  # noqa: F401  (the CSP-watching browser)

pytestmark = pytest.mark.browser


@pytest.fixture
def designer(transactional_db):
    firm = TenantFactory(name="Anju Decoration", slug="anju", language="en")
    user = UserFactory(username="designer", name="Li Na", language="en")
    MembershipFactory(user=user, tenant=firm, role=Role.DESIGNER)
    return user


def test_set_up_sign_out_and_sign_in_with_a_code(browser, live_server, designer):  # noqa: F811
    page = browser.new_page(locale="en-US", viewport={"width": 1280, "height": 900})
    log_in(page, live_server, "designer")

    page.goto(f"{live_server.url}/accounts/two-factor/")
    go(page, page.get_by_role("link", name="Set up two-factor sign-in"))
    expect(page.locator("svg.qr-code")).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "twofactor-setup.png", full_page=True)
    secret = page.get_by_test_id("twofactor-secret").inner_text().replace(" ", "")
    key = base64.b32decode(secret).hex()

    page.get_by_label("Code from your authenticator app").fill(code_for(key))
    go(page, page.get_by_role("button", name="Turn on"))
    codes = page.get_by_test_id("recovery-codes").locator("code")
    expect(codes).to_have_count(10)
    assert re.fullmatch(r"[a-z2-7]{4}-[a-z2-7]{4}", codes.first.inner_text())

    page.get_by_test_id("user-menu").click()
    go(page, page.get_by_role("button", name="Log out"))
    log_in(page, live_server, "designer")
    expect(page.locator("h1")).to_have_text("Enter your code")

    page.get_by_label("Code").fill(code_for(key, steps_ahead=1))
    go(page, page.get_by_role("button", name="Continue"))

    expect(page.locator("h1")).to_have_text("Hello, Li Na")
    page.goto(f"{live_server.url}/accounts/two-factor/")
    expect(page.get_by_test_id("codes-left")).to_have_text("10")
