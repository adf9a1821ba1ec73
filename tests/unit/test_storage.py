"""PhotoStore on the filesystem and on S3 (moto's S3 server, over HTTP on a loopback port)."""
import errno
import hashlib
import os
import socket
from datetime import datetime, timedelta, timezone

import botocore.awsrequest
import moto.s3.models
import pytest

from audit_server.services.errors import StoreUnavailable
from audit_server.storage import CHUNK, LocalPhotoStore, S3PhotoStore, blob_name, open_photo_store


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
    assert store.modified_at(name) == modified
    store.delete(name)
    assert not store.exists(name) and list(store.blobs()) == []
    assert store.modified_at(name) is None
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
    store = LocalPhotoStore(tmp_path, retry_after=7)

    def fail(_fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(StoreUnavailable) as refused:
        store.put(b"abc", "image/jpeg")
    assert refused.value.status == 503 and refused.value.headers == {"Retry-After": "7"}
    assert "OSError" in refused.value.message
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_local_store_that_cannot_read_is_unavailable_not_missing(tmp_path):
    store = LocalPhotoStore(tmp_path)
    name = store.put(b"abc", "image/jpeg")
    path = tmp_path / name[:2] / name[2:4] / name
    path.unlink()
    path.mkdir()  # reading it fails, and not because it is missing
    with pytest.raises(StoreUnavailable):
        store.get(name)
    with pytest.raises(FileNotFoundError):
        store.get(blob_name(b"never stored"))


def test_settings_choose_the_store(tmp_path, s3_server, s3_bucket, s3_client):
    settings = {"PHOTO_STORE": "local", "PHOTO_DIR": None, "S3_BUCKET": s3_bucket,
                "S3_ENDPOINT_URL": s3_server.url, "S3_REGION": "us-east-1",
                "S3_CONNECT_TIMEOUT": 1.5, "S3_READ_TIMEOUT": 4.0, "S3_MAX_ATTEMPTS": 3,
                "PHOTO_STORE_RETRY_AFTER": 45}
    local = open_photo_store(settings, tmp_path)
    assert isinstance(local, LocalPhotoStore) and local.root == tmp_path / "photos"
    assert local.retry_after == 45
    s3 = open_photo_store({**settings, "PHOTO_STORE": "s3"}, tmp_path)
    assert isinstance(s3, S3PhotoStore) and s3.retry_after == 45
    client_config = s3.client.meta.config
    assert (client_config.connect_timeout, client_config.read_timeout) == (1.5, 4.0)
    assert client_config.retries == {"total_max_attempts": 3, "mode": "standard"}
    name = s3.put(b"through the settings", "image/jpeg")
    assert s3_client.get_object(Bucket=s3_bucket, Key=f"{name[:2]}/{name[2:4]}/{name}")
    with pytest.raises(RuntimeError):
        open_photo_store({**settings, "PHOTO_STORE": "ftp"}, tmp_path)
    with pytest.raises(RuntimeError):
        open_photo_store({**settings, "PHOTO_STORE": "s3", "S3_BUCKET": None}, tmp_path)


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


def test_blobs_are_read_in_chunks_of_their_stated_size(store):
    data = os.urandom(3 * CHUNK + 12345)  # camera noise does not compress either
    name = store.put(data, "image/jpeg")
    blob = store.open(name)
    try:
        chunks = list(blob)
    finally:
        blob.close()
    assert blob.size == len(data) and b"".join(chunks) == data
    assert len(chunks) >= 4 and max(len(chunk) for chunk in chunks) <= CHUNK
    with pytest.raises(FileNotFoundError):
        store.open(blob_name(b"never stored"))


class S3Requests:
    """What a client sends to S3, one (operation, method, body bytes) per HTTP request."""

    def __init__(self, client):
        self.sent = []
        client.meta.events.register("before-send.s3", self.record)

    def record(self, request, event_name, **_):
        operation = event_name.rpartition(".")[2]  # before-send.s3.PutObject
        body = request.body
        size = len(body) if isinstance(body, bytes) else (len(body.read()) if body else 0)
        if hasattr(body, "seek"):
            body.seek(0)
        self.sent.append((operation, request.method, size))

    def operations(self):
        return [operation for operation, _, _ in self.sent]


def key_of(name):
    return f"{name[:2]}/{name[2:4]}/{name}"


@pytest.fixture
def s3_clock(monkeypatch):
    """Set the S3 server's clock back (for the LastModified of what it stores next)."""
    def set_back(delta):
        monkeypatch.setattr(moto.s3.models, "utcnow", lambda: datetime.utcnow() - delta)

    return set_back


def test_s3_content_stored_again_is_not_sent_again_and_is_fresh_again(
        s3_store, s3_client, s3_bucket, s3_clock, monkeypatch):
    data = os.urandom(200_000)
    s3_clock(timedelta(days=3))
    name = s3_store.put(data, "image/jpeg")
    (_, old), = s3_store.blobs()
    assert old < datetime.now(timezone.utc) - timedelta(days=2)
    monkeypatch.undo()  # the server's clock is right again
    sent = S3Requests(s3_store.client)
    assert s3_store.put(data, "image/webp") == name
    assert "PutObject" not in sent.operations()
    assert sent.operations() == ["HeadObject", "CopyObject"]
    assert max(size for _, _, size in sent.sent) < 1000  # the copy is done by the server
    (_, fresh), = s3_store.blobs()
    assert fresh > datetime.now(timezone.utc) - timedelta(hours=1)
    stored = s3_client.get_object(Bucket=s3_bucket, Key=key_of(name))
    assert stored["Body"].read() == data and stored["ContentType"] == "image/webp"


def test_s3_first_put_sends_the_body_once_conditionally(s3_store):
    sent = S3Requests(s3_store.client)
    data = os.urandom(150_000)
    s3_store.put(data, "image/jpeg")
    assert sent.operations() == ["HeadObject", "PutObject"]
    assert [size for operation, _, size in sent.sent if operation == "PutObject"] == [len(data)]


def test_s3_put_never_replaces_an_object_under_its_key(s3_store, s3_client, s3_bucket):
    name = blob_name(b"the photo")
    s3_client.put_object(Bucket=s3_bucket, Key=key_of(name), Body=b"what was there first")
    assert s3_store.put(b"the photo", "image/jpeg") == name
    assert s3_client.get_object(Bucket=s3_bucket, Key=key_of(name))["Body"].read() == \
        b"what was there first"


def test_s3_put_racing_another_upload_does_not_overwrite_it(s3_store, s3_client, s3_bucket):
    """Another upload stores the key between our HEAD (nothing there) and our PUT: the
    conditional PUT (If-None-Match: *) is refused, and what is there stays."""
    name = blob_name(b"raced photo")

    def other_upload_first(**_):
        s3_client.put_object(Bucket=s3_bucket, Key=key_of(name), Body=b"the other upload's")

    s3_store.client.meta.events.register_first("before-call.s3.PutObject", other_upload_first)
    assert s3_store.put(b"raced photo", "image/jpeg") == name
    assert s3_client.get_object(Bucket=s3_bucket, Key=key_of(name))["Body"].read() == \
        b"the other upload's"


def test_s3_put_of_a_blob_gc_deletes_meanwhile_uploads_it(s3_store, s3_client, s3_bucket):
    """`photos gc` deletes the blob between our HEAD (there) and our copy: it is uploaded."""
    name = s3_store.put(b"collected photo", "image/jpeg")

    def collected_first(**_):
        s3_client.delete_object(Bucket=s3_bucket, Key=key_of(name))

    s3_store.client.meta.events.register_first("before-call.s3.CopyObject", collected_first)
    sent = S3Requests(s3_store.client)
    assert s3_store.put(b"collected photo", "image/jpeg") == name
    assert sent.operations() == ["HeadObject", "CopyObject", "PutObject"]
    assert s3_store.get(name) == b"collected photo"


def fast_failing_store(url, bucket, read_timeout=10.0):
    return open_photo_store({
        "PHOTO_STORE": "s3", "S3_ENDPOINT_URL": url, "S3_BUCKET": bucket, "S3_REGION": "us-east-1",
        "S3_CONNECT_TIMEOUT": 1.0, "S3_READ_TIMEOUT": read_timeout, "S3_MAX_ATTEMPTS": 1,
        "PHOTO_STORE_RETRY_AFTER": 20}, None)


def test_s3_store_that_is_stopped_is_unavailable_then_back(s3_server, s3_bucket, caplog):
    store = fast_failing_store(s3_server.url, s3_bucket)
    name = store.put(b"before the outage", "image/jpeg")
    with s3_server.stopped():
        for attempt in (lambda: store.put(b"during the outage", "image/jpeg"),
                        lambda: store.get(name), lambda: store.open(name),
                        lambda: store.exists(name), lambda: list(store.blobs()),
                        lambda: store.delete(name)):
            with pytest.raises(StoreUnavailable) as refused:
                attempt()
            assert refused.value.headers == {"Retry-After": "20"}
            assert "EndpointConnectionError" in refused.value.message
    warnings = [r.getMessage() for r in caplog.records if r.name == "audit_server.storage"]
    assert len(warnings) == 6 and all("Could not connect to the endpoint URL" in w for w in warnings)
    assert warnings[0].startswith("the photo store cannot store photos: ")
    assert store.get(name) == b"before the outage"
    assert store.put(b"during the outage", "image/jpeg") == blob_name(b"during the outage")


def test_s3_endpoint_that_accepts_but_never_answers_times_out_as_unavailable(s3_bucket):
    with socket.socket() as silent:  # the kernel accepts connections; nobody answers them
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        host, port = silent.getsockname()
        store = fast_failing_store(f"http://{host}:{port}", s3_bucket, read_timeout=0.5)
        with pytest.raises(StoreUnavailable) as refused:
            store.put(b"into the void", "image/jpeg")
    assert "ReadTimeoutError" in refused.value.message


def test_s3_errors_of_the_server_side_are_unavailable(s3_store):
    def answer_503(**_):
        return (botocore.awsrequest.AWSResponse(
            "", 503, {}, botocore.awsrequest.AWSResponse(None, 503, {}, None).raw), {
            "Error": {"Code": "SlowDown", "Message": "Please reduce your request rate."},
            "ResponseMetadata": {"HTTPStatusCode": 503}})

    s3_store.client.meta.events.register_first("before-call.s3.HeadObject", answer_503)
    with pytest.raises(StoreUnavailable) as refused:
        s3_store.put(b"slow down", "image/jpeg")
    assert "ClientError" in refused.value.message
