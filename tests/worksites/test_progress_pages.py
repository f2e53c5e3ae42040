"""The progress page: the foreman's phone form and the feed, through the Django test client."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from renocrm.media import media_url
from renocrm.tenancy.context import tenant_context
from tests.factories import ApiKeyFactory, MembershipFactory
from tests.worksites.factories import PhaseFactory, ProgressMediaFactory, ProgressUpdateFactory, WorksiteFactory
from tests.worksites.test_progress_services import gps_photo, not_a_photo, stored_files, video
from worksites.models import PhaseKind, ProgressMedia, ProgressUpdate, Worksite

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def foreman(client, firm_a):
    membership = MembershipFactory(tenant=firm_a, role="project_manager")
    client.force_login(membership.user)
    client.user = membership.user
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def site(firm_a):
    with tenant_context(firm_a):
        worksite = WorksiteFactory(status=Worksite.Status.IN_PROGRESS)
        PhaseFactory(worksite=worksite, position=1, kind=PhaseKind.DEMOLITION, name="Demolition", status="done")
        PhaseFactory(worksite=worksite, position=2, kind=PhaseKind.MASONRY, name="Tiling", status="in_progress")
        PhaseFactory(worksite=worksite, position=3, kind=PhaseKind.PAINTING, name="Painting")
    return worksite


def url(site):
    return f"/worksites/{site.pk}/progress/"


def phase_id(site, kind):
    with tenant_context(site.tenant):
        return site.phases.get(kind=kind).pk


def test_the_phone_form_sits_on_top_with_the_camera_and_the_current_phase(foreman, site):
    page = foreman.get(url(site))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html
    assert 'enctype="multipart/form-data"' in html
    camera = re.search(r'<input type="file" name="files"[^>]*>', html).group(0)
    assert 'accept="image/*,video/*"' in camera and 'capture="environment"' in camera and "multiple" in camera
    assert html.index('data-testid="progress-form"') < html.index('data-testid="progress-feed"')
    options = re.findall(r'<option value="(\d*)"( selected)?>([^<]*)</option>', html)
    assert [(name, bool(selected)) for _, selected, name in options] == [
        ("—", False),
        ("Demolition", False),
        ("Tiling", True),
        ("Painting", False),
    ]
    assert int(options[2][0]) == phase_id(site, PhaseKind.MASONRY)
    assert 'name="visible_to_homeowner"' in html and "checked" in re.search(
        r"<input[^>]*visible_to_homeowner[^>]*>", html
    ).group(0)


def test_posting_photos_redirects_to_the_feed_which_shows_them(foreman, site, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = foreman.post(
            url(site),
            {
                "note": "Bathroom tiles laid",
                "phase": phase_id(site, PhaseKind.MASONRY),
                "files": [gps_photo(), video()],
                "visible_to_homeowner": "on",
            },
        )
    assert response.status_code == 302 and response["Location"] == url(site)
    with tenant_context(site.tenant):
        update = ProgressUpdate.objects.get()
        photo, clip = update.media.order_by("position")
        assert (update.posted_by, update.phase.kind, update.visible_to_homeowner) == (
            foreman.user,
            PhaseKind.MASONRY,
            True,
        )
        assert photo.thumbnail
    page = foreman.get(url(site))
    html = page.content.decode()
    assert "Bathroom tiles laid" in html and "Tiling" in html and str(foreman.user) in html
    assert 'href="/media/' in html and "<video controls" in html
    # The thumbnail is shown and links to the full photo; both links work for whoever holds them.
    feed = page.context["updates"]
    assert [u.pk for u in feed] == [update.pk]
    assert Client().get(media_url(photo.thumbnail)).status_code == 200
    assert Client().get(media_url(clip.file)).status_code == 200


def test_the_gallery_input_adds_to_the_camera_input(foreman, site):
    foreman.post(url(site), {"note": "", "files": [gps_photo()], "gallery": [gps_photo("older.jpg")]})
    with tenant_context(site.tenant):
        assert list(ProgressMedia.objects.order_by("position").values_list("original_name", flat=True)) == [
            "IMG_0001.jpg",
            "older.jpg",
        ]


def test_a_bad_file_is_shown_on_the_field_and_the_note_is_kept(foreman, site, media_root):
    response = foreman.post(url(site), {"note": "Waterproofing done", "files": [gps_photo(), not_a_photo("scan.jpg")]})
    assert response.status_code == 200
    errors = response.context["form"].errors["files"]
    assert len(errors) == 1 and "scan.jpg" in errors[0]
    html = response.content.decode()
    assert "scan.jpg" in html and "Waterproofing done</textarea>" in html
    with tenant_context(site.tenant):
        assert not ProgressUpdate.objects.exists()
    assert stored_files(media_root) == []


def test_an_empty_post_asks_for_a_note_or_a_file(foreman, site):
    response = foreman.post(url(site), {"note": ""})
    assert response.status_code == 200 and response.context["form"].errors["note"]


def test_times_are_shown_in_the_firms_time_zone(foreman, site, firm_a):
    firm_a.time_zone = "Asia/Shanghai"
    firm_a.save()
    with tenant_context(firm_a):
        ProgressUpdateFactory(worksite=site, posted_at=datetime(2026, 12, 1, 1, 30, tzinfo=ZoneInfo("UTC")))
    assert "2026-12-01 09:30" in foreman.get(url(site)).content.decode()


def test_managers_hide_an_update_and_the_feed_marks_it(foreman, site):
    with tenant_context(site.tenant):
        update = ProgressUpdateFactory(worksite=site)
    toggle = f"/worksites/progress-updates/{update.pk}/visibility/"
    response = foreman.post(toggle, {"visible": "0", "before": "99"})
    assert response["Location"] == f"{url(site)}?before=99#update-{update.pk}"
    html = foreman.get(url(site)).content.decode()
    assert 'data-testid="hidden-badge"' in html and "Show to homeowner" in html
    foreman.post(toggle, {"visible": "1"})
    with tenant_context(site.tenant):
        update.refresh_from_db()
        assert update.visible_to_homeowner


def test_view_only_staff_see_the_feed_but_cannot_post_or_hide(client, site, firm_a):
    client.force_login(MembershipFactory(tenant=firm_a, role="customer_service").user)
    with tenant_context(firm_a):
        update = ProgressUpdateFactory(worksite=site)
    page = client.get(url(site))
    assert page.status_code == 200 and page.context["form"] is None
    assert 'name="files"' not in page.content.decode()
    assert client.post(url(site), {"note": "x"}).status_code == 403
    assert client.post(f"/worksites/progress-updates/{update.pk}/visibility/", {"visible": "0"}).status_code == 403


def test_a_handed_over_worksite_shows_its_feed_without_the_form(foreman, site):
    with tenant_context(site.tenant):
        Worksite.objects.filter(pk=site.pk).update(status=Worksite.Status.HANDED_OVER)
    html = foreman.get(url(site)).content.decode()
    assert 'data-testid="progress-form"' not in html and "handed over" in html


def test_another_firm_gets_404_and_never_a_link_to_the_photo(site, firm_a, firm_b):
    with tenant_context(firm_a):
        media = ProgressMediaFactory(update=ProgressUpdateFactory(worksite=site))
    b_admin = Client()
    b_admin.force_login(MembershipFactory(tenant=firm_b).user)
    with tenant_context(firm_b):
        b_key = ApiKeyFactory()
    key = {"HTTP_AUTHORIZATION": f"Api-Key {b_key.raw_key}"}
    responses = [
        b_admin.get(url(site)),
        b_admin.post(f"/worksites/progress-updates/{media.update_id}/visibility/", {"visible": "0"}),
        b_admin.get(f"/api/v1/progress-updates/{media.update_id}/"),
        b_admin.get("/api/v1/progress-updates/"),
        b_admin.get("/api/v1/progress-updates/", {"worksite": site.pk}),
        Client().get(f"/api/v1/progress-updates/{media.update_id}/", **key),
        Client().get("/api/v1/progress-updates/", **key),
    ]
    assert [r.status_code for r in responses] == [404, 404, 404, 200, 400, 404, 200]
    signed = media_url(media.file)
    for response in responses:
        body = response.content.decode()
        assert "/media/" not in body and signed not in body and media.file.name not in body
    with tenant_context(firm_a):
        media.update.refresh_from_db()
        assert media.update.visible_to_homeowner


def test_no_one_reads_a_photo_without_a_signed_link(site, firm_a):
    with tenant_context(firm_a):
        media = ProgressMediaFactory(update=ProgressUpdateFactory(worksite=site))
    anonymous = Client()
    assert anonymous.get(f"/media/{media.file.name}").status_code == 404
    assert anonymous.get(url(site)).status_code == 302  # to the login page


def test_older_updates_page_by_keyset(foreman, site):
    with tenant_context(site.tenant):
        updates = [ProgressUpdateFactory(worksite=site, note=f"day {n}") for n in range(23)]
    first = foreman.get(url(site))
    assert len(first.context["updates"]) == 20 and first.context["older"] == updates[3].pk
    assert f'href="?before={updates[3].pk}"' in first.content.decode()
    second = foreman.get(url(site), {"before": updates[3].pk})
    assert [u.note for u in second.context["updates"]] == ["day 2", "day 1", "day 0"]
    assert second.context["older"] is None


def test_the_page_keeps_its_query_count_as_updates_and_photos_grow(foreman, site, django_assert_max_num_queries):
    def add(count):
        with tenant_context(site.tenant):
            for _ in range(count):
                update = ProgressUpdateFactory(worksite=site, phase=site.phases.first(), posted_by=foreman.user)
                ProgressMediaFactory(update=update)
                ProgressMediaFactory(update=update, kind="video", content_type="video/mp4")

    add(1)
    with django_assert_max_num_queries(40) as counted:
        assert foreman.get(url(site)).status_code == 200
    add(6)
    with django_assert_max_num_queries(len(counted.captured_queries)):
        page = foreman.get(url(site))
    assert len(page.context["updates"]) == 7
