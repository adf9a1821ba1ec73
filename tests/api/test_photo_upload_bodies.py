"""Photo upload bodies of every size up to PHOTO_MAX_BYTES are parsed whole, however they
arrive (reads of any size, boundaries and line breaks split between reads, chunked
transfer without Content-Length), and what a body may hold stays bounded.

Werkzeug's multipart parser reads a body 64 KB at a time and once refused (413) any read
that arrived while it held back a few bytes of a possible boundary: most real photos
(300 KB-8 MB) were refused. These tests parse bodies through the app's own request class,
routed to each photo endpoint, as the WSGI server hands them over.
"""
import io
import itertools
import random
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from flask import request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.sansio import multipart as multipart_module

from audit_server.request_bodies import FIELD_MAX_BYTES, MULTIPART_MAX_PARTS, MULTIPART_OVERHEAD

READ = 64 * 1024  # what werkzeug asks the server for at a time
BOUNDARY = "----WebKitFormBoundary7MA4YWxkTrZu0gW"  # as a phone's browser writes it
DELIMITER = f"\r\n--{BOUNDARY}\r\n".encode()
ROOT = Path(__file__).resolve().parents[2]
# The same audit id in every process, so that parallel workers collect the same tests.
PHOTO_PATHS = ["/api/v1/audits/2540c2a5-713f-45d9-b6c9-715539241bd9/photos", "/api/v1/actions/7/photos",
               "/actions/7/photo"]


class Arriving(io.RawIOBase):
    """A request body as a server's input stream gives it: each read returns at most the
    next of `reads` bytes (in turn), however many were asked for."""

    def __init__(self, data, reads):
        self.data = memoryview(data)
        self.position = 0
        self.reads = itertools.cycle(reads)

    def readable(self):
        return True

    def seekable(self):  # the test client measures the body this way
        return True

    def seek(self, offset, whence=io.SEEK_SET):
        self.position = len(self.data) + offset if whence == io.SEEK_END else offset
        return self.position

    def tell(self):
        return self.position

    def readinto(self, buffer):
        size = min(len(buffer), next(self.reads), len(self.data) - self.position)
        buffer[:size] = self.data[self.position:self.position + size]
        self.position += size
        return size


def photo_bytes(size):
    """`size` random bytes full of what a parser could take for the start of a boundary:
    line breaks, dashes and beginnings of the boundary, and one at the very end."""
    rng = random.Random(size)
    data = bytearray(rng.randbytes(size))
    lookalikes = [b"\r", b"\n", b"\r\n", b"\r\n-", b"\r\n--"] + [
        f"\r\n--{BOUNDARY[:n]}".encode() for n in (1, 10, len(BOUNDARY) - 1)]
    for position in range(0, size, 997):
        lookalike = rng.choice(lookalikes)
        data[position:position + len(lookalike)] = lookalike[:size - position]
    tail = lookalikes[-1][:size]
    data[size - len(tail):] = tail
    return bytes(data)


def multipart(photo, fields, photo_first=True):
    """The body a browser's FormData makes: the photo and the fields, in that order (the
    phone's outbox) or the other (the page's form)."""
    photo_part = (b'Content-Disposition: form-data; name="photo"; filename="photo.jpg"\r\n'
                  b"Content-Type: image/jpeg\r\n\r\n") + photo
    field_parts = [f'Content-Disposition: form-data; name="{name}"\r\n\r\n{value}'.encode()
                   for name, value in fields.items()]
    parts = [photo_part, *field_parts] if photo_first else [*field_parts, photo_part]
    return f"--{BOUNDARY}\r\n".encode() + DELIMITER.join(parts) + f"\r\n--{BOUNDARY}--\r\n".encode()


FIELDS = {"id": str(uuid.uuid4()), "item_id": "floor_clean", "caption": "Barro en la entrada 🚪"}


def parsed(app, body, reads=(READ,), chunked=False, path=PHOTO_PATHS[0]):
    """(form, photo bytes) as the app reads them from `body`, sent with Content-Length or,
    if `chunked`, without it (the server ends the body: wsgi.input_terminated)."""
    options = {"environ_overrides": {"wsgi.input_terminated": True},
               "headers": {"Transfer-Encoding": "chunked"}} if chunked else {}
    with app.test_request_context(path, method="POST", input_stream=Arriving(body, reads),
                                  content_type=f"multipart/form-data; boundary={BOUNDARY}",
                                  **options):
        photo = request.files.get("photo")
        return request.form.to_dict(), photo.read() if photo else None


def sizes_splitting_the_delimiters(photo_first):
    """Photo sizes for which a 64 KB read ends at each byte of each delimiter after the
    photo (within its \r\n, its dashes and its boundary), after one read or after five."""
    placeholder = b"<photo>"
    body = multipart(placeholder, FIELDS, photo_first)
    photo_at = body.index(placeholder)
    delimiters = [at for at in range(photo_at, len(body)) if body.startswith(b"\r\n--" + BOUNDARY.encode(), at)]
    closing = len(f"\r\n--{BOUNDARY}--\r\n")
    return sorted({reads * READ - (at - photo_at) - offset - photo_at
                   for reads in (1, 5) for at in delimiters for offset in range(closing + 1)
                   if reads * READ - (at - photo_at) - offset - photo_at >= 0})


@pytest.mark.parametrize("photo_first", [True, False], ids=["photo-first", "photo-last"])
def test_every_split_of_the_delimiter_between_reads(app, photo_first):
    for size in sizes_splitting_the_delimiters(photo_first):
        photo = photo_bytes(size)
        body = multipart(photo, FIELDS, photo_first)
        assert parsed(app, body) == (FIELDS, photo), size


@pytest.mark.parametrize("reads", [(READ,), (READ - 1,), (1, 2, 3, READ), (7, 1000, 4093),
                                   (READ // 2 + 1, READ)],
                         ids=["64K", "64K-1", "tiny-then-64K", "odd", "half-then-64K"])
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_sizes_of_real_photos_whatever_the_reads(app, reads, chunked):
    for size in (0, 1, 2, READ - 1, READ, READ + 1, 3 * READ + 17, 300_000, 1_000_003):
        photo = photo_bytes(size)
        assert parsed(app, multipart(photo, FIELDS), reads, chunked) == (FIELDS, photo), size


@pytest.mark.parametrize("path", PHOTO_PATHS)
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_the_largest_photo_is_taken_by_every_photo_endpoint(app, path, chunked):
    photo = photo_bytes(app.config["PHOTO_MAX_BYTES"])
    assert parsed(app, multipart(photo, FIELDS), chunked=chunked, path=path) == (FIELDS, photo)


@pytest.mark.parametrize("path", PHOTO_PATHS)
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_beyond_the_photo_and_its_overhead_is_refused(app, path, chunked):
    beyond = app.config["PHOTO_MAX_BYTES"] + MULTIPART_OVERHEAD
    with pytest.raises(RequestEntityTooLarge):
        parsed(app, multipart(b"\0" * beyond, FIELDS), chunked=chunked, path=path)


@pytest.mark.parametrize("path", PHOTO_PATHS)
def test_fields_beside_the_photo_stay_small_and_few(app, path):
    photo = photo_bytes(5000)
    largest = FIELDS | {"caption": "x" * FIELD_MAX_BYTES}
    assert parsed(app, multipart(photo, largest), path=path) == (largest, photo)
    with pytest.raises(RequestEntityTooLarge):
        parsed(app, multipart(photo, FIELDS | {"caption": "x" * (FIELD_MAX_BYTES + 1)}), path=path)
    many = {f"field{n}": "x" for n in range(MULTIPART_MAX_PARTS)}  # with the photo, one too many
    with pytest.raises(RequestEntityTooLarge):
        parsed(app, multipart(photo, many), path=path)


def test_werkzeugs_own_decoder_still_needs_our_fix():
    """Fails once werkzeug holds back "\r\n--<boundary>-" itself (pallets/werkzeug issue
    3285): then remove request_bodies.MultipartDecoder."""
    body = multipart(b"photo", {})
    split = len(body) - len("-\r\n")  # the read ends between the closing dashes
    decoder = multipart_module.MultipartDecoder(BOUNDARY.encode())
    received = b""
    for data in (body[:split], body[split:], None):
        decoder.receive_data(data)
        while not isinstance(event := decoder.next_event(), (multipart_module.NeedData,
                                                              multipart_module.Epilogue)):
            received += getattr(event, "data", b"")
    assert received == b"photo\r"


def test_the_pages_other_forms_are_bounded(app, client):
    response = client.post("/login", data={"email": "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)})
    assert response.status_code == 413


@pytest.mark.parametrize("path", [PHOTO_PATHS[0], "/login"], ids=["declared", "flask's"])
def test_a_view_may_still_set_a_requests_own_limits(app, path):
    """Flask lets a view (or a before_request) set a request's limits: a value set wins over
    the declared body's, as over the app's config."""
    body = multipart(photo_bytes(5000), FIELDS)
    with app.test_request_context(path, method="POST", data=body,
                                  content_type=f"multipart/form-data; boundary={BOUNDARY}"):
        request.max_content_length = len(body) - 1
        request.max_form_memory_size, request.max_form_parts = 10, 2
        assert (request.max_content_length, request.max_form_memory_size,
                request.max_form_parts) == (len(body) - 1, 10, 2)
        with pytest.raises(RequestEntityTooLarge):
            request.form  # noqa: B018 (reading it is what raises)


def test_an_upgraded_werkzeug_without_the_method_we_override_fails_at_import():
    """request_bodies.MultipartDecoder overrides a private method of Werkzeug's decoder: if
    a Werkzeug upgrade drops it, importing the app fails and says why, instead of uploads
    silently going back to Werkzeug's own handling."""
    gone = ("from werkzeug.sansio import multipart\n"
            "del multipart.MultipartDecoder._last_partial_boundary_index\n"
            "import audit_server\n")
    run = subprocess.run([sys.executable, "-c", gone], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode != 0
    assert "_last_partial_boundary_index" in run.stderr.splitlines()[-1], run.stderr
