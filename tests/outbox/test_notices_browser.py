"""The notice bell and the notices page in a real browser, on a phone and a wide screen: the count appears in
the header once the page has loaded, and opening a notice marks it read and goes to its page."""

import pytest
from playwright.sync_api import expect

from renocrm.accounts.roles import Role
from renocrm.tenancy.context import tenant_context
from tests.factories import MembershipFactory, TenantFactory, UserFactory
from tests.outbox.factories import StaffNoticeFactory
from tests.ui.browser import SCREENSHOTS, go, log_in
from tests.ui.conftest import browser  # noqa: F401 — the fixture

pytestmark = pytest.mark.browser

SCREENS = {
    "phone": {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True},
    "wide": {"viewport": {"width": 1280, "height": 800}},
}


@pytest.fixture
def agent(transactional_db):
    firm = TenantFactory(name="安居装饰有限公司", slug="anju")
    user = UserFactory(username="agent", name="李娜", phone="", email="", language="en")
    MembershipFactory(user=user, tenant=firm, role=Role.CUSTOMER_SERVICE)
    with tenant_context(firm):
        StaffNoticeFactory(user=user, subject="回访到期：王芳", body="回访到期：王芳（翠湖花园 3-1-602），电话回访。")
        StaffNoticeFactory(
            user=user, subject="投诉 #7（一级）：质量", body="请在 2027-03-02 12:00 前响应。", link="/callbacks/"
        )
    return user


@pytest.mark.parametrize("screen", SCREENS)
def test_the_bell_counts_and_a_notice_opens_its_page(browser, live_server, agent, screen):  # noqa: F811
    page = browser.new_page(locale="zh-CN", **SCREENS[screen])
    log_in(page, live_server, "agent")

    bell = page.get_by_test_id("notice-bell")
    expect(bell).to_be_visible()  # in the header's first row, without opening the menu
    expect(page.locator(".bell__badge")).to_have_text("2")
    width = SCREENS[screen]["viewport"]["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    go(page, bell)
    expect(page.locator("h1")).to_have_text("Notices")
    expect(page.locator(".notice--unread")).to_have_count(2)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=SCREENSHOTS / f"notices-{screen}.png", full_page=True)

    go(page, page.locator(".notice__open").first)  # the newest: the complaint, linking to its page
    assert page.url.endswith("/callbacks/")
    expect(page.locator(".bell__badge")).to_have_text("1")

    page.goto(f"{live_server.url}/notices/")
    go(page, page.get_by_test_id("read-all"))
    expect(page.locator(".notice--unread")).to_have_count(0)
    expect(page.locator(".bell__badge")).to_have_count(0)
