"""A foreman raises a site problem from a phone-sized browser: every column of the proposed solutions — the
cost to the homeowner and the extra days too — stays in view at 375 px, and the photos go with it."""

import pytest
from playwright.sync_api import expect

from renocrm.tenancy.context import tenant_context
from tests.factories import MembershipFactory
from tests.test_uploads import photo_bytes
from tests.ui.browser import SCREENSHOTS, go, log_in
from tests.ui.conftest import browser  # noqa: F401 — the fixture, shared with the page-shell tests
from tests.worksites.factories import WorksiteFactory
from worksites.models import SiteMedia, SiteProblem

pytestmark = pytest.mark.browser


def test_the_solutions_stay_in_view_at_375_px_and_photos_follow(browser, live_server, firm_a, settings, tmp_path):  # noqa: F811
    settings.MEDIA_ROOT = tmp_path / "media"
    with tenant_context(firm_a):
        site = WorksiteFactory(status="in_progress")
    foreman = MembershipFactory(tenant=firm_a, role="project_manager").user
    (tmp_path / "pipe.jpg").write_bytes(photo_bytes(size=(800, 600)))
    page = browser.new_page(locale="en-US", viewport={"width": 375, "height": 800})
    log_in(page, live_server, foreman.username)
    page.goto(f"{live_server.url}/worksites/{site.pk}/problems/new/")

    cost = page.locator("input[name='solutions-0-cost_change']")
    days = page.locator("input[name='solutions-0-extra_days']")
    for field in (cost, days):
        box = field.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375, box
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=SCREENSHOTS / "site-problem-375.png", full_page=True)

    page.locator("input[name=title]").fill("Drain pipe where the wardrobe goes")
    page.locator("[name='solutions-0-description']").fill("Box the pipe in")
    page.locator("[name='solutions-1-description']").fill("Move the pipe into the wall")
    cost.fill("0")
    page.locator("input[name='solutions-1-cost_change']").fill("850")
    page.locator("input[name='solutions-1-extra_days']").fill("2")
    go(page, page.locator("form.site-form button[type=submit]"))
    card = page.locator("article[id^=problem-]")
    expect(card).to_contain_text("Drain pipe where the wardrobe goes")

    card.locator("summary").click()
    card.locator("input[name=files]").set_input_files([tmp_path / "pipe.jpg"])
    go(page, card.locator("button[type=submit]"))
    expect(page.locator("article[id^=problem-] [data-testid=site-media] img")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    with tenant_context(firm_a):
        problem = SiteProblem.objects.get()
        assert SiteMedia.objects.filter(problem=problem).count() == 1
