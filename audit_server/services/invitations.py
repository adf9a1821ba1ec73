"""One-time links: an invitation to become a user (with the role and scope the admin
chose), or a password reset for an existing user. Only the token's SHA-256 is stored;
a link works once, until it expires (INVITATION_HOURS) or is revoked."""
import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import Invitation, User
from ..models.types import utcnow
from . import accounts, activity
from .errors import InvalidInput


class LinkGone(Exception):
    """The link was used, revoked or has expired (410)."""


def _hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def _new(purpose, actor, **fields):
    token = secrets.token_urlsafe(32)
    row = Invitation(token_hash=_hash(token), purpose=purpose, invited_by_id=getattr(actor, "id", None),
                     expires_at=utcnow() + timedelta(hours=current_app.config["INVITATION_HOURS"]),
                     **fields)
    db.session.add(row)
    return token, row


def invite(actor, email, role, region_codes=(), location_codes=(), name=""):
    """(token, invitation): the admin passes the link on. Validated as create_user does."""
    errors, email = accounts.email_errors(email)
    name = (name or "").strip()
    if "\x00" in name or len(name) > 120:
        errors["name"] = ["At most 120 characters, no NUL."]
    scope, _, _ = accounts.scope_errors(role, region_codes, location_codes)
    errors.update(scope)
    if errors:
        raise InvalidInput("The invitation cannot be made.", errors)
    token, row = _new("invite", actor, email=email, name=name, role=role,
                      region_codes=sorted(region_codes), location_codes=sorted(location_codes))
    db.session.flush()
    activity.record(actor, "invitation.create", "invitation", row.id, email, None,
                    {"email": email, "role": role, "regions": row.region_codes,
                     "locations": row.location_codes})
    db.session.commit()
    return token, row


def reset_link(actor, user):
    """(token, row): a single-use link that sets a new password for `user`."""
    token, row = _new("reset", actor, email=user.email, name=user.name, user_id=user.id)
    db.session.flush()
    activity.record(actor, "user.reset_link", "user", user.id, user.email, None, {"reset_link": row.id})
    db.session.commit()
    return token, row


def find(token):
    """The link's row: None if unknown; LinkGone if used, revoked or expired."""
    if not token or "\x00" in token or len(token) > 200:
        return None
    row = db.session.scalar(sa.select(Invitation).filter_by(token_hash=_hash(token)))
    if row is None:
        return None
    if row.used_at is not None or row.revoked_at is not None or row.expires_at <= utcnow():
        raise LinkGone()
    return row


def accept(token, name, password, password_again):
    """Use a link: create the invited user, or set the user's new password. Returns the
    user. The row is locked so a link used twice at once still works once."""
    row = find(token)
    if row is None:
        raise LookupError(token)
    row = db.session.scalar(sa.select(Invitation).filter_by(id=row.id).with_for_update()
                            .execution_options(populate_existing=True))
    if row.used_at is not None or row.revoked_at is not None:
        raise LinkGone()
    errors = {}
    problems = accounts.password_problems(password)
    if problems:
        errors["password"] = problems
    elif password != password_again:
        errors["password_again"] = ["The two passwords differ."]
    name = (name or "").strip()
    if "\x00" in name or len(name) > 120:
        errors["name"] = ["At most 120 characters, no NUL."]
    if errors:
        raise InvalidInput("The password cannot be used.", errors)
    if row.purpose == "invite":
        user = accounts.create_user(row.email, row.role, password, row.region_codes, row.location_codes,
                                    name or row.name, commit=False)
        db.session.flush()
        activity.record(None, "invitation.accept", "user", user.id, user.email, None, accounts.snapshot(user))
    else:
        user = db.session.get(User, row.user_id)
        accounts.set_password(user, password)
        activity.record(None, "user.reset_password", "user", user.id, user.email, None, None)
    row.used_at = utcnow()
    db.session.commit()
    return user


def revoke(actor, row):
    if row.used_at is None and row.revoked_at is None:
        row.revoked_at = utcnow()
        activity.record(actor, "invitation.revoke", "invitation", row.id, row.email, None, None)
    db.session.commit()


def pending():
    return db.session.scalars(sa.select(Invitation).where(
        Invitation.purpose == "invite", Invitation.used_at.is_(None), Invitation.revoked_at.is_(None),
        Invitation.expires_at > utcnow()).order_by(Invitation.created_at.desc())).all()
