"""Photos and videos of site problems and inspections go through the progress photos' pipeline (type from
the bytes, EXIF and location dropped, thumbnails after commit, signed links), from the card on the site
page and through the API, and the homeowner sees them on the portal."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from PIL import Image

from renocrm.tenancy.context import tenant_context
from tests.factories import MembershipFactory
from tests.worksites.factories import PortalLinkFactory, WorksiteFactory
from tests.worksites.test_progress_services import gps_photo, not_a_photo, video
from worksites.models import Inspection, SiteMedia
from worksites.services import inspections, media
from worksites.services.portal import portal_link_token

pytestmark = pytest.mark.usefixtures("english")

SOLUTIONS = [
    {"description": "Box the pipe in", "cost_change": "0", "extra_days": 0},
    {"description": "Move the pipe into the wall", "cost_change": "850", "extra_days": 2},
]


@pytest.fixture
def site(firm_a):
    with tenant_context(firm_a):
        return WorksiteFactory(status="in_progress")


@pytest.fixture
def foreman(firm_a):
    return MembershipFactory(tenant=firm_a, role="project_manager").user


def staff_client(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_a_problem_raised_with_photos_keeps_them_clean_and_thumbnailed(
    firm_a, site, foreman, django_capture_on_commit_callbacks
):
    with tenant_context(firm_a), django_capture_on_commit_callbacks(execute=True):
        problem = inspections.site_problem_raise(
            worksite=site,
            title="Drain pipe in the way of the wardrobe",
            raised_by=foreman,
            solutions=SOLUTIONS,
            files=[gps_photo("pipe.jpg"), video("walkround.mp4")],
        )
    with tenant_context(firm_a):
        photo, clip = SiteMedia.objects.filter(problem=problem).order_by("position")
        assert (photo.kind, clip.kind, photo.uploaded_by) == ("image", "video", foreman)
        with photo.file.open("rb") as stored, Image.open(stored) as image:
            assert not image.getexif(), "no EXIF, no location"
        assert photo.thumbnail and not clip.thumbnail
        assert photo.file.name.startswith(f"firms/{firm_a.pk}/worksites/sitemedia/")


def test_one_bad_file_refuses_them_all_and_nine_is_the_most(firm_a, site, foreman):
    with tenant_context(firm_a):
        inspection = inspections.inspection_schedule(worksite=site, kind=Inspection.Kind.MID_TERM, created_by=None)
        with pytest.raises(ValidationError) as refused:
            media.site_media_add(subject=inspection, files=[gps_photo(), not_a_photo("fake.jpg")], uploaded_by=foreman)
        assert "fake.jpg" in " ".join(refused.value.message_dict["files"])
        assert not SiteMedia.objects.exists()
        media.site_media_add(
            subject=inspection, files=[gps_photo(f"{n}.jpg", (20, 20)) for n in range(8)], uploaded_by=foreman
        )
        with pytest.raises(ValidationError) as too_many:
            media.site_media_add(
                subject=inspection,
                files=[gps_photo("a.jpg", (20, 20)), gps_photo("b.jpg", (20, 20))],
                uploaded_by=foreman,
            )
        assert "9" in too_many.value.message_dict["files"][0]
        assert SiteMedia.objects.filter(inspection=inspection).count() == 8
        with pytest.raises(ValidationError):
            media.site_media_add(subject=inspection, files=[], uploaded_by=foreman)


def test_photos_through_the_api_with_signed_links(firm_a, site, partner):
    with tenant_context(firm_a):
        problem = inspections.site_problem_raise(worksite=site, title="Beam", raised_by=None, solutions=SOLUTIONS)
    api = Client(HTTP_ACCEPT_LANGUAGE="en", **partner.headers)
    url = f"/api/v1/site-problems/{problem.pk}/media/"
    bad = api.post(url, {"files": [not_a_photo("x.jpg")]})
    assert bad.status_code == 400 and "files" in bad.json()["error"]["fields"]
    added = api.post(url, {"files": [gps_photo("beam.jpg")]})
    assert added.status_code == 201, added.content
    [item] = added.json()["media"]
    assert item["kind"] == "image" and item["url"].startswith("/media/")
    assert api.get(item["url"]).status_code == 200
    listed = api.get("/api/v1/site-problems/", {"worksite": site.pk}).json()["results"]
    assert [len(row["media"]) for row in listed] == [1]
    with tenant_context(firm_a):
        inspection = inspections.inspection_schedule(worksite=site, kind=Inspection.Kind.MID_TERM, created_by=None)
    on_inspection = api.post(f"/api/v1/inspections/{inspection.pk}/media/", {"files": [gps_photo()]})
    assert on_inspection.status_code == 201 and len(on_inspection.json()["media"]) == 1


def test_the_card_takes_photos_for_staff_who_manage_and_the_homeowner_sees_them(firm_a, site, foreman):
    with tenant_context(firm_a):
        problem = inspections.site_problem_raise(worksite=site, title="Beam", raised_by=None, solutions=SOLUTIONS)
        token = portal_link_token(PortalLinkFactory(worksite=site))
    sales = MembershipFactory(tenant=firm_a, role="sales").user
    page = staff_client(sales).get(f"/worksites/{site.pk}/site/")
    assert page.status_code == 200 and b"Add photos or videos" not in page.content
    assert (
        staff_client(sales).post(f"/worksites/problems/{problem.pk}/media/", {"files": [gps_photo()]}).status_code
        == 403
    )

    as_foreman = staff_client(foreman)
    assert b"Add photos or videos" in as_foreman.get(f"/worksites/{site.pk}/site/").content
    refused = as_foreman.post(
        f"/worksites/problems/{problem.pk}/media/", {"files": [not_a_photo("x.jpg")]}, follow=True
    )
    assert b"x.jpg" in refused.content
    done = as_foreman.post(f"/worksites/problems/{problem.pk}/media/", {"files": [gps_photo("beam.jpg")]}, follow=True)
    assert done.status_code == 200 and b'data-testid="site-media"' in done.content
    portal = Client().get(f"/portal/{token}/?lang=en")
    assert portal.status_code == 200 and b'data-testid="site-media"' in portal.content
    with tenant_context(firm_a):
        assert SiteMedia.objects.get().uploaded_by == foreman
