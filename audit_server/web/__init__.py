"""The HTML pages for the phone: sign-in, home, the two audits and the corrective actions."""
from flask import Blueprint

bp = Blueprint("web", __name__)


def init_app(app):
    from . import actions, audits, auth, compression, errors, home, i18n, offline, security  # noqa: F401 (routes)

    i18n.init_app(app)
    security.init_app(app)
    compression.init_app(app)
    app.register_blueprint(bp)
