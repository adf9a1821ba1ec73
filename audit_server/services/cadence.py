"""Cadence: how often each checklist is due at a region's locations, and what is due.

Every location has, per checklist, its own clock: the next audit is due `days` days
after the local date of its latest audit (the region's cadence for the checklist, or
the default of the checklist's kind). docs/cadence.md states the rule; it is written
once, as SQL (`due_state`), and read by everyone: the manager's home and
`GET /api/v1/locations/<id>/due` (`location_due`), and the region report's coverage
(`region_coverage`), which computes every location of the region in one statement.
"""
from datetime import timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..models import Audit, Cadence, Location, Region
from ..models.cadences import MAX_DAYS, MIN_DAYS
from ..models.types import utcnow
from . import activity
from .checklists import current_checklists
from .errors import InvalidInput, NotFound
from .org import get_location
from .sql_dialects import add_days, as_date, days_between, is_postgresql

# The cadence of a checklist where its region has none: by the checklist's kind.
DEFAULT_DAYS = {"walk_in": 7, "phone": 14}
OTHER_KIND_DAYS = 7
DONE, DUE, OVERDUE = "done", "due", "overdue"
STATES = (DONE, DUE, OVERDUE)
NOW, END, PREVIOUS = "now", "end", "previous"
INSTANT = timedelta(microseconds=1)


def default_days(checklist):
    return DEFAULT_DAYS.get(checklist.kind, OTHER_KIND_DAYS)


def _checklists():
    """The current checklists, by id."""
    checklists = current_checklists()
    return [checklists[key] for key in sorted(checklists)]


# --- setting a cadence ------------------------------------------------------------------

def _region(code):
    # A code with a NUL is no region's (and PostgreSQL refuses it in a query).
    region = None if "\x00" in code else db.session.scalar(sa.select(Region).where(Region.code == code))
    if region is None:
        codes = db.session.scalars(sa.select(Region.code).order_by(Region.code)).all()
        known = ", ".join(codes) if codes else "none yet"
        raise NotFound(f"No region {code!r}.", {"region": [f"Regions: {known}."]})
    return region


def _checklist(checklist_id):
    checklists = current_checklists()
    if checklist_id not in checklists:
        raise NotFound(f"No checklist {checklist_id!r}.",
                       {"checklist": ["Checklists: " + ", ".join(sorted(checklists)) + "."]})
    return checklists[checklist_id]


def days_error(days):
    """Why `days` is not a cadence (None if it is one)."""
    if not isinstance(days, int) or isinstance(days, bool) or not MIN_DAYS <= days <= MAX_DAYS:
        return f"A cadence is a whole number of days from {MIN_DAYS} to {MAX_DAYS}."
    return None


def _snapshot(region, checklist):
    own = db.session.scalar(sa.select(Cadence.days).where(
        Cadence.region_id == region.id, Cadence.checklist_id == checklist.id))
    return {"days": own if own is not None else default_days(checklist), "default": own is None}


def _record(actor, action, region, checklist, before, after):
    changed_before, changed_after = activity.changes(before, after)
    if changed_after:
        activity.record(actor, action, "cadence", f"{region.code}/{checklist.id}",
                        f"{region.code} · {checklist.id}", changed_before, changed_after)


def set_cadence(region_code, checklist_id, days, actor=None):
    """Make the checklist due every `days` days at the region's locations (from now on,
    counted from each location's latest audit). NotFound for an unknown region or
    checklist, InvalidInput for a number of days that is not a cadence."""
    region, checklist = _region(region_code), _checklist(checklist_id)
    if problem := days_error(days):
        raise InvalidInput(problem, {"days": [problem]})
    before = _snapshot(region, checklist)
    insert = (postgresql if is_postgresql() else sqlite).insert(Cadence).values(
        region_id=region.id, checklist_id=checklist.id, days=days, updated_at=utcnow())
    db.session.execute(insert.on_conflict_do_update(
        index_elements=[Cadence.region_id, Cadence.checklist_id],
        set_={"days": insert.excluded.days, "updated_at": insert.excluded.updated_at}))
    _record(actor, "cadence.set", region, checklist, before, {"days": days, "default": False})
    db.session.commit()
    return region, checklist


def reset_cadence(region_code, checklist_id, actor=None):
    """Give the region the default cadence of the checklist again; True if it had its own."""
    region, checklist = _region(region_code), _checklist(checklist_id)
    before = _snapshot(region, checklist)
    deleted = db.session.execute(sa.delete(Cadence).where(
        Cadence.region_id == region.id, Cadence.checklist_id == checklist.id)).rowcount
    _record(actor, "cadence.reset", region, checklist, before,
            {"days": default_days(checklist), "default": True})
    db.session.commit()
    return bool(deleted)


def cadences(region_code=None):
    """Every region's (or one region's) cadence of every current checklist:
    [{region, checklist_id, days, default}], by region code and checklist id."""
    regions = ([_region(region_code)] if region_code is not None
               else db.session.scalars(sa.select(Region).order_by(Region.code)).all())
    own = {(row.region_id, row.checklist_id): row.days for row in db.session.scalars(
        sa.select(Cadence).where(Cadence.region_id.in_([r.id for r in regions])))}
    return [{"region": region, "checklist_id": checklist.id,
             "days": own.get((region.id, checklist.id), default_days(checklist)),
             "default": (region.id, checklist.id) not in own}
            for region in regions for checklist in _checklists()]


# --- the rule ---------------------------------------------------------------------------

def due_state(today, last, days):
    """The rule, as SQL expressions of a location's `today` (its clock's date), the local
    date of its `last` audit of a checklist (NULL: never audited) and the cadence `days`:

    - next due: last + days (never audited: today);
    - done (for this period): today is before next due: an audit within the `days` days
      ending today; this is what "covered" means;
    - due: today is the day it is due, or it was never audited;
    - overdue by N days: N = today - next due, when that is more than 0.
    """
    since = days_between(last, today)
    return {
        "days_since_last": since,
        "next_due": sa.case((last.is_(None), today), else_=add_days(last, days)),
        "state": sa.case((last.is_(None), DUE), (since < days, DONE), (since == days, DUE),
                         else_=OVERDUE),
        "overdue_days": sa.case((since > days, since - days), else_=0),
    }


def _local_day(instant, zones):
    """The date of `instant` on each location's clock (a CASE over the zones given)."""
    return sa.case({zone: sa.literal(instant.astimezone(ZoneInfo(zone)).date(), sa.Date)
                    for zone in sorted(zones)}, value=Location.timezone)


def _checklist_rows(checklists):
    # A UNION of one-row SELECTs: SQLite cannot name the columns of a VALUES list.
    return sa.union_all(*[sa.select(sa.literal(c.id, sa.String).label("checklist_id"),
                                    sa.literal(default_days(c), sa.Integer).label("default_days"))
                          for c in checklists]).subquery("checklists")


def states(location_ids, zones, checklists, moments):
    """A SELECT of the state of each of the locations (`location_ids`: ids, or a SELECT of
    them; `zones`: every time zone among them) for each checklist, on the day each of
    `moments` ({name: UTC instant}) falls on at the location: location_id, code,
    checklist_id, days, and per moment `name`: `day_<name>`, `last_<name>` (the latest
    audit's local date on or before that day), and the columns of `due_state`,
    suffixed `_<name>`.

    One statement: the latest local dates come from one GROUP BY location and
    checklist over the locations' audits (index ix_audits_location_checklist_date)."""
    listed = _checklist_rows(checklists)
    days_of = {name: _local_day(instant, zones) for name, instant in moments.items()}
    latest = (
        sa.select(Audit.location_id, Audit.checklist_id,
                  *[sa.func.max(Audit.local_date).filter(Audit.local_date <= day).label(name)
                    for name, day in days_of.items()])
        .join(Location, Location.id == Audit.location_id)
        .where(Audit.location_id.in_(location_ids),
               Audit.checklist_id.in_([c.id for c in checklists]))
        .group_by(Audit.location_id, Audit.checklist_id)
    ).subquery("latest")
    base = (
        sa.select(Location.id.label("location_id"), Location.code, listed.c.checklist_id,
                  sa.func.coalesce(Cadence.days, listed.c.default_days).label("days"),
                  *[day.label(f"day_{name}") for name, day in days_of.items()],
                  *[latest.c[name].label(f"last_{name}") for name in moments])
        .select_from(Location).join(listed, sa.true())
        .outerjoin(Cadence, sa.and_(Cadence.region_id == Location.region_id,
                                    Cadence.checklist_id == listed.c.checklist_id))
        .outerjoin(latest, sa.and_(latest.c.location_id == Location.id,
                                   latest.c.checklist_id == listed.c.checklist_id))
        .where(Location.id.in_(location_ids))
    ).subquery("base")
    columns = []
    for name in moments:
        rule = due_state(base.c[f"day_{name}"], base.c[f"last_{name}"], base.c.days)
        columns += [base.c[f"day_{name}"], base.c[f"last_{name}"],
                    *[expression.label(f"{key}_{name}") for key, expression in rule.items()]]
    return sa.select(base.c.location_id, base.c.code, base.c.checklist_id, base.c.days, *columns)


def _state_of(row, moment, checklist):
    last = as_date(row[f"last_{moment}"])
    return {
        "checklist_id": checklist.id, "kind": checklist.kind,
        "title": checklist.definition["title"], "cadence_days": row["days"],
        "state": row[f"state_{moment}"],
        "last_audit_date": last,
        "days_since_last": None if last is None else row[f"days_since_last_{moment}"],
        "next_due": as_date(row[f"next_due_{moment}"]),
        "overdue_days": row[f"overdue_days_{moment}"],
        "never_audited": last is None,
    }


# --- the readers ------------------------------------------------------------------------

def worst_first(row):
    """The order of rows of states ({location, **state}) worst first: never audited, then
    most days overdue, then due today, then done; then by location code and checklist."""
    return (not row["never_audited"], -row["overdue_days"], row["state"] == DONE,
            row["location"]["code"], row["checklist_id"])


def _due_rows(locations, now):
    """(location id, state) of each of `locations` (Location rows) per current checklist
    on its clock at `now`: one statement."""
    checklists = {c.id: c for c in _checklists()}
    rows = db.session.execute(states([location.id for location in locations],
                                     {location.timezone for location in locations},
                                     checklists.values(), {NOW: now})).mappings()
    return [(row["location_id"], _state_of(row, NOW, checklists[row["checklist_id"]]))
            for row in rows]


def location_due(user, location_id, now=None):
    """What is due at a location the user may see (else NotFound), per current checklist:
    {location, today, checklists: [{checklist_id, kind, title, cadence_days, state,
    last_audit_date, days_since_last, next_due, overdue_days, never_audited}]}."""
    now = now or utcnow()
    location = get_location(user, location_id)
    return {
        "location": _place(location),
        "today": now.astimezone(ZoneInfo(location.timezone)).date(),
        "checklists": sorted((state for _, state in _due_rows([location], now)),
                             key=lambda state: state["checklist_id"]),
    }


def locations_due(locations, now=None):
    """What is due at each of `locations` (Location rows the caller may show), per current
    checklist, worst first: [{location: {id, code, name, timezone}, **the states of
    location_due}]."""
    if not locations:
        return []
    now = now or utcnow()
    places = {location.id: _place(location) for location in locations}
    return sorted(({"location": places[location_id], **state}
                   for location_id, state in _due_rows(locations, now)), key=worst_first)


def region_coverage(location_ids, locations, checklists, period, now):
    """The coverage block of a region report: per checklist, the share of the locations
    covered (audited within their cadence) on the day the period ends (today, for a period
    that ends now) beside the same share on the day the previous period ends; and the
    locations not covered now, worst first (never audited, then most days overdue).

    `location_ids` is the SELECT of the report's locations, `locations` those locations
    (their zones and names). One statement: the states of every location with the counts
    per checklist as window sums."""
    from .reports import figure  # reports calls this module: import when called

    if not checklists:
        return {"checklists": [], "overdue": []}
    zones = {location.timezone for location in locations} or {"UTC"}
    moments = {NOW: now, END: min(period.end, now) - INSTANT,
               PREVIOUS: min(period.start, now) - INSTANT}
    rows = states(location_ids, zones, checklists, moments).subquery()
    per_checklist = [rows.c.checklist_id]

    def covered(moment):
        return sa.func.sum(sa.case((rows.c[f"state_{moment}"] == DONE, 1), else_=0)).over(
            partition_by=per_checklist)

    total = sa.func.count().over(partition_by=per_checklist)
    stmt = sa.select(
        rows, total.label("locations"),
        *[covered(m).label(f"covered_{m}") for m in (END, PREVIOUS)],
        *[(sa.cast(100 * covered(m), sa.Float) / sa.func.nullif(total, 0)).label(f"share_{m}")
          for m in (END, PREVIOUS)],
    )
    found = db.session.execute(stmt).mappings().all()
    by_id = {c.id: c for c in checklists}
    first = {}
    for row in found:
        first.setdefault(row["checklist_id"], row)
    places = {location.id: location for location in locations}
    overdue = [{"location": _place(places[row["location_id"]]),
                **_state_of(row, NOW, by_id[row["checklist_id"]])}
               for row in found if row[f"last_{NOW}"] is None or row[f"state_{NOW}"] == OVERDUE]
    overdue.sort(key=worst_first)
    return {
        "checklists": [{
            "checklist_id": c.id, "cadence_days": first[c.id]["days"] if c.id in first else None,
            "locations": first[c.id]["locations"] if c.id in first else 0,
            "covered": figure(*(first[c.id][f"covered_{m}"] if c.id in first else 0
                                for m in (END, PREVIOUS))),
            "coverage": figure(*(first[c.id][f"share_{m}"] if c.id in first else None
                                 for m in (END, PREVIOUS)), digits=1),
        } for c in checklists],
        "overdue": overdue,
    }


def _place(location):
    return {"id": location.id, "code": location.code, "name": location.name,
            "timezone": location.timezone}
