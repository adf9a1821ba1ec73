"""The activity page: every admin change, newest first, with what it was before and after."""
from math import ceil

from flask import render_template, request
from flask_babel import lazy_gettext as _l

from ...services import activity as activity_log
from .. import query_page
from . import bp, section

PER_PAGE = 50

section("admin.activity", _l("Activity"))


@bp.route("/activity")
def activity():
    page = query_page()
    kinds = activity_log.target_types()
    kind = request.args.get("kind", "")
    kind = kind if kind in kinds else ""
    entries, total = activity_log.list_entries(page, PER_PAGE, target_type=kind or None)
    return render_template("admin/activity.html", entries=entries, total=total, page=page,
                           pages=max(1, ceil(total / PER_PAGE)), kinds=kinds, kind=kind)
