"""Where SQLite and PostgreSQL differ, one small function per difference.

Reports aggregate in SQL on both databases; these give the same answer on each.
The dialect is the session's bind (`db.session.get_bind()`), so a query is built
for the database that will run it. JSON documents (`Audit.answers`, `Audit.sections`)
are JSON text on SQLite (read with json_extract/json_type/json_each) and JSONB on
PostgreSQL (read with #>, jsonb_typeof, jsonb_each, jsonb_array_elements).
"""
from datetime import date

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from ..extensions import db


def is_postgresql():
    return db.session.get_bind().dialect.name == "postgresql"


def _sqlite_path(path):
    # Keys are checklist and section ids ([a-z0-9_]), safe between double quotes.
    return "$" + "".join(f'."{key}"' for key in path)


def _pg_path(document, path, as_text=False):
    # document #> '{a,b}' (the JSON value there), #>> (the same as text)
    return sa.type_coerce(document, JSONB).op("#>>" if as_text else "#>")(
        sa.cast(sa.literal(list(path)), ARRAY(sa.Text)))


def json_number(document, *path):
    """The number at `path` in a JSON document, NULL if it is anything else (N/A, absent)."""
    if is_postgresql():
        return sa.case((sa.func.jsonb_typeof(_pg_path(document, path)) == "number",
                        sa.cast(_pg_path(document, path, as_text=True), sa.Float)))
    where = _sqlite_path(path)
    return sa.case((sa.func.json_type(document, where).in_(("integer", "real")),
                    sa.type_coerce(sa.func.json_extract(document, where), sa.Float)))


def json_true(document, *path):
    """Whether the value at `path` in a JSON document is JSON true (a condition)."""
    if is_postgresql():
        return _pg_path(document, path) == sa.cast(sa.literal("true"), JSONB)
    return sa.func.json_type(document, _sqlite_path(path)) == "true"


def json_text(document, *path):
    """The text at `path` in a JSON document (NULL if absent)."""
    if is_postgresql():
        return sa.type_coerce(_pg_path(document, path, as_text=True), sa.Text)
    return sa.type_coerce(sa.func.json_extract(document, _sqlite_path(path)), sa.Text)


def object_entries(document):
    """A table of the (key, value) entries of a JSON object, to join each row to:
    json_each on SQLite, jsonb_each on PostgreSQL."""
    function = sa.func.jsonb_each if is_postgresql() else sa.func.json_each
    return function(document).table_valued(
        sa.column("key", sa.String), sa.column("value", JSONB if is_postgresql() else sa.Text))


def array_elements(document):
    """A table of the elements (column `value`) of a JSON array: json_each on SQLite,
    jsonb_array_elements on PostgreSQL."""
    if is_postgresql():
        return sa.func.jsonb_array_elements(document).table_valued(sa.column("value", JSONB))
    return sa.func.json_each(document).table_valued(sa.column("value", sa.Text))


def week_start(local_date):
    """The Monday of the week holding a date (weeks run Monday to Sunday), as a date."""
    if is_postgresql():
        return sa.cast(sa.func.date_trunc("week", sa.cast(local_date, sa.DateTime)), sa.Date)
    # strftime('%w') is 0 on Sunday: step back (weekday + 6) % 7 days to the Monday.
    return sa.type_coerce(sa.func.date(
        local_date, "-" + sa.cast((sa.cast(sa.func.strftime("%w", local_date), sa.Integer) + 6) % 7,
                                  sa.Text) + " days"), sa.Date)


def days_between(start, end):
    """Whole days from the date `start` to the date `end` (negative if `end` is earlier)."""
    if is_postgresql():
        return sa.type_coerce(end - start, sa.Integer)  # date - date is an integer
    return sa.cast(sa.func.julianday(end) - sa.func.julianday(start), sa.Integer)


def add_days(day, days):
    """The date `days` (an integer expression) after the date `day`."""
    if is_postgresql():
        return sa.type_coerce(day + days, sa.Date)  # date + integer is a date
    return sa.type_coerce(sa.func.date(day, "+" + sa.cast(days, sa.Text) + " days"), sa.Date)


def seconds_between(start, end):
    """Whole seconds from `start` to `end` (timestamps), in the database's own arithmetic."""
    if is_postgresql():
        return sa.cast(sa.func.round(sa.extract("epoch", end - start)), sa.Float)
    return sa.func.round((sa.func.julianday(end) - sa.func.julianday(start)) * 86400)


def medians(rows, keys, value="value"):
    """A SELECT of `keys` and `median`: the median of `value` over each group of a
    subquery `rows` (NULL values left out), the mean of the two middle values when
    a group has an even number of them.

    PostgreSQL has percentile_cont; SQLite gets the same answer from window
    functions: the middle row, or the mean of the two middle rows.
    """
    groups = [rows.c[key] for key in keys]
    measured = rows.c[value]
    if is_postgresql():
        return (sa.select(*groups, sa.func.percentile_cont(0.5).within_group(measured)
                          .label("median"))
                .where(measured.is_not(None)).group_by(*groups))
    ranked = sa.select(
        *groups, measured.label("value"),
        sa.func.row_number().over(partition_by=groups, order_by=measured).label("position"),
        sa.func.count().over(partition_by=groups).label("n"),
    ).where(measured.is_not(None)).subquery()
    return (sa.select(*[ranked.c[key] for key in keys], sa.func.avg(ranked.c.value).label("median"))
            .where(ranked.c.position.in_([(ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2]))
            .group_by(*[ranked.c[key] for key in keys]))


def as_date(value):
    """A date the databases give back as they compute it: a date on PostgreSQL, ISO text
    on SQLite (a computed or UNIONed column has no declared type there); None stays None."""
    return value if value is None or isinstance(value, date) else date.fromisoformat(value)
