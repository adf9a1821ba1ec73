"""The report pages: a region's report, the organisation overview, and the audits of a
region where an item failed. Their period and checklist are in the URL (GET), read by
the API's own schema and `services.reports.period_of`; what cannot be shown is a 422
page saying why, in the reader's language, with the form to choose again.

The figures come from services/reports.py, as the API gives them; web/figures.py writes
them, web/charts.py draws their charts."""
from dataclasses import dataclass
from datetime import time, timedelta
from math import ceil
from zoneinfo import ZoneInfo

from flask import abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from marshmallow import EXCLUDE, ValidationError

from ..schemas.reports import PeriodArgs, ReportQuerySchema
from ..services import reports
from ..services.checklists import current_checklists
from ..services.errors import InvalidInput, NotFound
from . import bp, charts, query_page
from .i18n import local_date, local_datetime, localized

PER_PAGE = 20
STALE_DAYS = 14  # a latest audit this many days old, or older, stands out
PRESETS = {"last_7_days": _l("Last 7 days"), "last_30_days": _l("Last 30 days"),
           "last_90_days": _l("Last 90 days"), "this_month": _l("This month"),
           "last_month": _l("Last month")}
DATES = _l("Give both dates, the first no later than the second, at most 400 days apart, "
           "from the year 2000 to 2099.")
# Why the period or checklist asked for cannot be shown, by the field refused (first match wins).
PROBLEMS = {
    "period": _l("Choose one of the periods offered, or two dates, not both."),
    "from": DATES,
    "to": DATES,
    "checklist_id": _l("There is no such checklist: choose one of those offered."),
    "tz": _l("There is no such time zone: give its IANA name, such as Europe/Madrid."),
}
REGION_ITEM = "/reports/regions/<code:code>/items/<identifier:checklist_id>/<identifier:item_id>"


@dataclass(frozen=True)
class Filters:
    """The period and checklist a page was asked for (only the values that were valid),
    and the query strings of the links that change one of them and keep the rest."""

    PRESETS = PRESETS

    preset: str | None = None
    from_date: object = None
    to_date: object = None
    checklist_id: str | None = None
    tz: str | None = None

    @property
    def chosen_preset(self):
        """The preset the page shows: the one asked for, else the default unless dates were."""
        return self.preset or (None if self.from_date or self.to_date else reports.DEFAULT_PRESET)

    @property
    def period_query(self):
        """The query string that asks for this period again."""
        asked = {"period": self.preset, "from": self.from_date and self.from_date.isoformat(),
                 "to": self.to_date and self.to_date.isoformat(), "tz": self.tz}
        return {name: value for name, value in asked.items() if value}

    @property
    def query(self):
        """The query string that asks for this period and checklist again."""
        checklist = {"checklist_id": self.checklist_id} if self.checklist_id else {}
        return {**self.period_query, **checklist}

    def with_period(self, preset):
        return {**self.query, "period": preset, "from": None, "to": None}

    def with_checklist(self, checklist_id):
        return {**self.query, "checklist_id": checklist_id}


def read_filters(schema=ReportQuerySchema):
    """(Filters, problem): what the query string asks, and why it cannot be shown (or None)."""
    try:
        asked, problem = schema(unknown=EXCLUDE).load(request.args), None
    except ValidationError as exc:
        asked = exc.valid_data or {}
        problem = problem_of(exc.messages)
    return Filters(asked.get("period"), asked.get("from_"), asked.get("to"),
                   asked.get("checklist_id"), asked.get("tz")), problem


def problem_of(fields):
    return next((str(PROBLEMS[name]) for name in PROBLEMS if name in fields),
                _("This period cannot be shown: choose another."))


@dataclass(frozen=True)
class ShownPeriod:
    """A period as a page says it: its first and last moments, and the previous period's,
    on the report's clock (a date alone when the boundary is a midnight)."""

    first: str
    last: str
    previous_first: str
    previous_last: str
    timezone: str
    from_date: object  # the dates that fill the form
    to_date: object


def _moment(instant, zone, end=False):
    """A period's boundary: its date if it is a midnight (an end's: the day before it ends),
    else its date and time."""
    if instant.astimezone(ZoneInfo(zone)).time() == time(0):
        return local_date(instant - timedelta(microseconds=1) if end else instant, zone)
    return local_datetime(instant, zone)


def shown_period(period):
    previous, zone = period.previous, period.timezone
    last_instant = period.end - timedelta(microseconds=1)
    return ShownPeriod(
        _moment(period.start, zone), _moment(period.end, zone, end=True),
        _moment(previous.start, zone), _moment(previous.end, zone, end=True), zone,
        period.start.astimezone(ZoneInfo(zone)).date(), last_instant.astimezone(ZoneInfo(zone)).date())


def _period_for(filters, code=None):
    """The Period the filters ask for, on the viewer's clock (InvalidInput if none)."""
    zone = reports.viewer_zone(current_user, code, filters.tz)
    return reports.period_of(filters.preset, filters.from_date, filters.to_date, zone)


def refused(title, filters, problem, checklists=True):
    """The page of a period or checklist that cannot be shown: why, and the form again
    (with the checklists to choose from, unless the page is of one)."""
    return render_template("reports/refused.html", title=title, filters=filters, problem=problem,
                           all_checklists=_all_checklists() if checklists else []), 422


EXPORTS = (("audits", _l("Audits")), ("actions", _l("Corrective actions")))


def export_links(filters, period, code=None):
    """The downloads of what the page shows: the exports (API) with the page's filters,
    its clock and its region: [(label, csv url, xlsx url)]."""
    query = {**filters.query, "tz": period.timezone, **({"region": code} if code else {})}
    return [(label, url_for(f"exports.{kind}_csv", **query), url_for(f"exports.{kind}_xlsx", **query))
            for kind, label in EXPORTS]


def _all_checklists():
    return [{"id": c.id, "title": c.definition["title"]}
            for c in sorted(current_checklists().values(), key=lambda c: c.id)]


def _by_id(checklists):
    return {checklist["id"]: checklist for checklist in checklists}


def weekly_chart(report, checklists):
    """The line chart of the region's weekly score, a line per checklist."""
    weeks = [week["week"] for week in report["weekly"][0]["weeks"]]  # the same for each checklist
    series = [charts.Series.of_checklist(checklists[row["checklist_id"]]["kind"],
                                         localized(checklists[row["checklist_id"]]["title"]),
                                         [(week["week"], week["score"]) for week in row["weeks"]])
              for row in report["weekly"]]
    return charts.line_chart(series, weeks[0], weeks[-1] + timedelta(days=6))


def home_regions(user):
    """What the region cards of a regional manager's (or an admin's) home show: each of
    her regions' headline figures over the default period, beside the previous one's."""
    report = reports.organisation_report(user, _period_for(Filters()))
    return {"regions": report["regions"], "checklists": _by_id(report["checklists"]),
            "filters": Filters()}


@bp.route("/reports/regions/<code:code>")
@login_required
def region_report(code):
    try:
        region = reports.visible_region(current_user, code)
    except NotFound:
        abort(404)
    filters, problem = read_filters()
    if problem is None:
        try:
            period = _period_for(filters, code)
            report = reports.region_report(current_user, code, period, filters.checklist_id)
        except InvalidInput as exc:
            problem = problem_of(exc.fields)
    if problem is not None:
        return refused(region.name, filters, problem)
    checklists = _by_id(report["checklists"])
    sparklines = {(row["location"]["id"], here["checklist_id"]):
                  charts.sparkline([(week["week"], week["score"]) for week in here["trend"]])
                  for row in report["locations"] for here in row["checklists"]}
    return render_template(
        "reports/region.html", report=report, checklists=checklists, filters=filters,
        period=shown_period(period), all_checklists=_all_checklists(), stale_days=STALE_DAYS,
        exports=export_links(filters, period, code),
        weekly_chart=weekly_chart(report, checklists), sparklines=sparklines)


@bp.route("/reports")
@login_required
def reports_overview():
    """The regions the user sees, side by side (admin: all; regional: theirs)."""
    if current_user.role not in reports.REPORT_ROLES:
        abort(404)
    filters, problem = read_filters()
    if problem is None:
        try:
            period = _period_for(filters)
            report = reports.organisation_report(current_user, period, filters.checklist_id)
        except InvalidInput as exc:
            problem = problem_of(exc.fields)
    if problem is not None:
        return refused(_("Reports"), filters, problem)
    return render_template("reports/overview.html", report=report, filters=filters,
                           checklists=_by_id(report["checklists"]), period=shown_period(period),
                           all_checklists=_all_checklists(), exports=export_links(filters, period))


@bp.route(REGION_ITEM)
@login_required
def failed_item(code, checklist_id, item_id):
    """The region's audits of the period in which an item failed, newest first."""
    page = query_page()
    try:
        region = reports.visible_region(current_user, code)
    except NotFound:
        abort(404)
    filters, problem = read_filters(PeriodArgs)
    if problem is None:
        try:
            period = _period_for(filters, code)
            rows, total = reports.failed_item_audits(current_user, code, checklist_id, item_id,
                                                     period, page, PER_PAGE)
        except NotFound:
            abort(404)
        except InvalidInput as exc:
            if "checklist_id" in exc.fields:  # the path names no checklist of ours
                abort(404)
            problem = problem_of(exc.fields)
    if problem is not None:
        return refused(region.name, filters, problem, checklists=False)
    return render_template(
        "reports/failed_item.html", region=region, label=reports.item_label(checklist_id, item_id),
        checklist=_by_id(_all_checklists())[checklist_id], rows=rows, total=total, page=page,
        pages=max(1, ceil(total / PER_PAGE)), filters=filters, period=shown_period(period))
