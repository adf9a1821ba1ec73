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


def server_error_page():
    """The page of an unexpected error: no traceback, the request id to quote. If even
    that page fails (its layout reads the signed-in user), werkzeug's plain 500 page."""
    try:
        return render_template("errors/server_error.html"), 500
    except Exception:  # the page of an error must not raise another
        log.exception("the error page failed too")
        return InternalServerError()
