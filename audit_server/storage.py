"""Photo blobs, named by the SHA-256 of their content: on the filesystem or in S3.

A blob's name is its content hash, so identical content is stored once and a name
never comes from user input (every name is checked to be 64 lowercase hex digits).
Writes are atomic: a reader sees the whole blob or none of it.
"""
import contextlib
import hashlib
import logging
import os
import re
import tempfile
from abc import ABC, abstractmethod
from datetime import datetime, timezone
from pathlib import Path

from flask import current_app

from .services.errors import StoreUnavailable

log = logging.getLogger(__name__)
BLOB_NAME = re.compile(r"[0-9a-f]{64}")
# Blobs are read (and served) in chunks of this many bytes, never whole.
CHUNK = 64 * 1024


def blob_name(data):
    return hashlib.sha256(data).hexdigest()


def checked(name):
    if not isinstance(name, str) or not BLOB_NAME.fullmatch(name):
        raise ValueError(f"not a blob name: {name!r}")
    return name


def blob_key(name):
    """ab/cd/abcd...: two levels of fan-out keep directories small."""
    checked(name)
    return f"{name[:2]}/{name[2:4]}/{name}"


class PhotoStore(ABC):
    """Where blobs live. A store that does not answer, or cannot write, raises
    StoreUnavailable (a 503 with Retry-After: nothing was stored, send it again later)."""

    retry_after = 30

    def unavailable(self, doing, exc):
        """The error to raise, logged: the person is told to try again, operations learn
        that the store is down."""
        log.warning("the photo store cannot %s: %s", doing, exc)
        return StoreUnavailable(f"The photo store cannot {doing} now ({type(exc).__name__}); "
                                f"try again in {self.retry_after} s.", retry_after=self.retry_after)

    @abstractmethod
    def put(self, data, content_type):
        """Store `data` (bytes) and return its name. Storing existing content again
        refreshes its modification time, so `photos gc` leaves it alone."""

    @abstractmethod
    def open(self, name):
        """The blob as a StoredBlob (its size, its bytes in chunks); FileNotFoundError if
        there is none."""

    def get(self, name):
        """The blob's bytes; FileNotFoundError if there is none."""
        blob = self.open(name)
        try:
            return b"".join(blob)
        finally:
            blob.close()

    @abstractmethod
    def exists(self, name):
        ...

    @abstractmethod
    def delete(self, name):
        ...

    @abstractmethod
    def modified_at(self, name):
        """When the blob was last written (an aware UTC datetime); None if there is none."""

    @abstractmethod
    def blobs(self):
        """Every stored blob as (name, modified_at as an aware UTC datetime)."""

    def remove_partial_writes(self, older_than):
        """Delete what writes cut short (by a crash) left before `older_than`; how many."""
        return 0


class StoredBlob:
    """An open blob: `size` bytes, read in chunks of at most CHUNK by iterating over it;
    close() lets go of the file or the connection (a WSGI server calls it when the
    response is sent, or cut short)."""

    def __init__(self, size, chunks, close):
        self.size = size
        self._chunks = chunks
        self._close = close

    def __iter__(self):
        return iter(self._chunks)

    def close(self):
        self._close()


class LocalPhotoStore(PhotoStore):
    def __init__(self, root, retry_after=PhotoStore.retry_after):
        self.root = Path(root)
        self.retry_after = retry_after

    def _path(self, name):
        return self.root / blob_key(name)

    def put(self, data, content_type):
        name = blob_name(data)
        path = self._path(name)
        try:
            self._write(path, data)
        except OSError as exc:  # a full disk, a read-only or vanished mount, ...
            raise self.unavailable("store photos", exc) from exc
        return name

    @staticmethod
    def _write(path, data):
        if path.exists():
            os.utime(path)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".partial-")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp, path)
        except BaseException:
            os.unlink(temp)
            raise
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def open(self, name):
        path = self._path(name)
        try:
            file = path.open("rb")
            size = os.fstat(file.fileno()).st_size
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise self.unavailable("read photos", exc) from exc
        return StoredBlob(size, iter(lambda: file.read(CHUNK), b""), file.close)

    def exists(self, name):
        return self._path(name).is_file()

    def modified_at(self, name):
        try:
            return datetime.fromtimestamp(self._path(name).stat().st_mtime, timezone.utc)
        except FileNotFoundError:
            return None

    def delete(self, name):
        self._path(name).unlink(missing_ok=True)

    def blobs(self):
        for path in self.root.glob("*/*/*"):
            if BLOB_NAME.fullmatch(path.name):
                modified = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
                yield path.name, modified

    def remove_partial_writes(self, older_than):
        removed = 0
        for path in self.root.glob("*/*/.partial-*"):
            if datetime.fromtimestamp(path.stat().st_mtime, timezone.utc) < older_than:
                path.unlink(missing_ok=True)
                removed += 1
        return removed


def _status(exc):
    return exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")


def _is_missing(exc):
    return _status(exc) == 404 or exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound")


class S3PhotoStore(PhotoStore):
    """Blobs in an S3-compatible bucket. A PUT is atomic, so no temporary objects; and a
    PUT never replaces an object: content already stored is not sent again (a HEAD finds
    it, and a server-side copy onto itself refreshes its LastModified), and an upload is
    conditional (If-None-Match: *), so that even a race never overwrites a blob.

    An endpoint that refuses connections, times out (the client's Config sets how fast)
    or answers 5xx raises StoreUnavailable."""

    def __init__(self, client, bucket, retry_after=PhotoStore.retry_after):
        self.client = client
        self.bucket = bucket
        self.retry_after = retry_after

    @contextlib.contextmanager
    def _answering(self, doing):
        """Turn "the endpoint does not answer" into StoreUnavailable; other refusals
        (404, 412, 403, ...) go through as ClientError."""
        from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

        try:
            yield
        except (ConnectionError, HTTPClientError) as exc:
            raise self.unavailable(doing, exc) from exc
        except ClientError as exc:
            if (_status(exc) or 0) >= 500:  # 500 InternalError, 503 SlowDown, ...
                raise self.unavailable(doing, exc) from exc
            raise

    def put(self, data, content_type):
        from botocore.exceptions import ClientError

        name = blob_name(data)
        key = blob_key(name)
        with self._answering("store photos"):
            if self._exists(key):
                try:
                    # A copy onto itself: new LastModified, not one byte sent or changed.
                    self.client.copy_object(Bucket=self.bucket, Key=key,
                                            CopySource={"Bucket": self.bucket, "Key": key},
                                            MetadataDirective="REPLACE", ContentType=content_type)
                    return name
                except ClientError as exc:
                    if not _is_missing(exc):  # else `photos gc` deleted it just now: upload it
                        raise
            try:
                self.client.put_object(Bucket=self.bucket, Key=key, Body=data,
                                       ContentType=content_type, IfNoneMatch="*")
            except ClientError as exc:
                # 412: another upload of the same content stored it meanwhile, just now.
                if _status(exc) != 412:
                    raise
        return name

    def open(self, name):
        from botocore.exceptions import ClientError

        with self._answering("read photos"):
            try:
                response = self.client.get_object(Bucket=self.bucket, Key=blob_key(name))
            except ClientError as exc:
                if _is_missing(exc):
                    raise FileNotFoundError(name) from None
                raise
        body = response["Body"]
        return StoredBlob(response["ContentLength"], body.iter_chunks(CHUNK), body.close)

    def get(self, name):
        with self._answering("read photos"):
            return super().get(name)

    def _head(self, key):
        """The object's metadata; None if there is none."""
        from botocore.exceptions import ClientError

        try:
            return self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _is_missing(exc):
                return None
            raise

    def _exists(self, key):
        return self._head(key) is not None

    def exists(self, name):
        with self._answering("read photos"):
            return self._exists(blob_key(name))

    def modified_at(self, name):
        with self._answering("read photos"):
            head = self._head(blob_key(name))
        return None if head is None else head["LastModified"].astimezone(timezone.utc)

    def delete(self, name):
        with self._answering("delete photos"):
            self.client.delete_object(Bucket=self.bucket, Key=blob_key(name))

    def blobs(self):
        with self._answering("list photos"):
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
                for item in page.get("Contents", []):
                    name = item["Key"].rpartition("/")[2]
                    if BLOB_NAME.fullmatch(name) and item["Key"] == blob_key(name):
                        yield name, item["LastModified"].astimezone(timezone.utc)


def s3_client(config):
    """A boto3 client of the S3_* settings that fails fast when the endpoint does not
    answer: S3_CONNECT_TIMEOUT and S3_READ_TIMEOUT per attempt, S3_MAX_ATTEMPTS attempts
    (the first included), so an upload waits at most about their product per call."""
    import boto3
    from botocore.config import Config

    settings = Config(connect_timeout=config["S3_CONNECT_TIMEOUT"],
                      read_timeout=config["S3_READ_TIMEOUT"],
                      retries={"total_max_attempts": config["S3_MAX_ATTEMPTS"],
                               "mode": "standard"})
    return boto3.client("s3", endpoint_url=config["S3_ENDPOINT_URL"],
                        region_name=config["S3_REGION"], config=settings)


def open_photo_store(config, instance_path):
    """The store the settings choose (PHOTO_STORE: local or s3)."""
    retry_after = config["PHOTO_STORE_RETRY_AFTER"]
    if config["PHOTO_STORE"] == "local":
        return LocalPhotoStore(config["PHOTO_DIR"] or Path(instance_path) / "photos", retry_after)
    if config["PHOTO_STORE"] == "s3":
        if not config["S3_BUCKET"]:
            raise RuntimeError("PHOTO_STORE=s3 needs S3_BUCKET")
        return S3PhotoStore(s3_client(config), config["S3_BUCKET"], retry_after)
    raise RuntimeError(f"PHOTO_STORE must be local or s3, not {config['PHOTO_STORE']!r}")


def photo_store():
    """The current app's store, opened on first use."""
    store = current_app.extensions.get("momento.photo_store")
    if store is None:
        store = open_photo_store(current_app.config, current_app.instance_path)
        current_app.extensions["momento.photo_store"] = store
    return store
