"""A firm admin runs the staff through the pages alone, in a real browser: invites a salesperson, who joins
through her link; gives her a second role; deactivates a leaving designer with his open lead handed over;
turns on two-factor sign-in for the firm's admins. The staff pages fit a phone."""

import base64
import re

import pytest
from playwright.sync_api import expect

from leads.models import Lead
from renocrm.accounts.models import Membership
from renocrm.accounts.roles import Role
from renocrm.outbox import sms
from renocrm.tenancy.context import tenant_context
from tests.factories import MembershipFactory, TenantFactory, UserFactory
from tests.leads.factories import LeadFactory
from tests.twofactor.support import code_for
from tests.ui.browser import SCREENSHOTS, go, log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def firm(transactional_db):
    firm = TenantFactory(name="安居装饰", slug="anju", language="en")
    MembershipFactory(user=UserFactory(username="boss", name="Wang Fang"), tenant=firm)
    leaver = MembershipFactory(user=UserFactory(username="leaver", name="Liu Yang"), tenant=firm, role=Role.DESIGNER)
    MembershipFactory(user=UserFactory(username="heir", name="Zhao Min"), tenant=firm, role=Role.DESIGNER)
    with tenant_context(firm):
        LeadFactory(designer=leaver.user)
    return firm


def test_an_admin_invites_sets_roles_and_deactivates_through_the_pages(browser, live_server, firm):
    sms.outbox.clear()
    page = browser.new_page(locale="en-GB", viewport={"width": 1280, "height": 900})
    log_in(page, live_server, "boss")
    page.goto(f"{live_server.url}/settings/staff/")
    go(page, page.get_by_test_id("invite"))
    page.get_by_label("Name").fill("Chen Jing")
    page.get_by_label("Mobile").fill("13912345678")
    page.get_by_label("Customer manager").check()
    go(page, page.get_by_role("button", name="Save"))
    expect(page.get_by_test_id("invitations")).to_contain_text("Chen Jing")

    [text] = [message for message in sms.outbox if message.recipient == "13912345678"]  # as the phone got it
    path = re.search(r"(/accounts/invitation/\S+?/)", text.body)[1]
    invitee = browser.new_page(locale="en-GB", viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True)
    invitee.goto(f"{live_server.url}{path}")
    invitee.get_by_label("Password", exact=True).fill("Lattice-Tile-88")
    invitee.get_by_label("Password again").fill("Lattice-Tile-88")
    go(invitee, invitee.get_by_role("button", name="Join"))
    expect(invitee.get_by_test_id("user-menu")).to_contain_text("Chen Jing")

    page.goto(f"{live_server.url}/settings/staff/")
    go(page, page.get_by_role("link", name="Chen Jing"))
    page.get_by_label("Designer").check()
    page.screenshot(path=SCREENSHOTS / "staff-roles.png", full_page=True)
    go(page, page.get_by_role("button", name="Save roles"))
    assert Membership.objects.get(user__username="13912345678").roles == ["sales", "designer"]

    page.goto(f"{live_server.url}/settings/staff/")
    go(page, page.get_by_role("link", name="Liu Yang"))
    go(page, page.get_by_test_id("deactivate"))
    form = page.get_by_test_id("deactivate-form")
    expect(form).to_contain_text("Open leads (designer)")
    page.screenshot(path=SCREENSHOTS / "staff-deactivate.png", full_page=True)
    form.get_by_label("Open leads (designer)").select_option(label="Zhao Min")
    go(page, form.get_by_role("button", name="Deactivate"))
    expect(page.locator(".messages")).to_contain_text("Liu Yang has been deactivated.")
    with tenant_context(firm):
        assert Lead.objects.get().designer.username == "heir"
    assert not Membership.objects.get(user__username="leaver").is_active

    # Two-factor sign-in for the firm's admins: found from the settings page; the admin sets up their own first.
    page.goto(f"{live_server.url}/settings/")
    go(page, page.get_by_role("link", name="Two-factor sign-in"))
    go(page, page.get_by_test_id("twofactor-policy").get_by_role("link", name="Set up two-factor sign-in"))
    key = base64.b32decode(page.get_by_test_id("twofactor-secret").inner_text().replace(" ", "")).hex()
    page.get_by_label("Code from your authenticator app").fill(code_for(key))
    go(page, page.get_by_role("button", name="Turn on"))
    page.goto(f"{live_server.url}/accounts/two-factor/policy/")
    page.get_by_label("Firm admins must sign in with two-factor sign-in").check()
    go(page, page.get_by_role("button", name="Save"))
    expect(page.locator(".messages")).to_contain_text("Firm admins must now sign in with two-factor sign-in.")
    firm.refresh_from_db()
    assert firm.require_admin_two_factor
    page.get_by_test_id("user-menu").click()
    go(page, page.get_by_role("button", name="Log out"))
    log_in(page, live_server, "boss")
    expect(page.locator("h1")).to_have_text("Enter your code")


def test_the_staff_list_fits_a_phone(browser, live_server, firm):
    page = browser.new_page(locale="en-GB", viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True)
    log_in(page, live_server, "boss")
    page.goto(f"{live_server.url}/settings/staff/")
    expect(page.get_by_test_id("staff")).to_contain_text("Liu Yang")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=SCREENSHOTS / "staff-list-phone.png", full_page=True)


def test_an_admin_gives_payments_to_customer_service_on_a_phone(browser, live_server, firm):
    """A small firm without a finance clerk: the admin gives recording payments to customer service on the
    duties page from a phone; the page fits it, and the change is in its history."""
    page = browser.new_page(locale="en-GB", viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True)
    log_in(page, live_server, "boss")
    page.goto(f"{live_server.url}/settings/staff/")
    go(page, page.get_by_role("link", name="Duties"))
    form = page.get_by_test_id("duties-form")
    expect(form).to_contain_text("Default: Firm admin / general manager、Finance")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    form.locator("input[name=payments__manage][value=customer_service]").check()
    go(page, form.get_by_role("button", name="Save duties"))
    expect(page.locator(".messages")).to_contain_text("Duties saved")
    expect(page.get_by_test_id("staff-changes")).to_contain_text(
        "Record payments as received: Firm admin / general manager、Finance → Firm admin / general manager、"
        "Customer service agent、Finance"
    )
    assert page.locator("input[name=payments__manage][value=customer_service]").is_checked()
    page.screenshot(path=SCREENSHOTS / "staff-duties-phone.png", full_page=True)
    firm.refresh_from_db()
    assert firm.duties["payments.manage"] == ["admin", "customer_service", "finance"]
