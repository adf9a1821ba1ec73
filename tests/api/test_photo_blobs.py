"""Blobs and rows stay consistent: a crash between writing the blobs and committing the
row leaves only orphans, which `photos gc` removes; `photos verify` finds missing blobs."""
import io
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from audit_server.extensions import db
from audit_server.models import Photo
from audit_server.storage import photo_store
from tests.helpers import audit_body
from tests.photo_samples import small_jpeg

ROOT = Path(__file__).resolve().parents[2]

# A separate process uploads a photo through the service against the test database
# and store, and dies (os._exit: no cleanup at all) when the row is about to be committed.
CRASHING_UPLOAD = textwrap.dedent("""
    import os, sys, uuid
    from sqlalchemy.orm import Session
    from audit_server import create_app
    from audit_server.extensions import db
    from audit_server.models import User
    from audit_server.services import audits

    database_url, photo_dir, user_id, audit_id, photo_id, path = sys.argv[1:]
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "PHOTO_DIR": photo_dir})
    Session.commit = lambda self: os._exit(17)
    with app.app_context(), open(path, "rb") as photo:
        user = db.session.get(User, int(user_id))
        audits.add_audit_photo(user, uuid.UUID(audit_id), uuid.UUID(photo_id), photo)
    sys.exit("the upload was not interrupted")
""")


@pytest.fixture
def audit_id(client, organisation):
    body = audit_body(organisation.locations["N1"])
    response = client.post("/api/v1/audits", json=body, headers=organisation.headers("manager"))
    return response.json["id"]


def upload(client, organisation, audit_id, data):
    response = client.post(f"/api/v1/audits/{audit_id}/photos",
                           data={"id": str(uuid.uuid4()), "photo": (data, "p.jpg")},
                           content_type="multipart/form-data",
                           headers=organisation.headers("manager"))
    assert response.status_code == 201, response.json
    return response.json


def blob_names():
    return {name for name, _ in photo_store().blobs()}


def test_crash_before_commit_leaves_only_orphans_that_gc_removes(
        app, client, runner, organisation, audit_id, tmp_path):

    kept = upload(client, organisation, audit_id, io.BytesIO(small_jpeg((9, 9, 9))))
    runner.invoke(args=["photos", "gc", "--grace-hours", "0"])  # orphans of earlier tests
    before = blob_names()
    photo_file = tmp_path / "crash.jpg"
    photo_file.write_bytes(small_jpeg((250, 10, 10), size=(800, 600)))
    crashed_id = uuid.uuid4()
    child = subprocess.run(
        [sys.executable, "-c", CRASHING_UPLOAD, app.config["SQLALCHEMY_DATABASE_URI"],
         str(photo_store().root), str(organisation.ids["manager"]), audit_id, str(crashed_id),
         str(photo_file)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert child.returncode == 17, child.stderr
    orphans = blob_names() - before
    assert len(orphans) == 2  # display and thumbnail were written, the row never was
    assert db.session.get(Photo, crashed_id) is None

    verify = runner.invoke(args=["photos", "verify"])
    assert verify.exit_code == 0, verify.output
    young = runner.invoke(args=["photos", "gc"])  # default grace: 24 hours
    assert young.exit_code == 0 and blob_names() >= orphans
    gc = runner.invoke(args=["photos", "gc", "--grace-hours", "0"])
    assert gc.exit_code == 0 and "Removed 2 " in gc.output
    assert blob_names() == before
    assert runner.invoke(args=["photos", "verify"]).exit_code == 0
    served = client.get(kept["display_url"], headers=organisation.headers("manager"))
    assert served.status_code == 200


def test_verify_reports_missing_blobs(client, runner, organisation, audit_id):
    photo = upload(client, organisation, audit_id, io.BytesIO(small_jpeg((1, 99, 1))))
    stored = db.session.get(Photo, uuid.UUID(photo["id"]))
    photo_store().delete(stored.thumb_sha256)
    result = runner.invoke(args=["photos", "verify"])
    assert result.exit_code == 1
    assert f"photo {stored.id}: thumb blob {stored.thumb_sha256} is missing" in result.output
    served = client.get(photo["thumb_url"], headers=organisation.headers("manager"))
    assert served.status_code == 404


def test_gc_and_verify_on_s3(app, client, runner, organisation, audit_id, monkeypatch, s3_store):
    monkeypatch.setitem(app.extensions, "momento.photo_store", s3_store)
    upload(client, organisation, audit_id, io.BytesIO(small_jpeg((5, 50, 5))))
    kept = {name for name, _ in s3_store.blobs()}
    orphan = s3_store.put(b"left behind by a crashed upload", "image/jpeg")
    assert runner.invoke(args=["photos", "gc"]).output == "Removed 0 unreferenced blobs.\n"
    assert "Removed 1 " in runner.invoke(args=["photos", "gc", "--grace-hours", "0"]).output
    assert {name for name, _ in s3_store.blobs()} == kept and orphan not in kept
    assert runner.invoke(args=["photos", "verify"]).exit_code == 0
    s3_store.delete(kept.pop())
    assert runner.invoke(args=["photos", "verify"]).exit_code == 1
