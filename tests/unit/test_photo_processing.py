"""The image functions of services/photos.py, on images made by the tests."""
import io
from datetime import datetime, timezone

import pytest
from PIL import Image

from audit_server.services.errors import InvalidInput, TooLarge, UnsupportedType
from audit_server.services.photos import process_image, read_original
from tests.photo_samples import (heic, phone_jpeg, png_claiming, small_jpeg, transparent_png,
                           truncated_jpeg, webp)

MAX_PIXELS = 50_000_000


@pytest.fixture(scope="module")
def phone_photo():
    return process_image(io.BytesIO(phone_jpeg()), MAX_PIXELS)


def rendition(data):
    return Image.open(io.BytesIO(data))


def test_phone_photo_is_upright_and_sized(phone_photo):
    display = rendition(phone_photo.display.data)
    assert display.size == (1200, 1600) == (phone_photo.display.width, phone_photo.display.height)
    assert rendition(phone_photo.thumb.data).size == (240, 320)
    assert (phone_photo.width, phone_photo.height) == (3024, 4032)
    rgb = display.convert("RGB")
    # The sensor's left half (red) is the top of the upright picture.
    red, _, blue = rgb.getpixel((600, 100))
    assert red > 200 and blue < 60
    red, _, blue = rgb.getpixel((600, 1500))
    assert blue > 200 and red < 60


def test_heic_orientation_is_applied_once():
    sensor = Image.new("RGB", (400, 300), (0, 0, 255))
    sensor.paste((255, 0, 0), (0, 0, 200, 300))
    exif = Image.Exif()
    exif[0x0112] = 6
    data = io.BytesIO()
    sensor.save(data, "HEIF", exif=exif.tobytes())
    photo = process_image(io.BytesIO(data.getvalue()), MAX_PIXELS)
    display = rendition(photo.display.data).convert("RGB")
    assert display.size == (300, 400) == (photo.width, photo.height)
    assert display.getpixel((150, 20))[0] > 200 and display.getpixel((150, 380))[2] > 200


def test_phone_photo_renditions_carry_no_metadata(phone_photo):
    for data in (phone_photo.display.data, phone_photo.thumb.data):
        image = rendition(data)
        assert not image.getexif()
        assert not image.getexif().get_ifd(0x8825)  # GPS
        assert "exif" not in image.info and "icc_profile" not in image.info
        assert b"Momento test camera" not in data


def test_capture_time_is_kept_in_utc(phone_photo):
    assert phone_photo.captured_at == datetime(2026, 11, 20, 8, 15, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize("taken, offset, expected", [
    ("2026:01:02 03:04:05", None, datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)),
    ("2026:01:02 03:04:05", "-06:00", datetime(2026, 1, 2, 9, 4, 5, tzinfo=timezone.utc)),
    ("2026:01:02 03:04:05", "garbage", datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)),
    ("0000:00:00 00:00:00", None, None),
    ("0001:01:01 00:30:00", "+01:00", None),
    ("yesterday", None, None),
])
def test_capture_time(taken, offset, expected):
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = taken
    if offset:
        exif.get_ifd(0x8769)[0x9011] = offset
    data = io.BytesIO()
    Image.new("RGB", (40, 30)).save(data, "JPEG", exif=exif)
    assert process_image(io.BytesIO(data.getvalue()), MAX_PIXELS).captured_at == expected


def test_no_capture_time_is_none():
    assert process_image(io.BytesIO(small_jpeg()), MAX_PIXELS).captured_at is None


def test_small_photo_is_not_enlarged():
    photo = process_image(io.BytesIO(small_jpeg(size=(64, 48))), MAX_PIXELS)
    assert (photo.display.width, photo.display.height) == (64, 48)
    assert photo.content_type in ("image/jpeg", "image/webp")


def test_transparency_is_kept_as_webp():
    photo = process_image(io.BytesIO(transparent_png()), MAX_PIXELS)
    assert photo.content_type == "image/webp"
    display = rendition(photo.display.data)
    assert display.format == "WEBP" and display.mode == "RGBA"
    assert display.getpixel((45, 20))[3] == 0 and display.getpixel((5, 20))[3] == 255


@pytest.mark.parametrize("image_format, mode", [
    ("PNG", "1"), ("PNG", "L"), ("PNG", "LA"), ("PNG", "P"), ("PNG", "I;16"), ("JPEG", "L"),
    ("JPEG", "CMYK"), ("WEBP", "RGBA"), ("HEIF", "RGBA"), ("HEIF", "L"),
])
def test_every_mode_of_accepted_formats_is_processed(image_format, mode):
    data = io.BytesIO()  # (services.photos registered the HEIF opener and saver)
    Image.new(mode, (30, 20)).save(data, image_format)
    photo = process_image(io.BytesIO(data.getvalue()), MAX_PIXELS)
    assert rendition(photo.display.data).size == (30, 20)
    assert rendition(photo.display.data).mode == ("RGBA" if "A" in mode else "RGB")


@pytest.mark.parametrize("make, size", [(webp, (80, 60)), (heic, (64, 48))])
def test_webp_and_heic_are_accepted(make, size):
    photo = process_image(io.BytesIO(make()), MAX_PIXELS)
    assert rendition(photo.display.data).size == size
    assert rendition(photo.display.data).format == {"image/jpeg": "JPEG", "image/webp": "WEBP"}[
        photo.content_type]


def test_format_is_the_smaller_at_the_same_quality():
    flat = process_image(io.BytesIO(small_jpeg(size=(640, 480))), MAX_PIXELS)
    jpeg = io.BytesIO()
    rendition(flat.thumb.data).save(jpeg, "JPEG", quality=80)
    assert flat.content_type == "image/webp"  # a flat colour: WebP is far smaller
    assert len(flat.thumb.data) < len(jpeg.getvalue())


@pytest.mark.parametrize("data", [b"just some text, named photo.jpg\n",
                                  b"GIF89a" + b"\x00" * 40])
def test_other_content_is_unsupported(data):
    with pytest.raises(UnsupportedType):
        process_image(io.BytesIO(data), MAX_PIXELS)


def test_gif_is_unsupported():
    data = io.BytesIO()
    Image.new("P", (10, 10)).save(data, "GIF")
    with pytest.raises(UnsupportedType):
        process_image(io.BytesIO(data.getvalue()), MAX_PIXELS)


def test_truncated_jpeg_is_invalid():
    with pytest.raises(InvalidInput) as caught:
        process_image(io.BytesIO(truncated_jpeg()), MAX_PIXELS)
    assert "photo" in caught.value.fields


@pytest.mark.parametrize("data, max_pixels", [
    (png_claiming(100_000, 100_000), MAX_PIXELS),   # Pillow's own bomb limit
    (png_claiming(8000, 8000), MAX_PIXELS),          # over our limit, under Pillow's
    (small_jpeg(size=(200, 200)), 10_000),           # a real image over a small limit
])
def test_too_many_pixels_is_invalid(data, max_pixels):
    with pytest.raises(InvalidInput) as caught:
        process_image(io.BytesIO(data), max_pixels)
    assert "pixels" in caught.value.message


def test_read_original_hashes_measures_and_rewinds():
    stream = io.BytesIO(b"x" * 3_000_000)
    original = read_original(stream, 3_000_000)
    assert original.bytes == 3_000_000 and len(original.sha256) == 64
    assert stream.tell() == 0


def test_read_original_refuses_too_many_bytes_and_empty():
    with pytest.raises(TooLarge):
        read_original(io.BytesIO(b"x" * 1001), 1000)
    with pytest.raises(InvalidInput):
        read_original(io.BytesIO(b""), 1000)
