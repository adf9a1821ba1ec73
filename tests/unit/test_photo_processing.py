"""The image functions of services/photos.py, on images made by the tests."""
import io
import threading
from datetime import datetime, timezone

import pytest
from PIL import Image

from audit_server.config import Config
from audit_server.services.errors import ImageTooBig, InvalidInput, TooLarge, Unavailable, UnsupportedType
from audit_server.services.photos import (
    DecodingSlots,
    ImageLimits,
    decoding_bytes,
    open_image,
    process_image,
    read_original,
)
from tests.photo_samples import (
    camera_heic,
    camera_jpeg,
    camera_png,
    encode,
    heic,
    phone_jpeg,
    png_claiming,
    small_jpeg,
    transparent_png,
    truncated_jpeg,
    webp,
    webp_of_49_megapixels,
)

MAX_PIXELS = Config.PHOTO_MAX_PIXELS
LIMITS = ImageLimits(MAX_PIXELS, Config.PHOTO_DECODE_MAX_BYTES)


@pytest.fixture(scope="module")
def phone_photo():
    return process_image(io.BytesIO(phone_jpeg()), LIMITS)


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
    photo = process_image(io.BytesIO(data.getvalue()), LIMITS)
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
    assert process_image(io.BytesIO(data.getvalue()), LIMITS).captured_at == expected


def test_no_capture_time_is_none():
    assert process_image(io.BytesIO(small_jpeg()), LIMITS).captured_at is None


def test_small_photo_is_not_enlarged():
    photo = process_image(io.BytesIO(small_jpeg(size=(64, 48))), LIMITS)
    assert (photo.display.width, photo.display.height) == (64, 48)
    assert photo.content_type in ("image/jpeg", "image/webp")


def test_transparency_is_kept_as_webp():
    photo = process_image(io.BytesIO(transparent_png()), LIMITS)
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
    photo = process_image(io.BytesIO(data.getvalue()), LIMITS)
    assert rendition(photo.display.data).size == (30, 20)
    assert rendition(photo.display.data).mode == ("RGBA" if "A" in mode else "RGB")


@pytest.mark.parametrize("make, size", [(webp, (80, 60)), (heic, (64, 48))])
def test_webp_and_heic_are_accepted(make, size):
    photo = process_image(io.BytesIO(make()), LIMITS)
    assert rendition(photo.display.data).size == size
    assert rendition(photo.display.data).format == {"image/jpeg": "JPEG", "image/webp": "WEBP"}[
        photo.content_type]


def test_format_is_the_smaller_at_the_same_quality():
    flat = process_image(io.BytesIO(small_jpeg(size=(640, 480))), LIMITS)
    jpeg = io.BytesIO()
    rendition(flat.thumb.data).save(jpeg, "JPEG", quality=80)
    assert flat.content_type == "image/webp"  # a flat colour: WebP is far smaller
    assert len(flat.thumb.data) < len(jpeg.getvalue())


@pytest.mark.parametrize("data", [b"just some text, named photo.jpg\n",
                                  b"GIF89a" + b"\x00" * 40])
def test_other_content_is_unsupported(data):
    with pytest.raises(UnsupportedType):
        process_image(io.BytesIO(data), LIMITS)


def test_gif_is_unsupported():
    data = io.BytesIO()
    Image.new("P", (10, 10)).save(data, "GIF")
    with pytest.raises(UnsupportedType):
        process_image(io.BytesIO(data.getvalue()), LIMITS)


def test_truncated_jpeg_is_invalid():
    with pytest.raises(InvalidInput) as caught:
        process_image(io.BytesIO(truncated_jpeg()), LIMITS)
    assert "photo" in caught.value.fields


@pytest.mark.parametrize("data, max_pixels", [
    (png_claiming(100_000, 100_000), MAX_PIXELS),   # Pillow's own bomb limit
    (png_claiming(8000, 8000), MAX_PIXELS),          # over our limit, under Pillow's
    (small_jpeg(size=(200, 200)), 10_000),           # a real image over a small limit
])
def test_too_many_pixels_is_invalid(data, max_pixels):
    with pytest.raises(ImageTooBig) as caught:
        process_image(io.BytesIO(data), ImageLimits(max_pixels, LIMITS.max_decoding_bytes))
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


def test_decoding_that_would_exceed_the_budget_is_refused_from_the_header():
    bomb = webp_of_49_megapixels()
    assert len(bomb) < 200_000  # a small file, 49 MP once decoded (196 MB as RGBA)
    with pytest.raises(ImageTooBig) as caught:
        process_image(io.BytesIO(bomb), LIMITS)
    assert "the limit is 128 MB" in caught.value.message and "8100x6000 WEBP" in caught.value.message
    assert "photo" in caught.value.fields
    # A PNG's header says enough: its (bogus) pixel data is never reached.
    with pytest.raises(ImageTooBig):
        process_image(io.BytesIO(png_claiming(7000, 7000)), LIMITS)
    with pytest.raises(ImageTooBig):
        process_image(io.BytesIO(camera_png()), ImageLimits(MAX_PIXELS, 500_000))


@pytest.mark.parametrize("make", [camera_jpeg, camera_png, camera_heic])
def test_the_budget_admits_camera_photos(make):
    image = open_image(io.BytesIO(make()), MAX_PIXELS)
    assert decoding_bytes(image, image.size) <= LIMITS.max_decoding_bytes
    assert process_image(io.BytesIO(make()), LIMITS).display.width > 0


def test_a_progressive_jpeg_counts_its_coefficients_at_full_size():
    scene = Image.new("RGB", (8000, 6000), (90, 120, 150))
    baseline = encode(scene, "JPEG", quality=90)
    progressive = encode(scene, "JPEG", quality=90, progressive=True)
    # Decoded at 1/4 scale; a progressive one also holds 2 bytes per sample at full size.
    assert process_image(io.BytesIO(baseline), LIMITS).display.width == 1600
    with pytest.raises(ImageTooBig):
        process_image(io.BytesIO(progressive), LIMITS)
    image = open_image(io.BytesIO(progressive), MAX_PIXELS)
    image.draft("RGB", (1600, 1200))
    assert decoding_bytes(image, (8000, 6000)) >= 8000 * 6000 * 2 * 1.5  # 4:2:0: 1.5 samples a pixel


def holding(slots, count):
    """`count` threads that each hold one of `slots` until the returned event is set."""
    release, held = threading.Event(), threading.Barrier(count + 1)

    def hold():
        with slots.slot():
            held.wait()
            release.wait()

    threads = [threading.Thread(target=hold) for _ in range(count)]
    for thread in threads:
        thread.start()
    held.wait()
    return release, threads


def test_the_ninth_concurrent_decode_waits_then_is_unavailable():
    slots = DecodingSlots(8, wait_seconds=0.05)
    release, threads = holding(slots, 8)
    with pytest.raises(Unavailable) as caught, slots.slot():
        pass
    assert caught.value.retry_after == 1 and "photo" in caught.value.fields
    release.set()
    for thread in threads:
        thread.join()
    with slots.slot():  # all free again
        pass


def test_a_decode_that_waits_runs_as_soon_as_a_slot_is_free():
    slots = DecodingSlots(1, wait_seconds=60)
    release, [holder] = holding(slots, 1)
    ran = []

    def decode():
        with slots.slot():
            ran.append(True)

    waiter = threading.Thread(target=decode)
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive() and not ran  # waiting for the slot
    release.set()
    waiter.join()
    holder.join()
    assert ran == [True]
