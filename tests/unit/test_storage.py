"""PhotoStore on the filesystem and on S3 (moto's in-memory S3)."""
import hashlib
import os
from datetime import datetime, timedelta, timezone

import pytest

from audit_server.storage import LocalPhotoStore, S3PhotoStore, open_photo_store


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalPhotoStore(tmp_path / "photos")
    return request.getfixturevalue("s3_store")


def test_blobs_are_named_by_content_and_stored_once(store):
    name = store.put(b"photo bytes", "image/jpeg")
    assert name == hashlib.sha256(b"photo bytes").hexdigest()
    assert store.put(b"photo bytes", "image/jpeg") == name
    assert store.get(name) == b"photo bytes" and store.exists(name)
    assert [n for n, _ in store.blobs()] == [name]


def test_blobs_report_their_age_and_can_be_deleted(store):
    name = store.put(b"other bytes", "image/webp")
    (listed, modified), = store.blobs()
    assert listed == name
    assert abs(datetime.now(timezone.utc) - modified) < timedelta(minutes=5)
    store.delete(name)
    assert not store.exists(name) and list(store.blobs()) == []
    with pytest.raises(FileNotFoundError):
        store.get(name)


@pytest.mark.parametrize("name", ["../../etc/passwd", "A" * 64, "ab" * 31, "", None])
def test_names_that_are_not_hashes_are_refused(store, name):
    with pytest.raises(ValueError):
        store.get(name)
    with pytest.raises(ValueError):
        store.delete(name)


def test_local_store_writes_whole_files_under_fanout_folders(tmp_path):
    store = LocalPhotoStore(tmp_path)
    name = store.put(b"abc", "image/jpeg")
    path = tmp_path / name[:2] / name[2:4] / name
    assert path.read_bytes() == b"abc"
    assert [p.name for p in path.parent.iterdir()] == [name]  # no temporary file left


def test_local_store_refreshes_the_age_of_content_stored_again(tmp_path):
    store = LocalPhotoStore(tmp_path)
    name = store.put(b"abc", "image/jpeg")
    path = tmp_path / name[:2] / name[2:4] / name
    os.utime(path, (0, 0))
    store.put(b"abc", "image/jpeg")
    assert path.stat().st_mtime > 1_000_000


def test_local_store_leaves_nothing_when_a_write_fails(tmp_path, monkeypatch):
    store = LocalPhotoStore(tmp_path)

    def fail(_fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError):
        store.put(b"abc", "image/jpeg")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_settings_choose_the_store(tmp_path, s3_client):
    settings = {"PHOTO_STORE": "local", "PHOTO_DIR": None, "S3_BUCKET": "momento-photos",
                "S3_ENDPOINT_URL": None, "S3_REGION": "us-east-1"}
    local = open_photo_store(settings, tmp_path)
    assert isinstance(local, LocalPhotoStore) and local.root == tmp_path / "photos"
    s3 = open_photo_store({**settings, "PHOTO_STORE": "s3"}, tmp_path)
    assert isinstance(s3, S3PhotoStore)
    name = s3.put(b"through the settings", "image/jpeg")
    assert s3_client.get_object(Bucket="momento-photos", Key=f"{name[:2]}/{name[2:4]}/{name}")
    with pytest.raises(RuntimeError):
        open_photo_store({**settings, "PHOTO_STORE": "ftp"}, tmp_path)


def test_local_store_removes_writes_cut_short_once_old_enough(tmp_path):
    store = LocalPhotoStore(tmp_path)
    name = store.put(b"whole", "image/jpeg")
    folder = (tmp_path / name[:2] / name[2:4])
    partial = folder / ".partial-crashed"
    partial.write_bytes(b"half a pho")
    now = datetime.now(timezone.utc)
    assert store.remove_partial_writes(now - timedelta(hours=1)) == 0
    assert partial.exists()
    assert store.remove_partial_writes(now + timedelta(seconds=1)) == 1
    assert not partial.exists()
    assert [n for n, _ in store.blobs()] == [name]
