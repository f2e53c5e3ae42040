"""The Content-Security-Policy in a real browser: the main pages, the API docs and the error pages work
under it with nothing blocked (the browser fixture fails any test that had a violation), and the browser
really does block what the policy forbids."""

import pytest
from playwright.sync_api import expect

from renocrm.accounts.roles import Role
from tests.factories import MembershipFactory, TenantFactory, UserFactory
from tests.ui.browser import log_in

pytestmark = pytest.mark.browser

PAGES = ["/", "/leads/", "/callbacks/", "/audit/", "/integrations/", "/integrations/guide/", "/privacy/"]


@pytest.fixture
def admin(transactional_db):
    firm = TenantFactory(name="安居装饰", slug="anju")
    user = UserFactory(username="manager", name="王芳")
    MembershipFactory(user=user, tenant=firm, role=Role.ADMIN)
    return user


def test_main_pages_run_under_the_policy_with_nothing_blocked(browser, live_server, admin):
    page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 800})
    response = page.goto(f"{live_server.url}/accounts/login/")
    policy = response.header_value("content-security-policy")
    assert "script-src 'self'" in policy and "style-src 'self'" in policy and "unsafe" not in policy
    log_in(page, live_server, "manager")

    for path in PAGES:
        response = page.goto(f"{live_server.url}{path}", wait_until="load")
        assert response.status == 200, path
        # htmx (served by the app) has loaded and run: nothing of it was blocked.
        page.wait_for_function("() => typeof window.htmx === 'object'")

    response = page.goto(f"{live_server.url}/no-such-page/")
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("页面不存在")
    assert response.header_value("content-security-policy") == policy

    # Swagger UI: its scripts come from this site and its start-up script is a request of its own.
    response = page.goto(f"{live_server.url}/api/docs/")
    assert "script-src 'self'" in response.header_value("content-security-policy")
    # The schema is built on this first request: seconds on a slow machine.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("RenoCRM API", timeout=60_000)
    expect(page.locator(".opblock").first).to_be_visible()
    assert browser.violations == []


def test_the_browser_blocks_an_injected_inline_script(browser, live_server, admin):
    page = browser.new_page(locale="en-GB")
    page.goto(f"{live_server.url}/accounts/login/")

    with pytest.raises(Exception):  # noqa: B017 — Playwright reports the refused script as a generic error
        page.add_script_tag(content="window.injected = true")

    assert page.evaluate("window.injected") is None
    assert any("script-src" in violation for violation in browser.violations)
    browser.violations.clear()
