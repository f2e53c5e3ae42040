"""On site with a phone: the foreman posts a photo of the day's work, and the homeowner, with no account,
sees it through the portal link on their own phone, in a real browser."""

from datetime import date, timedelta
from io import BytesIO

import pytest
from PIL import Image
from playwright.sync_api import expect

from renocrm.accounts.roles import Role
from renocrm.tenancy.context import tenant_context
from tests.factories import MembershipFactory, TenantFactory, UserFactory
from tests.ui.browser import SCREENSHOTS, go, log_in
from tests.worksites.factories import PhaseFactory, WorksiteFactory
from worksites.models import Phase, PhaseKind, Worksite

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True}
PROJECT = "锦绣路12号 三室两厅"
NOTE = "Bathroom wall tiles laid, grouting tomorrow"


@pytest.fixture
def worksite(transactional_db):
    firm = TenantFactory(name="安居装饰", slug="anju")
    foreman = UserFactory(username="laowang", name="王工长", language="en")
    MembershipFactory(user=foreman, tenant=firm, role=Role.PROJECT_MANAGER)
    with tenant_context(firm):
        worksite = WorksiteFactory(
            contract__project__name=PROJECT,
            contract__project__lead__customer__name="王芳",
            status=Worksite.Status.IN_PROGRESS,
            project_manager=foreman,
        )
        today = date.today()
        PhaseFactory(
            worksite=worksite,
            position=1,
            kind=PhaseKind.MASONRY,
            name="Masonry / tiling",
            planned_start=today - timedelta(days=3),
            planned_end=today + timedelta(days=10),
            actual_start=today - timedelta(days=3),
            status=Phase.Status.IN_PROGRESS,
        )
    return worksite


@pytest.fixture
def jpeg(tmp_path):
    path = tmp_path / "bathroom.jpg"
    out = BytesIO()
    Image.new("RGB", (640, 480), (200, 170, 120)).save(out, format="JPEG", quality=85)
    path.write_bytes(out.getvalue())
    return path


def fits_the_phone(page):
    return page.evaluate("document.documentElement.scrollWidth") <= 375


def test_the_foreman_posts_a_photo_and_the_homeowner_sees_it_through_the_portal(browser, live_server, worksite, jpeg):
    site = browser.new_context(locale="en-US", **PHONE).new_page()
    site.set_extra_http_headers({"Accept-Language": "en"})
    log_in(site, live_server, "laowang")

    # The foreman posts the day's work with a photo from the phone.
    site.goto(f"{live_server.url}/worksites/{worksite.pk}/progress/")
    site.locator("[name=note]").fill(NOTE)
    site.locator("input[name=files]").set_input_files(str(jpeg))
    go(site, site.locator("[data-progress-submit]"))
    expect(site.get_by_test_id("progress-feed")).to_contain_text(NOTE)
    assert fits_the_phone(site)

    # A link for the homeowner, copied from the worksite's portal tab.
    site.goto(f"{live_server.url}/worksites/{worksite.pk}/portal-links/")
    site.locator("[name=channel]").select_option("")
    go(site, site.get_by_role("button", name="Create link"))
    link = site.get_by_test_id("portal-link-url").first.input_value()
    assert link.startswith(f"{live_server.url}/portal/")
    assert fits_the_phone(site)
    site.screenshot(path=SCREENSHOTS / "portal-links-phone.png", full_page=True)

    # The homeowner opens it on their own phone: no login, no staff menu.
    phone = browser.new_context(locale="zh-CN", **PHONE).new_page()
    phone.goto(link)
    expect(phone.get_by_test_id("project-name")).to_have_text(PROJECT)
    expect(phone.get_by_test_id("portal-firm")).to_have_text("安居装饰")
    expect(phone.locator(".main-nav")).to_have_count(0)
    assert fits_the_phone(phone)
    phone.screenshot(path=SCREENSHOTS / "portal-home-phone.png", full_page=True)

    go(phone, phone.get_by_test_id("language-switch").get_by_role("link", name="English"))
    expect(phone.locator("html")).to_have_attribute("lang", "en")
    go(phone, phone.get_by_role("link", name="Progress", exact=True))
    expect(phone.get_by_test_id("update-note")).to_have_text(NOTE)
    photo = phone.get_by_test_id("update-photo").first
    photo.scroll_into_view_if_needed()
    phone.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=photo.element_handle())
    assert photo.evaluate("img => img.naturalWidth") > 0
    assert fits_the_phone(phone)
    phone.screenshot(path=SCREENSHOTS / "portal-progress-phone.png", full_page=True)


def test_the_homeowner_chooses_a_solution_and_signs_on_the_phone(browser, live_server, worksite):
    from tests.worksites.factories import (
        InspectionFactory,
        MaterialArrivalFactory,
        ProblemSolutionFactory,
        SiteProblemFactory,
    )
    from worksites.models import PortalAction, Signoff, SiteProblem
    from worksites.services import portal as services

    with tenant_context(worksite.tenant):
        inspection = InspectionFactory(worksite=worksite)
        MaterialArrivalFactory(worksite=worksite)
        problem = SiteProblemFactory(worksite=worksite, description="The pillar is 30 cm deeper than drawn.")
        ProblemSolutionFactory(problem=problem, description="Build the wardrobe around the pillar")
        ProblemSolutionFactory(problem=problem, description="Move the wardrobe to the other wall", extra_days=2)
        link = services.portal_link_create(worksite=worksite, created_by=None)
    phone = browser.new_context(locale="en-US", **PHONE).new_page()
    phone.goto(f"{live_server.url}{services.portal_link_url(link)}?lang=en")
    waiting = phone.get_by_test_id("waiting")
    expect(waiting).to_contain_text("Mid-term inspection")
    assert fits_the_phone(phone)
    phone.screenshot(path=SCREENSHOTS / "portal-waiting-phone.png", full_page=True)

    card = phone.get_by_test_id(f"problem-{problem.pk}")
    card.get_by_text("Move the wardrobe to the other wall").click()
    go(phone, card.get_by_role("button", name="Confirm my choice"))
    expect(phone.locator(".message--success")).to_contain_text("your choice")
    go(phone, phone.get_by_test_id(f"sign-inspection-{inspection.pk}").get_by_role("button"))
    expect(phone.get_by_test_id(f"sign-inspection-{inspection.pk}")).to_have_count(0)

    with tenant_context(worksite.tenant):
        problem.refresh_from_db()
        assert problem.status == SiteProblem.Status.CHOSEN and problem.chosen_name == "王芳"
        assert problem.chosen_solution.description == "Move the wardrobe to the other wall"
        assert Signoff.objects.get(inspection=inspection).portal_link_id == link.pk
        assert PortalAction.objects.filter(link=link).exclude(action="opened").count() == 2
