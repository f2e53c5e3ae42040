"""Signed media links: a link the app made serves the file to whoever holds it, for a limited time; any
other path to the file is a 404 that does not say whether the file exists."""

from datetime import timedelta

import pytest
import time_machine
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.test import Client
from django.utils import timezone

from renocrm.media import SALT, media_url
from renocrm.media_sweep import media_sweep_orphans, sweep_orphan_media
from renocrm.tenancy.context import tenant_context
from tests.worksites.factories import InspectionFactory, ProgressMediaFactory


@pytest.fixture
def photo(firm_a):
    with tenant_context(firm_a):
        return ProgressMediaFactory()


@pytest.fixture
def anonymous():
    return Client()


def token_of(url: str) -> str:
    assert url.startswith("/media/")
    return url.removeprefix("/media/")


def test_a_signed_url_serves_the_file_to_anyone_holding_it(photo, anonymous):
    assert photo.file.name.startswith(f"firms/{photo.tenant_id}/worksites/progressmedia/")
    response = anonymous.get(media_url(photo.file))
    assert response.status_code == 200
    photo.file.open("rb")
    assert b"".join(response.streaming_content) == photo.file.read()
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"].startswith("private")
    assert response["Content-Disposition"] == "inline"
    assert response["Accept-Ranges"] == "bytes"


def test_the_same_file_unsigned_is_404(photo, anonymous):
    assert anonymous.get(f"/media/{photo.file.name}").status_code == 404
    assert anonymous.get(f"/media/{photo.file.name.replace('/', '%2F')}").status_code == 404


def test_a_tampered_token_is_404(photo, anonymous):
    token = token_of(media_url(photo.file))
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert anonymous.get(f"/media/{flipped}").status_code == 404
    # A validly shaped token for another name, signed with the wrong salt, is no better.
    forged = signing.dumps(photo.file.name, salt="something-else", compress=True)
    assert anonymous.get(f"/media/{forged}").status_code == 404


def test_an_expired_token_is_404(photo, anonymous, settings):
    url = media_url(photo.file)
    later = timezone.now() + timedelta(seconds=settings.MEDIA_URL_MAX_AGE_SECONDS + 5)
    with time_machine.travel(later, tick=False):
        assert anonymous.get(url).status_code == 404
    assert anonymous.get(url).status_code == 200


def test_a_token_naming_a_path_outside_the_firms_folder_is_404(anonymous, db):
    default_storage.save("private/settings.txt", ContentFile(b"SECRET"))
    for name in ("private/settings.txt", "firms/../private/settings.txt", "/private/settings.txt"):
        token = signing.dumps(name, salt=SALT, compress=True)
        response = anonymous.get(f"/media/{token}")
        assert response.status_code == 404, name
        assert b"SECRET" not in response.content


def test_a_missing_file_answers_like_a_bad_token(anonymous, db):
    token = signing.dumps("firms/1/worksites/progressmedia/missing.jpg", salt=SALT, compress=True)
    assert anonymous.get(f"/media/{token}").status_code == 404


def test_a_video_player_gets_the_byte_range_it_asks_for(photo, anonymous):
    url = media_url(photo.file)
    photo.file.open("rb")
    data = photo.file.read()
    part = anonymous.get(url, HTTP_RANGE="bytes=0-9")
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 0-9/{len(data)}" and part["Content-Length"] == "10"
    assert b"".join(part.streaming_content) == data[:10]
    tail = anonymous.get(url, HTTP_RANGE="bytes=-5")
    assert b"".join(tail.streaming_content) == data[-5:]
    beyond = anonymous.get(url, HTTP_RANGE=f"bytes={len(data) + 10}-")
    assert beyond.status_code == 416 and beyond["Content-Range"] == f"bytes */{len(data)}"


# The sweep of stored uploads no row names ---------------------------------------------------------------


class RolledBack(Exception):
    pass


def stored(name: str) -> bool:
    return default_storage.exists(name)


def rolled_back_upload(firm) -> str:
    """A progress photo whose request failed after the file was written: the row is gone, the file is not."""
    with tenant_context(firm):
        try:
            with transaction.atomic():
                name = ProgressMediaFactory().file.name
                raise RolledBack
        except RolledBack:
            pass
    return name


def sweep(firm, *, after: timedelta) -> int:
    with time_machine.travel(timezone.now() + after), tenant_context(firm):
        return media_sweep_orphans()


def test_a_rolled_back_uploads_file_is_deleted_by_the_sweep_and_a_named_one_survives(photo, firm_a):
    orphan = rolled_back_upload(firm_a)
    assert stored(orphan) and stored(photo.file.name)

    assert sweep(firm_a, after=timedelta(hours=25)) == 1

    assert not stored(orphan)
    assert stored(photo.file.name)
    # What the page shows still opens.
    assert Client().get(media_url(photo.file)).status_code == 200


def test_a_file_younger_than_the_grace_period_is_left_to_its_transaction(firm_a, settings):
    assert settings.MEDIA_ORPHAN_GRACE_HOURS == 24
    orphan = rolled_back_upload(firm_a)

    assert sweep(firm_a, after=timedelta(hours=23)) == 0
    assert stored(orphan)


def test_a_replaced_file_is_deleted_and_its_replacement_kept(firm_a):
    with tenant_context(firm_a):
        inspection = InspectionFactory()
        inspection.circuit_diagram.save("first.pdf", ContentFile(b"%PDF-1.4 first"))
        first = inspection.circuit_diagram.name
        inspection.circuit_diagram.save("second.pdf", ContentFile(b"%PDF-1.4 second"))
        second = inspection.circuit_diagram.name

    assert sweep(firm_a, after=timedelta(days=2)) == 1
    assert not stored(first) and stored(second)


def test_a_file_named_by_another_model_of_the_firm_is_kept(firm_a):
    """Names are matched across every upload field of the firm, not only the folder's own model."""
    with tenant_context(firm_a):
        media = ProgressMediaFactory()
        name = default_storage.save(f"firms/{firm_a.pk}/worksites/inspection/shared.png", ContentFile(b"png"))
        type(media).objects.filter(pk=media.pk).update(thumbnail=name)

    sweep(firm_a, after=timedelta(days=2))
    assert stored(name) and stored(media.file.name)


def test_the_sweep_of_one_firm_touches_nothing_of_another_nor_files_outside_the_upload_folders(firm_a, firm_b):
    orphan_b = rolled_back_upload(firm_b)
    export = default_storage.save(f"firm-exports/{firm_a.pk}/anju.zip", ContentFile(b"zip"))
    elsewhere = default_storage.save(f"firms/{firm_a.pk}/something-else/file.bin", ContentFile(b"x"))

    assert sweep(firm_a, after=timedelta(days=30)) == 0

    assert stored(orphan_b) and stored(export) and stored(elsewhere)
    assert sweep(firm_b, after=timedelta(days=30)) == 1
    assert not stored(orphan_b)


def test_the_beat_task_sweeps_every_firm(firm_a, firm_b):
    orphans = [rolled_back_upload(firm_a), rolled_back_upload(firm_b)]
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        sweep_orphan_media.delay()
    assert not any(stored(name) for name in orphans)
