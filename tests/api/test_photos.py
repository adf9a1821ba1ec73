"""Photo evidence through the API: upload, replay, validation, listing, serving, scope."""
import io
import uuid

import pytest
import sqlalchemy as sa
from PIL import Image

from audit_server.extensions import db
from audit_server.models import Photo
from audit_server.storage import photo_store
from tests.helpers import audit_body, best_walk_in
from tests.photo_samples import (heic, phone_jpeg, png_claiming, small_jpeg, transparent_png,
                           truncated_jpeg, webp)


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
    response = upload(client, organisation, audit["id"], small_jpeg(), notes="x" * 100_000)
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
