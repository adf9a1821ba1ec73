"""Signing in and out, and choosing the language."""
from urllib.parse import urlsplit

from flask import current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from ..services import accounts
from ..throttling import throttled
from . import bp

MAX_FIELD = 255


def safe_next(target):
    """`target` if it is a path on this site, else the home page (no open redirects)."""
    target = (target or "").strip()
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or "\\" in target or parts.netloc:
        return url_for("web.home")
    return target


def sign_in(user):
    """Sign `user` in on this browser: a new server-side session (services/accounts.py)
    in place of whoever's was here before, and its secret in the signed cookie."""
    accounts.close_session(session.get("sid"))
    logout_user()
    session["sid"] = accounts.open_session(user, request.user_agent.string, request.remote_addr)
    login_user(user, remember=False)
    session.permanent = True


@bp.route("/login", methods=["GET", "POST"])
@throttled  # failed sign-ins, per account and per address (throttling.py)
def login():
    next_page = safe_next(request.values.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_page)
    error, email = None, ""
    if request.method == "POST":
        email = request.form.get("email", "")[:MAX_FIELD]
        password = request.form.get("password", "")[:MAX_FIELD]
        user = accounts.authenticate(email, password) if email and password else None
        if user is not None:
            sign_in(user)
            return redirect(next_page)
        error = _("Wrong email or password.") if email and password else _(
            "Enter your email and your password.")
    status = 401 if error else 200
    return render_template("auth/login.html", error=error, email=email, next_page=next_page), status


@bp.route("/logout", methods=["POST"])
def logout():
    accounts.close_session(session.pop("sid", None))
    logout_user()
    return redirect(url_for("web.login"))


@bp.route("/language", methods=["POST"])
def choose_language():
    locale = request.form.get("locale", "")
    languages = current_app.config["LANGUAGES"]
    if locale in languages:
        session["locale"] = locale
        if current_user.is_authenticated:
            accounts.set_locale(current_user, locale, languages)
    return redirect(safe_next(request.form.get("next")))

