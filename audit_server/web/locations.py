"""A location's page: its details, each checklist's scores over the last 90 days (a chart),
its audits (paginated, newest first) and its open corrective actions."""
from datetime import timedelta
from math import ceil
from zoneinfo import ZoneInfo

from flask import abort, render_template
from flask_login import current_user, login_required

from ..models.actions import PENDING
from ..models.types import utcnow
from ..services import actions, audits, my_work, org
from ..services.checklists import current_checklist_of_kind
from ..services.errors import NotFound
from . import bp, query_page
from .charts import Series, line_chart
from .i18n import localized

AUDITS_PER_PAGE = 20
HISTORY_DAYS = 90
# Every open action of a location: there is at most one not yet verified per checklist item.
OPEN_ACTIONS_MAX = 200


def history_chart(location, checklists, today):
    """The chart of each checklist's audit scores over the last HISTORY_DAYS days (today
    included) on the location's clock."""
    since = today - timedelta(days=HISTORY_DAYS - 1)
    scores = audits.score_history(current_user, location.id, since)
    return line_chart([
        Series.of_checklist(checklist.kind, localized(checklist.definition["title"]),
                            [(day, score) for checklist_id, day, score in scores
                             if checklist_id == checklist.id])
        for checklist in checklists
    ], since, today)


def location_or_404(code):
    """The location of a code in a page's path, if the user may see it."""
    try:
        return org.location_by_code(current_user, code)
    except NotFound:
        abort(404)


@bp.route("/locations/<code:code>")
@login_required
def location(code):
    place = location_or_404(code)
    page = query_page()
    listed, total = audits.list_audits(current_user, page, AUDITS_PER_PAGE, location_id=place.id)
    now = utcnow()
    open_actions, _ = actions.list_actions(current_user, 1, OPEN_ACTIONS_MAX, statuses=PENDING,
                                           location_id=place.id, now=now)
    checklists = [current_checklist_of_kind("walk_in"), current_checklist_of_kind("phone")]
    return render_template(
        "locations/location.html", location=place, checklists=checklists,
        latest=audits.latest_scores(current_user, [place.id]).get(place.id, {}),
        chart=history_chart(place, checklists, now.astimezone(ZoneInfo(place.timezone)).date()),
        audits=listed, total=total, page=page, pages=max(1, ceil(total / AUDITS_PER_PAGE)),
        actions=[my_work.action_row(a, now) for a in open_actions],
    )
