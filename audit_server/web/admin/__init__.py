"""The admin pages (/admin/...): run the organisation from the browser.

Every view of this blueprint is for admins only: anyone signed in with another role gets
"not found", as for anything outside their scope; anyone not signed in goes to sign-in.
Each change a view makes goes through a service that records it in the activity log
(services/activity.py) in the same transaction.
"""
from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required

bp = Blueprint("admin", __name__, url_prefix="/admin")

# The sections of the admin pages, in the order of their navigation: (endpoint, label).
# Each module adds its own with `section`.
SECTIONS = []


def section(endpoint, label):
    SECTIONS.append((endpoint, label))


@bp.before_request
@login_required
def admins_only():
    if current_user.role != "admin":
        abort(404)


@bp.route("/")
def index():
    return render_template("admin/index.html")


@bp.app_context_processor
def admin_sections():
    return {"admin_sections": SECTIONS}


def init_app(app):
    # In the order of the navigation: each module adds its section when imported.
    from . import org, cadence, users, checklists, throttling, activity  # noqa: F401, I001 (routes)

    app.register_blueprint(bp)
