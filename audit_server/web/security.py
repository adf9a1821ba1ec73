"""CSRF protection for every unsafe request that a browser session authenticates.

Forms carry the token in a hidden field, the pages' scripts in an X-CSRFToken
header. API clients that authenticate with `Authorization: Bearer` send no
cookie a third-party site could ride on, so they are exempt; so are API calls
without a session (they get 401) and the token exchange, which answers only to
whoever holds the password.

The phone's outbox also names, in X-Momento-User, the person whose queue it is
sending: under anybody else's session (a tab left open by someone who signed
out since) the request is refused with 401 and stays queued on the phone.
"""
from flask import request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from ..api.errors import error_response, is_api_request
from ..extensions import csrf
from .errors import csrf_failed

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
EXEMPT_ENDPOINTS = {"auth.token"}


def bearer_token(req=None):
    """The token an `Authorization: Bearer` header names, or ""."""
    scheme, _, token = (req or request).headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


class TokenRequestSession(SecureCookieSession):
    """The session of a request that names a bearer token: it starts empty and is
    thrown away (an error page may still put a CSRF token or read flashes in it)."""


class SessionInterface(SecureCookieSessionInterface):
    """The signed-cookie session, except that a request naming a bearer token is
    judged by its token alone: its session cookie is neither read (so the user
    loader never sees a signed-in id) nor written back."""

    def open_session(self, app, request):
        if bearer_token(request):
            return TokenRequestSession()
        return super().open_session(app, request)

    def save_session(self, app, session, response):
        if not isinstance(session, TokenRequestSession):
            super().save_session(app, session, response)


def protect_from_csrf():
    if request.method not in UNSAFE_METHODS or bearer_token():
        return
    if request.endpoint in EXEMPT_ENDPOINTS:
        return
    if is_api_request() and not current_user.is_authenticated:
        return  # no session to ride on: the API answers 401
    csrf.protect()


def refuse_someone_elses_queue():
    sender = request.headers.get("X-Momento-User")
    if sender is not None and current_user.is_authenticated and sender != current_user.get_id():
        return error_response(401, "Sent for another person than the one signed in.",
                              code="another_person")


def init_app(app):
    app.session_interface = SessionInterface()
    app.before_request(refuse_someone_elses_queue)
    app.before_request(protect_from_csrf)
    app.register_error_handler(CSRFError, csrf_failed)

