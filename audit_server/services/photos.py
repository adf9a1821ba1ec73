"""Photo evidence: checking and processing an uploaded image, and storing it.

The image functions (read_original, process_image) are pure: a stream in, values
out. store_photo() stores a processed photo for any subject (today an audit, see
services/audits.add_audit_photo); it writes the blobs before the row is committed,
so a row never points at a missing blob, and a crash in between leaves only
unreferenced blobs, which `flask photos gc` removes.

Memory: decoding is what costs. Before anything is decoded, the header tells the format,
the pixels and so what decoding will hold at its peak (decoding_bytes); a photo whose
pixels or decoding exceed the limits is refused (422). JPEGs are decoded at a reduced
scale, HEICs from an embedded thumbnail when they carry one large enough; PNG, WebP
and the rest of HEIC have no such way in Pillow and count in full. And each process
decodes at most PHOTO_DECODE_SLOTS photos at once (DecodingSlots): an upload beyond
waits PHOTO_DECODE_WAIT_SECONDS for a slot, then is told to come back (503).
"""
import contextlib
import hashlib
import io
import math
import threading
from dataclasses import dataclass
from datetime import datetime, timezone

import pillow_heif
import sqlalchemy as sa
from flask import current_app
from PIL import ExifTags, Image, ImageOps

from ..extensions import db
from ..models import Photo
from ..storage import photo_store
from . import access
from .errors import Conflict, ImageTooBig, InvalidInput, NotFound, TooLarge, Unavailable, UnsupportedType

pillow_heif.register_heif_opener()

CONTENT_TYPES = {"JPEG": "image/jpeg", "WEBP": "image/webp"}
DISPLAY_LONG_SIDE = 1600
THUMB_LONG_SIDE = 320
QUALITY = 80
# Orientations (EXIF 0x0112) that turn the picture by a quarter: width and height swap.
QUARTER_TURNS = {5, 6, 7, 8}
CHUNK = 1024 * 1024
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError)
MB = 1024 * 1024


@dataclass(frozen=True)
class PhotoFormat:
    """An accepted format: its name as people know it, and what decoding and resizing
    an image of it hold per pixel at their peak, as bench/photos.py measures it."""
    name: str
    decoding_bytes_per_pixel: int


# The formats accepted, by Pillow's name for them. Pillow keeps 4 bytes a pixel (RGB as
# RGBX) and resizes through an intermediate; libheif adds its own planes and RGB copy;
# Pillow's WebP reader adds libwebp's two canvases and a copy of the frame. JPEGs count
# at their draft scale.
ACCEPTED_FORMATS = {
    "JPEG": PhotoFormat("JPEG", 6), "PNG": PhotoFormat("PNG", 5),
    "WEBP": PhotoFormat("WebP", 16), "HEIF": PhotoFormat("HEIC", 10),
}
_NAMES = [f.name for f in ACCEPTED_FORMATS.values()]
FORMAT_NAMES = ", ".join(_NAMES[:-1]) + " or " + _NAMES[-1]  # "JPEG, PNG, WebP or HEIC"
# A mode other than RGB(A) is converted to it: another copy.
CONVERSION_BYTES_PER_PIXEL = 4
# Resizing with transparency works on a premultiplied copy, with its own intermediate.
TRANSPARENCY_BYTES_PER_PIXEL = 5
# A progressive JPEG keeps every DCT coefficient (2 bytes a sample) at full size until its
# last scan, whatever the draft scale.
COEFFICIENT_BYTES = 2


@dataclass(frozen=True)
class ImageLimits:
    max_pixels: int
    max_decoding_bytes: int

    @classmethod
    def from_config(cls, config):
        return cls(config["PHOTO_MAX_PIXELS"], config["PHOTO_DECODE_MAX_BYTES"])


@dataclass(frozen=True)
class Original:
    sha256: str
    bytes: int


@dataclass(frozen=True)
class Rendition:
    data: bytes
    width: int
    height: int


@dataclass(frozen=True)
class ProcessedPhoto:
    display: Rendition
    thumb: Rendition
    content_type: str
    width: int
    height: int
    captured_at: datetime | None


def read_original(stream, max_bytes):
    """Hash and measure the upload in chunks (never all of it in memory); rewinds it."""
    digest = hashlib.sha256()
    size = 0
    while chunk := stream.read(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise TooLarge(f"A photo may have at most {max_bytes} bytes.",
                           {"photo": [f"Larger than {max_bytes} bytes."]})
        digest.update(chunk)
    stream.seek(0)
    if size == 0:
        raise InvalidInput("The photo is empty.", {"photo": ["Empty file."]})
    return Original(digest.hexdigest(), size)


def open_image(stream, max_pixels):
    """The image, known by its content (never by name or declared type), header read only."""
    try:
        image = Image.open(stream)
    except Image.DecompressionBombError:
        raise _too_many_pixels(max_pixels) from None
    except (Image.UnidentifiedImageError, *DECODE_ERRORS):
        raise _unsupported() from None
    if image.format not in ACCEPTED_FORMATS:
        raise _unsupported()
    width, height = image.size
    if width * height > max_pixels:
        raise _too_many_pixels(max_pixels)
    return image


def _unsupported():
    return UnsupportedType(f"Send a {FORMAT_NAMES} photo.",
                           {"photo": [f"Not a {FORMAT_NAMES} image."]})


def _too_many_pixels(max_pixels):
    return ImageTooBig(f"A photo may have at most {max_pixels} pixels.",
                       {"photo": [f"More than {max_pixels} pixels."]})


def decoding_bytes(image, full_size):
    """What decoding and resizing `image` (opened and drafted, not decoded; `full_size`
    before the draft) will hold at its peak, in bytes, from its header alone."""
    width, height = image.size
    per_pixel = ACCEPTED_FORMATS[image.format].decoding_bytes_per_pixel
    if image.mode not in ("RGB", "RGBA"):
        per_pixel += CONVERSION_BYTES_PER_PIXEL
    if image.has_transparency_data:
        per_pixel += TRANSPARENCY_BYTES_PER_PIXEL
    total = width * height * per_pixel
    if image.format == "JPEG" and image.info.get("progressive"):
        # Each component's samples, relative to the full size (chroma is often halved).
        h_max = max(h for _, h, _, _ in image.layer)
        v_max = max(v for _, _, v, _ in image.layer)
        samples = sum(h * v for _, h, v, _ in image.layer) / (h_max * v_max)
        total += math.ceil(full_size[0] * full_size[1] * samples * COEFFICIENT_BYTES)
    return total


def check_decoding_bytes(image, full_size, max_bytes):
    needed = decoding_bytes(image, full_size)
    if needed > max_bytes:
        width, height = full_size
        raise ImageTooBig(
            f"This {width}x{height} {image.format} photo would take about {math.ceil(needed / MB)} "
            f"MB of memory to process; the limit is {max_bytes // MB} MB. Send it with fewer "
            f"pixels, or as a JPEG.",
            {"photo": [f"Needs about {math.ceil(needed / MB)} MB to decode; at most "
                       f"{max_bytes // MB} MB."]})


def capture_time(exif):
    """EXIF DateTimeOriginal in UTC: converted with OffsetTimeOriginal when the camera
    recorded it, else the wall-clock time as given, marked UTC; None if absent or bad."""
    tags = exif.get_ifd(ExifTags.IFD.Exif)
    raw = tags.get(ExifTags.Base.DateTimeOriginal)
    try:
        taken = datetime.strptime(str(raw).strip("\x00 "), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    try:
        zone = datetime.strptime(str(tags.get(ExifTags.Base.OffsetTimeOriginal)), "%z").tzinfo
    except ValueError:
        zone = timezone.utc
    try:
        return taken.replace(tzinfo=zone).astimezone(timezone.utc)
    except OverflowError:  # year 1 with a positive offset
        return None


def fit(size, long_side):
    """`size` scaled down (never up) so that its longer side is at most `long_side`."""
    width, height = size
    scale = min(1.0, long_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


# WebP's fastest method: about 7x quicker than its default (4) at 1600 px, for about a
# fifth more bytes, which still leaves it well below JPEG's size (see bench/photos.py).
ENCODER_OPTIONS = {"JPEG": {"quality": QUALITY}, "WEBP": {"quality": QUALITY, "method": 0}}


def encode(image, image_format):
    buffer = io.BytesIO()
    image.save(buffer, image_format, **ENCODER_OPTIONS[image_format])
    return buffer.getvalue()


def process_image(stream, limits, decoding_slot=contextlib.nullcontext):
    """Check and process an upload: upright display (1600 px) and thumbnail (320 px)
    renditions without any metadata, in JPEG or WebP, whichever the thumbnail shows to
    be smaller at the same quality (WebP when there is transparency).

    The header is checked against `limits` (ImageLimits) first; decoding, resizing and
    encoding run within `decoding_slot()` (store_photo's bound on concurrent decodes)."""
    image = open_image(stream, limits.max_pixels)
    full_size = image.size
    try:
        # JPEG: decode at the smallest 1/2^n scale still at least display size; HEIC:
        # decode an embedded thumbnail instead, when it carries one that large.
        image.draft("RGB", fit(full_size, DISPLAY_LONG_SIDE))
    except DECODE_ERRORS:
        raise _damaged() from None
    check_decoding_bytes(image, full_size, limits.max_decoding_bytes)
    with decoding_slot():
        return _renditions(image, full_size)


def _damaged():
    return InvalidInput("The photo is damaged or incomplete.", {"photo": ["Cannot be decoded."]})


def _renditions(image, full_size):
    try:
        exif = image.getexif()
        captured_at = capture_time(exif)
        width, height = full_size
        if exif.get(ExifTags.Base.Orientation) in QUARTER_TURNS:
            width, height = height, width
        transparent = image.has_transparency_data
        mode = "RGBA" if transparent else "RGB"
        if image.mode != mode:
            image = image.convert(mode)
        display = image.resize(fit(image.size, DISPLAY_LONG_SIDE), Image.Resampling.LANCZOS)
        # Turned upright after resizing: fewer pixels to move (resize keeps the EXIF).
        ImageOps.exif_transpose(display, in_place=True)
    except DECODE_ERRORS:
        raise _damaged() from None
    display.info = {}  # no EXIF, GPS, XMP or ICC profile in what we store and serve
    # Box-reduce by an integer factor, then a (scaled, so antialiased) triangle filter:
    # at 320 px it looks like Lanczos, for half the time.
    thumb = display.resize(fit(display.size, THUMB_LONG_SIDE), Image.Resampling.BILINEAR,
                           reducing_gap=2.0)
    if transparent:
        image_format, thumb_data = "WEBP", encode(thumb, "WEBP")
    else:
        image_format, thumb_data = min((("JPEG", encode(thumb, "JPEG")),
                                        ("WEBP", encode(thumb, "WEBP"))), key=lambda c: len(c[1]))
    return ProcessedPhoto(
        display=Rendition(encode(display, image_format), *display.size),
        thumb=Rendition(thumb_data, *thumb.size),
        content_type=CONTENT_TYPES[image_format], width=width, height=height,
        captured_at=captured_at,
    )


class DecodingSlots:
    """At most `count` photos decoded at once (in this process): a decode beyond waits up
    to `wait_seconds` for one to finish, then is Unavailable, to be retried after about
    as long."""

    def __init__(self, count, wait_seconds):
        self.slots = threading.BoundedSemaphore(count)
        self.wait_seconds = wait_seconds
        self.retry_after = max(1, math.ceil(wait_seconds))

    @contextlib.contextmanager
    def slot(self):
        if not self.slots.acquire(timeout=self.wait_seconds):
            message = (f"The server is busy processing other photos: send it again in "
                       f"{self.retry_after} s.")
            raise Unavailable(message, {"photo": [message]}, retry_after=self.retry_after)
        try:
            yield
        finally:
            self.slots.release()


def decoding_slots():
    """The app's DecodingSlots, made on first use (PHOTO_DECODE_SLOTS, PHOTO_DECODE_WAIT_SECONDS)."""
    slots = current_app.extensions.get("momento.decoding_slots")
    if slots is None:
        config = current_app.config
        made = DecodingSlots(config["PHOTO_DECODE_SLOTS"], config["PHOTO_DECODE_WAIT_SECONDS"])
        slots = current_app.extensions.setdefault("momento.decoding_slots", made)  # one wins
    return slots


def store_photo(user, photo_id, file_stream, *, caption="", **subject):
    """Process and store a photo of `subject` (the Photo columns naming what it documents,
    e.g. audit_id and item_id). Returns (photo, created).

    Idempotent on the client's UUID: the same original bytes for the same subject again
    return the stored photo; anything else under that id is a Conflict. A store that does
    not answer raises StoreUnavailable (503) before any row is written, so the same
    upload sent again once the store is back is stored as if for the first time.
    """
    config = current_app.config
    original = read_original(file_stream, config["PHOTO_MAX_BYTES"])
    existing = db.session.get(Photo, photo_id)
    if existing is not None:
        return _replay(existing, original, caption, subject), False
    processed = process_image(file_stream, ImageLimits.from_config(config),
                              decoding_slots().slot)
    store = photo_store()
    display = store.put(processed.display.data, processed.content_type)
    thumb = store.put(processed.thumb.data, processed.content_type)
    photo = Photo(
        id=photo_id, caption=caption, original_sha256=original.sha256, bytes=original.bytes,
        display_sha256=display, thumb_sha256=thumb, display_bytes=len(processed.display.data),
        content_type=processed.content_type, width=processed.width, height=processed.height,
        captured_at=processed.captured_at, uploaded_by=user.id, **subject,
    )
    db.session.add(photo)
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        # A concurrent replay of the same id won the race.
        db.session.rollback()
        existing = db.session.get(Photo, photo_id)
        if existing is None:
            raise
        return _replay(existing, original, caption, subject), False
    return photo, True


def _replay(existing, original, caption, subject):
    same = (existing.original_sha256 == original.sha256 and existing.caption == caption
            and all(getattr(existing, column) == value for column, value in subject.items()))
    if not same:
        raise Conflict("A photo with this id was already uploaded with different content.",
                       {"id": ["Already used for another photo."]})
    return existing


def visible_photo(user, photo_id):
    """A photo taken at a location the user may see; NotFound otherwise."""
    stmt = sa.select(Photo).where(Photo.id == photo_id)
    photo = db.session.scalar(access.in_scope(stmt, user, Photo.location_id))
    if photo is None:
        raise NotFound("No such photo.")
    return photo


def referenced_blobs():
    """The names of every blob a row points at."""
    rows = db.session.execute(sa.select(Photo.display_sha256, Photo.thumb_sha256))
    return {name for row in rows for name in row}


def collect_garbage(older_than):
    """Delete the blobs no row references that were last written before `older_than`
    (the grace period protects uploads whose row is not committed yet), and what writes
    cut short by a crash left behind. Returns how many blobs were deleted.

    Listing a large bucket takes a while, and meanwhile an upload may store an old blob's
    content again (refreshing it) and commit its row: so each blob is asked its age once
    more right before it is deleted, and kept if it is young now."""
    store = photo_store()
    store.remove_partial_writes(older_than)
    referenced = referenced_blobs()
    removed = 0
    for name, modified in list(store.blobs()):
        if name not in referenced and modified < older_than:
            now_modified = store.modified_at(name)
            if now_modified is not None and now_modified < older_than:
                store.delete(name)
                removed += 1
    return removed


def missing_blobs():
    """(photo id, rendition, blob name) for every rendition whose blob is missing."""
    store = photo_store()
    missing = []
    for photo in db.session.scalars(sa.select(Photo).order_by(Photo.created_at)):
        for size in ("display", "thumb"):
            if not store.exists(photo.blob(size)):
                missing.append((photo.id, size, photo.blob(size)))
    return missing
