"""CSRF protection for every unsafe request that a browser session authenticates.

Forms carry the token in a hidden field, the pages' scripts in an X-CSRFToken
header. API clients that authenticate with `Authorization: Bearer` send no
cookie a third-party site could ride on, so they are exempt; so are API calls
without a session (they get 401) and the token exchange, which answers only to
whoever holds the password.
"""
from flask import request
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from ..api.errors import is_api_request
from ..extensions import csrf
from .errors import csrf_failed

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
    if is_api_request() and not current_user.is_authenticated:
        return  # no session to ride on: the API answers 401
    csrf.protect()


def init_app(app):
    app.before_request(protect_from_csrf)
    app.register_error_handler(CSRFError, csrf_failed)

