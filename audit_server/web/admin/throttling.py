"""Sign-in throttling: the accounts and addresses over a limit of failed sign-ins now
(throttling.py), and a button to clear each (recorded in the activity log)."""
from datetime import UTC, datetime

from flask import redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ... import throttling as limits_of_sign_in
from ...extensions import db
from ...services import activity
from . import bp, section

section("admin.throttling", _l("Sign-in throttling"))


@bp.route("/throttling")
def throttling():
    entries = limits_of_sign_in.throttled_keys()
    for entry in entries:
        entry["until_at"] = datetime.fromtimestamp(entry["until"], UTC)
    return render_template("admin/throttling.html", entries=entries,
                           cleared=request.args.get("cleared", "")[:400])


@bp.route("/throttling/clear", methods=["POST"])
def throttling_clear():
    key = request.form.get("key", "")[:400]
    if not key.startswith(("account:", "address:")) or "\x00" in key:
        return redirect(url_for("admin.throttling"))
    if limits_of_sign_in.clear_key(key):
        activity.record(current_user, "throttling.clear", "throttling", key[:64], key)
        db.session.commit()
    return redirect(url_for("admin.throttling", cleared=key))
