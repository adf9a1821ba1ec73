"""The organisation: regions and locations, and importing locations from CSV."""
import csv
import io
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Location, Region
from . import access
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


def create_region(code, name):
    if not CODE.match(code or ""):
        raise InvalidInput("Invalid region code.", {"code": ["Letters, digits, - and _ only."]})
    if db.session.scalar(sa.select(Region).filter_by(code=code)):
        raise InvalidInput("Region exists.", {"code": [f"Region {code!r} already exists."]})
    region = Region(code=code, name=name or code)
    db.session.add(region)
    db.session.commit()
    return region


def _location_errors(row):
    errors = []
    if not CODE.match(row["code"]):
        errors.append(f"code: letters, digits, - and _ only (at most {CODE_MAX})")
    if not row["name"] or len(row["name"]) > NAME_MAX:
        errors.append(f"name: required, at most {NAME_MAX} characters")
    if len(row["address"]) > ADDRESS_MAX:
        errors.append(f"address: at most {ADDRESS_MAX} characters")
    if row["phone"] and not PHONE.match(row["phone"]):
        errors.append(f"phone: {row['phone']!r} is not a phone number")
    if not is_time_zone(row["timezone"]):
        errors.append(f"timezone: {row['timezone']!r} is not a time zone (e.g. Europe/Madrid)")
    return errors


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
        row = {c: (row.get(c) or "").strip() for c in CSV_COLUMNS}
        row["timezone"] = row["timezone"] or "UTC"
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
