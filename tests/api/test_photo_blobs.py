"""Blobs and rows stay consistent: a crash between writing the blobs and committing the
row leaves only orphans, which `photos gc` removes; `photos verify` finds missing blobs."""
import io
import os
import subprocess
import sys
import textwrap
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import moto.s3.models
import pytest

from audit_server.extensions import db
from audit_server.models import Photo
from audit_server.services import photos
from audit_server.storage import LocalPhotoStore, photo_store
from tests.conftest import gunicorn_env
from tests.helpers import audit_body
from tests.photo_samples import jpeg_300kb, small_jpeg

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


def flask_command(env, *args):
    """A `flask` command run as a deployment runs it: its own process, its settings from
    the environment."""
    return subprocess.run([sys.executable, "-m", "flask", "--app", "audit_server", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_gc_and_verify_on_s3(app, make_app, database_url, organisation, s3_settings, s3_server,
                             s3_store, monkeypatch):
    client = make_app(**s3_settings).test_client()
    body = audit_body(organisation.locations["N1"])
    audit = client.post("/api/v1/audits", json=body, headers=organisation.headers("manager")).json
    # The S3 server's clock set back three days for what it stores meanwhile.
    monkeypatch.setattr(moto.s3.models, "utcnow", lambda: datetime.utcnow() - timedelta(days=3))
    old_photo = upload(client, organisation, audit["id"], io.BytesIO(jpeg_300kb()))
    old_orphan = s3_store.put(b"left behind by a crash three days ago", "image/jpeg")
    monkeypatch.undo()
    new_orphan = s3_store.put(b"an upload whose row is not committed yet", "image/jpeg")
    stored = db.session.get(Photo, uuid.UUID(old_photo["id"]))
    referenced = {stored.display_sha256, stored.thumb_sha256}
    assert len(referenced) == 2
    assert {name for name, _ in s3_store.blobs()} == referenced | {old_orphan, new_orphan}

    env = gunicorn_env(app, database_url, **s3_settings)
    gc = flask_command(env, "photos", "gc")  # default grace: 24 hours
    assert gc.returncode == 0, gc.stderr
    assert gc.stdout == "Removed 1 unreferenced blobs.\n"
    assert {name for name, _ in s3_store.blobs()} == referenced | {new_orphan}
    verify = flask_command(env, "photos", "verify")
    assert verify.returncode == 0 and verify.stdout == "Every photo has its blobs.\n", verify.stderr

    s3_store.delete(stored.display_sha256)
    verify = flask_command(env, "photos", "verify")
    assert verify.returncode == 1
    assert f"photo {stored.id}: display blob {stored.display_sha256} is missing" in verify.stderr
    with s3_server.stopped():
        for command in ("gc", "verify"):
            down = flask_command({**env, "S3_MAX_ATTEMPTS": "1"}, "photos", command)
            assert down.returncode == 2, down.stderr
            assert "error: The photo store cannot" in down.stderr and "Traceback" not in down.stderr
    assert {name for name, _ in s3_store.blobs()} == {stored.thumb_sha256, new_orphan}


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_gc_keeps_a_blob_an_upload_stored_again_while_gc_was_listing(
        app, kind, tmp_path, monkeypatch, request):
    three_days_ago = datetime.now(timezone.utc) - timedelta(days=3)
    if kind == "local":
        store = LocalPhotoStore(tmp_path / "photos")
        names = [store.put(data, "image/jpeg") for data in (b"stored again", b"left alone")]
        for name in names:
            os.utime(tmp_path / "photos" / name[:2] / name[2:4] / name, (three_days_ago.timestamp(),) * 2)
    else:
        store = request.getfixturevalue("s3_store")
        with monkeypatch.context() as clock:  # the S3 server's clock set back meanwhile
            clock.setattr(moto.s3.models, "utcnow", lambda: datetime.utcnow() - timedelta(days=3))
            names = [store.put(data, "image/jpeg") for data in (b"stored again", b"left alone")]
    assert all(modified < three_days_ago + timedelta(hours=1) for _, modified in store.blobs())
    listing = store.blobs

    def listed_then_stored_again():
        listed = list(listing())
        store.put(b"stored again", "image/jpeg")  # an upload of the same content, meanwhile
        return listed

    monkeypatch.setattr(store, "blobs", listed_then_stored_again)
    monkeypatch.setitem(app.extensions, "momento.photo_store", store)
    with app.app_context():
        removed = photos.collect_garbage(datetime.now(timezone.utc) - timedelta(hours=24))
    assert removed == 1
    assert [name for name, _ in listing()] == [names[0]]
