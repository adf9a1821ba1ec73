"""What every response carries for safety, and the logs that follow each request.

Headers (docs/security.md): nosniff, a Referrer-Policy and frame denial on every response;
a strict Content-Security-Policy on the HTML pages (no inline script or style, no framing);
HSTS only on responses to HTTPS requests.

Logs: JSON lines on the app's logger ("audit_server", so every module's logger under it too),
each carrying the id of the request it was written during. The id comes from an incoming
X-Request-ID when that is short and plain, else it is made here; it is sent back in the
response's X-Request-ID, and one access line per request says how it went.
"""
import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from flask import current_app, g, has_request_context, request

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' blob: data:; "  # photo previews are blob: URLs before they are sent
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; "
    "object-src 'none'"
)
EVERY_RESPONSE = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}
HSTS = "max-age=31536000; includeSubDomains"
REQUEST_ID_HEADER = "X-Request-ID"
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9-]{1,64}")

access_log = logging.getLogger("audit_server.access")


def request_id_of(incoming):
    """The id of a request: the client's (or proxy's) X-Request-ID if it is sane, else a new one."""
    if incoming and SANE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def start_request():
    g.request_id = request_id_of(request.headers.get(REQUEST_ID_HEADER))
    g.request_started = time.perf_counter()


def finish_response(response):
    for name, value in EVERY_RESPONSE.items():
        response.headers.setdefault(name, value)
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if "request_id" not in g:  # a request refused before start_request ran
        start_request()
    response.headers[REQUEST_ID_HEADER] = g.request_id
    if current_app.config["LOG_ACCESS"]:
        log_access(response)
    return response


def log_access(response):
    duration_ms = round((time.perf_counter() - g.request_started) * 1000, 1)
    access_log.info("%s %s %s", request.method, request.path, response.status_code,
                    extra={"method": request.method, "path": request.path,
                           "status": response.status_code, "duration_ms": duration_ms})


class RequestIdFilter(logging.Filter):
    """Puts the current request's id (or None away from a request) on every record."""

    def filter(self, record):
        if not hasattr(record, "request_id"):
            record.request_id = g.get("request_id") if has_request_context() else None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, the access line's
    method, path, status and duration_ms when present, and the traceback of an exception."""

    EXTRA = ("method", "path", "status", "duration_ms")

    def format(self, record):
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        line.update({key: getattr(record, key) for key in self.EXTRA if hasattr(record, key)})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class JsonLogHandler(logging.StreamHandler):
    """JSON lines with the request id, on stderr unless told another stream."""

    def __init__(self, stream=None):
        super().__init__(stream or sys.stderr)
        self.setFormatter(JsonFormatter())
        self.addFilter(RequestIdFilter())


def init_app(app):
    app.before_request(start_request)
    app.after_request(finish_response)
    if app.config["LOG_JSON"] or (app.config["LOG_JSON"] is None and not app.testing):
        from flask.logging import default_handler

        # The app's logger is the process's "audit_server" logger: an app made before
        # this one (tests make several) must not leave a second handler on it.
        for handler in list(app.logger.handlers):
            if handler is default_handler or isinstance(handler, JsonLogHandler):
                app.logger.removeHandler(handler)
        app.logger.addHandler(JsonLogHandler())
        app.logger.setLevel(app.config["LOG_LEVEL"])
