"""User accounts, passwords and API tokens."""
import hashlib
import re
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import ROLES, ApiToken, Location, Region, User
from ..models.types import UTCDateTime, utcnow
from . import activity
from .errors import InvalidInput

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 10
# Checked against when the email is unknown, so both cases take as long.
_DUMMY_HASH = generate_password_hash("not-a-password")


def scope_errors(role, region_codes=(), location_codes=()):
    """(errors, regions, locations) for a role and its scope: a regional manager has
    regions only (at least one), a location manager locations only (at least one), an
    admin neither. Used when a user is created, invited or edited."""
    errors = {}
    region_codes, location_codes = list(region_codes or ()), list(location_codes or ())
    if role not in ROLES:
        errors["role"] = ["Must be one of: " + ", ".join(ROLES) + "."]
    regions = db.session.scalars(sa.select(Region).where(Region.code.in_(region_codes))).all()
    locations = db.session.scalars(sa.select(Location).where(Location.code.in_(location_codes))).all()
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
    problems = password_problems(password)
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
    """The user can no longer sign in (nor use their API tokens)."""
    if actor is not None and user.id == actor.id:
        raise InvalidInput("You cannot deactivate yourself.", {"user": ["You cannot deactivate yourself."]})
    if user.role == "admin" and user.active and active_admins() <= 1:
        raise InvalidInput("The last admin cannot be deactivated.",
                           {"user": ["The last admin cannot be deactivated."]})
    if user.active:
        user.active = False
        activity.record(actor, "user.deactivate", "user", user.id, user.email, {"active": True}, {"active": False})
    db.session.commit()
    return user


def reactivate(user, actor):
    if not user.active:
        user.active = True
        activity.record(actor, "user.reactivate", "user", user.id, user.email, {"active": False}, {"active": True})
    db.session.commit()
    return user


def password_problems(password):
    """Why a password may not be used (an empty list: it may)."""
    if len(password or "") < MIN_PASSWORD:
        return [f"Must be at least {MIN_PASSWORD} characters."]
    return []


def set_password(user, password):
    """Give a user a new password (InvalidInput if it may not be used). The caller commits."""
    problems = password_problems(password)
    if problems:
        raise InvalidInput("The password cannot be used.", {"password": problems})
    user.password_hash = hash_password(password)


def hash_password(password):
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def authenticate(email, password):
    """The active user with this email and password, or None."""
    email = (email or "").strip().lower()
    # PostgreSQL refuses NUL in text: such an email cannot exist, so do not ask.
    user = None if "\x00" in email else db.session.scalar(sa.select(User).filter_by(email=email))
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(user.password_hash, password or "") or not user.active:
        return None
    return user


def _token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user, hours):
    """A new bearer token for a user; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, token_hash=_token_hash(token),
                   expires_at=utcnow() + timedelta(hours=hours))
    db.session.add(row)
    db.session.commit()
    return token, row.expires_at


# Built once: every API request asks it.
_USER_FOR_TOKEN = sa.select(User).join(ApiToken, ApiToken.user_id == User.id).where(
    ApiToken.token_hash == sa.bindparam("token_hash"),
    ApiToken.expires_at > sa.bindparam("now", type_=UTCDateTime),
    User.active.is_(True))


def user_for_token(token):
    """The active user a valid, unexpired bearer token belongs to, or None."""
    return db.session.scalar(_USER_FOR_TOKEN, {"token_hash": _token_hash(token), "now": utcnow()})


def set_locale(user, locale, languages):
    """Remember a person's language for their next sessions."""
    if locale not in languages:
        raise InvalidInput("Unknown language.", {"locale": ["Must be one of: " + ", ".join(languages) + "."]})
    user.locale = locale
    db.session.commit()
