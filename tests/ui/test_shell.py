"""The page shell in a real browser: sign in, switch language, and the phone layout."""

import pytest
from playwright.sync_api import expect

from renocrm.accounts.roles import Role
from renocrm.api.models import ApiKey
from renocrm.tenancy.context import tenant_context
from tests.factories import MembershipFactory, TenantFactory, UserFactory
from tests.ui.browser import SCREENSHOTS, go, log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def admin(transactional_db):
    firm = TenantFactory(name="安居装饰", slug="anju")
    other = TenantFactory(name="美家装饰", slug="bright-home")
    user = UserFactory(username="manager", name="王芳")
    MembershipFactory(user=user, tenant=firm, role=Role.ADMIN)
    MembershipFactory(user=user, tenant=other, role=Role.SALES)
    with tenant_context(firm, user_id=user.pk):
        for n in range(3):
            key = ApiKey.objects.create(name=f"partner-{n}", prefix=f"pk{n}", hashed_key="0" * 64)
        ApiKey.objects.filter(pk=key.pk).update(name="partner-renamed-with-a-rather-long-name-for-the-phone-layout")
    return user


def test_log_in_switch_language_and_see_the_dashboard(browser, live_server, admin):
    page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 800})

    log_in(page, live_server, "manager")

    expect(page.locator("h1")).to_have_text("王芳，您好")
    expect(page.get_by_test_id("firm-name")).to_have_text("安居装饰")
    expect(page.get_by_test_id("role")).to_have_text("企业管理员 / 总经理")
    expect(page.locator("nav.main-nav")).to_contain_text("审计日志")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    # htmx is served by the app itself and sends the CSRF token with every request it makes.
    page.wait_for_function("() => typeof window.htmx === 'object'")
    assert "X-CSRFToken" in page.locator("body").get_attribute("hx-headers")

    go(page, page.get_by_role("button", name="English"))
    expect(page.locator("h1")).to_have_text("Hello, 王芳")
    expect(page.locator("nav.main-nav")).to_contain_text("Audit log")
    expect(page.locator(".stage")).to_have_count(6)
    expect(page.locator(".stage").first).to_contain_text("Nothing to show yet.")
    page.screenshot(path=SCREENSHOTS / "dashboard-en.png", full_page=True)

    go(page, page.get_by_role("button", name="简体中文"))
    expect(page.locator("h1")).to_have_text("王芳，您好")
    expect(page.locator(".stage").first).to_contain_text("暂无内容。")
    page.screenshot(path=SCREENSHOTS / "dashboard-zh.png", full_page=True)

    go(page, page.get_by_role("link", name="审计日志"))
    expect(page.get_by_test_id("audit-row")).to_have_count(4)
    page.screenshot(path=SCREENSHOTS / "audit-zh.png", full_page=True)

    page.locator("summary", has_text="切换公司").click()
    go(page, page.get_by_role("button", name="美家装饰"))
    expect(page.get_by_test_id("firm-name")).to_have_text("美家装饰")
    expect(page.get_by_test_id("role")).to_have_text("客户经理")
    expect(page.locator("nav.main-nav")).not_to_contain_text("审计日志")


def test_phone_layout_has_no_horizontal_scroll_and_a_working_menu(browser, live_server, admin):
    page = browser.new_page(locale="zh-CN", viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True)
    log_in(page, live_server, "manager")
    expect(page.locator("h1")).to_have_text("王芳，您好")

    def assert_fits():
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"page is {width}px wide"

    nav = page.locator("nav.main-nav")
    toggle = page.locator("[data-menu-toggle]")
    expect(nav).to_be_hidden()
    assert_fits()
    page.screenshot(path=SCREENSHOTS / "phone-dashboard.png", full_page=True)

    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(nav).to_be_visible()
    expect(nav.get_by_role("link", name="审计日志")).to_be_visible()
    expect(page.get_by_role("button", name="English")).to_be_visible()
    assert_fits()
    page.screenshot(path=SCREENSHOTS / "phone-menu-open.png", full_page=True)

    go(page, nav.get_by_role("link", name="审计日志"))
    expect(page.get_by_test_id("audit-row")).to_have_count(4)
    expect(nav).to_be_hidden()
    assert_fits()
    page.screenshot(path=SCREENSHOTS / "phone-audit.png", full_page=True)
