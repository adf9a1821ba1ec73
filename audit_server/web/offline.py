"""The service worker, served from the site root so that it controls every page."""
import hashlib
import time
from functools import lru_cache
from pathlib import Path

from flask import current_app, url_for

from . import bp

APP_SHELL = ("css", "js", "icons")


def shell_files():
    static = Path(current_app.static_folder)
    files = [p for folder in APP_SHELL for p in sorted((static / folder).rglob("*")) if p.is_file()]
    return static, files + [static / "manifest.webmanifest"]


@lru_cache(maxsize=4)
def _service_worker(static_folder, debug_stamp):
    static, files = shell_files()
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(static).as_posix().encode())
        digest.update(path.read_bytes())
    urls = [url_for("static", filename=p.relative_to(static).as_posix()) for p in files]
    source = (static / "sw.js").read_text(encoding="utf-8")
    digest.update(source.encode())
    return (source.replace("__SHELL_VERSION__", digest.hexdigest()[:12])
            .replace("__SHELL_FILES__", repr(urls).replace("'", '"')))


@bp.route("/sw.js")
def service_worker():
    # In debug mode the files change under our feet: never reuse the cached text.
    stamp = time.monotonic_ns() if current_app.debug else 0
    response = current_app.response_class(
        _service_worker(current_app.static_folder, stamp), mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response
