"""Throttling of sign-in: the login form and `POST /api/v1/auth/token` (Flask-Limiter).

Failed attempts are counted twice, per account (the email asked for, normalised as
sign-in does) and per client address, in buckets the two routes share; once either
bucket is full, every attempt it covers, a right password included, is answered 429
with Retry-After until its window has moved on. Nothing is ever locked for good.
Only failures count (see docs/security.md): people signing in behind one office
address, or a phone fetching tokens, are never slowed by their own successes.
"""
import math
import time

from flask import current_app, render_template, request
from flask_babel import ngettext
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_qualified_name, get_remote_address
from werkzeug.exceptions import HTTPException

from .api.errors import error_response, is_api_request

EMAIL_FIELD = 255  # as much of an email as the login form reads


def _email_asked_for():
    """The email of the sign-in, normalised as accounts.authenticate does. A body that
    cannot be read is the view's to refuse (413, 400): an error here would be taken by
    Flask-Limiter for its storage's, and have it count in memory instead."""
    try:
        if request.is_json:
            body = request.get_json(silent=True)
            email = body.get("email") if isinstance(body, dict) else None
        else:
            email = request.form.get("email")
    except HTTPException:
        email = None
    return str(email or "").strip().lower()[:EMAIL_FIELD]


def _account_key():
    return "account:" + _email_asked_for()


def _address_key():
    return "address:" + (get_remote_address() or "unknown")


def _failed(response):
    return response.status_code == 401


def _limits(setting):
    return lambda: current_app.config[setting]


_SIGN_IN_VIEWS = set()  # the qualified names of the views `throttled` marked


def throttled(view):
    """Mark `view` as a sign-in: init_app throttles it per account and per address."""
    _SIGN_IN_VIEWS.add(get_qualified_name(view))
    return view


def _limiter():
    return current_app.extensions["momento.limiter"]


def retry_after():
    """Whole seconds until every limit this request broke lets an attempt through."""
    resets = [limit.reset_at for limit in _limiter().current_limits if limit.breached]
    return max(1, math.ceil(max(resets, default=0) - time.time()))


def too_many_attempts(_exc):
    """The 429 of a throttled sign-in: the API's JSON error, or the login form again."""
    seconds = retry_after()
    if is_api_request():
        response = error_response(
            429, f"Too many failed sign-ins for this account or from this address: "
                 f"try again in {seconds} seconds.")
    else:  # the login form, the only other throttled view
        from .web.auth import MAX_FIELD, safe_next

        error = ngettext("Too many failed sign-ins. Try again in %(num)d second.",
                         "Too many failed sign-ins. Try again in %(num)d seconds.", seconds)
        response = current_app.make_response((render_template(
            "auth/login.html", error=error, email=request.form.get("email", "")[:MAX_FIELD],
            next_page=safe_next(request.values.get("next"))), 429))
    response.headers["Retry-After"] = str(seconds)
    return response


def init_app(app):
    """A limiter of this app's own (a Flask-Limiter Limiter serves one app: its storage and
    settings are those of the last app it was given), with its RATELIMIT_* settings."""
    app.register_error_handler(RateLimitExceeded, too_many_attempts)
    if not app.config["RATELIMIT_ENABLED"]:
        return
    limiter = app.extensions["momento.limiter"] = Limiter(key_func=get_remote_address, app=app)
    for endpoint, view in app.view_functions.items():
        if get_qualified_name(view) in _SIGN_IN_VIEWS:
            for setting, scope, key in (("SIGNIN_LIMITS_PER_ACCOUNT", "sign-in-account", _account_key),
                                        ("SIGNIN_LIMITS_PER_ADDRESS", "sign-in-address", _address_key)):
                view = limiter.shared_limit(_limits(setting), scope=scope, key_func=key,
                                            methods=["POST"], deduct_when=_failed)(view)
            app.view_functions[endpoint] = view


# What the admins see of the throttling (web/admin/throttling.py): the accounts and addresses
# over one of their limits right now, read from the limiter's storage, and their clearing.
# The storage's keys read LIMITER/<RATELIMIT_KEY_PREFIX>/<key>/<scope>/<amount>/<multiples>/<unit>.
_SCOPES = ("sign-in-account", "sign-in-address")


def _storage_keys(storage):
    """Every key of the limiter's storage: in memory, or in Redis; none for another kind."""
    from limits.storage import MemoryStorage, RedisStorage

    if isinstance(storage, MemoryStorage):
        return list(storage.events.keys())
    if isinstance(storage, RedisStorage):
        start = storage.prefixed_key("")
        connection = storage.get_connection(readonly=True)
        keys = (key.decode() if isinstance(key, bytes) else key
                for key in connection.scan_iter(match=storage.prefixed_key("LIMITER/*"), count=500))
        return [key[len(start):] for key in keys]
    return []


def _sign_in_keys(limiter):
    import re

    prefix = re.escape(current_app.config["RATELIMIT_KEY_PREFIX"])
    shape = re.compile(rf"^LIMITER/{prefix}/(?P<key>(?:account|address):.*)/(?P<scope>{'|'.join(_SCOPES)})"
                       r"/(?P<amount>\d+)/(?P<multiples>\d+)/(?P<unit>[a-z]+)$", re.DOTALL)
    for raw in _storage_keys(limiter.storage):
        found = shape.match(raw)
        if found:
            yield raw, found


def throttled_keys():
    """The accounts and addresses over one of their sign-in limits now: a list of dicts
    (key "account:<email>" or "address:<ip>", kind, value, failures, limit, until), by key."""
    from limits import parse

    if "momento.limiter" not in current_app.extensions:
        return []
    limiter = _limiter()
    over = {}
    for raw, found in _sign_in_keys(limiter):
        item = parse(f"{found['amount']}/{found['multiples']} {found['unit']}")
        start, count = limiter.storage.get_moving_window(raw, item.amount, item.get_expiry())
        if count >= item.amount:
            key = found["key"]
            until = start + item.get_expiry()
            entry = over.setdefault(key, {"key": key, "kind": key.partition(":")[0],
                                          "value": key.partition(":")[2], "failures": count,
                                          "limit": str(item), "until": until})
            if until > entry["until"]:
                entry.update(failures=count, limit=str(item), until=until)
    return sorted(over.values(), key=lambda e: e["key"])


def clear_key(key):
    """Forget every counter of one account or address ("account:<email>", "address:<ip>"):
    its next sign-in is not throttled. Whether there was anything to forget."""
    if "momento.limiter" not in current_app.extensions:
        return False
    limiter = _limiter()
    cleared = False
    for raw, found in list(_sign_in_keys(limiter)):
        if found["key"] == key:
            limiter.storage.clear(raw)
            cleared = True
    return cleared
