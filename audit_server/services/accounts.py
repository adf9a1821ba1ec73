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
from .errors import InvalidInput

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 10
# Checked against when the email is unknown, so both cases take as long.
_DUMMY_HASH = generate_password_hash("not-a-password")


def create_user(email, role, password, region_codes=(), location_codes=(), name=""):
    errors = {}
    email = (email or "").strip().lower()
    if not EMAIL.match(email):
        errors["email"] = ["Not an email address."]
    elif db.session.scalar(sa.select(User.id).filter_by(email=email)):
        errors["email"] = ["A user with this email exists."]
    if role not in ROLES:
        errors["role"] = ["Must be one of: " + ", ".join(ROLES) + "."]
    problems = password_problems(password)
    if problems:
        errors["password"] = problems
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
    if errors:
        raise InvalidInput("The user cannot be created.", errors)
    user = User(email=email, role=role, name=name, password_hash=hash_password(password),
                regions=list(regions), locations=list(locations))
    db.session.add(user)
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
