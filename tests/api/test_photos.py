"""Photo evidence through the API: upload, replay, validation, listing, serving, scope."""
import io
import re
import uuid

import pytest
import requests
import sqlalchemy as sa
from PIL import Image

from audit_server.extensions import db
from audit_server.models import Photo
from audit_server.request_bodies import FIELD_MAX_BYTES
from audit_server.services.photos import DecodingSlots
from audit_server.storage import photo_store
from tests.helpers import audit_body, best_walk_in, failing
from tests.photo_samples import (
    camera_heic,
    camera_jpeg,
    camera_png,
    heic,
    jpeg_300kb,
    megabyte_jpeg,
    phone_jpeg,
    phone_resized_jpeg,
    png_claiming,
    small_jpeg,
    transparent_png,
    truncated_jpeg,
    webp,
    webp_of_49_megapixels,
)


@pytest.fixture
def audit(client, organisation):
    """An audit of N1 where the floor was dirty (an item that wants a photo)."""
    answers = best_walk_in() | {"floor_clean": {"value": False}}
    body = audit_body(organisation.locations["N1"], answers=answers)
    response = client.post("/api/v1/audits", json=body, headers=organisation.headers("manager"))
    assert response.status_code == 201, response.json
    return response.json


def upload(client, organisation, audit_id, data, role="manager", filename="photo.jpg", **fields):
    form = {"id": str(uuid.uuid4())} | fields
    form["photo"] = (io.BytesIO(data), filename)
    return client.post(f"/api/v1/audits/{audit_id}/photos", data=form,
                       content_type="multipart/form-data", headers=organisation.headers(role))


def stored_blobs():
    return {name for name, _ in photo_store().blobs()}


def assert_error(response, status, field=None):
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.json["error"]
    assert error["code"] and error["message"]
    if field:
        assert field in error["fields"], error


def test_upload_lists_and_serves_an_upright_photo_without_metadata(client, organisation, audit):
    response = upload(client, organisation, audit["id"], phone_jpeg(), item_id="floor_clean",
                      caption="Mud by the door")
    assert response.status_code == 201, response.json
    photo = response.json
    assert (photo["width"], photo["height"]) == (3024, 4032)
    assert photo["item_id"] == "floor_clean" and photo["caption"] == "Mud by the door"
    assert photo["captured_at"] == "2026-11-20T08:15:30+00:00"

    display = client.get(photo["display_url"], headers=organisation.headers("manager"))
    assert display.status_code == 200
    assert display.mimetype == photo["content_type"]
    image = Image.open(io.BytesIO(display.data))
    assert image.size == (1200, 1600)
    assert not image.getexif() and not image.getexif().get_ifd(0x8825)
    thumb = client.get(photo["thumb_url"], headers=organisation.headers("manager"))
    assert Image.open(io.BytesIO(thumb.data)).size == (240, 320)

    listed = client.get(f"/api/v1/audits/{audit['id']}/photos",
                        headers=organisation.headers("regional"))
    assert listed.json["total"] == 1 and listed.json["items"][0]["id"] == photo["id"]


def test_audit_shows_missing_photos_until_attached(client, organisation, audit):
    assert audit["photos_missing"] == ["floor_clean"]
    assert audit["answers"]["floor_clean"]["photo_missing"] is True
    assert audit["answers"]["smile"]["photo_missing"] is False
    upload(client, organisation, audit["id"], small_jpeg(), item_id="smile")
    upload(client, organisation, audit["id"], small_jpeg((1, 2, 3)))
    still = client.get(f"/api/v1/audits/{audit['id']}", headers=organisation.headers("manager"))
    assert still.json["photos_missing"] == ["floor_clean"]
    assert len(still.json["photos"]) == 2
    upload(client, organisation, audit["id"], small_jpeg(), item_id="floor_clean")
    done = client.get(f"/api/v1/audits/{audit['id']}", headers=organisation.headers("manager"))
    assert done.json["photos_missing"] == []
    assert done.json["answers"]["floor_clean"]["photo_missing"] is False
    assert {p["item_id"] for p in done.json["photos"]} == {"smile", None, "floor_clean"}


@pytest.mark.parametrize("make, content_type", [
    (transparent_png, "image/webp"), (webp, None), (heic, None)])
def test_png_webp_and_heic_are_accepted(client, organisation, audit, make, content_type):
    response = upload(client, organisation, audit["id"], make(), filename="whatever.bin")
    assert response.status_code == 201, response.json
    if content_type:
        assert response.json["content_type"] == content_type


def test_replays(client, organisation, audit):
    photo_id = str(uuid.uuid4())
    first = upload(client, organisation, audit["id"], small_jpeg(), id=photo_id, item_id="smile")
    assert first.status_code == 201
    again = upload(client, organisation, audit["id"], small_jpeg(), id=photo_id, item_id="smile")
    assert again.status_code == 200 and again.json == first.json
    other_bytes = upload(client, organisation, audit["id"], small_jpeg((0, 0, 0)), id=photo_id,
                         item_id="smile")
    assert_error(other_bytes, 409, "id")
    other_item = upload(client, organisation, audit["id"], small_jpeg(), id=photo_id,
                        item_id="floor_clean")
    assert_error(other_item, 409, "id")
    answers = best_walk_in()
    second = client.post("/api/v1/audits", json=audit_body(organisation.locations["N1"],
                                                          answers=answers),
                         headers=organisation.headers("manager")).json
    other_audit = upload(client, organisation, second["id"], small_jpeg(), id=photo_id,
                         item_id="smile")
    assert_error(other_audit, 409, "id")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Photo)) == 1


@pytest.mark.parametrize("data, status", [
    (truncated_jpeg(), 422),
    (b"I am a text file, not a photo\n", 415),
    (png_claiming(100_000, 100_000), 422),
    (b"", 422),
])
def test_bad_photos_store_nothing(client, organisation, audit, data, status):
    before = stored_blobs()
    assert_error(upload(client, organisation, audit["id"], data), status, "photo")
    assert stored_blobs() == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Photo)) == 0


def test_pixel_limit_comes_from_the_settings(app, client, organisation, audit, monkeypatch):
    monkeypatch.setitem(app.config, "PHOTO_MAX_PIXELS", 100 * 100)
    assert_error(upload(client, organisation, audit["id"], small_jpeg(size=(101, 100))), 422,
                 "photo")
    assert upload(client, organisation, audit["id"], small_jpeg(size=(100, 100))).status_code == 201


def test_photos_that_would_take_too_much_memory_to_decode_are_refused(
        app, client, organisation, audit, monkeypatch):
    bomb = upload(client, organisation, audit["id"], webp_of_49_megapixels())
    assert_error(bomb, 422, "photo")
    assert "the limit is 128 MB" in bomb.json["error"]["message"]
    monkeypatch.setitem(app.config, "PHOTO_DECODE_MAX_BYTES", 1024 * 1024)
    response = upload(client, organisation, audit["id"], camera_png((700, 500)))
    assert_error(response, 422, "photo")
    assert "at most 1 MB" in response.json["error"]["fields"]["photo"][0]
    monkeypatch.setitem(app.config, "PHOTO_DECODE_MAX_BYTES", 64 * 1024 * 1024)
    assert upload(client, organisation, audit["id"], camera_png((700, 500))).status_code == 201
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Photo)) == 1


def test_a_server_busy_decoding_answers_503_with_retry_after(app, client, organisation, audit,
                                                             monkeypatch):
    slots = DecodingSlots(1, wait_seconds=0)
    monkeypatch.setitem(app.extensions, "momento.decoding_slots", slots)
    before = stored_blobs()
    photo_id = str(uuid.uuid4())
    with slots.slot():  # another upload is being decoded
        busy = upload(client, organisation, audit["id"], small_jpeg(), id=photo_id)
    assert_error(busy, 503, "photo")
    assert busy.json["error"]["code"] == "unavailable" and busy.headers["Retry-After"] == "1"
    assert stored_blobs() == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Photo)) == 0
    assert upload(client, organisation, audit["id"], small_jpeg(), id=photo_id).status_code == 201


def test_oversized_bodies_are_refused(app, client, organisation, audit, monkeypatch):
    monkeypatch.setitem(app.config, "PHOTO_MAX_BYTES", 20_000)
    before = stored_blobs()
    # Far over the limit: refused from Content-Length, before the body is read.
    assert_error(upload(client, organisation, audit["id"], b"\xff" * 200_000), 413)
    # Just over the limit (the body fits the multipart allowance): refused while hashing.
    big = Image.effect_noise((200, 200), 60).convert("RGB")
    data = io.BytesIO()
    big.save(data, "JPEG", quality=95)
    assert 20_000 < len(data.getvalue()) < 80_000
    assert_error(upload(client, organisation, audit["id"], data.getvalue()), 413, "photo")
    assert stored_blobs() == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Photo)) == 0


class UnreadableBody:
    """A gigabyte request body that fails the test if anything reads it."""

    size = 10**9
    position = 0

    def tell(self):
        return self.position

    def seek(self, offset, whence=0):
        self.position = self.size if whence == 2 else offset
        return self.position

    def read(self, *_args):
        raise AssertionError("the body was read")

    readline = read


def test_oversized_bodies_are_refused_before_reading(client, organisation, audit):
    response = client.post(
        f"/api/v1/audits/{audit['id']}/photos", input_stream=UnreadableBody(),
        content_type="multipart/form-data; boundary=x",
        headers=organisation.headers("manager"),
    )
    assert_error(response, 413)


def test_large_form_fields_are_refused(client, organisation, audit):
    response = upload(client, organisation, audit["id"], small_jpeg(),
                      notes="x" * (FIELD_MAX_BYTES + 1))
    assert_error(response, 413)


def test_bad_fields(client, organisation, audit):
    url = f"/api/v1/audits/{audit['id']}/photos"
    headers = organisation.headers("manager")
    missing_file = client.post(url, data={"id": str(uuid.uuid4())},
                               content_type="multipart/form-data", headers=headers)
    assert_error(missing_file, 422, "photo")
    missing_id = client.post(url, data={"photo": (io.BytesIO(small_jpeg()), "a.jpg")},
                             content_type="multipart/form-data", headers=headers)
    assert_error(missing_id, 422, "id")
    assert_error(upload(client, organisation, audit["id"], small_jpeg(), item_id="no_such_item"),
                 422, "item_id")
    assert_error(upload(client, organisation, audit["id"], small_jpeg(), caption="x" * 501),
                 422, "caption")
    as_json = client.post(url, json={"id": str(uuid.uuid4())}, headers=headers)
    assert_error(as_json, 415)


def test_unknown_and_out_of_scope_audits_are_not_found(client, organisation, audit):
    assert_error(upload(client, organisation, uuid.uuid4(), small_jpeg()), 404)
    assert_error(upload(client, organisation, audit["id"], small_jpeg(), role="manager_s"), 404)
    listed = client.get(f"/api/v1/audits/{audit['id']}/photos",
                        headers=organisation.headers("manager_s"))
    assert_error(listed, 404)


def test_unauthenticated_upload_is_refused(client, organisation, audit):
    response = client.post(f"/api/v1/audits/{audit['id']}/photos",
                           data={"id": str(uuid.uuid4()),
                                 "photo": (io.BytesIO(small_jpeg()), "a.jpg")},
                           content_type="multipart/form-data")
    assert_error(response, 401)


def test_serving_follows_scope_and_caches(client, organisation, audit):
    photo = upload(client, organisation, audit["id"], small_jpeg()).json
    url = photo["thumb_url"]
    assert client.get(url).status_code == 401
    assert client.get(url, headers=organisation.headers("manager_s")).status_code == 404
    assert client.get(f"/photos/{uuid.uuid4()}/thumb",
                      headers=organisation.headers("admin")).status_code == 404
    assert client.get(url.replace("/thumb", "/original"),
                      headers=organisation.headers("admin")).status_code == 404
    for role in ("admin", "regional", "manager"):
        response = client.get(url, headers=organisation.headers(role))
        assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, max-age=31536000, immutable"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.mimetype == photo["content_type"]
    etag = response.headers["ETag"]
    stored = db.session.get(Photo, uuid.UUID(photo["id"]))
    assert etag == f'"{stored.thumb_sha256}"'
    cached = client.get(url, headers=organisation.headers("manager") | {"If-None-Match": etag})
    assert cached.status_code == 304 and cached.data == b""
    assert cached.headers["ETag"] == etag


def test_photos_in_s3(app, client, organisation, audit, monkeypatch, s3_store):
    monkeypatch.setitem(app.extensions, "momento.photo_store", s3_store)
    photo = upload(client, organisation, audit["id"], small_jpeg()).json
    served = client.get(photo["display_url"], headers=organisation.headers("manager"))
    assert served.status_code == 200
    assert {name for name, _ in s3_store.blobs()} == {
        served.headers["ETag"].strip('"'),
        db.session.get(Photo, uuid.UUID(photo["id"])).thumb_sha256,
    }


# Photos as phones and cameras make them, with their sizes (bytes) as a range.
REAL_PHOTOS = {
    "12 MP camera JPEG": (camera_jpeg, 3_000_000, 8_000_000),
    "1 MB JPEG": (megabyte_jpeg, 900_000, 1_200_000),
    "300 KB JPEG": (jpeg_300kb, 270_000, 360_000),
    "2000-px phone-resized JPEG": (phone_resized_jpeg, 300_000, 1_500_000),
    "200 KB RGBA PNG": (camera_png, 180_000, 240_000),
    "12 MP HEIC": (camera_heic, 1_000_000, 12_000_000),
}


def served_upload(url, headers, photo, photo_id, chunk=None, **fields):
    """POST a photo over HTTP as multipart/form-data; sent in pieces of `chunk` bytes
    (Transfer-Encoding: chunked, no Content-Length) if given."""
    prepared = requests.Request("POST", url, data={"id": photo_id, **fields},
                                files={"photo": ("photo.jpg", photo)}).prepare()
    body = prepared.body
    if chunk:
        body = (prepared.body[at:at + chunk] for at in range(0, len(prepared.body), chunk))
    return requests.post(url, data=body, timeout=120,
                         headers=headers | {"Content-Type": prepared.headers["Content-Type"]})


def test_real_photos_through_a_real_server(gunicorn_server, organisation):
    headers = organisation.headers("manager")
    answers = best_walk_in() | {"floor_clean": {"value": False}}
    audit = requests.post(f"{gunicorn_server}/api/v1/audits", headers=headers, timeout=30,
                          json=audit_body(organisation.locations["N1"], answers=answers)).json()
    url = f"{gunicorn_server}/api/v1/audits/{audit['id']}/photos"
    for name, (make, smallest, largest) in REAL_PHOTOS.items():
        photo = make()
        assert smallest <= len(photo) <= largest, (name, len(photo))
        photo_id = str(uuid.uuid4())
        first = served_upload(url, headers, photo, photo_id, item_id="floor_clean")
        assert first.status_code == 201, (name, len(photo), first.text)
        assert first.json()["bytes"] == len(photo)
        again = served_upload(url, headers, photo, photo_id, chunk=8191, item_id="floor_clean")
        assert again.status_code == 200, (name, again.text)
        assert again.json() == first.json()
    listed = requests.get(url, headers=headers, params={"per_page": 50}, timeout=30).json()
    assert listed["total"] == len(REAL_PHOTOS)


def test_an_after_photo_of_real_size_through_a_real_server(gunicorn_server, organisation, client):
    headers = organisation.headers("manager")
    audit = client.post("/api/v1/audits", headers=headers, json=audit_body(
        organisation.locations["N1"], answers=failing("floor_clean"))).json
    [action_id] = [a["id"] for a in audit["actions"] if a["item_id"] == "floor_clean"]
    url = f"{gunicorn_server}/api/v1/actions/{action_id}/photos"
    photo_id = str(uuid.uuid4())
    first = served_upload(url, headers, camera_jpeg(), photo_id, chunk=65_537, caption="Seco ✔")
    assert first.status_code == 201, first.text
    assert served_upload(url, headers, camera_jpeg(), photo_id, caption="Seco ✔").json() == first.json()

    # The action's page sends its own form, with the page's CSRF token and photo id.
    browser = requests.Session()
    browser.headers["Accept-Language"] = "en"
    login = browser.get(f"{gunicorn_server}/login", timeout=30).text
    token = re.search(r'name="csrf-token" content="([^"]+)"', login).group(1)
    browser.post(f"{gunicorn_server}/login", timeout=30, data={
        "email": organisation.emails["manager"], "password": organisation.PASSWORD,
        "csrf_token": token})
    page = browser.get(f"{gunicorn_server}/actions/{action_id}", timeout=30).text
    form = {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1),
            "photo_id": re.search(r'name="photo_id" value="([^"]+)"', page).group(1),
            "caption": "Fregado y seco"}
    sent = browser.post(f"{gunicorn_server}/actions/{action_id}/photo", data=form, timeout=120,
                        files={"photo": ("after.jpg", megabyte_jpeg(), "image/jpeg")})
    assert sent.status_code == 200 and "The after photo is added." in sent.text, sent.text[:500]
    stored = db.session.get(Photo, uuid.UUID(form["photo_id"]))
    assert stored.bytes == len(megabyte_jpeg()) and stored.caption == "Fregado y seco"
