"""My account (/account): change one's password, see and end one's sessions and API tokens."""
from flask import abort, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from ..services import accounts
from ..services.errors import InvalidInput, NotFound
from . import bp
from .auth import MAX_FIELD


def password_messages(problems):
    """What accounts.password_problems (and change_password) say, in the page's language."""
    words = {
        accounts.TOO_SHORT: _("Must be at least %(num)d characters.", num=accounts.MIN_PASSWORD),
        accounts.TOO_LONG: _("Must be at most %(num)d characters.", num=accounts.MAX_PASSWORD),
        accounts.HAS_NUL: _("Must not contain a NUL character."),
        accounts.TOO_COMMON: _("Too common: choose a password that is harder to guess."),
        accounts.LIKE_EMAIL: _("Too close to your email address."),
        "Wrong current password.": _("Wrong current password."),
        "The two new passwords differ.": _("The two new passwords differ."),
    }
    return [words.get(problem, problem) for problem in problems]


def _page(errors=None, done=None, status=200):
    current = accounts.session_key(session.get("sid"))
    return render_template("account.html", errors=errors or {}, done=done,
                           sessions=accounts.list_sessions(current_user), current=current,
                           tokens=accounts.list_tokens(current_user), min_password=accounts.MIN_PASSWORD,
                           max_password=accounts.MAX_PASSWORD), status


@bp.route("/account")
@login_required
def account():
    done = {"password": _("Your password was changed; every other session and token was ended."),
            "token": _("The token was revoked.")}.get(request.args.get("done", ""))
    return _page(done=done)


@bp.route("/account/password", methods=["POST"])
@login_required
def change_password():
    form = {key: request.form.get(key, "")[:MAX_FIELD + 1] for key in ("current", "new", "confirmation")}
    try:
        secret = accounts.change_password(current_user, form["current"], form["new"], form["confirmation"],
                                          request.user_agent.string, request.remote_addr)
    except InvalidInput as error:
        return _page(errors={field: password_messages(problems)
                             for field, problems in error.fields.items()}, status=422)
    session["sid"] = secret
    return redirect(url_for("web.account", done="password"))


@bp.route("/account/sign-out-everywhere", methods=["POST"])
@login_required
def sign_out_everywhere():
    accounts.sign_out_everywhere(current_user)
    session.pop("sid", None)
    logout_user()
    return redirect(url_for("web.login"))


@bp.route("/account/tokens/<id:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id):
    try:
        accounts.revoke_token(current_user, token_id)
    except NotFound:
        abort(404)  # already revoked, or never one's own: as for anything out of scope
    return redirect(url_for("web.account", done="token"))
