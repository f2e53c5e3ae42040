"""The warranty card in a real browser: read on a 375 px phone, and printed on one A4 page."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from renocrm.accounts.roles import Role
from renocrm.tenancy.context import tenant_context
from renocrm.tenancy.time import firm_today
from tests.aftercare.factories import CoverageFactory, WarrantyCardFactory
from tests.contracts.factories import ProjectFactory
from tests.factories import MembershipFactory, TenantFactory, UserFactory
from tests.leads.factories import PropertyFactory
from tests.ui.browser import SCREENSHOTS, log_in
from tests.ui.conftest import browser  # noqa: F401 — the fixture

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True}
ADDRESS = "上海市徐汇区漕溪北路88弄3号1201室"


@pytest.fixture
def card(transactional_db):
    firm = TenantFactory(name="安居装饰", slug="anju-cards", phone="400-820-1234")
    MembershipFactory(
        user=UserFactory(username="kefu", name="周客服", language="en"), tenant=firm, role=Role.CUSTOMER_SERVICE
    )
    with tenant_context(firm):
        home = PropertyFactory(address=ADDRESS, customer__name="王芳")
        project = ProjectFactory(customer=home.customer, property=home, name="漕溪北路 全屋翻新")
        start = firm_today()
        CoverageFactory(project=project, name="一般工程", starts_on=start, ends_on=start + timedelta(days=730))
        for area, name in (("kitchen", "厨房防水"), ("bathroom", "卫生间防水")):
            CoverageFactory(
                project=project,
                name=name,
                area=area,
                trade="waterproofing",
                starts_on=start,
                ends_on=start + timedelta(days=1826),
            )
        return WarrantyCardFactory(project=project)


def test_the_card_reads_on_a_phone_and_prints_on_one_a4_page(browser, live_server, card):  # noqa: F811
    page = browser.new_page(locale="en-US", **PHONE)
    page.set_extra_http_headers({"Accept-Language": "en"})
    log_in(page, live_server, "kefu")
    page.goto(f"{live_server.url}/aftercare/warranty-cards/{card.pk}/")

    expect(page.get_by_test_id("card-number")).to_have_text(card.number)
    expect(page.get_by_test_id("service-phone")).to_have_text("400-820-1234")
    expect(page.get_by_test_id("card-coverages")).to_contain_text("卫生间防水")
    # The address is revealed (a recorded look) before the card is printed for the homeowner.
    page.get_by_test_id("reveal").click()
    expect(page.get_by_test_id("warranty-card")).to_contain_text(ADDRESS)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=SCREENSHOTS / "warranty-card-phone.png", full_page=True)

    page.emulate_media(media="print")
    expect(page.locator(".aftercare-print__tools")).to_be_hidden()
    assert page.locator(".warranty-card__coverages").evaluate("table => getComputedStyle(table).display") == "table"
    pdf = page.pdf(format="A4", print_background=False)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1
