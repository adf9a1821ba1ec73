"""Error pages for people; the API keeps answering JSON (api/errors.py)."""
from flask import render_template

from ..api.errors import error_response, handle_http_exception, is_api_request
from . import bp


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
