"""The HTML pages: sign-in, home, the two audits, the corrective actions, and the pages of
a location and of a submitted audit."""
from flask import Blueprint

from ..schemas.base import ID_RANGE

bp = Blueprint("web", __name__)


def query_id(text):
    """An id in a query string (`?location=12`), as the `id` URL converter takes one in a
    path: 1 to 2^31 - 1, else ValueError. So `request.args.get(name, type=query_id)` is
    None for any other text, as for junk, and the database never sees a number it cannot
    hold."""
    value = int(text)
    if not ID_RANGE.min <= value <= ID_RANGE.max:
        raise ValueError(f"not an id: {text!r}")
    return value


def init_app(app):
    from . import (actions, audits, auth, compression, errors, figures, home, i18n,  # noqa: F401 (routes)
                   locations, offline, reports, security)

    i18n.init_app(app)
    security.init_app(app)
    compression.init_app(app)
    app.register_blueprint(bp)
