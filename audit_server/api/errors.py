"""Every API error as JSON: {"error": {"code", "message", "fields"}}."""
import logging

import sqlalchemy as sa
from flask import current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from ..extensions import db
from ..services.errors import ServiceError
from . import PREFIX

log = logging.getLogger(__name__)

CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
    415: "unsupported_media_type", 422: "validation_error", 429: "rate_limited",
    500: "internal_error", 503: "unavailable",
}


def is_api_request():
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


def error_response(status, message, fields=None, code=None):
    """The JSON answer of an error (schemas/errors.py): `fields` is {} when no field is at fault."""
    body = {"error": {"code": code or CODES.get(status, "error"), "message": message,
                      "fields": fields or {}}}
    response = jsonify(body)
    response.status_code = status
    return response


def flatten(messages, prefix=""):
    """marshmallow's nested error dict as {"a.b.c": ["message", ...]}."""
    flat = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if key == "_schema":
                path = prefix or "body"
            flat.update(flatten(value, path))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        flat[prefix or "body"] = messages
    elif isinstance(messages, list):
        for index, value in enumerate(messages):
            flat.update(flatten(value, f"{prefix}.{index}"))
    else:
        flat[prefix or "body"] = [str(messages)]
    return flat


def handle_http_exception(exc):
    if not is_api_request():
        return exc
    messages = (getattr(exc, "data", None) or {}).get("messages")
    if messages:  # raised by webargs for a body or query that fails its schema
        fields = {}
        for location_errors in messages.values():
            fields.update(flatten(location_errors))
        return error_response(exc.code, "The request is not valid.", fields)
    response = error_response(exc.code, exc.description)
    for name, value in exc.get_headers():  # e.g. the Allow of a 405
        if name.lower() != "content-type":
            response.headers[name] = value
    if exc.code == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


def handle_service_error(exc):
    db.session.rollback()
    if not is_api_request():
        return exc.message, exc.status, exc.headers
    response = error_response(exc.status, exc.message, exc.fields, exc.code)
    response.headers.update(exc.headers)
    return response


def handle_unexpected(exc):
    db.session.rollback()
    log.exception("unhandled error on %s %s", request.method, request.path)
    if not is_api_request():
        from ..web.errors import server_error_page  # the web's errors import these

        return server_error_page()
    return error_response(500, "Something went wrong on our side; it has been logged.")


DATABASE_UNAVAILABLE = ("The database is unavailable right now; nothing was changed. "
                        "Send the same request again after Retry-After seconds.")


def is_database_unavailable(exc):
    """Whether a database error says the database cannot answer now, rather than that the
    request or the code is wrong: it is unreachable, dropped the connection (SQLAlchemy
    then invalidates it and pool_pre_ping replaces the others), cancelled the statement
    (statement_timeout), is locked (SQLite), or no pooled connection came free in time."""
    if isinstance(exc, sa.exc.TimeoutError):  # the pool's DB_POOL_TIMEOUT
        return True
    if not isinstance(exc, sa.exc.DBAPIError):
        return False
    return exc.connection_invalidated or isinstance(exc, sa.exc.OperationalError)


def _roll_back_quietly():
    """End the request's transaction, whose connection may be gone: nothing it wrote is
    kept (a broken connection's transaction is lost on the server too)."""
    try:
        db.session.rollback()
    except sa.exc.SQLAlchemyError:
        log.warning("rollback after a database fault failed too", exc_info=True)


def handle_database_error(exc):
    """503 with Retry-After while the database cannot answer (is_database_unavailable);
    any other database error is a fault of ours (500)."""
    if not is_database_unavailable(exc):
        return handle_unexpected(exc)
    _roll_back_quietly()
    log.warning("database unavailable on %s %s: %s: %s", request.method, request.path,
                type(exc.orig if getattr(exc, "orig", None) is not None else exc).__name__,
                str(exc).splitlines()[0] if str(exc) else "")
    retry_after = str(current_app.config["DB_RETRY_AFTER_SECONDS"])
    if not is_api_request():
        from ..web.errors import unavailable_page  # the web's errors import these

        return unavailable_page(retry_after)
    response = error_response(503, DATABASE_UNAVAILABLE)
    response.headers["Retry-After"] = retry_after
    return response


def register(app):
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(ServiceError, handle_service_error)
    # OperationalError, InterfaceError, ... (all DBAPIError) and the pool's TimeoutError
    app.register_error_handler(sa.exc.DBAPIError, handle_database_error)
    app.register_error_handler(sa.exc.TimeoutError, handle_database_error)
    app.register_error_handler(Exception, handle_unexpected)
