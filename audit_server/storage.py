"""Photo blobs, named by the SHA-256 of their content: on the filesystem or in S3.

A blob's name is its content hash, so identical content is stored once and a name
never comes from user input (every name is checked to be 64 lowercase hex digits).
Writes are atomic: a reader sees the whole blob or none of it.
"""
import hashlib
import os
import re
import tempfile
from abc import ABC, abstractmethod
from datetime import datetime, timezone
from pathlib import Path

from flask import current_app

BLOB_NAME = re.compile(r"[0-9a-f]{64}")


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
    @abstractmethod
    def put(self, data, content_type):
        """Store `data` (bytes) and return its name. Storing existing content again
        refreshes its modification time, so `photos gc` leaves it alone."""

    @abstractmethod
    def get(self, name):
        """The blob's bytes; FileNotFoundError if there is none."""

    @abstractmethod
    def exists(self, name):
        ...

    @abstractmethod
    def delete(self, name):
        ...

    @abstractmethod
    def blobs(self):
        """Every stored blob as (name, modified_at as an aware UTC datetime)."""

    def remove_partial_writes(self, older_than):
        """Delete what writes cut short (by a crash) left before `older_than`; how many."""
        return 0


class LocalPhotoStore(PhotoStore):
    def __init__(self, root):
        self.root = Path(root)

    def _path(self, name):
        return self.root / blob_key(name)

    def put(self, data, content_type):
        name = blob_name(data)
        path = self._path(name)
        if path.exists():
            os.utime(path)
            return name
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
        return name

    def get(self, name):
        return self._path(name).read_bytes()

    def exists(self, name):
        return self._path(name).is_file()

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


class S3PhotoStore(PhotoStore):
    """Blobs in an S3-compatible bucket; a PUT is atomic, so no temporary objects."""

    def __init__(self, client, bucket):
        self.client = client
        self.bucket = bucket

    def put(self, data, content_type):
        name = blob_name(data)
        self.client.put_object(Bucket=self.bucket, Key=blob_key(name), Body=data,
                               ContentType=content_type)
        return name

    def get(self, name):
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=blob_key(name))
        except self.client.exceptions.NoSuchKey:
            raise FileNotFoundError(name) from None
        return response["Body"].read()

    def exists(self, name):
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=blob_key(name))
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def delete(self, name):
        self.client.delete_object(Bucket=self.bucket, Key=blob_key(name))

    def blobs(self):
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            for item in page.get("Contents", []):
                name = item["Key"].rpartition("/")[2]
                if BLOB_NAME.fullmatch(name) and item["Key"] == blob_key(name):
                    yield name, item["LastModified"].astimezone(timezone.utc)


def open_photo_store(config, instance_path):
    """The store the settings choose (PHOTO_STORE: local or s3)."""
    if config["PHOTO_STORE"] == "local":
        return LocalPhotoStore(config["PHOTO_DIR"] or Path(instance_path) / "photos")
    if config["PHOTO_STORE"] == "s3":
        import boto3

        if not config["S3_BUCKET"]:
            raise RuntimeError("PHOTO_STORE=s3 needs S3_BUCKET")
        client = boto3.client("s3", endpoint_url=config["S3_ENDPOINT_URL"],
                              region_name=config["S3_REGION"])
        return S3PhotoStore(client, config["S3_BUCKET"])
    raise RuntimeError(f"PHOTO_STORE must be local or s3, not {config['PHOTO_STORE']!r}")


def photo_store():
    """The current app's store, opened on first use."""
    store = current_app.extensions.get("momento.photo_store")
    if store is None:
        store = open_photo_store(current_app.config, current_app.instance_path)
        current_app.extensions["momento.photo_store"] = store
    return store
