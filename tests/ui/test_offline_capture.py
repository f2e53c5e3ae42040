"""Site capture without signal, in a phone-sized chromium: the worksite pages open offline once they were
opened with a connection, a progress update posted in the basement waits on the phone (its photo included)
and is sent once when the connection returns, a refused draft stays with the server's message, and signing
out forgets the kept pages."""

import time
import uuid
from datetime import date, datetime, timedelta
from datetime import time as clock_time

import pytest
from playwright.sync_api import expect

from renocrm.tenancy.context import tenant_context
from tests.factories import MembershipFactory
from tests.test_uploads import photo_bytes
from tests.ui.browser import SCREENSHOTS, go, log_in
from tests.ui.conftest import browser  # noqa: F401 — the fixture
from tests.worksites.factories import PhaseFactory, WorksiteFactory
from worksites.models import PhaseKind, ProgressMedia, ProgressUpdate, SitePatrol, Worksite

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 800}


@pytest.fixture
def site(firm_a):
    with tenant_context(firm_a):
        worksite = WorksiteFactory(status=Worksite.Status.IN_PROGRESS)
        PhaseFactory(worksite=worksite, position=1, kind=PhaseKind.MASONRY, name="Tiling", status="in_progress")
    return worksite


@pytest.fixture
def phone(browser, live_server, firm_a, site, settings, tmp_path):  # noqa: F811
    """A foreman's phone that opened the worksite's progress page once, with a connection."""
    settings.MEDIA_ROOT = tmp_path / "media"
    foreman = MembershipFactory(tenant=firm_a, role="project_manager", user__language="en").user
    page = browser.new_context(locale="en-US", viewport=PHONE).new_page()
    log_in(page, live_server, foreman.username)
    page.goto(f"{live_server.url}/worksites/{site.pk}/progress/")
    until(lambda: page.evaluate("navigator.serviceWorker.getRegistration().then(r => Boolean(r && r.active))"))
    # A page still loading when the service worker took over is left to the network (clients.claim() passes
    # it by): from its next load on, the worker serves it.
    if not page.evaluate("navigator.serviceWorker.controller !== null"):
        page.reload()
    until(lambda: page.evaluate("navigator.serviceWorker.controller !== null"))
    # The worksite's progress page, its site page and its patrol and problem forms are kept.
    until(lambda: len(kept_pages(page)) == 4)
    page.foreman = foreman
    return page


def until(condition, timeout=10):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def kept_pages(page):
    return page.evaluate(
        "caches.has('renocrm-pages').then(has => has ? caches.open('renocrm-pages').then(c => c.keys())"
        " .then(keys => keys.map(k => new URL(k.url).pathname)) : [])"
    )


def updates(site):
    with tenant_context(site.tenant):
        return list(ProgressUpdate.objects.filter(worksite=site))


def test_an_update_posted_without_signal_waits_on_the_phone_and_is_sent_once(phone, site, live_server, tmp_path):
    page, context = phone, phone.context
    (tmp_path / "tiles.jpg").write_bytes(photo_bytes(size=(800, 600)))
    context.set_offline(True)
    page.reload()
    expect(page.get_by_test_id("progress-form")).to_be_visible()
    page.locator("textarea[name=note]").fill("Kitchen wall tiled")
    page.locator("input[name=files]").set_input_files(tmp_path / "tiles.jpg")
    page.locator("[data-progress-submit]").click()
    expect(page.get_by_test_id("offline-counter")).to_have_text("Waiting to send (1)")
    expect(page.get_by_test_id("offline-draft")).to_contain_text("Kitchen wall tiled")
    expect(page.locator("textarea[name=note]")).to_have_value("")
    assert updates(site) == []
    # Kept with its key and the photo itself.
    draft = page.evaluate(
        "RenoOutbox.all().then(([d]) => ({key: d.key, status: d.status, files: d.fields"
        ".filter(([, v]) => v instanceof Blob).map(([name, v]) => [name, v.name, v.type, v.size])}))"
    )
    assert str(uuid.UUID(draft["key"])) == draft["key"] and draft["status"] == "waiting"
    assert draft["files"] == [["files", "tiles.jpg", "image/jpeg", (tmp_path / "tiles.jpg").stat().st_size]]
    # Where the browser has Background Sync, the service worker is asked to send it when the signal returns.
    assert page.evaluate("navigator.serviceWorker.ready.then(r => r.sync.getTags())") == ["renocrm-outbox"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=SCREENSHOTS / "offline-waiting-375.png", full_page=True)

    context.set_offline(False)
    expect(page.get_by_test_id("offline-counter")).to_have_attribute("data-count", "0")
    expect(page.get_by_test_id("progress-update")).to_have_count(1)
    expect(page.get_by_test_id("progress-update")).to_contain_text("Kitchen wall tiled")
    (update,) = updates(site)
    assert update.note == "Kitchen wall tiled" and update.posted_by == page.foreman
    with tenant_context(site.tenant):
        assert ProgressMedia.objects.filter(update=update).count() == 1


def test_a_retried_send_of_the_same_draft_records_one_update(phone, site):
    """The answer to the first send never arrives (the signal dropped on the way back): the phone sends the
    draft again, under the same key, even at the same time — the server records it once."""
    page, context = phone, phone.context
    context.set_offline(True)
    page.reload()
    page.locator("textarea[name=note]").fill("Waterproofing second coat")
    page.locator("[data-progress-submit]").click()
    expect(page.get_by_test_id("offline-counter")).to_have_text("Waiting to send (1)")
    # Taken out of the outbox, so that going online does not send it before the test does.
    page.evaluate("RenoOutbox.all().then(([draft]) => { window.draft = draft; return RenoOutbox.remove(draft.key); })")
    context.set_offline(False)
    results = page.evaluate(
        "Promise.all([RenoOutbox.send(window.draft), RenoOutbox.send(window.draft)])"
        ".then(both => RenoOutbox.send(window.draft).then(again => [...both, again]))"
    )
    assert [result["outcome"] for result in results] == ["sent", "sent", "sent"]
    assert len({result["url"] for result in results}) == 1
    (update,) = updates(site)
    assert update.note == "Waterproofing second coat"


def test_a_refused_draft_stays_with_the_message_to_be_corrected_or_discarded(phone, site):
    page, context = phone, phone.context
    context.set_offline(True)
    page.reload()
    # A slow phone takes a while to keep a draft: what is typed meanwhile is the next update, not wiped.
    page.evaluate(
        "(put => { RenoOutbox.put = (draft) => new Promise(done => setTimeout(done, 1000)).then(() => put(draft)); })"
        "(RenoOutbox.put)"
    )
    # Nothing written and no photo: the server will refuse it.
    page.locator("[data-progress-submit]").click()
    page.locator("textarea[name=note]").fill("Grouting done")
    page.locator("[data-progress-submit]").click()
    expect(page.get_by_test_id("offline-counter")).to_have_text("Waiting to send (2)")

    context.set_offline(False)
    expect(page.get_by_test_id("offline-counter")).to_have_attribute("data-count", "0")
    # Once sent, the page loads its feed again: the update shows without reloading the page.
    expect(page.get_by_test_id("progress-update")).to_have_count(1, timeout=15_000)
    refused = page.get_by_test_id("offline-draft")
    expect(refused).to_have_count(1)
    expect(refused.get_by_test_id("offline-refusal")).to_have_text(
        "What was done today: Write a note or add a photo or video."
    )
    page.reload()
    expect(page.get_by_test_id("offline-refusal")).to_have_count(1)  # kept on the phone, not just on screen

    page.get_by_test_id("offline-draft").get_by_role("link", name="Open to correct").click()
    expect(page.locator("[data-offline-error]")).to_have_text("Write a note or add a photo or video.")
    page.locator("textarea[name=note]").fill("Skirting boards fixed")
    go(page, page.locator("[data-progress-submit]"))
    expect(page.get_by_test_id("progress-update")).to_have_count(2)
    expect(page.get_by_test_id("offline-draft")).to_have_count(0)
    assert sorted(update.note for update in updates(site)) == ["Grouting done", "Skirting boards fixed"]

    # The worksite is handed over while another update waits: refused with the reason, then discarded.
    context.set_offline(True)
    page.reload()
    page.locator("textarea[name=note]").fill("Final clean")
    page.locator("[data-progress-submit]").click()
    with tenant_context(site.tenant):
        Worksite.objects.filter(pk=site.pk).update(status=Worksite.Status.HANDED_OVER)
    context.set_offline(False)
    expect(page.get_by_test_id("offline-refusal")).to_have_text(
        "This worksite has been handed over; progress updates are closed."
    )
    page.get_by_test_id("offline-draft").get_by_role("button", name="Discard").click()
    expect(page.get_by_test_id("offline-draft")).to_have_count(0)
    assert page.evaluate("RenoOutbox.all()") == []
    assert len(updates(site)) == 2


def test_a_patrol_recorded_offline_from_the_site_page(phone, site, live_server):
    page, context = phone, phone.context
    context.set_offline(True)
    go(page, page.get_by_role("link", name="Inspections & site"))
    # The form was kept on the phone "yesterday": it offers the phone's today, not the day it was kept.
    rendered_on = page.get_by_test_id("offline-outbox").get_attribute("data-rendered-on")
    tomorrow = date.fromisoformat(rendered_on) + timedelta(days=1)
    page.clock.set_system_time(datetime.combine(tomorrow, clock_time(9)))
    go(page, page.get_by_role("link", name="Record a patrol"))
    expect(page.locator("input[name=patrolled_on]")).to_have_value(tomorrow.isoformat())
    page.locator("input[name=patrolled_on]").fill(rendered_on)  # the server's today, in this test
    page.locator("textarea[name=findings]").fill("Scaffold tied, site swept")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("offline-counter")).to_have_text("Waiting to send (1)")
    go(page, page.get_by_role("link", name="Cancel"))
    expect(page.get_by_test_id("offline-counter")).to_have_text("Waiting to send (1)")
    with tenant_context(site.tenant):
        assert not SitePatrol.objects.exists()

    context.set_offline(False)
    expect(page.get_by_test_id("offline-counter")).to_have_attribute("data-count", "0")
    expect(page.get_by_test_id("patrols")).to_contain_text("Scaffold tied, site swept")
    with tenant_context(site.tenant):
        patrol = SitePatrol.objects.get()
    assert patrol.patrolled_by == page.foreman


def test_signing_out_forgets_the_kept_pages(phone, site, live_server):
    page, context = phone, phone.context
    assert len(kept_pages(page)) == 4
    page.get_by_role("button", name="Menu").click()
    page.get_by_test_id("user-menu").click()
    go(page, page.get_by_role("button", name="Log out"))
    assert kept_pages(page) == []
    context.set_offline(True)
    page.goto(f"{live_server.url}/worksites/{site.pk}/progress/")
    expect(page.get_by_role("heading", name="No connection")).to_be_visible()


def test_another_persons_draft_on_the_same_phone_is_neither_shown_nor_sent(phone, site, live_server):
    page = phone
    page.evaluate(
        """RenoOutbox.put({key: crypto.randomUUID(), owner: "0:0", url: location.href, page: location.pathname,
        kind: "Progress update", worksite: "Elsewhere", summary: "Not yours", fields: [["note", "Not yours"]],
        csrf: "", savedAt: Date.now(), status: "waiting"})"""
    )
    page.reload()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_test_id("offline-counter")).to_have_attribute("data-count", "0")
    expect(page.get_by_test_id("offline-draft")).to_have_count(0)
    expect(page.get_by_test_id("offline-outbox")).to_be_hidden()
    assert len(page.evaluate("RenoOutbox.all()")) == 1
    assert updates(site) == []
