"""clean_upload: the type comes from the bytes, sizes are capped, photos lose their EXIF (GPS position of the
homeowner's flat) and videos their location boxes."""

import random
import struct
import zlib
from io import BytesIO

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from PIL import Image, ImageFile

from renocrm.uploads import IMAGE, PDF, VIDEO, clean_upload

GPS_IFD = 0x8825
ORIENTATION = 0x0112
SHANGHAI = {1: "N", 2: (31.0, 13.0, 49.0), 3: "E", 4: (121.0, 28.0, 25.0)}


def photo_bytes(format="JPEG", size=(64, 48), *, gps=True, orientation=None, **options):
    image = Image.new("RGB", size, "orange")
    image.paste((0, 90, 200), (0, 0, size[0] // 2, size[1] // 3))  # a corner to tell rotations apart
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "Model X"
    if gps:
        exif[GPS_IFD] = SHANGHAI
    if orientation:
        exif[ORIENTATION] = orientation
    out = BytesIO()
    image.save(out, format=format, exif=exif, **options)
    return out.getvalue()


def upload(data, name="photo.jpg"):
    return SimpleUploadedFile(name, data)


def stored(cleaned) -> bytes:
    cleaned.content.seek(0)
    return cleaned.content.read()


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


LOCATION = b"+31.2304+121.4737/"
MP4 = (
    box(b"ftyp", b"mp42\x00\x00\x00\x00mp42isom")
    + box(
        b"moov",
        box(b"mvhd", b"\x00" * 100)
        + box(b"udta", box(b"\xa9xyz", b"\x00\x12\x15\xc7" + LOCATION))
        + box(b"meta", b"\x00" * 4 + box(b"keys", b"com.apple.quicktime.location.ISO6709" + LOCATION)),
    )
    + box(b"mdat", b"\x01\x02\x03" * 100)
)
PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def refusal(data, name="photo.jpg", accept=frozenset({IMAGE})) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        clean_upload(upload(data, name), accept=accept)
    return caught.value


def test_photo_loses_its_gps_position_and_all_exif_but_stays_a_jpeg_of_the_same_size():
    original = photo_bytes(size=(64, 48))
    assert Image.open(BytesIO(original)).getexif().get_ifd(GPS_IFD), "the test photo carries a GPS position"

    cleaned = clean_upload(upload(original), accept={IMAGE})

    picture = Image.open(BytesIO(stored(cleaned)))
    assert picture.format == "JPEG" and picture.size == (64, 48)
    assert picture.getexif().get_ifd(GPS_IFD) == {}
    assert dict(picture.getexif()) == {}
    assert "exif" not in picture.info
    assert b"PhoneMaker" not in stored(cleaned)
    assert (cleaned.kind, cleaned.content_type, cleaned.width, cleaned.height) == (IMAGE, "image/jpeg", 64, 48)
    assert cleaned.size == len(stored(cleaned)) and cleaned.original_name == "photo.jpg"
    assert cleaned.content.name.endswith(".jpg") and "photo" not in cleaned.content.name


def test_a_sideways_phone_photo_is_turned_upright_before_its_orientation_tag_is_dropped():
    cleaned = clean_upload(upload(photo_bytes(size=(64, 48), orientation=6)), accept={IMAGE})
    picture = Image.open(BytesIO(stored(cleaned)))
    assert picture.size == (48, 64) and (cleaned.width, cleaned.height) == (48, 64)
    assert ORIENTATION not in picture.getexif()


def test_text_named_like_a_photo_is_refused():
    error = refusal(b"just some text, not a photo\n" * 20, "photo.jpg")
    assert error.code == "unsupported_type"
    assert "photo.jpg" in error.messages[0]


@override_settings(UPLOAD_MAX_BYTES={"image": 1000, "video": 2000, "pdf": 1000})
def test_an_oversize_file_is_refused():
    data = photo_bytes(size=(400, 300))
    assert len(data) > 1000
    error = refusal(data, "big.jpg")
    assert error.code == "too_large" and "big.jpg" in error.messages[0]
    assert refusal(MP4 + b"\x00" * 3000, "clip.mp4", accept={VIDEO}).code == "too_large"
    # The video limit is higher than the photo limit; a photo is held to its own.
    assert refusal(data, "big.jpg", accept={IMAGE, VIDEO}).code == "too_large"


@pytest.mark.parametrize(
    ("format", "content_type", "extension"), [("PNG", "image/png", ".png"), ("WEBP", "image/webp", ".webp")]
)
def test_png_and_webp_are_accepted_without_their_exif(format, content_type, extension):
    original = photo_bytes(format=format)
    assert Image.open(BytesIO(original)).getexif().get_ifd(GPS_IFD)
    cleaned = clean_upload(upload(original, f"shot{extension}"), accept={IMAGE})
    picture = Image.open(BytesIO(stored(cleaned)))
    assert (picture.format, cleaned.content_type) == (format, content_type)
    assert cleaned.content.name.endswith(extension)
    assert dict(picture.getexif()) == {} and picture.getexif().get_ifd(GPS_IFD) == {}


def test_a_multi_picture_jpeg_from_a_phone_is_kept_as_a_plain_jpeg():
    first, depth = Image.new("RGB", (40, 30), "red"), Image.new("RGB", (40, 30), "blue")
    exif = Image.Exif()
    exif[GPS_IFD] = SHANGHAI
    out = BytesIO()
    first.save(out, format="MPO", save_all=True, append_images=[depth], exif=exif)
    assert Image.open(BytesIO(out.getvalue())).format == "MPO"
    cleaned = clean_upload(upload(out.getvalue()), accept={IMAGE})
    picture = Image.open(BytesIO(stored(cleaned)))
    assert (picture.format, picture.size, cleaned.content_type) == ("JPEG", (40, 30), "image/jpeg")
    assert picture.getexif().get_ifd(GPS_IFD) == {}


def test_mp4_is_a_video_only_where_videos_are_accepted():
    cleaned = clean_upload(upload(MP4, "clip.mp4"), accept={IMAGE, VIDEO})
    assert (cleaned.kind, cleaned.content_type, cleaned.size) == (VIDEO, "video/mp4", len(MP4))
    assert cleaned.content.name.endswith(".mp4")
    assert refusal(MP4, "clip.mp4", accept={IMAGE}).code == "unsupported_type"
    assert refusal(MP4, "clip.mp4", accept={PDF}).code == "unsupported_type"


def test_a_video_loses_its_location_and_metadata_boxes_and_keeps_every_offset():
    cleaned = clean_upload(upload(MP4, "clip.mp4"), accept={VIDEO})
    data = stored(cleaned)
    assert len(data) == len(MP4)
    assert LOCATION not in data and b"\xa9xyz" not in data and b"com.apple.quicktime" not in data
    assert data.startswith(MP4[:24]) and b"moov" in data and b"mvhd" in data
    assert data.endswith(box(b"mdat", b"\x01\x02\x03" * 100))


def test_quicktime_video_and_heic_photo_share_a_header_but_only_the_video_is_taken():
    mov = box(b"ftyp", b"qt  \x00\x00\x00\x00qt  ") + box(b"mdat", b"\x00" * 32)
    assert clean_upload(upload(mov, "IMG_0001.MOV"), accept={VIDEO}).content_type == "video/quicktime"
    heic = box(b"ftyp", b"heic\x00\x00\x00\x00mif1heic") + box(b"meta", b"\x00" * 32)
    assert refusal(heic, "IMG_0002.HEIC", accept={IMAGE, VIDEO}).code == "unsupported_type"


def test_pdf_only_where_pdfs_are_accepted():
    cleaned = clean_upload(upload(PDF_BYTES, "drawing.pdf"), accept={PDF, IMAGE})
    assert (cleaned.kind, cleaned.content_type, stored(cleaned)) == (PDF, "application/pdf", PDF_BYTES)
    assert refusal(PDF_BYTES, "drawing.pdf", accept={IMAGE, VIDEO}).code == "unsupported_type"


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` × ``height`` pixels: what a decompression bomb looks like
    before it is decoded."""
    out = BytesIO()
    Image.new("L", (1, 1)).save(out, format="PNG")
    data = bytearray(out.getvalue())
    struct.pack_into(">II", data, 16, width, height)
    struct.pack_into(">I", data, 29, zlib.crc32(bytes(data[12:29])))
    return bytes(data)


@pytest.mark.parametrize(("width", "height"), [(100_000, 100_000), (9_000, 9_500)])
def test_a_decompression_bomb_is_refused_without_being_decoded(width, height):
    error = refusal(png_claiming(width, height), "bomb.png")
    assert error.code == "too_large" and "bomb.png" in error.messages[0]


def test_a_truncated_photo_is_refused():
    data = photo_bytes(size=(200, 150))
    assert refusal(data[: len(data) // 2], "cut.jpg").code == "unsupported_type"


def bilevel_png(width: int, height: int) -> bytes:
    """A real, decodable black-and-white PNG of ``width`` × ``height`` pixels that is only a few KB on the
    wire: every row compresses to almost nothing."""
    row = b"\x00" + b"\x00" * ((width + 7) // 8)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    pixels = zlib.compress(row * height, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def test_a_79_megapixel_photo_small_on_the_wire_is_refused_from_its_header(monkeypatch):
    data = bilevel_png(10_000, 7_900)
    assert len(data) < 100_000
    # Nothing may be decoded: loading the pixels of any image fails this test.
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: pytest.fail("the image was decoded"))

    error = refusal(data, "scan.png")

    assert error.code == "too_large"
    assert "scan.png" in error.messages[0] and "40" in error.messages[0]


@override_settings(UPLOAD_MAX_IMAGE_PIXELS=40 * 30)
def test_the_pixel_limit_is_a_setting_and_a_photo_at_the_limit_is_taken():
    assert clean_upload(upload(photo_bytes(size=(40, 30)), "ok.jpg"), accept={IMAGE}).width == 40
    assert refusal(photo_bytes(size=(41, 30)), "big.jpg").code == "too_large"


def test_a_truncated_photo_is_still_refused_once_a_pdf_was_made():
    # Importing WeasyPrint loosens Pillow for the whole process; making a PDF must not let broken photos in.
    from renocrm.pdf import html_to_pdf

    assert html_to_pdf("<p>报价单</p>").startswith(b"%PDF")
    data = photo_bytes(size=(200, 150))
    assert refusal(data[: len(data) // 2], "cut.jpg").code == "unsupported_type"


@pytest.mark.parametrize("format", ["JPEG", "PNG"])
def test_a_truncated_photo_is_refused_whoever_set_pillows_flag_since(monkeypatch, format):
    # Any import (another WeasyPrint import, a library) may set the process-wide flag after renocrm.pdf reset it.
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    # Noise, so that half the file is half the pixels (a flat picture is cut in its headers, refused anyway).
    noise = Image.frombytes("RGB", (200, 150), random.Random(7).randbytes(200 * 150 * 3))
    out = BytesIO()
    noise.save(out, format=format)
    data = out.getvalue()
    assert refusal(data[: len(data) // 2], "cut.jpg").code == "unsupported_type"
