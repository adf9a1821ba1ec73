"""Error pages for people; the API keeps answering JSON (api/errors.py)."""
import logging

from flask import render_template
from werkzeug.exceptions import InternalServerError

from ..api.errors import error_response, handle_http_exception, is_api_request
from . import bp

log = logging.getLogger(__name__)


def csrf_failed(exc):
    if is_api_request():
        return error_response(400, "The security token is missing or stale: reload the page.",
                              code="csrf_failed")
    return render_template("errors/stale_form.html"), 400


@bp.app_errorhandler(404)
def page_not_found(exc):
    if is_api_request():
        return handle_http_exception(exc)
    return render_template("errors/not_found.html"), 404


def unavailable_page(retry_after):
    """The page of a request the database could not answer (api/errors.py
    handle_database_error): try again in a moment. It is shown as to someone signed out:
    the signed-in user's row can no longer be read (the transaction was rolled back), and
    the page must not ask the database again. If even it fails, a plain 503."""
    from flask import current_app

    current_app.login_manager._update_request_context_with_user()  # anonymous
    headers = {"Retry-After": retry_after}
    try:
        return render_template("errors/unavailable.html", retry_after=retry_after), 503, headers
    except Exception:  # the page of an error must not raise another
        log.exception("the unavailable page failed too")
        return "Service unavailable, try again in a moment.", 503, {
            **headers, "Content-Type": "text/plain; charset=utf-8"}


def server_error_page():
    """The page of an unexpected error: no traceback, the request id to quote. If even
    that page fails (its layout reads the signed-in user), werkzeug's plain 500 page."""
    try:
        return render_template("errors/server_error.html"), 500
    except Exception:  # the page of an error must not raise another
        log.exception("the error page failed too")
        return InternalServerError()
