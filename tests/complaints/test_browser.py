"""On a phone: the homeowner files a complaint through the portal link, and the customer service agent
sees it on the board with its clock, responds and resolves it from the complaint's page."""

import pytest
from playwright.sync_api import expect

from complaints.models import Complaint
from renocrm.accounts.roles import Role
from renocrm.tenancy.context import tenant_context
from tests.factories import MembershipFactory, TenantFactory, UserFactory
from tests.ui.browser import go, log_in
from tests.worksites.factories import WorksiteFactory
from worksites.services import portal as portal_services

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True}


def fits_the_phone(page):
    return page.evaluate("document.documentElement.scrollWidth") <= 375


@pytest.fixture
def worksite(transactional_db):
    firm = TenantFactory(name="安居装饰", slug="anju")
    agent = UserFactory(username="xiaoli", name="李客服", phone="13800000009", language="en")
    MembershipFactory(user=agent, tenant=firm, role=Role.CUSTOMER_SERVICE)
    with tenant_context(firm):
        return WorksiteFactory(contract__project__lead__customer__name="王芳", customer_service=agent)


def test_homeowner_files_and_the_agent_responds_and_resolves_on_a_phone(browser, live_server, worksite):
    with tenant_context(worksite.tenant):
        link = portal_services.portal_link_create(worksite=worksite, created_by=None)
    phone = browser.new_context(locale="en-US", **PHONE).new_page()
    phone.goto(f"{live_server.url}{portal_services.portal_link_url(link)}complaints/?lang=en")
    form = phone.get_by_test_id("portal-complaint-form")
    form.locator("[name=category]").select_option("schedule")
    form.locator("[name=description]").fill("The painters did not come for a week")
    go(phone, form.get_by_role("button", name="Send"))
    expect(phone.locator(".message--success")).to_contain_text("received")
    assert fits_the_phone(phone)

    with tenant_context(worksite.tenant):
        complaint = Complaint.objects.get()
    staff = browser.new_context(locale="en-US", **PHONE).new_page()
    staff.set_extra_http_headers({"Accept-Language": "en"})
    log_in(staff, live_server, "xiaoli")
    staff.goto(f"{live_server.url}/complaints/board/")
    card = staff.get_by_test_id(f"complaint-{complaint.pk}")
    expect(card).to_contain_text("h 59 min left")
    go(staff, card)
    assert fits_the_phone(staff)
    respond = staff.get_by_test_id("action-respond")
    respond.locator("textarea").fill("Called, painters come tomorrow")
    go(staff, respond.get_by_role("button", name="Save"))
    expect(staff.get_by_test_id("status")).to_have_text("In progress")
    resolve = staff.get_by_test_id("action-resolve")
    go(staff, resolve.get_by_role("button", name="Save"))
    expect(staff.get_by_test_id("action-resolve").locator(".field__error").first).to_be_visible()
    resolve = staff.get_by_test_id("action-resolve")
    resolve.locator("textarea").fill("Painters back on site, one day credited")
    resolve.locator("select").select_option("scheduling")
    go(staff, resolve.get_by_role("button", name="Save"))
    expect(staff.get_by_test_id("status")).to_have_text("Resolved")
    expect(staff.get_by_test_id("log")).to_contain_text("Painters back on site")
    assert fits_the_phone(staff)
