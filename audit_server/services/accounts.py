"""User accounts, passwords, browser sessions and API tokens.

Passwords are hashed with argon2id (argon2-cffi) when PASSWORD_HASH_METHOD is "argon2id"
(the default; ARGON2_* set its costs), else with werkzeug's method of that name (the tests'
cheap "pbkdf2:sha256:1000"). Hashes of another scheme still verify, and are hashed again
with the configured one at the next successful sign-in.

A browser session is a row of user_sessions: the signed cookie holds a random secret, the
row its SHA-256 (as for API tokens). Deleting the rows (sign-out, a new password,
deactivation, "sign out everywhere") ends the sessions at their next request.
"""
import hashlib
import re
import secrets
from datetime import timedelta
from functools import cache
from pathlib import Path

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import ROLES, ApiToken, Location, Region, User, UserSession
from ..models.types import UTCDateTime, utcnow
from . import activity
from .errors import InvalidInput, NotFound

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 10
MAX_PASSWORD = 255
# Sessions' last_seen_at and tokens' last_used_at are written at most this often.
SEEN_EVERY = timedelta(minutes=1)
COMMON_PASSWORDS = Path(__file__).resolve().parent.parent / "data" / "common_passwords.txt"
# What password_problems says (the pages translate each, see web/account.py).
TOO_SHORT = f"Must be at least {MIN_PASSWORD} characters."
TOO_LONG = f"Must be at most {MAX_PASSWORD} characters."
HAS_NUL = "Must not contain a NUL character."
TOO_COMMON = "Too common: choose a password that is harder to guess."
LIKE_EMAIL = "Too close to the email address."
# Obvious words of this site: a password made of one of them (and digits or signs) is refused.
OBVIOUS = ("momento", "audit", "auditoria", "password", "contrasena", "contraseña")


def scope_errors(role, region_codes=(), location_codes=()):
    """(errors, regions, locations) for a role and its scope: a regional manager has
    regions only (at least one), a location manager locations only (at least one), an
    admin neither. Used when a user is created, invited or edited."""
    errors = {}
    region_codes, location_codes = list(region_codes or ()), list(location_codes or ())
    if role not in ROLES:
        errors["role"] = ["Must be one of: " + ", ".join(ROLES) + "."]
    # A code with a NUL is no code of ours (and PostgreSQL refuses it in a query): unknown.
    regions = db.session.scalars(sa.select(Region).where(
        Region.code.in_([code for code in region_codes if "\x00" not in code]))).all()
    locations = db.session.scalars(sa.select(Location).where(
        Location.code.in_([code for code in location_codes if "\x00" not in code]))).all()
    unknown = set(region_codes) - {r.code for r in regions}
    if unknown:
        errors["regions"] = ["Unknown region: " + ", ".join(sorted(unknown)) + "."]
    unknown = set(location_codes) - {loc.code for loc in locations}
    if unknown:
        errors["locations"] = ["Unknown location: " + ", ".join(sorted(unknown)) + "."]
    if role == "regional" and not region_codes:
        errors.setdefault("regions", []).append("A regional manager needs at least one region.")
    if role == "manager" and not location_codes:
        errors.setdefault("locations", []).append("A location manager needs at least one location.")
    if role != "regional" and region_codes:
        errors.setdefault("regions", []).append("Only regional managers have regions.")
    if role != "manager" and location_codes:
        errors.setdefault("locations", []).append("Only location managers have locations.")
    return errors, list(regions), list(locations)


def email_errors(email):
    """(errors, normalised email) for a new user's email."""
    email = (email or "").strip().lower()
    if "\x00" in email or not EMAIL.match(email):
        return {"email": ["Not an email address."]}, email
    if db.session.scalar(sa.select(User.id).filter_by(email=email)):
        return {"email": ["A user with this email exists."]}, email
    return {}, email


def create_user(email, role, password, region_codes=(), location_codes=(), name="", commit=True):
    errors, email = email_errors(email)
    problems = password_problems(password, email)
    if problems:
        errors["password"] = problems
    scope, regions, locations = scope_errors(role, region_codes, location_codes)
    errors.update(scope)
    if errors:
        raise InvalidInput("The user cannot be created.", errors)
    user = User(email=email, role=role, name=name, password_hash=hash_password(password),
                regions=regions, locations=locations)
    db.session.add(user)
    if commit:
        db.session.commit()
    return user


def snapshot(user):
    return {"email": user.email, "name": user.name, "role": user.role, "active": user.active,
            "regions": sorted(r.code for r in user.regions),
            "locations": sorted(loc.code for loc in user.locations)}


def active_admins():
    return db.session.scalar(sa.select(sa.func.count()).select_from(User)
                             .where(User.role == "admin", User.active.is_(True)))


def update_user(user, actor, role, region_codes=(), location_codes=(), name=None):
    """Change a user's role and scope (and name); the last active admin stays an admin."""
    errors, regions, locations = scope_errors(role, region_codes, location_codes)
    if name is not None and ("\x00" in name or len(name) > 120):
        errors["name"] = ["At most 120 characters, no NUL."]
    if user.role == "admin" and role != "admin" and user.active and active_admins() <= 1:
        errors.setdefault("role", []).append("The last admin stays an admin.")
    if errors:
        raise InvalidInput("The user cannot be changed.", errors)
    before = snapshot(user)
    user.role, user.regions, user.locations = role, regions, locations
    if name is not None:
        user.name = name.strip()
    before, after = activity.changes(before, snapshot(user))
    if after:
        activity.record(actor, "user.update", "user", user.id, user.email, before, after)
    db.session.commit()
    return user


def deactivate(user, actor):
    """The user can no longer sign in: their sessions and API tokens end at their next
    request. Recorded in the activity log; committed."""
    if actor is not None and user.id == actor.id:
        raise InvalidInput("You cannot deactivate yourself.", {"user": ["You cannot deactivate yourself."]})
    if user.role == "admin" and user.active and active_admins() <= 1:
        raise InvalidInput("The last admin cannot be deactivated.",
                           {"user": ["The last admin cannot be deactivated."]})
    end_sessions(user)
    if user.active:
        user.active = False
        activity.record(actor, "user.deactivate", "user", user.id, user.email, {"active": True}, {"active": False})
    db.session.commit()
    return user


def reactivate(user, actor):
    """Let a deactivated user sign in again. Recorded in the activity log; committed."""
    if not user.active:
        user.active = True
        activity.record(actor, "user.reactivate", "user", user.id, user.email, {"active": False}, {"active": True})
    db.session.commit()
    return user


@cache
def common_passwords():
    """The shipped list of common passwords (lower case), read once."""
    with open(COMMON_PASSWORDS, encoding="utf-8") as f:
        return frozenset(line.strip().lower() for line in f if line.strip())


_DECORATION = re.compile(r"^[\W\d_]*(.*?)[\W\d_]*$", re.DOTALL)


def password_problems(password, email=None):
    """Why a password may not be used (an empty list: it may)."""
    password = password or ""
    if "\x00" in password:
        return [HAS_NUL]
    if len(password) < MIN_PASSWORD:
        return [TOO_SHORT]
    if len(password) > MAX_PASSWORD:
        return [TOO_LONG]
    lowered = password.lower()
    core = _DECORATION.match(lowered).group(1)  # without leading/trailing digits and signs
    common = common_passwords()
    if lowered in common or core in common or core in OBVIOUS or len(set(lowered)) <= 2:
        return [TOO_COMMON]
    email = (email or "").strip().lower()
    local = email.partition("@")[0]
    if email and email in lowered or len(local) >= 3 and (
            core == local or local in lowered and len(lowered) - len(local) < 6):
        return [LIKE_EMAIL]
    return []


def set_password(user, password):
    """Give a user a new password (InvalidInput if it may not be used), and end every
    session and API token of theirs. The caller commits."""
    problems = password_problems(password, user.email)
    if problems:
        raise InvalidInput("The password cannot be used.", {"password": problems})
    user.password_hash = hash_password(password)
    end_sessions(user)


def _argon2():
    config = current_app.config
    return _hasher(config["ARGON2_TIME_COST"], config["ARGON2_MEMORY_COST"], config["ARGON2_PARALLELISM"])


@cache
def _hasher(time_cost, memory_cost, parallelism):
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


def hash_password(password):
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method == "argon2id":
        return _argon2().hash(password)
    return generate_password_hash(password, method=method)


def verify_password(stored, password):
    """Whether `password` is the one `stored` (an argon2 or a werkzeug hash) was made of."""
    if stored.startswith("$argon2"):
        try:
            return _argon2().verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False
    try:
        return check_password_hash(stored, password)
    except ValueError:  # not a hash werkzeug knows
        return False


def needs_rehash(stored):
    """Whether a hash is of another scheme (or costs) than the configured one."""
    if current_app.config["PASSWORD_HASH_METHOD"] != "argon2id":
        return False
    return not stored.startswith("$argon2id$") or _argon2().check_needs_rehash(stored)


def _dummy_hash():
    """A hash of the configured scheme, checked against when the email is unknown, so
    both cases take as long."""
    config = current_app.config
    key = (config["PASSWORD_HASH_METHOD"], config.get("ARGON2_TIME_COST"),
           config.get("ARGON2_MEMORY_COST"), config.get("ARGON2_PARALLELISM"))
    if key not in _DUMMY_HASHES:
        _DUMMY_HASHES[key] = hash_password("not-a-password")
    return _DUMMY_HASHES[key]


_DUMMY_HASHES = {}


def authenticate(email, password):
    """The active user with this email and password, or None. A hash of an older scheme
    is replaced by one of the configured scheme (and committed)."""
    email = (email or "").strip().lower()
    # PostgreSQL refuses NUL in text: such an email cannot exist, so do not ask.
    user = None if "\x00" in email else db.session.scalar(sa.select(User).filter_by(email=email))
    if user is None:
        verify_password(_dummy_hash(), password or "")
        return None
    if not verify_password(user.password_hash, password or "") or not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        db.session.commit()
    return user


def change_password(user, current, new, confirmation, user_agent="", address=""):
    """A person's own change of password: the current one, the new one twice. Every other
    session and token of theirs ends; the secret of a new session for this device is
    returned (the caller puts it in the cookie)."""
    if not verify_password(user.password_hash, current or ""):
        raise InvalidInput("The password cannot be changed.",
                           {"current": ["Wrong current password."]})
    if (new or "") != (confirmation or ""):
        raise InvalidInput("The password cannot be changed.",
                           {"confirmation": ["The two new passwords differ."]})
    set_password(user, new)
    secret = _add_session(user, user_agent, address)
    db.session.commit()
    return secret


def _hash(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


def _add_session(user, user_agent, address):
    secret = secrets.token_urlsafe(32)
    db.session.add(UserSession(user_id=user.id, key_hash=_hash(secret),
                               user_agent=(user_agent or "")[:255], address=(address or "")[:64]))
    return secret


def open_session(user, user_agent="", address=""):
    """A new browser session for a user who just signed in: its secret, for the cookie."""
    secret = _add_session(user, user_agent, address)
    db.session.commit()
    return secret


def close_session(secret):
    """End the session of this secret (sign-out)."""
    if secret:
        db.session.execute(sa.delete(UserSession).where(UserSession.key_hash == _hash(secret)))
        db.session.commit()


def user_for_session(user_id, secret):
    """The active user whose open session has this secret, or None. Its last_seen_at is
    brought up to date when it is older than SEEN_EVERY."""
    if not secret or not isinstance(secret, str) or not str(user_id).isdigit():
        return None
    found = db.session.execute(
        sa.select(UserSession, User).join(User, User.id == UserSession.user_id).where(
            UserSession.key_hash == _hash(secret), UserSession.user_id == int(user_id),
            User.active.is_(True))).first()
    if found is None:
        return None
    row, user = found
    now = utcnow()
    if now - row.last_seen_at >= SEEN_EVERY:
        row.last_seen_at = now
        db.session.commit()
    return user


def session_key(secret):
    """What a session's row keeps of its secret (to tell "this device" among the list)."""
    return _hash(secret) if secret else None


def list_sessions(user):
    return db.session.scalars(sa.select(UserSession).filter_by(user_id=user.id)
                              .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())).all()


def end_sessions(user):
    """Delete every session and API token of a user. The caller commits."""
    db.session.execute(sa.delete(UserSession).where(UserSession.user_id == user.id))
    db.session.execute(sa.delete(ApiToken).where(ApiToken.user_id == user.id))


def sign_out_everywhere(user):
    end_sessions(user)
    db.session.commit()


_token_hash = _hash


def issue_token(user, hours, name=""):
    """A new bearer token for a user; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, token_hash=_token_hash(token), name=(name or "")[:120],
                   expires_at=utcnow() + timedelta(hours=hours))
    db.session.add(row)
    db.session.commit()
    return token, row.expires_at


# Built once: every API request asks it.
_USER_FOR_TOKEN = sa.select(User, ApiToken.id, ApiToken.last_used_at).join(
    ApiToken, ApiToken.user_id == User.id).where(
    ApiToken.token_hash == sa.bindparam("token_hash"),
    ApiToken.expires_at > sa.bindparam("now", type_=UTCDateTime),
    User.active.is_(True))


def user_for_token(token):
    """The active user a valid, unexpired bearer token belongs to, or None. The token's
    last_used_at is brought up to date when older than SEEN_EVERY."""
    now = utcnow()
    found = db.session.execute(_USER_FOR_TOKEN, {"token_hash": _token_hash(token), "now": now}).first()
    if found is None:
        return None
    user, token_id, last_used_at = found
    if last_used_at is None or now - last_used_at >= SEEN_EVERY:
        db.session.execute(sa.update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
        db.session.commit()
    return user


def list_tokens(user):
    """A user's unexpired API tokens, newest first."""
    return db.session.scalars(sa.select(ApiToken).where(
        ApiToken.user_id == user.id, ApiToken.expires_at > utcnow())
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())).all()


def revoke_token(actor, token_id):
    """Revoke a token: one's own, or anybody's for an admin (NotFound otherwise)."""
    row = db.session.get(ApiToken, token_id) if isinstance(token_id, int) else None
    if row is None or (row.user_id != actor.id and actor.role != "admin"):
        raise NotFound("No such token.")
    if row.user_id != actor.id:  # an admin's doing: in the activity log
        activity.record(actor, "token.revoke", "user", row.user_id, row.user.email,
                        {"token": row.name or str(row.id)}, None)
    db.session.delete(row)
    db.session.commit()


def revoke_token_value(token):
    """Revoke the token of this value (an API client signing out)."""
    db.session.execute(sa.delete(ApiToken).where(ApiToken.token_hash == _token_hash(token)))
    db.session.commit()


def set_locale(user, locale, languages):
    """Remember a person's language for their next sessions."""
    if locale not in languages:
        raise InvalidInput("Unknown language.", {"locale": ["Must be one of: " + ", ".join(languages) + "."]})
    user.locale = locale
    db.session.commit()
