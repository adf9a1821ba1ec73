"""The HTML pages for the phone: sign-in, home, and the two audits."""
from flask import Blueprint

bp = Blueprint("web", __name__)


def init_app(app):
    from . import audits, auth, compression, errors, home, i18n, offline, security  # noqa: F401 (routes)

    i18n.init_app(app)
    security.init_app(app)
    compression.init_app(app)
    app.register_blueprint(bp)
