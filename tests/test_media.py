"""Signed media links: a link the app made serves the file to whoever holds it, for a limited time; any
other path to the file is a 404 that does not say whether the file exists."""

from datetime import timedelta

import pytest
import time_machine
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone

from renocrm.media import SALT, media_url
from renocrm.tenancy.context import tenant_context
from tests.worksites.factories import ProgressMediaFactory


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
