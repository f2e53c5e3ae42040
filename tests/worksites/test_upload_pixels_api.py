"""A photo with too many pixels, posted through the API, is a field error naming it; nothing is stored."""

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.test_uploads import bilevel_png
from tests.worksites.test_progress_api import URL, site  # noqa: F401 — site: a worksite in firm A


def test_the_api_answers_a_photo_with_too_many_pixels_as_a_field_error(api, site, media_root):  # noqa: F811
    scan = SimpleUploadedFile("scan.png", bilevel_png(10_000, 7_900), content_type="image/png")

    refused = api.post(URL, {"worksite": site.pk, "note": "x", "files": [scan]}, HTTP_ACCEPT_LANGUAGE="en")

    assert refused.status_code == 400
    [message] = refused.json()["error"]["fields"]["files"]
    assert "scan.png" in message and "40 megapixels" in message
    assert not [path for path in media_root.rglob("*") if path.is_file()]
