"""CSRF protection for every unsafe request that a browser session authenticates.

Forms carry the token in a hidden field, the pages' scripts in an X-CSRFToken
header. API clients that authenticate with `Authorization: Bearer` send no
cookie a third-party site could ride on, so they are exempt; so is the token
exchange, which answers only to whoever holds the password.
"""
from flask import render_template, request
from flask_wtf.csrf import CSRFError

from ..api.errors import error_response, is_api_request
from ..extensions import csrf
from . import bp

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
EXEMPT_ENDPOINTS = {"auth.token"}


def has_bearer_token():
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(token.strip())


def protect_from_csrf():
    if request.method not in UNSAFE_METHODS or has_bearer_token():
        return
    if request.endpoint in EXEMPT_ENDPOINTS:
        return
    csrf.protect()


def csrf_failed(exc):
    if is_api_request():
        return error_response(400, "The security token is missing or stale: reload the page.",
                              code="csrf_failed")
    return render_template("errors/stale_form.html"), 400


def init_app(app):
    app.before_request(protect_from_csrf)
    app.register_error_handler(CSRFError, csrf_failed)


@bp.app_errorhandler(404)
def page_not_found(exc):
    if is_api_request():
        from ..api.errors import handle_http_exception
        return handle_http_exception(exc)
    return render_template("errors/not_found.html"), 404
