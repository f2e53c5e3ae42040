"""The Reports area in a real browser: a finance user picks a period for the callback report, sees mobiles
masked and downloads the CSV."""

import pytest
from playwright.sync_api import expect

from renocrm.accounts.roles import Role
from renocrm.tenancy.context import tenant_context
from tests.dashboard.report_fixtures import UNREACHABLE_MOBILE, add_february
from tests.factories import MembershipFactory, TenantFactory
from tests.ui.browser import SCREENSHOTS, go, log_in
from tests.ui.conftest import browser  # noqa: F401 — the real-browser fixture

pytestmark = pytest.mark.browser


@pytest.fixture
def firm(transactional_db):
    firm = TenantFactory(name="安居装饰", slug="anju")
    with tenant_context(firm):
        add_february(firm)
    MembershipFactory(
        tenant=firm, role=Role.FINANCE, user__username="caiwu", user__name="Qian Cai", user__language="en"
    )
    return firm


def test_finance_picks_a_period_and_downloads_the_callback_report(browser, live_server, firm):  # noqa: F811
    page = browser.new_page(locale="en-US", viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page.set_extra_http_headers({"Accept-Language": "en"})
    log_in(page, live_server, "caiwu")
    go(page, page.get_by_role("link", name="Reports", exact=True))
    go(page, page.get_by_role("link", name="Callback report").first)

    form = page.get_by_test_id("period-form")
    form.locator("select[name=period]").select_option("custom")
    form.locator("input[name=start]").fill("2026-02-01")
    form.locator("input[name=end]").fill("2026-02-28")
    go(page, form.get_by_role("button", name="Show"))

    attention = page.get_by_test_id("table-6")
    expect(attention).to_contain_text("Zhao Lei")
    expect(attention).to_contain_text("138****1234")
    expect(attention).not_to_contain_text(UNREACHABLE_MOBILE)
    page.screenshot(path=SCREENSHOTS / "report-callbacks.png", full_page=True)

    with page.expect_download() as info:
        page.get_by_test_id("report-downloads").get_by_role("link", name="CSV").click()
    download = info.value
    assert download.suggested_filename == "Callback report_2026-02-01_2026-02-28.csv"
    content = open(download.path(), "rb").read()  # noqa: SIM115
    assert (
        content.startswith(b"\xef\xbb\xbf") and b"138****1234" in content and UNREACHABLE_MOBILE.encode() not in content
    )

    phone = browser.new_page(viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True)
    phone.set_extra_http_headers({"Accept-Language": "zh-hans"})
    log_in(phone, live_server, "caiwu")
    phone.goto(f"{live_server.url}/reports/callbacks/?period=custom&start=2026-02-01&end=2026-02-28")
    expect(phone.get_by_test_id("table-6")).to_contain_text("138****1234")
    phone.screenshot(path=SCREENSHOTS / "report-callbacks-phone.png", full_page=True)
