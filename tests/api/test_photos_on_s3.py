"""Photos in an S3-compatible store (moto's S3 server over HTTP), and a photo store that is
down: uploads and photos answer 503 with Retry-After, audits without photos go on, and
the same upload sent again once the store is back is stored, once.

The phone's side of it (the outbox tries a photo answered 503 again after its
Retry-After, never drops it) is in tests/browser/test_audits_on_a_phone.py:
test_a_busy_server_is_tried_again_and_a_refused_photo_is_taken_again (a routed 503) and
test_a_photo_sent_while_the_photo_store_is_down_is_sent_again_once_it_is_back (the store
really stopped)."""
import io
import uuid

import pytest
import requests
import sqlalchemy as sa

from audit_server import storage
from audit_server.extensions import db
from audit_server.models import Photo
from tests.helpers import audit_body
from tests.photo_samples import camera_jpeg, jpeg_300kb, megabyte_jpeg


@pytest.fixture
def s3_app(make_app, s3_settings):
    """An app whose photos live in the test's bucket, as PHOTO_STORE=s3 deploys it."""
    return make_app(**s3_settings)


def new_audit(client, organisation, role="manager", location="N1"):
    body = audit_body(organisation.locations[location])
    response = client.post("/api/v1/audits", json=body, headers=organisation.headers(role))
    assert response.status_code == 201, response.json
    return response.json["id"]


def upload(client, organisation, audit_id, data, photo_id=None):
    return client.post(f"/api/v1/audits/{audit_id}/photos",
                       data={"id": str(photo_id or uuid.uuid4()), "photo": (io.BytesIO(data), "p.jpg"),
                             "caption": "Suelo mojado junto a la puerta ☔"},
                       content_type="multipart/form-data", headers=organisation.headers("manager"))


def photo_rows(photo_id=None):
    db.session.rollback()  # see what the requests committed
    query = sa.select(sa.func.count()).select_from(Photo)
    if photo_id is not None:
        query = query.where(Photo.id == photo_id)
    return db.session.scalar(query)


def test_photos_are_streamed_from_s3_with_their_length_and_etag(
        s3_app, organisation, s3_store, s3_server, monkeypatch):
    monkeypatch.setattr(storage, "CHUNK", 16 * 1024)  # a display rendition is ~100 KB
    client = s3_app.test_client()
    created = upload(client, organisation, new_audit(client, organisation), megabyte_jpeg())
    assert created.status_code == 201, created.json
    stored = db.session.get(Photo, uuid.UUID(created.json["id"]))
    assert {name for name, _ in s3_store.blobs()} == {stored.display_sha256, stored.thumb_sha256}

    served = client.get(created.json["display_url"], headers=organisation.headers("manager"),
                        buffered=False)
    try:
        chunks = list(served.response)
    finally:
        served.close()
    assert served.status_code == 200 and served.mimetype == stored.content_type
    assert served.content_length == stored.display_bytes > 2 * storage.CHUNK
    assert b"".join(chunks) == s3_store.get(stored.display_sha256)
    assert len(chunks) >= 3 and max(map(len, chunks)) <= storage.CHUNK  # never the whole blob at once
    etag = served.headers["ETag"]
    assert etag == f'"{stored.display_sha256}"'

    with s3_server.stopped():  # a revalidation does not need the store
        cached = client.get(created.json["display_url"],
                            headers=organisation.headers("manager") | {"If-None-Match": etag})
        assert cached.status_code == 304 and cached.data == b"" and cached.headers["ETag"] == etag


def test_scope_is_checked_before_the_store_is_asked(s3_app, organisation, s3_server):
    client = s3_app.test_client()
    created = upload(client, organisation, new_audit(client, organisation), jpeg_300kb())
    assert created.status_code == 201, created.json
    url = created.json["thumb_url"]
    with s3_server.stopped():
        outsider = client.get(url, headers=organisation.headers("manager_s"))
        assert outsider.status_code == 404  # as when the store answers: nothing is told
        down = client.get(url, headers=organisation.headers("manager") | {"Accept-Language": "es"})
        assert down.status_code == 503 and down.headers["Retry-After"] == "30"
        assert down.mimetype == "text/plain"
        assert "el almacén de fotos no responde" in down.get_data(as_text=True)
    assert client.get(url, headers=organisation.headers("manager_s")).status_code == 404
    assert client.get(url, headers=organisation.headers("manager")).status_code == 200


def test_an_upload_while_the_store_is_down_is_503_and_stored_once_it_is_back(
        s3_app, organisation, s3_server, s3_store):
    client = s3_app.test_client()
    audit_id = new_audit(client, organisation)
    photo_id = uuid.uuid4()
    photo = jpeg_300kb()
    with s3_server.stopped():
        refused = upload(client, organisation, audit_id, photo, photo_id)
        assert refused.status_code == 503, refused.json
        assert refused.headers["Retry-After"] == "30"
        error = refused.json["error"]
        assert error["code"] == "unavailable" and "photo store" in error["message"]
        assert list(error["fields"]) == ["photo"]
        assert photo_rows() == 0
        # Audits without photos do not need the store.
        other_audit = new_audit(client, organisation)
        assert client.get(f"/api/v1/audits/{other_audit}",
                          headers=organisation.headers("manager")).status_code == 200
    assert list(s3_store.blobs()) == []  # nothing half-stored either
    stored = upload(client, organisation, audit_id, photo, photo_id)
    assert stored.status_code == 201, stored.json
    again = upload(client, organisation, audit_id, photo, photo_id)
    assert again.status_code == 200 and again.json["id"] == str(photo_id)
    assert photo_rows() == 1 and len(list(s3_store.blobs())) == 2


def test_a_photo_folder_that_cannot_be_written_is_503_too(make_app, organisation, tmp_path):
    blocked = tmp_path / "photos"
    blocked.write_text("a file where the photo folder should be")  # mkdir fails: OSError
    client = make_app(PHOTO_DIR=str(blocked), PHOTO_STORE_RETRY_AFTER=12).test_client()
    audit_id = new_audit(client, organisation)
    refused = upload(client, organisation, audit_id, jpeg_300kb())
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "12"
    assert refused.json["error"]["code"] == "unavailable"
    assert photo_rows() == 0


def test_through_gunicorn_a_camera_photo_survives_the_store_going_down(
        serve_with_gunicorn, s3_settings, s3_server, s3_store, organisation):
    headers = organisation.headers("manager")
    photo = camera_jpeg()
    assert len(photo) > 3_000_000

    def send(url, audit_id, photo_id, photo=photo):
        return requests.post(f"{url}/api/v1/audits/{audit_id}/photos", headers=headers, timeout=60,
                             data={"id": str(photo_id)},
                             files={"photo": ("IMG_0042.jpg", photo, "image/jpeg")})

    with serve_with_gunicorn(**s3_settings) as (url, log), requests.Session() as http:
        audit = http.post(f"{url}/api/v1/audits", headers=headers, timeout=30,
                          json=audit_body(organisation.locations["N1"]))
        assert audit.status_code == 201, audit.text
        audit_id = audit.json()["id"]
        created = send(url, audit_id, uuid.uuid4())
        assert created.status_code == 201, created.text
        stored = db.session.get(Photo, uuid.UUID(created.json()["id"]))
        served = http.get(url + created.json()["display_url"], headers=headers, timeout=30)
        assert served.status_code == 200
        assert int(served.headers["Content-Length"]) == stored.display_bytes
        assert served.content == s3_store.get(stored.display_sha256)

        retried_id, another = uuid.uuid4(), camera_jpeg(quality=90)  # new blobs to store
        with s3_server.stopped():
            refused = send(url, audit_id, retried_id, another)
            assert refused.status_code == 503, refused.text
            assert refused.headers["Retry-After"] == "30"
            assert refused.json()["error"]["code"] == "unavailable"
            down = http.get(url + created.json()["thumb_url"], headers=headers, timeout=30)
            assert down.status_code == 503 and "almacén de fotos no responde" in down.text  # es: the default
            assert photo_rows(retried_id) == 0
        retried = send(url, audit_id, retried_id, another)
        assert retried.status_code == 201, retried.text
        replayed = send(url, audit_id, retried_id, another)
        assert replayed.status_code == 200 and replayed.json() == retried.json()
        assert photo_rows(retried_id) == 1 and photo_rows() == 2
        assert len(list(s3_store.blobs())) == 4
        assert "Traceback" not in log.read_text()
