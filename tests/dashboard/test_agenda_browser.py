"""My agenda in a real browser: on a desk the week is seven columns, a day opens from its heading and the
calendar address is made from the profile; on a phone the days stack without sideways scrolling, and the view
toggle and the arrows move through the days."""

import pytest
from playwright.sync_api import expect

from renocrm.accounts.roles import Role
from tests.dashboard.test_agenda import member, week_of_work
from tests.factories import TenantFactory
from tests.ui.browser import SCREENSHOTS, go, log_in
from tests.ui.conftest import browser  # noqa: F401 — the real-browser fixture

pytestmark = pytest.mark.browser

WEEK = "/agenda/?view=week&day=2026-03-18"


@pytest.fixture
def firm(transactional_db):
    firm = TenantFactory(name="安居装饰", slug="anju", language="en")
    user = member(firm, role=Role.ADMIN, username="jingli", name="Wang Fang", language="en")
    week_of_work(firm, user)
    return firm


def test_the_week_on_a_desk_and_a_day_on_a_phone(browser, live_server, firm):  # noqa: F811
    desk = browser.new_page(locale="en-US", viewport={"width": 1280, "height": 900})
    log_in(desk, live_server, "jingli")
    go(desk, desk.locator("nav.main-nav").get_by_role("link", name="My agenda"))
    expect(desk.locator("h1")).to_have_text("My agenda")
    desk.goto(f"{live_server.url}{WEEK}")
    days = desk.get_by_test_id("agenda-day")
    expect(days).to_have_count(7)
    first, second = days.nth(0).bounding_box(), days.nth(1).bounding_box()
    assert second["x"] > first["x"] and abs(second["y"] - first["y"]) < 1, "the week side by side"
    expect(days.nth(4)).to_contain_text("00:30")
    desk.screenshot(path=SCREENSHOTS / "agenda-week-desk.png", full_page=True)
    go(desk, days.nth(4).get_by_role("link").first)  # Friday's heading opens its day
    expect(desk.get_by_test_id("agenda-day")).to_have_count(1)
    expect(desk.get_by_test_id("agenda-item")).to_have_count(2)
    go(desk, desk.get_by_test_id("agenda-feed-link"))
    go(desk, desk.get_by_test_id("calendar-feed-new"))
    address = desk.get_by_test_id("calendar-feed-url").input_value()
    assert "/calendar/" in address and address.endswith(".ics")
    desk.screenshot(path=SCREENSHOTS / "agenda-calendar-address.png", full_page=True)

    phone = browser.new_page(viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True)
    log_in(phone, live_server, "jingli")
    phone.goto(f"{live_server.url}{WEEK}")

    def assert_fits():
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"page is {width}px wide"

    assert_fits()
    first, second = [phone.get_by_test_id("agenda-day").nth(n).bounding_box() for n in (0, 1)]
    assert second["y"] > first["y"], "the days stacked"
    phone.screenshot(path=SCREENSHOTS / "agenda-week-phone.png", full_page=True)
    go(phone, phone.get_by_test_id("agenda-day-view"))
    go(phone, phone.get_by_test_id("agenda-next"))
    expect(phone.get_by_test_id("agenda-day")).to_have_attribute("data-day", "2026-03-19")
    expect(phone.get_by_test_id("agenda-item")).to_have_count(2)
    assert_fits()
    phone.screenshot(path=SCREENSHOTS / "agenda-day-phone.png", full_page=True)
