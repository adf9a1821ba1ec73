"""The page of a one-time link (/invitations/<token>): an invited person chooses their
name and password and becomes a user, or a user sets a new password. Public: the token
is the proof."""
from flask import redirect, render_template, request, url_for

from ..services import invitations
from ..services.errors import InvalidInput
from . import bp
from .auth import sign_in


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def invitation(token):
    try:
        row = invitations.find(token)
    except invitations.LinkGone:
        return render_template("auth/invitation_gone.html"), 410
    if row is None:
        return render_template("auth/invitation_gone.html", unknown=True), 404
    errors, name = {}, row.name
    if request.method == "POST":
        name = request.form.get("name", "")[:255]
        try:
            user = invitations.accept(token, name, request.form.get("password", "")[:255],
                                      request.form.get("password_again", "")[:255])
        except invitations.LinkGone:
            return render_template("auth/invitation_gone.html"), 410
        except InvalidInput as error:
            errors = error.fields
        else:
            sign_in(user)
            return redirect(url_for("web.home"))
    return render_template("auth/invitation.html", row=row, name=name, errors=errors), 422 if errors else 200
