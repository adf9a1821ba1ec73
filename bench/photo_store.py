"""The S3 photo store, measured: how soon a store that is down makes an upload fail (the
503 it answers), and what storing and reading a blob costs against an S3 server on
this machine (moto's, over HTTP on a loopback port: the client's cost, not S3's).

    .venv/bin/python bench/photo_store.py [--runs 5]

Down: the time S3PhotoStore.put (the first store call of an upload) takes to raise
StoreUnavailable, with the default settings (config.py: S3_CONNECT_TIMEOUT,
S3_READ_TIMEOUT, S3_MAX_ATTEMPTS) and with one attempt, against
  refused: nothing listens on the port (a stopped server: the connection is refused);
  silent:  the port accepts connections and never answers (a hung endpoint);
the worst case is about the attempts times the read timeout, which must stay well
below the worker timeout (gunicorn's default: 30 s).
Up: median milliseconds of put (new content: HEAD + conditional PUT), put again (content
already stored: HEAD + server-side copy, no body sent), and open + read in chunks,
for a 300 KB display rendition and a 3.5 MB camera photo.
"""
import argparse
import os
import secrets
import socket
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(32))
os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench-secret")

import logging  # noqa: E402

from moto.server import ThreadedMotoServer  # noqa: E402

from audit_server.config import Config  # noqa: E402
from audit_server.services.errors import StoreUnavailable  # noqa: E402
from audit_server.storage import open_photo_store  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def settings(url, **overrides):
    names = ("S3_CONNECT_TIMEOUT", "S3_READ_TIMEOUT", "S3_MAX_ATTEMPTS", "PHOTO_STORE_RETRY_AFTER")
    return {"PHOTO_STORE": "s3", "S3_ENDPOINT_URL": url, "S3_BUCKET": "momento-bench",
            "S3_REGION": "us-east-1", **{name: getattr(Config, name) for name in names},
            **overrides}


def time_to_fail(url, runs, **overrides):
    times = []
    for run in range(runs):
        store = open_photo_store(settings(url, **overrides), ROOT)
        start = time.perf_counter()
        try:
            store.put(os.urandom(300_000) + bytes([run]), "image/jpeg")
        except StoreUnavailable:
            times.append(time.perf_counter() - start)
        else:
            raise SystemExit(f"{url} stored a photo: it was meant to be down")
    return times


def down(runs):
    print(f"Defaults: S3_CONNECT_TIMEOUT={Config.S3_CONNECT_TIMEOUT} s, "
          f"S3_READ_TIMEOUT={Config.S3_READ_TIMEOUT} s, S3_MAX_ATTEMPTS={Config.S3_MAX_ATTEMPTS}")
    refused_url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)
        silent_url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        print(f"{'store down':<10} {'attempts':>8} {'median s':>9} {'max s':>7}  (time until 503)")
        for name, url, silent_runs in (("refused", refused_url, runs), ("silent", silent_url, 2)):
            for attempts in (Config.S3_MAX_ATTEMPTS, 1):
                times = time_to_fail(url, silent_runs, S3_MAX_ATTEMPTS=attempts)
                print(f"{name:<10} {attempts:>8} {statistics.median(times):>9.2f} {max(times):>7.2f}")


def up(runs):
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        store = open_photo_store(settings(url), ROOT)
        store.client.create_bucket(Bucket="momento-bench")
        print(f"{'blob':<8} {'put ms':>7} {'put again ms':>13} {'open+read ms':>13}")
        for label, size in (("300 KB", 300_000), ("3.5 MB", 3_500_000)):
            put, again, read = [], [], []
            for _ in range(runs):
                data = os.urandom(size)
                start = time.perf_counter()
                name = store.put(data, "image/jpeg")
                put.append(time.perf_counter() - start)
                start = time.perf_counter()
                store.put(data, "image/jpeg")
                again.append(time.perf_counter() - start)
                start = time.perf_counter()
                blob = store.open(name)
                assert sum(len(chunk) for chunk in blob) == size
                blob.close()
                read.append(time.perf_counter() - start)
            print(f"{label:<8} {statistics.median(put) * 1000:>7.1f} "
                  f"{statistics.median(again) * 1000:>13.1f} {statistics.median(read) * 1000:>13.1f}")
    finally:
        server.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    down(runs)
    up(runs)


if __name__ == "__main__":
    main()
