"""The two audits: the five-second walk-in and calling your own number; and the page of
an audit once it is submitted."""
from flask import abort, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from ..services import item_types, org
from ..services.audits import answer_sheet, get_audit
from ..services.checklists import current_checklist_of_kind
from ..services.errors import NotFound
from ..services.scoring import points_table
from . import bp, query_id


def audited_location():
    """The location of the query string (or the one chosen at home), if the user may see it."""
    asked = request.args.get("location", type=query_id)
    location_id = asked or session.get("location_id")
    if location_id is None:
        locations = org.visible_locations(current_user)
        return locations[0] if len(locations) == 1 else None
    try:
        return org.get_location(current_user, location_id)
    except NotFound:
        if asked:
            abort(404)
        session.pop("location_id", None)  # remembered, but no longer theirs: choose again
        return None


def audit_page(kind, template):
    location = audited_location()
    if location is None:
        return redirect(url_for("web.home"))
    checklist = current_checklist_of_kind(kind)
    return render_template(template, location=location, checklist=checklist,
                           definition=checklist.definition, item_widget=item_types.widget,
                           is_required=item_types.is_required,
                           points=points_table(checklist.definition))


@bp.route("/audit/walk-in")
@login_required
def walk_in():
    return audit_page("walk_in", "audits/walk_in.html")


@bp.route("/audit/phone")
@login_required
def phone():
    return audit_page("phone", "audits/phone.html")


@bp.route("/audits/<uuid:audit_id>")
@login_required
def audit(audit_id):
    """A submitted audit: every answer of its checklist version, its score, its photos and
    the actions it opened or was linked to."""
    try:
        found = get_audit(current_user, audit_id)
    except NotFound:
        abort(404)
    sections, loose_photos = answer_sheet(found)
    return render_template("audits/audit.html", audit=found, sections=sections,
                           loose_photos=loose_photos, item_widget=item_types.widget)
