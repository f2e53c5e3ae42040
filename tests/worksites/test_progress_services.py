"""Progress updates: posting from the site with photos and videos, what is stored, the thumbnail task, the
event, hiding an update from the homeowner, and the feed."""

from io import BytesIO
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from PIL import Image

from renocrm.outbox.models import OutboxEvent
from renocrm.tenancy.context import tenant_context
from tests.factories import MembershipFactory
from tests.test_uploads import GPS_IFD, MP4, photo_bytes
from tests.worksites.factories import PhaseFactory, ProgressMediaFactory, ProgressUpdateFactory, WorksiteFactory
from worksites.models import PhaseKind, ProgressMedia, ProgressUpdate, Worksite
from worksites.selectors.progress import progress_current_phase, progress_feed, recent_progress
from worksites.services import media
from worksites.services import progress as services


def stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


def gps_photo(name="IMG_0001.jpg", size=(1200, 900)):
    return SimpleUploadedFile(name, photo_bytes(size=size), content_type="image/jpeg")


def video(name="VID_0001.mp4"):
    return SimpleUploadedFile(name, MP4, content_type="video/mp4")


def not_a_photo(name="photo.jpg"):
    return SimpleUploadedFile(name, b"<html>definitely not a photo</html>", content_type="image/jpeg")


@pytest.fixture
def foreman(firm_a):
    return MembershipFactory(tenant=firm_a, role="project_manager").user


@pytest.fixture
def site(firm_a):
    """A worksite with two phases, the second one under way."""
    with tenant_context(firm_a):
        worksite = WorksiteFactory(status=Worksite.Status.IN_PROGRESS)
        PhaseFactory(worksite=worksite, position=1, kind=PhaseKind.DEMOLITION, status="done")
        PhaseFactory(worksite=worksite, position=2, kind=PhaseKind.PLUMBING_ELECTRICAL, status="in_progress")
    return worksite


def phase(site, kind):
    with tenant_context(site.tenant):
        return site.phases.get(kind=kind)


def post(site, *, files=(), note="Wiring in the kitchen done", **kwargs):
    with tenant_context(site.tenant):
        return services.progress_post(worksite=site, note=note, files=list(files), **kwargs)


def test_photos_are_stored_without_gps_under_the_firm_and_get_thumbnails(
    site, foreman, media_root, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        update = post(site, files=[gps_photo(), video()], posted_by=foreman)
    with tenant_context(site.tenant):
        photo, clip = ProgressMedia.objects.filter(update=update).order_by("position")
    assert (photo.kind, photo.position, photo.original_name) == ("image", 0, "IMG_0001.jpg")
    assert (photo.width, photo.height, photo.content_type) == (1200, 900, "image/jpeg")
    assert (clip.kind, clip.content_type, clip.size, clip.thumbnail.name) == ("video", "video/mp4", len(MP4), "")
    assert photo.file.name.startswith(f"firms/{site.tenant_id}/worksites/progressmedia/")
    with photo.file.open("rb") as f, Image.open(f) as picture:
        assert picture.getexif().get_ifd(GPS_IFD) == {} and dict(picture.getexif()) == {}
    with photo.thumbnail.open("rb") as f, Image.open(f) as thumbnail:
        assert thumbnail.format == "JPEG" and thumbnail.size == (480, 360)
    assert len(stored_files(media_root)) == 3


def test_a_bad_file_refuses_the_whole_post_and_stores_nothing(site, foreman, media_root):
    with pytest.raises(ValidationError) as refused:
        post(site, files=[gps_photo(), not_a_photo("kitchen.jpg")], posted_by=foreman)
    [message] = refused.value.message_dict["files"]
    assert "kitchen.jpg" in message
    assert refused.value.error_dict["files"][0].code == "unsupported_type"
    with tenant_context(site.tenant):
        assert not ProgressUpdate.objects.exists() and not ProgressMedia.objects.exists()
        assert not OutboxEvent.objects.filter(event_type="progress.posted").exists()
    assert stored_files(media_root) == []


@override_settings(UPLOAD_MAX_BYTES={"image": 2000, "video": 2000, "pdf": 2000})
def test_an_oversize_photo_is_refused(site, foreman, media_root):
    with pytest.raises(ValidationError) as refused:
        post(site, files=[gps_photo("huge.jpg")], posted_by=foreman)
    assert refused.value.error_dict["files"][0].code == "too_large"
    assert "huge.jpg" in refused.value.message_dict["files"][0]
    assert stored_files(media_root) == []


def test_more_than_nine_files_are_refused(site, foreman):
    files = [gps_photo(f"{n}.jpg", size=(20, 20)) for n in range(media.MAX_FILES + 1)]
    with pytest.raises(ValidationError) as refused:
        post(site, files=files, posted_by=foreman)
    assert "files" in refused.value.message_dict


def test_the_phase_must_be_one_of_this_worksite(site, foreman, firm_a):
    with tenant_context(firm_a):
        elsewhere = PhaseFactory()
    with pytest.raises(ValidationError) as refused:
        post(site, phase=elsewhere, posted_by=foreman)
    assert "phase" in refused.value.message_dict


def test_a_handed_over_worksite_takes_no_more_updates(site, foreman):
    with tenant_context(site.tenant):
        Worksite.objects.filter(pk=site.pk).update(status=Worksite.Status.HANDED_OVER)
    with pytest.raises(ValidationError):
        post(site, posted_by=foreman)
    with tenant_context(site.tenant):
        assert not ProgressUpdate.objects.exists()


def test_a_note_or_a_file_is_enough_but_one_of_them_is_needed(site, foreman):
    with pytest.raises(ValidationError) as refused:
        post(site, note="   ", posted_by=foreman)
    assert "note" in refused.value.message_dict
    assert post(site, note="Tiles delivered", posted_by=foreman).note == "Tiles delivered"
    assert post(site, note="", files=[gps_photo(size=(20, 20))], posted_by=foreman).note == ""


def test_posting_emits_one_event_with_the_counts(site, foreman):
    plumbing = phase(site, PhaseKind.PLUMBING_ELECTRICAL)
    update = post(
        site,
        files=[gps_photo(), gps_photo("2.jpg"), video()],
        phase=plumbing,
        posted_by=foreman,
        visible_to_homeowner=False,
    )
    with tenant_context(site.tenant):
        [event] = OutboxEvent.objects.filter(event_type="progress.posted")
    assert event.payload == {
        "progress_update_id": update.pk,
        "worksite_id": site.pk,
        "project_id": site.project_id,
        "phase_kind": "plumbing_electrical",
        "photo_count": 2,
        "video_count": 1,
        "posted_at": update.posted_at.isoformat(),
        "visible_to_homeowner": False,
    }
    note_only = post(site, posted_by=None)
    with tenant_context(site.tenant):
        later = OutboxEvent.objects.filter(event_type="progress.posted").latest("id")
    assert later.payload["progress_update_id"] == note_only.pk
    assert (later.payload["phase_kind"], later.payload["photo_count"]) == (None, 0)


def test_the_thumbnail_task_is_safe_to_run_again(site, foreman, media_root):
    update = post(site, files=[gps_photo(), video()], posted_by=foreman)  # not committed: no task ran
    with tenant_context(site.tenant):
        photo, clip = ProgressMedia.objects.filter(update=update).order_by("position")
        assert not photo.thumbnail
        first = services.progress_media_make_thumbnail(media_id=photo.pk).thumbnail.name
        assert first and services.progress_media_make_thumbnail(media_id=photo.pk).thumbnail.name == first
        assert not services.progress_media_make_thumbnail(media_id=clip.pk).thumbnail
        assert services.progress_media_make_thumbnail(media_id=10**9) is None
    assert len(stored_files(media_root)) == 3  # the photo, its one thumbnail, the video


def test_a_transparent_png_gets_a_jpeg_thumbnail_on_white(site, foreman):
    out = BytesIO()
    Image.new("RGBA", (960, 480), (255, 0, 0, 0)).save(out, format="PNG")
    update = post(site, files=[SimpleUploadedFile("plan.png", out.getvalue())], posted_by=foreman)
    with tenant_context(site.tenant):
        media = services.progress_media_make_thumbnail(media_id=update.media.get().pk)
    with media.thumbnail.open("rb") as f, Image.open(f) as thumbnail:
        assert (thumbnail.format, thumbnail.size) == ("JPEG", (480, 240))
        assert thumbnail.getpixel((10, 10)) == (255, 255, 255)


def test_staff_hide_an_update_from_the_homeowner_feed(site, foreman):
    shown, hidden = post(site, note="shown", posted_by=foreman), post(site, note="hidden", posted_by=foreman)
    with tenant_context(site.tenant):
        services.progress_update_set_visibility(update=hidden, visible=False)
        staff, _ = progress_feed(worksite=site, homeowner_view=False)
        homeowner, _ = progress_feed(worksite=site, homeowner_view=True)
        assert [u.note for u in staff] == ["hidden", "shown"]
        assert [u.note for u in homeowner] == ["shown"]
        services.progress_update_set_visibility(update=hidden, visible=True)
        assert len(progress_feed(worksite=site, homeowner_view=True)[0]) == 2
        assert shown.visible_to_homeowner


def test_the_feed_pages_newest_first_with_media_loaded(site, firm_a, django_assert_num_queries):
    with tenant_context(firm_a):
        other = WorksiteFactory()
        ProgressUpdateFactory(worksite=other, note="another site")
        for n in range(5):
            ProgressMediaFactory(update=ProgressUpdateFactory(worksite=site, note=f"day {n}"))
        with django_assert_num_queries(2):
            page, older = progress_feed(worksite=site, homeowner_view=False, size=3)
            [len(u.media.all()) for u in page] and [u.phase for u in page] and [u.posted_by for u in page]
        assert [u.note for u in page] == ["day 4", "day 3", "day 2"] and older == page[-1].pk
        rest, none = progress_feed(worksite=site, homeowner_view=False, before=older, size=3)
        assert ([u.note for u in rest], none) == (["day 1", "day 0"], None)
        assert [u.note for u in recent_progress(limit=2)] == ["day 4", "day 3"]


def test_the_current_phase_is_the_one_under_way(site):
    with tenant_context(site.tenant):
        assert progress_current_phase(worksite=site).kind == PhaseKind.PLUMBING_ELECTRICAL
        site.phases.filter(kind=PhaseKind.PLUMBING_ELECTRICAL).update(status="done")
        PhaseFactory(worksite=site, position=3, kind=PhaseKind.MASONRY)
        assert progress_current_phase(worksite=site).kind == PhaseKind.MASONRY
