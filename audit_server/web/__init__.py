"""The HTML pages: sign-in, home, the two audits, the corrective actions, and the pages of
a location and of a submitted audit."""
from flask import Blueprint, request

from ..schemas.base import ID_RANGE
from ..schemas.common import MAX_PAGE

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


def query_page():
    """The page of a list a page's query string asks for (`?page=3`): 1 for junk or less,
    at most MAX_PAGE."""
    return min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)


def init_app(app):
    from . import (  # noqa: F401 (routes)
        account,
        actions,
        audits,
        auth,
        compression,
        errors,
        figures,
        home,
        i18n,
        invitations,
        locations,
        offline,
        reports,
        security,
    )

    i18n.init_app(app)
    security.init_app(app)
    compression.init_app(app)
    app.register_blueprint(bp)
