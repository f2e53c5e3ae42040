"""The receivables in a real browser: finance follows the dashboard's overdue figure to the receivables page,
groups them by project manager, and reads the same page on a phone without sideways scrolling."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from renocrm.accounts.roles import Role
from renocrm.tenancy.context import tenant_context
from renocrm.tenancy.time import firm_today
from tests.contracts.factories import InstalmentFactory
from tests.factories import MembershipFactory, TenantFactory
from tests.ui.browser import SCREENSHOTS, go, log_in
from tests.ui.conftest import browser  # noqa: F401 — the real-browser fixture
from tests.worksites.factories import WorksiteFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def firm(transactional_db):
    firm = TenantFactory(name="安居装饰", slug="anju")
    MembershipFactory(
        tenant=firm, role=Role.FINANCE, user__username="caiwu", user__name="Qian Cai", user__language="en"
    )
    manager = MembershipFactory(tenant=firm, role=Role.PROJECT_MANAGER, user__name="Zhou Gong").user
    with tenant_context(firm):
        today = firm_today()
        site = WorksiteFactory(
            project_manager=manager,
            contract__number="HT20260301-7",
            contract__project__name="翠湖花园 3-1-602 · 王芳",
        )
        InstalmentFactory(contract=site.contract, sequence=1, amount=Decimal("12902.00"), due_on=today - timedelta(40))
        InstalmentFactory(contract=site.contract, sequence=2, amount=Decimal("30000.00"), due_on=today + timedelta(5))
        InstalmentFactory(contract=site.contract, sequence=3, amount=Decimal("8000.00"), paid_on=date(2026, 1, 5))
    return firm


def test_finance_follows_the_overdue_figure_to_its_rows(browser, live_server, firm):  # noqa: F811
    page = browser.new_page(locale="en-US", viewport={"width": 1280, "height": 900})
    page.set_extra_http_headers({"Accept-Language": "en"})
    log_in(page, live_server, "caiwu")
    go(page, page.get_by_test_id("figure-instalments-overdue-amount"))

    expect(page.get_by_test_id("selection-total")).to_contain_text("1 instalment, ¥12,902.00")
    rows = page.get_by_test_id("row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("HT20260301-7")
    expect(rows.first).to_contain_text("31–60 days overdue")
    expect(rows.first).to_contain_text("Zhou Gong")
    form = page.get_by_test_id("filters")
    form.locator("select[name=by]").select_option("pm")
    go(page, form.get_by_role("button", name="Filter"))
    expect(page.get_by_test_id("groups-total")).to_contain_text("¥12,902.00 (1)")
    page.screenshot(path=SCREENSHOTS / "receivables.png", full_page=True)

    phone = browser.new_page(viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True)
    phone.set_extra_http_headers({"Accept-Language": "zh-hans"})
    log_in(phone, live_server, "caiwu")
    phone.goto(f"{live_server.url}/receivables/?by=pm")
    expect(phone.get_by_test_id("row")).to_have_count(2)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    phone.screenshot(path=SCREENSHOTS / "receivables-phone.png", full_page=True)
    phone.goto(f"{live_server.url}/receivables/payments/")
    expect(phone.get_by_test_id("row")).to_have_count(1)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    phone.screenshot(path=SCREENSHOTS / "payments-phone.png", full_page=True)
