"""gzip for text responses (pages, CSS, JS, JSON), so phones on a slow network
download a fraction of the bytes. Static files are compressed once per version."""
import gzip
from functools import lru_cache

from flask import request

COMPRESSIBLE = {"text/html", "text/css", "text/javascript", "application/javascript",
                "application/json", "application/manifest+json", "image/svg+xml"}
MIN_SIZE = 500


@lru_cache(maxsize=256)
def _compressed_static(path, etag, data):
    return gzip.compress(data, compresslevel=9, mtime=0)


def compress(response):
    if ("gzip" not in request.headers.get("Accept-Encoding", "").lower()
            or response.status_code != 200 or response.mimetype not in COMPRESSIBLE
            or "Content-Encoding" in response.headers or response.is_streamed
            and not response.direct_passthrough):
        return response
    response.vary.add("Accept-Encoding")
    response.direct_passthrough = False
    data = response.get_data()
    if len(data) < MIN_SIZE:
        return response
    etag, weak = response.get_etag()
    if etag and request.endpoint == "static":
        body = _compressed_static(request.path, etag, data)
    else:
        body = gzip.compress(data, compresslevel=6, mtime=0)
    response.set_data(body)
    response.headers["Content-Encoding"] = "gzip"
    if etag and not weak:
        response.set_etag(etag, weak=True)
    return response


def init_app(app):
    app.after_request(compress)
