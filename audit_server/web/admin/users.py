"""The users page: who may use Momento, with which role and scope; invitations by a
one-time link, password-reset links, deactivating and reactivating."""
import smtplib

import sqlalchemy as sa
from flask import abort, current_app, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ... import mail
from ...extensions import db
from ...models import ROLES, Invitation, Location, Region, User
from ...services import accounts, invitations
from ...services.errors import InvalidInput
from . import bp, section

section("admin.users", _l("Users"))


def _form_scope():
    role = request.form.get("role", "")
    regions = [c for c in request.form.getlist("regions") if c] if role == "regional" else []
    locations = [c for c in request.form.getlist("locations") if c] if role == "manager" else []
    return role, regions, locations


def _page(status=200, **context):
    role = request.args.get("role", "")
    stmt = sa.select(User).order_by(User.email)
    if role in ROLES:
        stmt = stmt.where(User.role == role)
    else:
        role = ""
    context.setdefault("errors", {})
    context.setdefault("form", {})
    return render_template(
        "admin/users.html", users=db.session.scalars(stmt).all(), role=role, roles=ROLES,
        regions=db.session.scalars(sa.select(Region).order_by(Region.code)).all(),
        locations=db.session.scalars(sa.select(Location).order_by(Location.code)).all(),
        pending=invitations.pending(), **context), status


def _link(token):
    return url_for("web.invitation", token=token, _external=True)


@bp.route("/users")
def users():
    return _page()


@bp.route("/users/invite", methods=["POST"])
def users_invite():
    role, regions, locations = _form_scope()
    email, name = request.form.get("email", "")[:255], request.form.get("name", "")[:255]
    try:
        token, row = invitations.invite(current_user, email, role, regions, locations, name)
    except InvalidInput as error:
        return _page(422, errors=error.fields, form={"email": email, "name": name, "role": role})
    link = _link(token)
    return _page(link=link, link_for=row.email, link_kind="invite", mailed=_mail_invitation(row, link))


def _mail_invitation(row, link):
    """E-mail the invitation link when mail is configured: True if sent, False if it could
    not be, None without mail settings (the admin passes the link on themself)."""
    try:
        settings = mail.mail_settings(current_app.config)
    except InvalidInput:
        current_app.logger.exception("mail settings")
        return False
    if settings is None:
        return None
    hours = current_app.config["INVITATION_HOURS"]
    text = _("You are invited to Momento. Open this link to choose your password; it works once, "
             "for %(hours)d hours:", hours=hours) + "\n\n" + link + "\n"
    html = render_template("admin/invitation_mail.html", link=link, hours=hours)
    try:
        msg = mail.message(settings.sender, row.name, row.email, _("Your invitation to Momento"),
                           text, html, str(get_locale() or "en"))
        with mail.Mailer(settings) as mailer:
            mailer.send(msg)
    except (*mail.BAD_ADDRESS, smtplib.SMTPException, OSError):
        current_app.logger.exception("the invitation to %s could not be e-mailed", row.email)
        return False
    return True


@bp.route("/users/<id:user_id>", methods=["GET", "POST"])
def users_edit(user_id):
    user = db.session.get(User, user_id) or abort(404)
    errors = {}
    if request.method == "POST":
        role, regions, locations = _form_scope()
        try:
            accounts.update_user(user, current_user, role, regions, locations,
                                 request.form.get("name", user.name)[:255])
        except InvalidInput as error:
            db.session.rollback()
            errors = error.fields
    return render_template("admin/user.html", user=user, roles=ROLES, errors=errors,
                           regions=db.session.scalars(sa.select(Region).order_by(Region.code)).all(),
                           locations=db.session.scalars(sa.select(Location).order_by(Location.code)).all(),
                           saved=request.method == "POST" and not errors), 422 if errors else 200


@bp.route("/users/<id:user_id>/active", methods=["POST"])
def users_active(user_id):
    user = db.session.get(User, user_id) or abort(404)
    try:
        if request.form.get("active") == "1":
            accounts.reactivate(user, current_user)
        else:
            accounts.deactivate(user, current_user)
    except InvalidInput as error:
        return _page(422, problem=error.message)
    return _page()


@bp.route("/users/<id:user_id>/reset", methods=["POST"])
def users_reset(user_id):
    user = db.session.get(User, user_id) or abort(404)
    token, _row = invitations.reset_link(current_user, user)
    return _page(link=_link(token), link_for=user.email, link_kind="reset")


@bp.route("/invitations/<id:invitation_id>/revoke", methods=["POST"])
def revoke_invitation(invitation_id):
    row = db.session.get(Invitation, invitation_id) or abort(404)
    invitations.revoke(current_user, row)
    return _page()
