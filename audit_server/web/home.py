"""Home, in the order of the day: the chosen location's two audits (what is due, when each
was last done) and latest scores, what waits on the phone, my first open actions, and my
locations to choose from (first, when none is chosen); for a regional manager or an admin,
her work first: the fixes waiting for her verification and the critical failures of the
last days."""
from flask import abort, render_template, request, session, url_for
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..services import audits, cadence, my_work, org
from ..services.actions import VERIFIER_ROLES
from ..services.checklists import current_checklist_of_kind
from . import bp, query_id
from .i18n import localized
from .locations import location_or_404
from .reports import home_regions


def chosen_location(locations, location_id):
    """The location asked for, else the one remembered, else the only one."""
    if location_id is not None:
        chosen = next((loc for loc in locations if loc.id == location_id), None)
        if chosen is None:
            abort(404)
        return chosen
    remembered = session.get("location_id")
    chosen = next((loc for loc in locations if loc.id == remembered), None)
    if chosen is None and len(locations) == 1:
        chosen = locations[0]
    return chosen


def due_text(state):
    """What an audit button says of its checklist's state at the location (services/cadence):
    "Due today", "Overdue by 3 days", "Done on Monday" (a date once a week has passed)."""
    if state["state"] == cadence.OVERDUE:
        return ngettext("Overdue by %(num)d day", "Overdue by %(num)d days", state["overdue_days"])
    if state["state"] == cadence.DUE:
        return _("Due: never done") if state["never_audited"] else _("Due today")
    days = state["days_since_last"]
    if days == 0:
        return _("Done today")
    if days == 1:
        return _("Done yesterday")
    day = format_date(state["last_audit_date"], "EEEE" if days < 7 else "medium")
    return _("Done on %(day)s", day=day)


def last_done_text(state):
    """When a checklist due or overdue at the location was last done ("Last done 3 Nov 2026"),
    or None (never done; or done for this period, which due_text says already)."""
    if state["state"] == cadence.DONE or state["never_audited"]:
        return None
    return _("Last done %(day)s", day=format_date(state["last_audit_date"], "medium"))


# The audit pages of each kind, by the checklist they show.
AUDIT_PAGES = {"walk_in": "web.walk_in", "phone": "web.phone"}


def common_parts(locations):
    """What both homes show: the latest scores, the two checklists, the person's open actions,
    and what names the audits waiting on the phone (home/_on_this_phone.html)."""
    checklists = {kind: current_checklist_of_kind(kind) for kind in AUDIT_PAGES}
    actions, actions_total, actions_overdue = my_work.open_corrective_actions(current_user)
    return {
        "locations": locations,
        "latest": audits.latest_scores(current_user, [loc.id for loc in locations]),
        "walk_in_id": checklists["walk_in"].id, "phone_id": checklists["phone"].id,
        "actions": actions, "actions_total": actions_total, "actions_overdue": actions_overdue,
        "on_this_phone": {
            "locations": {str(loc.id): loc.name for loc in locations},
            "checklists": {c.id: {"title": localized(c.definition["title"]), "page": url_for(AUDIT_PAGES[kind])}
                           for kind, c in checklists.items()},
        },
    }


def render_home(locations, chosen):
    if chosen is not None:
        session["location_id"] = chosen.id
    return render_template(
        "home/index.html", chosen=chosen,
        due={} if chosen is None else {
            state["checklist_id"]: state
            for state in cadence.location_due(current_user, chosen.id)["checklists"]},
        due_text=due_text, last_done_text=last_done_text,
        **common_parts(locations),
    )


def render_regional_home(locations):
    waiting, waiting_total = my_work.waiting_for_verification(current_user)
    critical, critical_total = my_work.critical_failures(current_user)
    return render_template(
        "home/regional.html",
        waiting=waiting, waiting_total=waiting_total,
        critical=critical, critical_total=critical_total, critical_days=my_work.CRITICAL_DAYS,
        **common_parts(locations), **home_regions(current_user),
    )


@bp.route("/")
@login_required
def home():
    """A manager's locations and audits; a regional manager's or an admin's work, unless
    she asks for one location (?location=, as the door URL does)."""
    locations = org.visible_locations(current_user)
    location_id = request.args.get("location", type=query_id)
    if current_user.role in VERIFIER_ROLES and location_id is None:
        return render_regional_home(locations)
    return render_home(locations, chosen_location(locations, location_id))


@bp.route("/l/<code:code>")
@login_required
def location_door(code):
    """The URL of the QR code at a location's door."""
    return render_home(org.visible_locations(current_user), location_or_404(code))
