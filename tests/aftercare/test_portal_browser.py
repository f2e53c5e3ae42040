"""On the homeowner's phone, in a real browser: reporting a leak with a photo through the portal link."""

from io import BytesIO

import pytest
from PIL import Image
from playwright.sync_api import expect

from aftercare.models import RepairRequest
from renocrm.tenancy.context import tenant_context
from tests.aftercare.factories import CoverageFactory
from tests.factories import TenantFactory
from tests.ui.browser import go
from tests.ui.conftest import browser  # noqa: F401 — the fixture
from tests.worksites.factories import WorksiteFactory
from worksites.services import portal as portal_services

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def link(transactional_db):
    firm = TenantFactory(name="安居装饰", slug="anju-repairs")
    with tenant_context(firm):
        worksite = WorksiteFactory(contract__project__name="锦绣路12号", contract__project__lead__customer__name="王芳")
        CoverageFactory(project=worksite.project, name="Bathroom waterproofing", area="bathroom", trade="waterproofing")
        link = portal_services.portal_link_create(worksite=worksite, created_by=None)
    return firm, link


@pytest.fixture
def jpeg(tmp_path):
    path = tmp_path / "leak.jpg"
    out = BytesIO()
    Image.new("RGB", (640, 480), (40, 90, 160)).save(out, format="JPEG", quality=85)
    path.write_bytes(out.getvalue())
    return path


def test_the_homeowner_reports_a_leak_with_a_photo_on_the_phone(browser, live_server, link, jpeg):  # noqa: F811
    firm, portal_link = link
    phone = browser.new_context(locale="en-US", **PHONE).new_page()
    phone.goto(f"{live_server.url}{portal_services.portal_link_url(portal_link)}?lang=en")
    go(phone, phone.get_by_role("link", name="Repairs", exact=True))
    expect(phone.get_by_test_id("coverages")).to_contain_text("Bathroom waterproofing")

    form = phone.get_by_test_id("repair-report")
    form.locator("[name=area]").select_option("bathroom")
    # A leak is the waterproofing's: the bathroom waterproofing covers it though no trade is named.
    form.locator("[name=category]").select_option("leak")
    form.locator("[name=description]").fill("Water under the basin")
    form.locator("input[name=photos]").set_input_files(str(jpeg))
    go(phone, form.get_by_role("button", name="Send the repair request"))

    expect(phone.locator(".message--success")).to_contain_text("repair request")
    expect(phone.get_by_test_id("portal-repairs")).to_contain_text("Water under the basin")
    expect(phone.get_by_test_id("portal-repairs")).to_contain_text("under warranty")
    expect(phone.get_by_test_id("portal-coverage-reason")).to_contain_text("Covered by Bathroom waterproofing")
    image = phone.get_by_test_id("portal-repairs").locator("img").first
    image.scroll_into_view_if_needed()
    phone.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375

    with tenant_context(firm):
        repair = RepairRequest.objects.get()
        assert (repair.source, repair.is_covered, repair.photos.count()) == ("portal", True, 1)
