"""The organisation: regions and locations, and importing locations from CSV."""
import csv
import io
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Location, Region
from . import access, activity
from .errors import InvalidInput, NotFound

# The longest text each column holds (regions' codes and names are as long as locations').
CODE_MAX, NAME_MAX = Location.code.type.length, Location.name.type.length
ADDRESS_MAX, PHONE_MAX = Location.address.type.length, Location.phone.type.length
CODE = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9_-]{{0,{CODE_MAX - 1}}}$")
PHONE = re.compile(rf"^\+?[0-9 ()./-]{{3,{PHONE_MAX - 1}}}$")
CSV_COLUMNS = ("code", "name", "region", "address", "phone", "timezone")


def is_time_zone(name):
    """Whether `name` is an IANA time zone name this server knows (e.g. Europe/Madrid)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def visible_locations(user):
    stmt = access.in_scope(sa.select(Location), user, Location.id).order_by(Location.code)
    return db.session.scalars(stmt.options(selectinload(Location.region))).all()


def get_location(user, location_id):
    return _visible_location(user, Location.id == location_id)


def location_by_code(user, code):
    return _visible_location(user, Location.code == code)


def _visible_location(user, condition):
    stmt = access.in_scope(sa.select(Location).where(condition), user, Location.id)
    location = db.session.scalar(stmt)
    if location is None:
        raise NotFound("No such location.")
    return location


NUL = "\x00"


def _text_error(value, limit, required=True):
    """Why a text field is not valid (None if it is): required, at most `limit`, no NUL."""
    if NUL in value:
        return "must not contain the NUL character"
    if required and not value.strip():
        return f"required, at most {limit} characters"
    if len(value) > limit:
        return f"at most {limit} characters"
    return None


def _code_error(code):
    if NUL in code:
        return "must not contain the NUL character"
    if not CODE.match(code):
        return f"letters, digits, - and _ only (at most {CODE_MAX})"
    return None


def region_snapshot(region):
    return {"code": region.code, "name": region.name}


def create_region(code, name, actor=None):
    """A new region (its code is its name where no name is given). Its code cannot change
    afterwards: it names the region in URLs, CSV imports and the CLI."""
    code, name = (code or "").strip(), (name or "").strip() or (code or "").strip()
    errors = {}
    if problem := _code_error(code):
        errors["code"] = [problem]
    elif db.session.scalar(sa.select(Region).filter_by(code=code)):
        errors["code"] = [f"Region {code!r} already exists."]
    if problem := _text_error(name, NAME_MAX):
        errors["name"] = [problem]
    if errors:
        raise InvalidInput("The region is not valid.", errors)
    region = Region(code=code, name=name)
    db.session.add(region)
    db.session.flush()
    if actor is not None:  # the admin pages; the CLI and the fixtures log nothing, as before
        activity.record(actor, "region.create", "region", region.id, code, None,
                        region_snapshot(region))
    db.session.commit()
    return region


def region_by_code(code):
    region = db.session.scalar(sa.select(Region).where(Region.code == code))
    if region is None:
        raise NotFound(f"No region {code!r}.")
    return region


def update_region(code, name, actor=None):
    """Rename a region (its code does not change)."""
    region = region_by_code(code)
    name = (name or "").strip()
    if problem := _text_error(name, NAME_MAX):
        raise InvalidInput("The region is not valid.", {"name": [problem]})
    before = region_snapshot(region)
    region.name = name
    changed_before, changed_after = activity.changes(before, region_snapshot(region))
    if changed_after:
        activity.record(actor, "region.update", "region", region.id, region.code,
                        changed_before, changed_after)
    db.session.commit()
    return region


def regions_with_counts():
    """[(region, number of locations)] by code."""
    stmt = (sa.select(Region, sa.func.count(Location.id)).outerjoin(Location)
            .group_by(Region.id).order_by(Region.code))
    return [(region, count) for region, count in db.session.execute(stmt)]


def all_locations(region_code=None):
    stmt = sa.select(Location).options(selectinload(Location.region)).order_by(Location.code)
    if region_code:
        stmt = stmt.join(Region).where(Region.code == region_code)
    return db.session.scalars(stmt).all()


def location_snapshot(location):
    return {"code": location.code, "name": location.name, "region": location.region.code,
            "address": location.address, "phone": location.phone, "timezone": location.timezone}


def location_field_errors(row):
    """{field: message} of what is wrong with a location's fields (code, name, address,
    phone, timezone: stripped text): the one rule of the forms and the CSV import."""
    errors = {}
    if problem := _code_error(row["code"]):
        errors["code"] = problem
    if problem := _text_error(row["name"], NAME_MAX):
        errors["name"] = problem
    if problem := _text_error(row["address"], ADDRESS_MAX, required=False):
        errors["address"] = problem
    if row["phone"] and not PHONE.match(row["phone"]):
        errors["phone"] = f"{row['phone']!r} is not a phone number"
    if not is_time_zone(row["timezone"]) or NUL in row["timezone"]:
        errors["timezone"] = f"{row['timezone']!r} is not a time zone (e.g. Europe/Madrid)"
    return errors


def _location_row(data):
    row = {c: (data.get(c) or "").strip() for c in CSV_COLUMNS}
    row["timezone"] = row["timezone"] or "UTC"
    return row


def save_location(data, actor=None, code=None):
    """Create a location (code None) or edit the one with `code` from form fields (code,
    name, region: a region code, address, phone, timezone). Editing may change the code
    if no other location has it. InvalidInput per field, nothing written."""
    location = None
    if code is not None:
        location = db.session.scalar(sa.select(Location).where(Location.code == code))
        if location is None:
            raise NotFound(f"No location {code!r}.")
    row = _location_row(data)
    errors = {field: [message] for field, message in location_field_errors(row).items()}
    if "code" not in errors:
        other = db.session.scalar(sa.select(Location).where(Location.code == row["code"]))
        if other is not None and other is not location:
            errors["code"] = [f"Location {row['code']!r} already exists."]
    region = None if NUL in row["region"] else db.session.scalar(
        sa.select(Region).where(Region.code == row["region"]))
    if region is None:
        errors["region"] = [f"unknown region code {row['region']!r}"]
    if errors:
        raise InvalidInput("The location is not valid.", errors)
    before = location_snapshot(location) if location is not None else None
    if location is None:
        location = Location(code=row["code"])
        db.session.add(location)
    location.code, location.name, location.address = row["code"], row["name"], row["address"]
    location.phone, location.timezone, location.region = row["phone"], row["timezone"], region
    db.session.flush()
    after = location_snapshot(location)
    if before is None:
        activity.record(actor, "location.create", "location", location.id, location.code, None, after)
    else:
        changed_before, changed_after = activity.changes(before, after)
        if changed_after:
            activity.record(actor, "location.update", "location", location.id, location.code,
                            changed_before, changed_after)
    db.session.commit()
    return location


def _location_errors(row):
    return [f"{field}: {message}" for field, message in location_field_errors(row).items()]


def import_locations(text):
    """Upsert locations by code from CSV text with a header row.

    Columns: code, name, region (a region code), address, phone, timezone.
    Every bad row is reported as "line N: ..." and then nothing is written.
    Returns (created, updated).
    """
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("code", "name", "region") if c not in (reader.fieldnames or [])]
    if missing:
        raise InvalidInput("The CSV header lacks columns: " + ", ".join(missing) + ".",
                           {"line 1": ["header must name: " + ", ".join(CSV_COLUMNS)]})
    regions = {r.code: r for r in db.session.scalars(sa.select(Region))}
    rows, errors, seen = [], {}, {}
    for row in reader:
        line = reader.line_num
        row = _location_row(row)
        problems = _location_errors(row)
        if row["region"] not in regions:
            problems.append(f"region: unknown region code {row['region']!r}")
        if row["code"] in seen:
            problems.append(f"code: {row['code']!r} already on line {seen[row['code']]}")
        seen[row["code"]] = line
        if problems:
            errors[f"line {line}"] = problems
        rows.append(row)
    if errors:
        raise InvalidInput("Some rows are not valid; nothing was imported.", errors)
    existing = {loc.code: loc for loc in db.session.scalars(
        sa.select(Location).where(Location.code.in_(list(seen))))}
    created = updated = 0
    for row in rows:
        location = existing.get(row["code"])
        if location is None:
            location = Location(code=row["code"])
            db.session.add(location)
            created += 1
        else:
            updated += 1
        location.name, location.address = row["name"], row["address"]
        location.phone, location.timezone = row["phone"], row["timezone"]
        location.region = regions[row["region"]]
    db.session.commit()
    return created, updated
