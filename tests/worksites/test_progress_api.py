"""/api/v1/progress-updates/: multipart posts from partners and the dashboard, signed media links, scopes."""

from datetime import datetime
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from PIL import Image

from renocrm.outbox.models import OutboxEvent
from renocrm.tenancy.context import tenant_context
from tests.factories import ApiKeyFactory
from tests.worksites.factories import PhaseFactory, ProgressMediaFactory, ProgressUpdateFactory, WorksiteFactory
from tests.worksites.test_progress_services import MP4, gps_photo, not_a_photo, stored_files, video
from worksites.models import PhaseKind, ProgressMedia, ProgressUpdate, Worksite

URL = "/api/v1/progress-updates/"


@pytest.fixture
def reader(firm_a):
    """A partner key of firm A that may only read worksites."""
    with tenant_context(firm_a):
        key = ApiKeyFactory(scopes=["worksites:read"])
    client = Client()
    client.defaults["HTTP_AUTHORIZATION"] = f"Api-Key {key.raw_key}"
    return client


@pytest.fixture
def site(firm_a):
    with tenant_context(firm_a):
        worksite = WorksiteFactory(status=Worksite.Status.IN_PROGRESS)
        PhaseFactory(worksite=worksite, position=1, kind=PhaseKind.CARPENTRY, name="Carpentry")
    return worksite


def carpentry(site):
    with tenant_context(site.tenant):
        return site.phases.get().pk


def test_a_multipart_post_stores_the_files_and_answers_with_signed_links(api, site, django_capture_on_commit_callbacks):
    body = {
        "worksite": site.pk,
        "phase": carpentry(site),
        "note": "Wardrobe carcasses up",
        "visible_to_homeowner": "false",
        "files": [gps_photo(), video()],
    }
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(URL, body)
    assert created.status_code == 201, created.content
    data = created.json()
    assert (data["worksite"], data["phase"], data["phase_kind"], data["note"]) == (
        site.pk,
        carpentry(site),
        "carpentry",
        "Wardrobe carcasses up",
    )
    assert (data["visible_to_homeowner"], data["posted_by"]) == (False, None)
    photo, clip = data["media"]
    assert (photo["kind"], photo["content_type"], photo["width"], photo["height"]) == ("image", "image/jpeg", 1200, 900)
    assert (clip["kind"], clip["content_type"], clip["thumbnail_url"]) == ("video", "video/mp4", None)
    # The thumbnail task ran after commit; the answer was made before, so a read shows it.
    again = api.get(f"{URL}{data['id']}/").json()["media"][0]
    anonymous = Client()
    full = anonymous.get(again["url"])
    assert full.status_code == 200 and full["Content-Type"] == "image/jpeg"
    image = Image.open(BytesIO(b"".join(full.streaming_content)))
    assert image.getexif().get_ifd(0x8825) == {}
    assert anonymous.get(again["thumbnail_url"]).status_code == 200
    with tenant_context(site.tenant):
        assert OutboxEvent.objects.filter(event_type="progress.posted").count() == 1


def test_a_note_only_post_needs_no_files(api, site):
    created = api.post(URL, {"worksite": site.pk, "note": "Site closed for the holiday"})
    assert created.status_code == 201, created.content
    assert (created.json()["media"], created.json()["visible_to_homeowner"]) == ([], True)


def test_a_bad_file_refuses_the_post_with_a_field_error_naming_it(api, site, media_root):
    refused = api.post(
        URL,
        {"worksite": site.pk, "note": "x", "files": [gps_photo(), not_a_photo("invoice.jpg")]},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert refused.status_code == 400
    [message] = refused.json()["error"]["fields"]["files"]
    assert "invoice.jpg" in message
    with tenant_context(site.tenant):
        assert not ProgressUpdate.objects.exists() and not ProgressMedia.objects.exists()
    assert stored_files(media_root) == []


def test_ids_of_another_firm_or_worksite_are_refused(api, site, firm_a, firm_b):
    with tenant_context(firm_b):
        foreign = WorksiteFactory()
    with tenant_context(firm_a):
        other_phase = PhaseFactory()
    assert "worksite" in api.post(URL, {"worksite": foreign.pk, "note": "x"}).json()["error"]["fields"]
    wrong_phase = api.post(URL, {"worksite": site.pk, "phase": other_phase.pk, "note": "x"})
    assert wrong_phase.status_code == 400 and "phase" in wrong_phase.json()["error"]["fields"]


def test_a_read_only_partner_reads_progress_but_cannot_post_or_hide(reader, site, firm_a):
    with tenant_context(firm_a):
        media = ProgressMediaFactory(update=ProgressUpdateFactory(worksite=site, note="Ceiling boards"))
    listed = reader.get(URL, {"worksite": site.pk})
    assert listed.status_code == 200
    [row] = listed.json()["results"]
    assert row["note"] == "Ceiling boards" and row["media"][0]["url"].startswith("/media/")
    assert reader.get(f"{URL}{media.update_id}/").status_code == 200
    assert reader.post(URL, {"worksite": site.pk, "note": "x"}).status_code == 403
    hide = reader.post(f"{URL}{media.update_id}/visibility/", {"visible": False}, content_type="application/json")
    assert hide.status_code == 403
    with tenant_context(firm_a):
        assert ProgressUpdate.objects.count() == 1 and ProgressUpdate.objects.get().visible_to_homeowner


def test_visibility_action(api, site, firm_a):
    with tenant_context(firm_a):
        update = ProgressUpdateFactory(worksite=site)
    hidden = api.post(f"{URL}{update.pk}/visibility/", {"visible": False}, content_type="application/json")
    assert hidden.status_code == 200, hidden.content
    assert hidden.json()["visible_to_homeowner"] is False
    with tenant_context(firm_a):
        update.refresh_from_db()
        assert update.visible_to_homeowner is False
    assert api.post(f"{URL}{update.pk}/visibility/", {}, content_type="application/json").status_code == 400


def test_filters(api, site, firm_a):
    shanghai = ZoneInfo("Asia/Shanghai")
    with tenant_context(firm_a):
        other = WorksiteFactory()
        early = ProgressUpdateFactory(worksite=site, posted_at=datetime(2026, 12, 1, 9, tzinfo=shanghai))
        late = ProgressUpdateFactory(
            worksite=site, phase=site.phases.get(), posted_at=datetime(2026, 12, 5, 9, tzinfo=shanghai)
        )
        ProgressUpdateFactory(worksite=other)

    def ids(**params):
        return [row["id"] for row in api.get(URL, params).json()["results"]]

    assert ids(worksite=site.pk) == [late.pk, early.pk]
    assert ids(phase=carpentry(site)) == [late.pk]
    assert ids(worksite=site.pk, posted_at__gte="2026-12-03T00:00:00+08:00") == [late.pk]
    assert ids(worksite=site.pk, posted_at__lte="2026-12-03T00:00:00+08:00") == [early.pk]


def test_the_list_keeps_its_query_count_as_updates_and_media_grow(api, site, firm_a):
    def add(count):
        with tenant_context(firm_a):
            for _ in range(count):
                update = ProgressUpdateFactory(worksite=site, phase=site.phases.get())
                ProgressMediaFactory(update=update)
                ProgressMediaFactory(update=update, kind="video", content_type="video/mp4")

    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = api.get(URL)
        assert response.status_code == 200
        return len(captured.captured_queries), len(response.json()["results"])

    add(1)
    queries()  # the key records when it was last used at most once a minute
    few, few_rows = queries()
    add(6)
    many, many_rows = queries()
    assert (few_rows, many_rows) == (1, 7)
    assert many == few


def test_a_large_upload_retried_with_its_idempotency_key_is_stored_once(api, site, firm_a):
    """An upload above Django's in-memory body limit (2.5 MB) is still fingerprinted, chunk by chunk."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    big = MP4 + b"\0" * (3 * 1024 * 1024)

    def post(data=big):
        body = {"worksite": site.pk, "note": "Plastering", "files": [SimpleUploadedFile("walk.mp4", data)]}
        return api.post(URL, body, HTTP_IDEMPOTENCY_KEY="upload-1")

    first, retry = post(), post()
    assert first.status_code == 201, first.content
    assert retry.status_code == 201 and retry.json()["id"] == first.json()["id"]
    with tenant_context(firm_a):
        assert ProgressUpdate.objects.count() == 1
    other = post(big + b"x")
    assert other.status_code == 422 or other.status_code == 409, other.content
