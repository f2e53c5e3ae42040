"""Each role's home dashboard in a real browser: the charts are drawn (inline SVG with linked bars, points or
segments), a bar leads to its list, the period picker works; a full-page screenshot per role."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from renocrm.accounts.models import User
from renocrm.accounts.roles import Role
from tests.dashboard.conftest import build, make_staff
from tests.factories import TenantFactory
from tests.ui.browser import SCREENSHOTS, go, log_in

pytestmark = pytest.mark.browser

# The fixture's records fall in 2026; a custom period over the year shows them whatever day the test runs.
YEAR = {"period": "custom", "start": "2026-01-01", "end": "2026-12-31"}
# What each role's dashboard must draw: a test id of one of its charts.
CHART = {
    Role.ADMIN: "chart-leads-1",
    Role.SALES: "chart-pipeline-0",
    Role.DESIGNER: "chart-my-worksites-0",
    Role.PROJECT_MANAGER: "chart-my-worksites-0",
    Role.QC: "chart-inspections-0",
    Role.CUSTOMER_SERVICE: "chart-completion-0",
    Role.FINANCE: "chart-contracts-0",
}


@pytest.fixture
def firm(transactional_db):
    firm = TenantFactory(name="安居装饰", slug="anju")
    staff = make_staff(firm, "ui")
    # They read the firm's pages in English, their own choice.
    User.objects.filter(memberships__tenant=firm).update(language="en")
    build(firm, staff)
    return firm, staff


def dashboard_url(live_server) -> str:
    return f"{live_server.url}/?period=custom&start={YEAR['start']}&end={YEAR['end']}"


@pytest.mark.parametrize("role", list(Role))
def test_each_role_sees_its_charts(browser, live_server, firm, role):
    _, staff = firm
    page = browser.new_page(locale="en-US", viewport={"width": 1280, "height": 900})
    page.set_extra_http_headers({"Accept-Language": "en"})
    log_in(page, live_server, getattr(staff, role).username)

    page.goto(dashboard_url(live_server))

    expect(page.get_by_test_id("dashboard")).to_have_attribute("data-role", role.value)
    chart = page.get_by_test_id(CHART[role])
    svg = chart.locator("svg[role=img]")
    expect(svg).to_be_visible()
    expect(svg.locator("title").first).not_to_be_empty()
    shapes = svg.locator("a.chart__link[href]")
    assert shapes.count() > 0
    assert svg.locator("rect.chart__bar, circle.chart__segment, circle.chart__point").count() > 0
    page.screenshot(path=SCREENSHOTS / f"dashboard-{role.value}.png", full_page=True)


def test_a_bar_opens_its_list_and_the_period_picker_changes_the_figures(browser, live_server, firm):
    _, staff = firm
    page = browser.new_page(locale="en-US", viewport={"width": 1280, "height": 900})
    page.set_extra_http_headers({"Accept-Language": "en"})
    log_in(page, live_server, staff.admin.username)
    page.goto(dashboard_url(live_server))
    signed = page.get_by_test_id("figure-contracts-signed").locator(".dash-figure__value")
    expect(signed).to_have_text("3")

    # A custom range of early March: one contract, signed on the 2nd.
    expect(page.locator("details.dash-period__custom")).to_have_attribute("open", "")
    page.locator("#period-start").fill("2026-03-01")
    page.locator("#period-end").fill("2026-03-10")
    go(page, page.get_by_test_id("period-custom").get_by_role("button", name="Show"))
    expect(page.get_by_test_id("period-range")).to_contain_text("2026-03-01")
    expect(signed).to_have_text("1")

    # A bar of the worksites' phases opens the worksite list filtered to that phase.
    go(page, page.get_by_test_id("bar-phase-carpentry"))
    assert "phase=carpentry" in page.url
    expect(page.locator("table tbody tr")).to_have_count(1)


def test_bad_dates_are_refused_beside_the_field(browser, live_server, firm):
    _, staff = firm
    page = browser.new_page(locale="en-US", viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True)
    page.set_extra_http_headers({"Accept-Language": "en"})
    log_in(page, live_server, staff.project_manager.username)
    page.goto(f"{live_server.url}/?period=custom&start=2026-03-10&end=2026-03-01")

    expect(page.get_by_test_id("period-error-end")).to_have_text("The last day comes before the first.")
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    expect(page.get_by_test_id("period-range")).to_contain_text(today.replace(day=1).isoformat())
    page.screenshot(path=SCREENSHOTS / "dashboard-project_manager-phone.png", full_page=True)
