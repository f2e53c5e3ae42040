"""A foreman posts progress from a phone-sized browser: the real multipart upload, the thumbnails made after
commit, and a page that never scrolls sideways at 375 px."""

import pytest
from playwright.sync_api import expect

from renocrm.tenancy.context import tenant_context
from tests.factories import MembershipFactory
from tests.test_uploads import MP4, photo_bytes
from tests.ui.browser import SCREENSHOTS, go, log_in
from tests.ui.conftest import browser  # noqa: F401 — the fixture, shared with the page-shell tests
from tests.worksites.factories import PhaseFactory, WorksiteFactory
from worksites.models import PhaseKind, ProgressMedia, ProgressUpdate

pytestmark = pytest.mark.browser


def test_a_foreman_posts_photos_and_a_video_from_the_phone(browser, live_server, firm_a, settings, tmp_path):  # noqa: F811
    settings.MEDIA_ROOT = tmp_path / "media"
    with tenant_context(firm_a):
        site = WorksiteFactory(status="in_progress")
        PhaseFactory(worksite=site, position=1, kind=PhaseKind.DEMOLITION, name="Demolition", status="done")
        PhaseFactory(worksite=site, position=2, kind=PhaseKind.MASONRY, name="Tiling", status="in_progress")
    foreman = MembershipFactory(tenant=firm_a, role="project_manager").user
    (tmp_path / "sideways.jpg").write_bytes(photo_bytes(size=(1200, 900), orientation=6))
    (tmp_path / "wall.jpg").write_bytes(photo_bytes(size=(800, 600)))
    (tmp_path / "walkthrough.mp4").write_bytes(MP4)
    (tmp_path / "notes.jpg").write_bytes(b"not a photo at all")
    page = browser.new_page(locale="en-US", viewport={"width": 375, "height": 800})
    log_in(page, live_server, foreman.username)
    page.goto(f"{live_server.url}/worksites/{site.pk}/progress/")
    expect(page.locator("select[name=phase] option:checked")).to_have_text("Tiling")

    page.locator("textarea[name=note]").fill("Bathroom wall tiles laid")
    page.locator("input[name=files]").set_input_files([tmp_path / "wall.jpg", tmp_path / "notes.jpg"])
    expect(page.locator("[data-progress-chosen]")).to_contain_text("2")
    go(page, page.locator("[data-progress-submit]"))
    expect(page.locator(".field__error")).to_contain_text("notes.jpg")
    expect(page.locator("textarea[name=note]")).to_have_value("Bathroom wall tiles laid")

    page.locator("input[name=files]").set_input_files(
        [tmp_path / "sideways.jpg", tmp_path / "wall.jpg", tmp_path / "walkthrough.mp4"]
    )
    go(page, page.locator("[data-progress-submit]"))
    expect(page.get_by_test_id("progress-update")).to_have_count(1)
    expect(page.locator(".progress-media img")).to_have_count(2)
    expect(page.locator(".progress-media video")).to_have_count(1)
    page.wait_for_function("[...document.querySelectorAll('.progress-media img')].every(i => i.complete)")
    # Thumbnails, upright: the sideways photo is portrait now.
    sizes = page.evaluate(
        "[...document.querySelectorAll('.progress-media img')].map(i => [i.naturalWidth, i.naturalHeight])"
    )
    assert sizes == [[360, 480], [480, 360]]
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=SCREENSHOTS / "worksite-progress-375.png", full_page=True)
    with tenant_context(firm_a):
        assert ProgressUpdate.objects.get().note == "Bathroom wall tiles laid"
        assert ProgressMedia.objects.exclude(thumbnail="").count() == 2
