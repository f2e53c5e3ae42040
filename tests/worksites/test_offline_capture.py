"""The server side of site capture without signal: a form sent from the phone's outbox with its idempotency
key records once however often it is sent, a refusal comes back as JSON the phone keeps with the draft, a
draft never goes out as someone else, and the service worker and the manifest are served from the root."""

import json
import uuid

import pytest
from django.test import Client

from renocrm.api.models import IdempotencyRecord
from renocrm.tenancy.context import tenant_context
from tests.factories import MembershipFactory
from tests.test_uploads import photo_bytes, upload
from tests.worksites.factories import PhaseFactory, WorksiteFactory
from worksites.models import PhaseKind, ProgressMedia, ProgressUpdate, SitePatrol, SiteProblem, Worksite

pytestmark = pytest.mark.usefixtures("english")


def member(firm, role="project_manager"):
    membership = MembershipFactory(tenant=firm, role=role)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(membership.user)
    client.user = membership.user
    client.owner = f"{membership.user.pk}:{firm.pk}"
    return client


@pytest.fixture
def foreman(firm_a):
    return member(firm_a)


@pytest.fixture
def site(firm_a):
    with tenant_context(firm_a):
        worksite = WorksiteFactory(status=Worksite.Status.IN_PROGRESS)
        PhaseFactory(worksite=worksite, position=1, kind=PhaseKind.MASONRY, name="Tiling", status="in_progress")
    return worksite


def send(client, url, data, *, key, owner=None):
    """What outbox.js sends: the form's fields, JSON wanted, the key and the draft's owner in headers."""
    return client.post(
        url,
        data,
        HTTP_ACCEPT="application/json",
        HTTP_IDEMPOTENCY_KEY=key,
        HTTP_X_OFFLINE_OWNER=owner or client.owner,
    )


def progress_url(site):
    return f"/worksites/{site.pk}/progress/"


def rows(firm, model):
    with tenant_context(firm):
        return list(model.objects.all())


def records(firm):
    with tenant_context(firm):
        return list(IdempotencyRecord.objects.values_list("principal", "status_code"))


def test_the_same_draft_sent_twice_records_one_update_and_answers_the_first_result(foreman, site, firm_a):
    key = str(uuid.uuid4())
    data = {"note": "Kitchen wall tiled", "visible_to_homeowner": "on"}
    first = send(foreman, progress_url(site), {**data, "files": upload(photo_bytes())}, key=key)
    assert first.status_code == 201
    assert first.json() == {"status": "sent", "url": progress_url(site)}
    again = send(foreman, progress_url(site), {**data, "files": upload(photo_bytes())}, key=key)
    assert again.status_code == 200
    assert again.json() == {"status": "sent", "url": progress_url(site), "replayed": True}
    (update,) = rows(firm_a, ProgressUpdate)
    assert (update.note, update.posted_by) == ("Kitchen wall tiled", foreman.user)
    assert len(rows(firm_a, ProgressMedia)) == 1
    assert records(firm_a) == [(f"page:{foreman.user.pk}", 302)]


def test_the_key_with_other_content_is_refused_and_records_nothing_more(foreman, site, firm_a):
    key = str(uuid.uuid4())
    assert send(foreman, progress_url(site), {"note": "Grouting done"}, key=key).status_code == 201
    other = send(foreman, progress_url(site), {"note": "Something else"}, key=key)
    assert other.status_code == 422
    assert other.json()["message"] == "This draft was sent before with other content."
    assert [update.note for update in rows(firm_a, ProgressUpdate)] == ["Grouting done"]


def test_a_key_is_one_persons(foreman, site, firm_a):
    """Two people's phones may not make the same key, but if they did, neither's update would be lost."""
    key = str(uuid.uuid4())
    designer = member(firm_a, "designer")
    assert send(foreman, progress_url(site), {"note": "Tiled"}, key=key).status_code == 201
    assert send(designer, progress_url(site), {"note": "Tiled"}, key=key).status_code == 201
    assert sorted(update.posted_by_id for update in rows(firm_a, ProgressUpdate)) == sorted(
        [foreman.user.pk, designer.user.pk]
    )


def test_the_form_posted_twice_by_the_browser_with_its_key_records_once(foreman, site, firm_a):
    data = {"note": "Waterproofing second coat", "idempotency_key": str(uuid.uuid4())}
    first = foreman.post(progress_url(site), data)
    second = foreman.post(progress_url(site), data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == progress_url(site)
    assert len(rows(firm_a, ProgressUpdate)) == 1
    # Without a key (no script on the phone) the form posts as it always did.
    assert foreman.post(progress_url(site), {"note": "Plain post"}).status_code == 302
    assert len(rows(firm_a, ProgressUpdate)) == 2


def test_a_refusal_comes_back_with_the_fields_errors_and_the_draft_may_go_again(foreman, site, firm_a):
    key = str(uuid.uuid4())
    refused = send(foreman, progress_url(site), {"note": "", "visible_to_homeowner": "on"}, key=key)
    assert refused.status_code == 422
    assert refused.json() == {
        "status": "refused",
        "message": "What was done today: Write a note or add a photo or video.",
        "errors": {"note": ["Write a note or add a photo or video."]},
    }
    assert records(firm_a) == []  # nothing remembered: the corrected draft goes under the same key
    corrected = send(foreman, progress_url(site), {"note": "Skirting fixed", "visible_to_homeowner": "on"}, key=key)
    assert corrected.status_code == 201
    assert [update.note for update in rows(firm_a, ProgressUpdate)] == ["Skirting fixed"]


def test_an_update_for_a_worksite_handed_over_meanwhile_is_refused_with_the_reason(foreman, site, firm_a):
    with tenant_context(firm_a):
        Worksite.objects.filter(pk=site.pk).update(status=Worksite.Status.HANDED_OVER)
    refused = send(foreman, progress_url(site), {"note": "Final clean"}, key=str(uuid.uuid4()))
    assert refused.status_code == 422
    assert refused.json()["message"] == "This worksite has been handed over; progress updates are closed."
    assert refused.json()["errors"] == {"__all__": ["This worksite has been handed over; progress updates are closed."]}
    assert rows(firm_a, ProgressUpdate) == []


def test_a_draft_is_never_sent_as_someone_else(foreman, site, firm_a, firm_b):
    key = str(uuid.uuid4())
    # Saved by another person on a shared phone: sent back unsent, to wait for them.
    other = send(foreman, progress_url(site), {"note": "Not mine"}, key=key, owner="999999:1")
    assert (other.status_code, other.json()) == (409, {"status": "other-owner"})
    # Signed out meanwhile: waits until they sign in again.
    signed_out = send(Client(HTTP_ACCEPT_LANGUAGE="en"), progress_url(site), {"note": "x"}, key=key, owner="1:1")
    assert (signed_out.status_code, signed_out.json()) == (401, {"status": "signed-out"})
    assert rows(firm_a, ProgressUpdate) == [] and records(firm_a) == []


def test_refusals_of_access_come_back_as_refusals(site, firm_a, firm_b):
    finance = member(firm_a, "finance")
    denied = send(finance, progress_url(site), {"note": "x"}, key=str(uuid.uuid4()))
    assert (denied.status_code, denied.json()["status"]) == (403, "refused")
    stranger = member(firm_b)
    missing = send(stranger, progress_url(site), {"note": "x"}, key=str(uuid.uuid4()))
    assert (missing.status_code, missing.json()["status"]) == (404, "refused")
    no_key = send(member(firm_a), progress_url(site), {"note": "x"}, key="")
    assert (no_key.status_code, no_key.json()["status"]) == (400, "refused")
    assert rows(firm_a, ProgressUpdate) == [] and records(firm_a) == [] and records(firm_b) == []


def test_a_site_patrol_and_a_site_problem_sent_twice_record_once(foreman, site, firm_a):
    with tenant_context(firm_a):
        from renocrm.tenancy.time import firm_today

        today = firm_today().isoformat()
    patrol = {"role": "foreman", "patrolled_on": today, "findings": "Scaffold tied"}
    key = str(uuid.uuid4())
    sent = [send(foreman, f"/worksites/{site.pk}/patrols/new/", patrol, key=key) for _ in range(2)]
    assert [answer.json()["status"] for answer in sent] == ["sent", "sent"]
    (recorded,) = rows(firm_a, SitePatrol)
    assert sent[0].json()["url"] == sent[1].json()["url"] == f"/worksites/{site.pk}/site/#patrol-{recorded.pk}"

    problem = {"title": "Pillar where the wardrobe goes", "solutions-TOTAL_FORMS": "3", "solutions-INITIAL_FORMS": "0"}
    problem_url = f"/worksites/{site.pk}/problems/new/"
    key = str(uuid.uuid4())
    one_solution = send(foreman, problem_url, {**problem, "solutions-0-description": "Build around it"}, key=key)
    assert one_solution.status_code == 422
    assert "at least two" in one_solution.json()["message"]
    assert "at least two" in " ".join(one_solution.json()["errors"]["__all__"])
    half = send(foreman, problem_url, {**problem, "solutions-1-cost_change": "50"}, key=key)
    assert "solutions-1-description" in half.json()["errors"]
    both = {**problem, "solutions-0-description": "Build around it", "solutions-1-description": "Move the wardrobe"}
    assert [send(foreman, problem_url, both, key=key).status_code for _ in range(2)] == [201, 200]
    assert len(rows(firm_a, SiteProblem)) == 1


def test_the_worksite_pages_may_be_kept_for_offline_use_and_other_pages_not(foreman, site):
    for url in (progress_url(site), f"/worksites/{site.pk}/site/", f"/worksites/{site.pk}/patrols/new/"):
        assert foreman.get(url)["X-Offline-Capture"] == "page"
    assert "X-Offline-Capture" not in foreman.get(f"/worksites/{site.pk}/")
    assert "X-Offline-Capture" not in foreman.get(f"/worksites/{site.pk}/inspections/new/")
    refused = foreman.post(progress_url(site), {"note": ""})
    assert refused.status_code == 200 and "X-Offline-Capture" not in refused
    page = foreman.get(progress_url(site)).content.decode()
    assert "data-offline-form" in page and 'name="idempotency_key"' in page
    assert f'data-owner="{foreman.owner}"' in page
    assert 'rel="manifest" href="/manifest.webmanifest"' in page and 'data-service-worker="/service-worker.js"' in page


def test_the_service_worker_and_the_manifest_are_served_from_the_root(client):
    worker = client.get("/service-worker.js", HTTP_ACCEPT_LANGUAGE="en")
    assert worker.status_code == 200
    assert worker["Content-Type"] == "text/javascript; charset=utf-8" and worker["Cache-Control"] == "no-cache"
    body = worker.content.decode()
    config = json.loads(body.split("self.RENOCRM_OFFLINE = ", 1)[1].split(";\n", 1)[0])
    assert config["pages"] == "/worksites/"
    assert "/static/dashboard/app.css" in config["shell"] and "/static/worksites/offline/capture.js" in config["shell"]
    assert config["offline"]["title"] == "No connection"
    assert 'importScripts("/static/worksites/offline/outbox.js", "/static/worksites/offline/sw.js")' in body

    manifest = client.get("/manifest.webmanifest", HTTP_ACCEPT_LANGUAGE="en")
    assert manifest["Content-Type"] == "application/manifest+json"
    assert manifest.json()["start_url"] == "/worksites/" and manifest.json()["display"] == "standalone"
