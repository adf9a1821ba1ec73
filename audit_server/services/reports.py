"""Every report figure: the region report, the organisation overview, the audits where
an item failed, and the action metrics. docs/reports.md defines each figure.

Each figure is an aggregate in SQL (GROUP BY, FILTER, window functions, the audits'
JSON documents read with json_each/jsonb_each), the same on SQLite and PostgreSQL: where
the two differ, services/sql_dialects.py has one function per difference. A figure
query reads the rows of the period and of the previous one at once (a `part`
column tells them apart) and is built for a grouping level (`location`, `region`
or the whole `organisation`), so that one statement, a UNION ALL over the levels a
report needs, answers for the locations and their region alike, reading the rows once. Python only shapes
the rows into the report's dicts (rounding, ranking, figures beside their previous
value). Every query is scoped through services/access.py.
"""
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from ..extensions import db
from ..models import Audit, ChecklistVersion, CorrectiveAction, Location, Region
from ..models.actions import PENDING
from ..models.types import utcnow
from . import access, cadence
from .checklists import current_checklists
from .errors import InvalidInput, NotFound
from .org import is_time_zone
from .sql_dialects import (
    array_elements,
    as_date,
    json_number,
    json_text,
    json_true,
    medians,
    object_entries,
    seconds_between,
    week_start,
)

PRESET_DAYS = {"last_7_days": 7, "last_30_days": 30, "last_90_days": 90}
PRESETS = (*PRESET_DAYS, "this_month", "last_month")
DEFAULT_PRESET = "last_30_days"
MAX_PERIOD_DAYS = 400
TREND_WEEKS = 12
MOST_FAILED = 10
FEW_ANSWERS = 5  # fewer applicable answers than this: the item is listed after, marked
REPORT_ROLES = ("admin", "regional")
METRIC_GROUPS = ("location", "region")
CURRENT, PREVIOUS = 1, 0
PHONE = "phone"
SECONDS_PER_HOUR = 3600
TIME_ZONE_ERROR = "Must be an IANA time zone name, e.g. Europe/Madrid."


# --- periods ---------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """[start, end) in UTC, and the clock it was read on (an IANA zone name)."""

    start: datetime
    end: datetime
    preset: str | None
    timezone: str

    @property
    def previous(self):
        """The period of the same length that ends where this one starts."""
        return replace(self, start=self.start - (self.end - self.start), end=self.start,
                       preset=None)

    def weeks(self):
        """The Mondays of the TREND_WEEKS weeks ending with the week (on the period's clock)
        that holds its last instant, oldest first."""
        last_day = (self.end - timedelta(microseconds=1)).astimezone(ZoneInfo(self.timezone)).date()
        last_monday = last_day - timedelta(days=last_day.weekday())
        return [last_monday - timedelta(weeks=TREND_WEEKS - 1 - n) for n in range(TREND_WEEKS)]

    def as_dict(self):
        return {"preset": self.preset, "from": self.start, "to": self.end,
                "timezone": self.timezone}


def _zone(name):
    if not is_time_zone(name):
        _refuse("tz", TIME_ZONE_ERROR)
    return ZoneInfo(name)


def _midnight(day, zone):
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(timezone.utc)


def _refuse(field, message):
    raise InvalidInput(message, {field: [message]})


def period_of(preset=None, from_date=None, to_date=None, zone="UTC", now=None,
              max_days=MAX_PERIOD_DAYS):
    """The Period of a preset (default last_30_days) or of from/to dates (both days
    included, at most `max_days` apart; None: any), on the clock `zone`; InvalidInput
    naming the field for anything else."""
    clock = _zone(zone)
    now = now or utcnow()
    if preset is not None and (from_date is not None or to_date is not None):
        _refuse("period", "Give a period or from and to, not both.")
    if (from_date is None) != (to_date is None):
        _refuse("to" if to_date is None else "from", "Give both from and to.")
    if from_date is not None:
        if from_date > to_date:
            _refuse("to", "Must not be before from.")
        if max_days is not None and (to_date - from_date).days + 1 > max_days:
            _refuse("to", f"A period is at most {max_days} days.")
        return Period(_midnight(from_date, clock), _midnight(to_date + timedelta(days=1), clock),
                      None, zone)
    preset = preset or DEFAULT_PRESET
    if preset in PRESET_DAYS:
        return Period(now - timedelta(days=PRESET_DAYS[preset]), now, preset, zone)
    if preset not in PRESETS:
        _refuse("period", "Must be one of: " + ", ".join(PRESETS) + ".")
    first = now.astimezone(clock).date().replace(day=1)
    if preset == "this_month":
        return Period(_midnight(first, clock), now, preset, zone)
    last_month = (first - timedelta(days=1)).replace(day=1)
    return Period(_midnight(last_month, clock), _midnight(first, clock), preset, zone)


def viewer_zone(user, code=None, tz=None):
    """The viewer's clock: `tz` if given; else the zone most of the region's locations
    use (without a region: most of the locations the user sees); else UTC."""
    if tz:
        return tz
    count = sa.func.count()
    stmt = access.in_scope(sa.select(Location.timezone).group_by(Location.timezone)
                           .order_by(count.desc(), Location.timezone).limit(1),
                           user, Location.id)
    if code is not None:
        stmt = stmt.join(Region, Region.id == Location.region_id).where(Region.code == code)
    return db.session.scalar(stmt) or "UTC"


# --- rounding and figures -------------------------------------------------------------

def _rounded(value, digits):
    """Half up, to `digits` decimals (0: a whole number); None stays None."""
    if value is None:
        return None
    exact = Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP)
    return int(exact) if digits == 0 else float(exact)


def figure(value, previous, digits=None):
    """{value, previous, change}: change is value - previous (None if either is None);
    `digits` rounds all three (None: counts, kept as they are)."""
    if digits is not None:
        value, previous = _rounded(value, digits), _rounded(previous, digits)
    change = None if value is None or previous is None else value - previous
    if digits is not None:
        change = _rounded(change, digits)
    return {"value": value, "previous": previous, "change": change}


def _parts(found, key, column, default=None, digits=None):
    """The figure of `column` from the rows found for key + (CURRENT,) and key + (PREVIOUS,)."""
    def value(part):
        row = found.get((*key, part))
        return default if row is None or row[column] is None else row[column]
    return figure(value(CURRENT), value(PREVIOUS), digits)


# --- what a report covers ---------------------------------------------------------------

@dataclass(frozen=True)
class Scope:
    """The locations a report covers (a region's, or all the user sees) and its checklists."""

    user: object
    region_id: int | None
    checklist_ids: tuple

    def locations(self, stmt):
        """Limit a SELECT that reads Location to the report's locations."""
        if self.region_id is not None:
            stmt = stmt.where(Location.region_id == self.region_id)
        return access.in_scope(stmt, self.user, Location.id)

    def rows(self, table, location_column, levels, *columns):
        """A SELECT of `columns` of the rows of `table` at the report's locations, with
        the id of their group at each of `levels` (a column named after the level).

        The locations are given as `location_column IN (SELECT id FROM locations ...)`, so
        that the databases read the rows location by location through the indexes that
        start with location_id; locations is joined only to group by region across regions
        (within one region its id is a constant)."""
        keys = {"location": location_column, "organisation": sa.literal_column("0"),
                "region": Location.region_id if self.region_id is None
                else sa.literal_column(str(int(self.region_id)))}
        stmt = sa.select(*[keys[level].label(level) for level in levels], *columns
                         ).select_from(table)
        if "region" in levels and self.region_id is None and table is not Location:
            stmt = stmt.join(Location, Location.id == location_column)
        # Even when that is every location: then too the audits' covering index is read
        # location by location, instead of the table through the checklist index.
        stmt = stmt.where(location_column.in_(
            self.locations(sa.select(Location.id)).correlate(None)))
        return stmt


def _period_part(column, period):
    """1 for rows of the period, 0 for rows of the previous one (rows of neither are left
    out by _in_periods)."""
    return sa.case((column >= period.start, CURRENT), else_=PREVIOUS).label("part")


def _percent(part, whole):
    """100 x part / whole as a float (NULL when whole is 0)."""
    return sa.cast(100 * part, sa.Float) / sa.func.nullif(whole, 0)


def _in_periods(column, period):
    return sa.and_(column >= period.previous.start, column < period.end)


def _each_level(levels, rows, build):
    """The rows of build(group_rows) for each level, in one statement, with a `level`
    column; as mappings. `rows` (a Scope.rows SELECT for those levels) is read once, as a
    MATERIALIZED common table expression; group_rows are its rows with their group's
    id at the level as `group_id`."""
    shared = rows.cte().prefix_with("MATERIALIZED")
    columns = [column for column in shared.c if column.key not in levels]
    selects = [build(sa.select(shared.c[level].label("group_id"), *columns).subquery())
               .add_columns(sa.literal_column(f"'{level}'").label("level"))
               for level in levels]
    return db.session.execute(sa.union_all(*selects)).mappings().all()


def _index(rows, *keys):
    return {tuple(row[key] for key in keys): row for row in rows}


def _audit_rows(scope, levels, *columns):
    """A SELECT of the report's audits (of its checklists): their groups at `levels`
    and `columns`."""
    return scope.rows(Audit, Audit.location_id, levels, *columns).where(
        Audit.checklist_id.in_(scope.checklist_ids))


def _period_audit_rows(scope, levels, period, *columns):
    """The report's audits submitted in the period or the previous one, with `part`."""
    return _audit_rows(scope, levels, _period_part(Audit.submitted_at, period), *columns).where(
        _in_periods(Audit.submitted_at, period))


# --- the figure queries -------------------------------------------------------------------

def audit_figures(scope, levels, period):
    """Per group and part, over all the report's checklists (checklist_id NULL) and per
    checklist: audits, mean score, audits with a critical failure, locations audited.
    {(level, group_id, checklist_id, part): row}."""
    def build(rows):
        def figures(checklist):
            return sa.select(
                rows.c.group_id, rows.c.part, checklist.label("checklist_id"),
                sa.func.count().label("audits"), sa.func.avg(rows.c.score_percent).label("score"),
                sa.func.count().filter(rows.c.critical_failed).label("critical_failures"),
                sa.func.count(sa.distinct(rows.c.location_id)).label("locations_audited"),
            ).group_by(rows.c.group_id, rows.c.part, *([checklist] if checklist is rows.c.checklist_id
                                                        else []))
        overall = figures(sa.cast(sa.null(), sa.String))
        return overall.union_all(figures(rows.c.checklist_id)).subquery().select()
    rows = _period_audit_rows(scope, levels, period, Audit.location_id, Audit.checklist_id,
                              Audit.score_percent, Audit.critical_failed)
    return _index(_each_level(levels, rows, build), "level", "group_id", "checklist_id", "part")


def weekly_scores(scope, levels, weeks):
    """Per group, checklist and week (Monday to Sunday by the audits' local dates) of
    the given weeks: the mean score and the audits. {(level, group_id, checklist_id, week): row}."""
    def build(rows):
        return sa.select(rows.c.group_id, rows.c.checklist_id, rows.c.week,
                         sa.func.avg(rows.c.score_percent).label("score"),
                         sa.func.count().label("audits")
                         ).group_by(rows.c.group_id, rows.c.checklist_id, rows.c.week)
    rows = _audit_rows(scope, levels, Audit.checklist_id, Audit.score_percent,
                       week_start(Audit.local_date).label("week")).where(
        Audit.local_date >= weeks[0], Audit.local_date < weeks[-1] + timedelta(weeks=1))
    rows = _each_level(levels, rows, build)
    return {(row["level"], row["group_id"], row["checklist_id"], as_date(row["week"])): row
            for row in rows}


def latest_audits(scope):
    """The latest audit of each checklist at each of the report's locations:
    {(location_id, checklist_id): row (id, score_percent, local_date)}. One index seek
    per location and checklist (a correlated subquery ordered by submitted_at, LIMIT 1),
    not a read of every audit the locations ever had."""
    if not scope.checklist_ids:
        return {}
    # (A UNION of one-row SELECTs: SQLite cannot name the columns of a VALUES list.)
    checklists = sa.union_all(*[sa.select(sa.literal(checklist_id, sa.String).label("checklist_id"))
                                for checklist_id in scope.checklist_ids]).subquery()
    latest = (sa.select(Audit.id).where(Audit.location_id == Location.id,
                                        Audit.checklist_id == checklists.c.checklist_id)
              .order_by(Audit.submitted_at.desc(), Audit.id.desc()).limit(1)
              .correlate(Location, checklists).scalar_subquery())
    pairs = scope.locations(sa.select(latest.label("audit_id")).select_from(Location)
                            .join(checklists, sa.true())).subquery()
    rows = db.session.execute(
        sa.select(Audit.location_id, Audit.checklist_id, Audit.id, Audit.score_percent,
                  Audit.local_date).join(pairs, pairs.c.audit_id == Audit.id)).mappings()
    return {(row["location_id"], row["checklist_id"]): row for row in rows}


def _period_audits(scope, period, *columns):
    """The report's audits of the period and the previous one, as a MATERIALIZED common
    table expression: the databases find them location by location first, and only then
    unpack their JSON documents (joined to json_each, SQLite would otherwise read every
    audit of the checklists in the periods, of all regions, through the checklist index)."""
    return _period_audit_rows(scope, (), period, *columns).cte().prefix_with("MATERIALIZED")


def section_scores(scope, period):
    """Per part, checklist and section: points / max points summed over the audits'
    sections, as a percentage. {(checklist_id, section_id, part): row}."""
    audits = _period_audits(scope, period, Audit.checklist_id, Audit.sections)
    sections = array_elements(audits.c.sections)
    rows = sa.select(audits.c.checklist_id, audits.c.part,
                     json_text(sections.c.value, "id").label("section_id"),
                     json_number(sections.c.value, "points").label("points"),
                     json_number(sections.c.value, "max_points").label("max_points"),
                     ).select_from(audits).join(sections, sa.true()).subquery()
    percent = _percent(sa.func.sum(rows.c.points), sa.func.sum(rows.c.max_points))
    stmt = sa.select(rows.c.checklist_id, rows.c.section_id, rows.c.part, percent.label("score")
                     ).group_by(rows.c.checklist_id, rows.c.section_id, rows.c.part)
    return _index(db.session.execute(stmt).mappings(), "checklist_id", "section_id", "part")


def item_failures(scope, period):
    """Per checklist, item and part, over the answers that applied and were answered
    (not N/A): answers, failures, failure rate, locations where it failed. Read from
    the audits' `scored_items` ({item id: 1 if it failed, else 0}, written at submission).
    {(checklist_id, item_id, part): row}."""
    audits = _period_audits(scope, period, Audit.checklist_id, Audit.location_id,
                            Audit.scored_items)
    items = object_entries(audits.c.scored_items)
    rows = sa.select(audits.c.checklist_id, audits.c.location_id, audits.c.part,
                     items.c.key.label("item_id"),
                     sa.cast(items.c.value, sa.Integer).label("failed"),
                     ).select_from(audits).join(items, sa.true()).subquery()
    failed = sa.func.sum(rows.c.failed)
    stmt = sa.select(
        rows.c.checklist_id, rows.c.item_id, rows.c.part, sa.func.count().label("applicable"),
        failed.label("failed"), _percent(failed, sa.func.count()).label("failure_rate"),
        sa.func.count(sa.distinct(sa.case((rows.c.failed == 1, rows.c.location_id))))
        .label("locations"),
    ).group_by(rows.c.checklist_id, rows.c.item_id, rows.c.part)
    return _index(db.session.execute(stmt).mappings(), "checklist_id", "item_id", "part")


# The phone checklist's items that the phone figures read, and what each figure counts.
PHONE_SHARES = {
    "within_3_rings": lambda r: r.rings <= 3,
    "hold_30s_or_less": lambda r: r.hold <= 30,
    "two_plus_transfers": lambda r: r.transfers >= 2,
    "not_my_department": lambda r: r.not_my_department,
    "owned": lambda r: r.owned,
}


def phone_figures(scope, period):
    """Per part, over the phone audits: calls, share answered; over the answered calls:
    median rings and hold, and the shares of PHONE_SHARES. {part: row}."""
    doc = Audit.answers
    rows = _audit_rows(
        replace(scope, checklist_ids=tuple(c for c in scope.checklist_ids
                                           if current_checklists()[c].kind == PHONE)),
        (), _period_part(Audit.submitted_at, period),
        json_true(doc, "answered", "value").label("answered"),
        json_number(doc, "rings_to_answer", "value").label("rings"),
        json_number(doc, "hold_seconds", "value").label("hold"),
        json_number(doc, "transfers", "value").label("transfers"),
        json_true(doc, "not_my_department", "value").label("not_my_department"),
        json_true(doc, "owned", "value").label("owned"),
    ).where(_in_periods(Audit.submitted_at, period)).cte().prefix_with("MATERIALIZED")
    answered = sa.func.count().filter(rows.c.answered)
    shares = [_percent(sa.func.count().filter(sa.and_(rows.c.answered, share(rows.c))), answered)
              .label(name) for name, share in PHONE_SHARES.items()]
    counts = sa.select(rows.c.part, sa.func.count().label("calls"),
                       _percent(answered, sa.func.count()).label("answered"), *shares
                       ).group_by(rows.c.part).subquery()
    answered_rows = sa.select(rows).where(rows.c.answered).subquery()
    rings = medians(sa.select(answered_rows.c.part, answered_rows.c.rings.label("value"))
                    .subquery(), ["part"]).subquery()
    hold = medians(sa.select(answered_rows.c.part, answered_rows.c.hold.label("value"))
                   .subquery(), ["part"]).subquery()
    stmt = (sa.select(counts, rings.c.median.label("median_rings"),
                      hold.c.median.label("median_hold_seconds"))
            .outerjoin(rings, rings.c.part == counts.c.part)
            .outerjoin(hold, hold.c.part == counts.c.part))
    return _index(db.session.execute(stmt).mappings(), "part")


def _action_rows(scope, levels, *columns):
    stmt = scope.rows(CorrectiveAction, CorrectiveAction.location_id, levels, *columns)
    if scope.checklist_ids is not None:
        stmt = stmt.where(CorrectiveAction.checklist_id.in_(scope.checklist_ids))
    return stmt


def action_states(scope, levels, now, *where):
    """Per group, the actions now: all (of those `where` selects), open, overdue.
    {(level, group_id): row}."""
    def build(rows):
        pending = rows.c.status.in_(PENDING)
        return sa.select(rows.c.group_id, sa.func.count().label("actions"),
                         sa.func.count().filter(pending).label("open"),
                         sa.func.count().filter(sa.and_(pending, rows.c.due_at < now))
                         .label("overdue")).group_by(rows.c.group_id)
    rows = _action_rows(scope, levels, CorrectiveAction.status, CorrectiveAction.due_at).where(*where)
    return _index(_each_level(levels, rows, build), "level", "group_id")


def action_closings(scope, levels, part, *where):
    """Per group and part, the actions whose first move to done `where` selects (`part`
    tells the period's from the previous period's): how many, the share done no later
    than due, and the median seconds from opening to that first done.
    {(level, group_id, part): row}."""
    def build(rows):
        counts = sa.select(rows.c.group_id, rows.c.part, sa.func.count().label("closed"),
                           _percent(sa.func.sum(rows.c.on_time), sa.func.count())
                           .label("closed_on_time")).group_by(rows.c.group_id, rows.c.part
                                                              ).subquery()
        middle = medians(rows, ["group_id", "part"]).subquery()
        return (sa.select(counts, middle.c.median.label("median_seconds"))
                .outerjoin(middle, sa.and_(middle.c.group_id == counts.c.group_id,
                                           middle.c.part == counts.c.part)))
    rows = _action_rows(
        scope, levels, part.label("part"),
        sa.case((CorrectiveAction.first_done_at <= CorrectiveAction.due_at, 1), else_=0)
        .label("on_time"),
        seconds_between(CorrectiveAction.opened_at, CorrectiveAction.first_done_at).label("value"),
    ).where(CorrectiveAction.first_done_at.is_not(None), *where)
    return _index(_each_level(levels, rows, build), "level", "group_id", "part")


def location_counts(scope, level):
    """{group_id: the number of the report's locations} at a level."""
    rows = scope.rows(Location, Location.id, (level,)).subquery()
    stmt = sa.select(rows.c[level], sa.func.count()).group_by(rows.c[level])
    return dict(db.session.execute(stmt).all())


# --- the reports ------------------------------------------------------------------------------

def _may_read_reports(user):
    if user.role not in REPORT_ROLES:
        raise NotFound("No such report.")


def visible_region(user, code):
    """The region of that code if the user may read its report, else NotFound."""
    _may_read_reports(user)
    stmt = sa.select(Region).where(Region.code == code)
    visible = access.visible_region_ids(user)
    if visible is not None:
        stmt = stmt.where(Region.id.in_(visible))
    region = db.session.scalar(stmt)
    if region is None:
        raise NotFound("No such region.")
    return region


def report_checklists(checklist_id=None):
    """The current checklists a report covers (one, if `checklist_id` names one), by id."""
    checklists = current_checklists()
    if checklist_id is None:
        return [checklists[key] for key in sorted(checklists)]
    if checklist_id not in checklists:
        _refuse("checklist_id", "Not a checklist: " + ", ".join(sorted(checklists)) + ".")
    return [checklists[checklist_id]]


def _place(row):
    return {"id": row.id, "code": row.code, "name": row.name}


def _location(location):
    return {**_place(location), "timezone": location.timezone}


def _checklist(checklist):
    return {"id": checklist.id, "kind": checklist.kind, "title": checklist.definition["title"]}


def _header(period, checklist_id, checklists):
    previous = period.previous
    return {"period": period.as_dict(),
            "previous_period": {"from": previous.start, "to": previous.end},
            "checklist_id": checklist_id,
            "checklists": [_checklist(c) for c in checklists]}


@dataclass
class _Found:
    """What the figure queries found for a report, read by the shaping functions."""

    audits: dict
    states: dict
    closings: dict


def _found(scope, levels, period, now):
    return _Found(
        audits=audit_figures(scope, levels, period),
        states=action_states(scope, levels, now, CorrectiveAction.status.in_(PENDING)),
        closings=action_closings(scope, levels, _period_part(CorrectiveAction.first_done_at, period),
                                 _in_periods(CorrectiveAction.first_done_at, period)),
    )


def _hours(found, key):
    figures = _parts(found, key, "median_seconds")
    return figure(*(None if figures[side] is None else figures[side] / SECONDS_PER_HOUR
                    for side in ("value", "previous")), digits=1)


def _actions(found, level, group_id):
    state = found.states.get((level, group_id))
    key = (level, group_id)
    return {"open": state["open"] if state else 0, "overdue": state["overdue"] if state else 0,
            "closed": _parts(found.closings, key, "closed", default=0),
            "median_hours_to_close": _hours(found.closings, key),
            "closed_on_time": _parts(found.closings, key, "closed_on_time", digits=1)}


def _summary(found, level, group_id, locations, checklists):
    overall = (level, group_id, None)
    return {
        "audits": _parts(found.audits, overall, "audits", default=0),
        "locations": locations,
        "locations_audited": _parts(found.audits, overall, "locations_audited", default=0),
        "critical_failures": _parts(found.audits, overall, "critical_failures", default=0),
        "scores": [{"checklist_id": c.id,
                    "score": _parts(found.audits, (level, group_id, c.id), "score", digits=1),
                    "audits": _parts(found.audits, (level, group_id, c.id), "audits", default=0)}
                   for c in checklists],
        "actions": _actions(found, level, group_id),
    }


def _weeks(weekly, level, group_id, checklist_id, weeks):
    return [{"week": week, "score": _rounded(row["score"], 1) if row else None,
             "audits": row["audits"] if row else 0}
            for week in weeks for row in [weekly.get((level, group_id, checklist_id, week))]]


def _labels(checklists, key):
    """{(checklist_id, id): {"es", "en"}} of every item (key "items") or section (key
    "sections") of the checklists' stored versions, the current version's text winning."""
    versions = db.session.scalars(
        sa.select(ChecklistVersion).where(ChecklistVersion.checklist_id.in_([c.id for c in checklists]))
        .order_by(ChecklistVersion.created_at)).all()
    labels = {}
    for definition in [v.definition for v in versions] + [c.definition for c in checklists]:
        for section in definition["sections"]:
            if key == "sections":
                labels[(definition["id"], section["id"])] = section["title"]
            else:
                for item in section["items"]:
                    labels[(definition["id"], item["id"])] = item["label"]
    return labels


def item_label(checklist_id, item_id):
    """An item's label ({"es", "en"}) as the reports give it (the current version's text,
    else that of the stored version that has it); KeyError if no version has it."""
    return _labels(report_checklists(checklist_id), "items")[(checklist_id, item_id)]


def _sections(scope, period, checklists):
    found = section_scores(scope, period)
    titles = _labels(checklists, "sections")
    order = {(c.id, s["id"]): n for c in checklists for n, s in enumerate(c.definition["sections"])}
    keys = sorted({key[:2] for key in found},
                  key=lambda k: (k[0], order.get(k, len(order)), k[1]))
    return [{"checklist_id": checklist_id, "section_id": section_id,
             "title": titles.get((checklist_id, section_id), {"es": section_id, "en": section_id}),
             "score": _parts(found, (checklist_id, section_id), "score", digits=1)}
            for checklist_id, section_id in keys]


def _most_failed(scope, period, checklists):
    found = item_failures(scope, period)
    labels = _labels(checklists, "items")
    failing = [found[key] for key in found if key[2] == CURRENT and found[key]["failed"]]
    ranked = sorted(failing, key=lambda r: (r["applicable"] < FEW_ANSWERS, -r["failure_rate"],
                                            -r["failed"], r["checklist_id"], r["item_id"]))
    enough = [r for r in ranked if r["applicable"] >= FEW_ANSWERS][:MOST_FAILED]
    few = [r for r in ranked if r["applicable"] < FEW_ANSWERS]
    return [{"checklist_id": r["checklist_id"], "item_id": r["item_id"],
             "label": labels.get((r["checklist_id"], r["item_id"]),
                                 {"es": r["item_id"], "en": r["item_id"]}),
             "failure_rate": _parts(found, (r["checklist_id"], r["item_id"]), "failure_rate",
                                    digits=1),
             "failed": r["failed"], "applicable": r["applicable"], "locations": r["locations"],
             "few_answers": r["applicable"] < FEW_ANSWERS}
            for r in enough + few]


def _phone(scope, period):
    found = phone_figures(scope, period)
    return {"calls": _parts(found, (), "calls", default=0),
            "answered": _parts(found, (), "answered", digits=1),
            "median_rings": _parts(found, (), "median_rings", digits=0),
            "within_3_rings": _parts(found, (), "within_3_rings", digits=1),
            "median_hold_seconds": _parts(found, (), "median_hold_seconds", digits=0),
            "hold_30s_or_less": _parts(found, (), "hold_30s_or_less", digits=1),
            "two_plus_transfers": _parts(found, (), "two_plus_transfers", digits=1),
            "not_my_department": _parts(found, (), "not_my_department", digits=1),
            "owned": _parts(found, (), "owned", digits=1)}


def _ranked(rows):
    """Rank locations worst score first, ties (same score and audits) sharing a rank, fewer
    audits first; those without an audit in the period after, unranked, by code."""
    audited = sorted((r for r in rows if r["audits"]["value"]),
                     key=lambda r: (r["score"]["value"] is None, r["score"]["value"] or 0,
                                    r["audits"]["value"], r["location"]["code"]))
    rank, last = 0, None
    for position, row in enumerate(audited, start=1):
        standing = (row["score"]["value"], row["audits"]["value"])
        if standing != last:
            rank, last = position, standing
        row["rank"] = rank
    not_audited = sorted((r for r in rows if not r["audits"]["value"]),
                         key=lambda r: r["location"]["code"])
    return audited + not_audited


def _location_row(location, found, weekly, latest, weeks, checklists, now):
    key = ("location", location.id)
    today = now.astimezone(ZoneInfo(location.timezone)).date()

    def checklist_row(checklist):
        last = latest.get((location.id, checklist.id))
        return {
            "checklist_id": checklist.id,
            "score": _parts(found.audits, (*key, checklist.id), "score", digits=1),
            "audits": (found.audits.get((*key, checklist.id, CURRENT)) or {"audits": 0})["audits"],
            "latest": None if last is None else {
                "audit_id": last["id"], "score": last["score_percent"],
                "local_date": as_date(last["local_date"])},
            "days_since_last": None if last is None else (today - as_date(last["local_date"])).days,
            "trend": [{"week": w["week"], "score": w["score"]}
                      for w in _weeks(weekly, *key, checklist.id, weeks)],
        }
    actions = _actions(found, *key)
    return {
        "rank": None, "location": _location(location),
        "score": _parts(found.audits, (*key, None), "score", digits=1),
        "audits": _parts(found.audits, (*key, None), "audits", default=0),
        "checklists": [checklist_row(c) for c in checklists],
        "critical_failures": _parts(found.audits, (*key, None), "critical_failures", default=0),
        "actions": {name: actions[name] for name in
                    ("open", "overdue", "median_hours_to_close", "closed_on_time")},
    }


def region_report(user, code, period, checklist_id=None, now=None):
    """The region report (see docs/reports.md for each figure): NotFound unless the user
    may read it; InvalidInput for an unknown checklist."""
    now = now or utcnow()
    region = visible_region(user, code)
    checklists = report_checklists(checklist_id)
    scope = Scope(user, region.id, tuple(c.id for c in checklists))
    locations = db.session.scalars(scope.locations(sa.select(Location)).order_by(Location.code)).all()
    levels = ("location", "region")
    found = _found(scope, levels, period, now)
    weeks = period.weeks()
    weekly = weekly_scores(scope, levels, weeks)
    latest = latest_audits(scope)
    return {
        "region": _place(region),
        **_header(period, checklist_id, checklists),
        "summary": _summary(found, "region", region.id, len(locations), checklists),
        "weekly": [{"checklist_id": c.id, "weeks": _weeks(weekly, "region", region.id, c.id, weeks)}
                   for c in checklists],
        "sections": _sections(scope, period, checklists),
        "most_failed": _most_failed(scope, period, checklists),
        "phone": _phone(scope, period),
        "locations": _ranked([_location_row(location, found, weekly, latest, weeks, checklists, now)
                              for location in locations]),
        "coverage": _coverage(scope, locations, checklists, period, now),
    }


def _coverage(scope, locations, checklists, period, now):
    return cadence.region_coverage(scope.locations(sa.select(Location.id)), locations,
                                   checklists, period, now)


def region_coverage(user, code, period, now=None):
    """The coverage block of the region's report (every checklist) over the period: what
    region_report gives as "coverage". NotFound unless the user may read the report."""
    now = now or utcnow()
    region = visible_region(user, code)
    checklists = report_checklists()
    scope = Scope(user, region.id, tuple(c.id for c in checklists))
    locations = db.session.scalars(scope.locations(sa.select(Location)).order_by(Location.code)).all()
    return _coverage(scope, locations, checklists, period, now)


def organisation_report(user, period, checklist_id=None, now=None):
    """The organisation overview: the summary of every region the user sees (admin: all;
    regional: theirs; a manager: NotFound), and of them all together."""
    now = now or utcnow()
    _may_read_reports(user)
    checklists = report_checklists(checklist_id)
    stmt = sa.select(Region).order_by(Region.code)
    visible = access.visible_region_ids(user)
    if visible is not None:
        stmt = stmt.where(Region.id.in_(visible))
    regions = db.session.scalars(stmt).all()
    scope = Scope(user, None, tuple(c.id for c in checklists))
    found = _found(scope, ("region", "organisation"), period, now)
    counts = location_counts(scope, "region")
    return {
        **_header(period, checklist_id, checklists),
        "summary": _summary(found, "organisation", 0, sum(counts.values()), checklists),
        "regions": [{"region": _place(region), "locations": counts.get(region.id, 0),
                     "summary": _summary(found, "region", region.id, counts.get(region.id, 0),
                                         checklists)}
                    for region in regions],
    }


def failed_item_audits(user, code, checklist_id, item_id, period, page, per_page):
    """One page of the region's audits of the period in which the item failed, newest
    first, and their total: rows {audit_id, location, local_date, score, comment}.
    NotFound unless the user may read the region's report and a current checklist has
    the item (in any of its stored versions)."""
    region = visible_region(user, code)
    checklist = current_checklists().get(checklist_id)
    if checklist is None or (checklist_id, item_id) not in _labels([checklist], "items"):
        raise NotFound("No such checklist item.")
    scope = Scope(user, region.id, (checklist_id,))
    stmt = _audit_rows(scope, (), Audit.location_id, Audit.id, Audit.submitted_at,
                       Audit.local_date, Audit.score_percent,
                       json_text(Audit.answers, item_id, "comment").label("comment"),
                       Location.code, Location.name, Location.timezone
                       ).join(Location, Location.id == Audit.location_id).where(
        Audit.submitted_at >= period.start, Audit.submitted_at < period.end,
        json_true(Audit.answers, item_id, "failed"))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    rows = db.session.execute(stmt.order_by(Audit.submitted_at.desc(), Audit.id)
                              .limit(per_page).offset((page - 1) * per_page)).mappings()
    return [{"audit_id": row["id"],
             "location": {"id": row["location_id"], "code": row["code"], "name": row["name"],
                          "timezone": row["timezone"]},
             "local_date": as_date(row["local_date"]), "score": row["score_percent"],
             "comment": row["comment"] or ""} for row in rows], total


# --- action metrics ----------------------------------------------------------------------

def action_metrics(user, group_by="location", since=None, now=None):
    """Per location or region, the actions opened since `since` (all if None) that the user
    may see: open, overdue, closed (a first move to done), median hours from opening to
    that first done, and the share of those done no later than due."""
    if group_by not in METRIC_GROUPS:
        raise InvalidInput("Unknown grouping.", {"group_by": ["Must be location or region."]})
    now = now or utcnow()
    scope = Scope(user, None, None)
    opened = () if since is None else (CorrectiveAction.opened_at >= since,)
    states = action_states(scope, [group_by], now, *opened)
    closings = action_closings(scope, [group_by], sa.literal_column(str(CURRENT)), *opened)
    group = Location if group_by == "location" else Region
    places = db.session.scalars(sa.select(group).where(group.id.in_([key[1] for key in states]))
                                .order_by(group.code))
    metrics = []
    for place in places:
        closed = closings.get((group_by, place.id, CURRENT))
        state = states[(group_by, place.id)]
        metrics.append({
            "group": _place(place), "open": state["open"], "overdue": state["overdue"],
            "closed": closed["closed"] if closed else 0,
            "median_hours_to_close": (None if closed is None or closed["median_seconds"] is None
                                      else round(closed["median_seconds"] / SECONDS_PER_HOUR, 2)),
            "closed_on_time_share": None if closed is None else round(
                closed["closed_on_time"] / 100, 4),
        })
    return metrics
