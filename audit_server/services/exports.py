"""Exports: the audits and the corrective actions of a filter (location, region,
checklist, period) as rows, and those rows written as CSV or as an Excel workbook.

The filter is the reports' own: the checklists of `reports.report_checklists`, the
Period of `reports.period_of` (an export may span more than a report's 400 days), the
scope of `services/access.py`. Rows are read from the database in chunks
(`yield_per`: a server-side cursor on PostgreSQL) and written as they come, so memory
stays flat at any size: CSV as a generator of chunks, XLSX through openpyxl's
write-only mode into a temporary file, streamed once complete. See docs/exports.md.
"""
import csv
import io
import queue
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import orjson
import sqlalchemy as sa
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from ..extensions import db
from ..models import Audit, ChecklistVersion, CorrectiveAction, Location, Photo, Region, User
from ..models.actions import PENDING
from ..models.types import utcnow
from . import access, reports
from .errors import InvalidInput
from .scoring import iter_items

CHUNK_ROWS = 2000  # rows fetched from the database at a time
CSV_CHUNK_ROWS = 500  # rows written into one chunk of a CSV response
XLSX_MAX_ROWS = 1_048_575  # an Excel sheet's rows, less the header
BOM = "\ufeff"  # so that Excel reads the CSV as UTF-8
# A CSV cell starting with one of these is taken for a formula by spreadsheets: it is
# written after an apostrophe (OWASP's advice on CSV injection).
FORMULA_STARTS = frozenset("=+-@\t\r")

AUDIT_COLUMNS = ["location_code", "location_name", "region_code", "region_name", "timezone",
                 "checklist_id", "checklist_version", "auditor", "started_at", "submitted_at",
                 "score_percent", "critical_failed", "failed_items", "photos", "url"]
ACTION_COLUMNS = ["id", "location_code", "location_name", "region_code", "region_name",
                  "timezone", "checklist_id", "item_id", "title", "critical", "status",
                  "overdue", "owner", "opened_at", "due_at", "first_done_at", "closed_at",
                  "verified_at", "repeat_count", "audit_url", "url"]


@dataclass(frozen=True)
class ExportFilter:
    """What an export holds: the rows of these checklists in the period, at the locations
    the user sees, of one region or location if given. `names` names it (its file)."""

    user: object
    period: reports.Period
    checklist_ids: tuple
    region_id: int | None = None
    location_id: int | None = None
    names: tuple = ()

    def where(self, stmt, location_column, checklist_column, time_column):
        stmt = stmt.where(checklist_column.in_(self.checklist_ids),
                          time_column >= self.period.start, time_column < self.period.end)
        if self.location_id is not None:
            stmt = stmt.where(location_column == self.location_id)
        if self.region_id is not None:
            stmt = stmt.where(Location.region_id == self.region_id)
        return access.in_scope(stmt, self.user, location_column)


def _refuse(field, message):
    raise InvalidInput(message, {field: [message]})


def export_filter(user, preset=None, from_date=None, to_date=None, tz=None, checklist_id=None,
                  region=None, location_id=None, now=None):
    """The ExportFilter a query asks for (the report's period rule, on the viewer's clock),
    or InvalidInput naming the field: an unknown checklist, a region or a location the
    user sees nothing of."""
    checklists = reports.report_checklists(checklist_id)
    names = []
    region_id = None
    if region is not None:
        region_id = db.session.scalar(access.in_scope(
            sa.select(Location.region_id).join(Region, Region.id == Location.region_id)
            .where(Region.code == region).limit(1), user, Location.id))
        if region_id is None:
            _refuse("region", "No such region.")
        names.append(region)
    if location_id is not None:
        code = db.session.scalar(access.in_scope(
            sa.select(Location.code).where(Location.id == location_id), user, Location.id))
        if code is None:
            _refuse("location_id", "No such location.")
        names.append(code)
    if checklist_id is not None:
        names.append(checklist_id)
    zone = reports.viewer_zone(user, region, tz)
    period = reports.period_of(preset, from_date, to_date, zone, now=now, max_days=None)
    clock = ZoneInfo(period.timezone)
    first = period.start.astimezone(clock).date()
    last = (period.end - timedelta(microseconds=1)).astimezone(clock).date()
    names += [first.isoformat(), last.isoformat()]
    return ExportFilter(user, period, tuple(c.id for c in checklists), region_id, location_id,
                        tuple(names))


def file_name(kind, export, extension):
    """e.g. audits_N_five_second_walk_in_2026-11-09_2026-11-22.csv (codes and ids are
    ASCII letters, digits, _ and -)."""
    return "_".join(("momento", kind, *export.names)) + "." + extension


def _stream(stmt):
    """Execute a SELECT now (plain rows, no ORM), its rows fetched CHUNK_ROWS at a time (on
    PostgreSQL through a server-side cursor), as they are iterated. It runs on a connection
    of its own, closed once the rows are read: the request's session may end its
    transaction (and with it a server-side cursor) before a streamed response is sent."""
    connection = db.engine.connect()
    try:
        result = connection.execute(stmt.execution_options(stream_results=True,
                                                           max_row_buffer=CHUNK_ROWS))
    except BaseException:
        connection.close()
        raise
    if connection.dialect.name == "postgresql":
        return _read_ahead(result, connection)

    def rows():
        try:
            yield from result
        finally:
            connection.close()
    return rows()


def _read_ahead(result, connection):
    """The rows of a server-side cursor, each chunk fetched by a thread while the one
    before is written: the database computes the next rows on the other CPU meanwhile,
    instead of waiting for the next FETCH (the wait releases the GIL). At most three
    chunks are held: the one being written, one queued, one being fetched."""
    chunks = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(item):
        while not stop.is_set():
            try:
                chunks.put(item, timeout=0.1)
                return True
            except queue.Full:
                pass
        return False

    def fetch():
        try:
            for chunk in result.partitions(CHUNK_ROWS):
                if not put(chunk):
                    return
            put(None)
        except Exception as error:  # raised where the rows are read
            put(error)

    thread = threading.Thread(target=fetch, name="export-read-ahead", daemon=True)
    thread.start()
    try:
        while (chunk := chunks.get()) is not None:
            if isinstance(chunk, BaseException):
                raise chunk
            yield from chunk
    finally:
        stop.set()  # the reader is done, or gone (a client that hung up)
        thread.join()
        connection.close()


# --- the rows ---------------------------------------------------------------------------

def item_columns(checklist_ids):
    """[(checklist_id, item_id)] for the item columns of an audit export: for each checklist
    (by id), the items of its current version in its order, then those that only older
    stored versions had (newest first)."""
    current = {c.id: c for c in reports.report_checklists()}
    columns = {checklist_id: [item["id"] for _, item in iter_items(current[checklist_id].definition)]
               for checklist_id in checklist_ids}
    versions = db.session.execute(
        sa.select(ChecklistVersion.checklist_id, ChecklistVersion.definition)
        .where(ChecklistVersion.checklist_id.in_(checklist_ids))
        .order_by(ChecklistVersion.created_at.desc()))
    for checklist_id, definition in versions:
        known = columns[checklist_id]
        known += [item["id"] for _, item in iter_items(definition) if item["id"] not in known]
    return [(checklist_id, item_id) for checklist_id in checklist_ids
            for item_id in columns[checklist_id]]


def _on_clock(column, postgresql):
    """A UTC time column as an export reads it, for _clock_reader: on PostgreSQL already
    on the location's clock, to the second, converted by the query (a naive timestamp;
    the server and zoneinfo read the same tz database); on SQLite, which knows no time
    zones, the naive UTC text it stores (read faster than through UTCDateTime)."""
    if postgresql:
        return sa.func.date_trunc("second", sa.func.timezone(Location.timezone, column),
                                  type_=sa.DateTime())
    return sa.type_coerce(column, sa.String)


def _clock_reader(postgresql):
    """local(moment, timezone): a column read by _on_clock as the naive date and time on
    the clock named, to the second. ZoneInfo by name is cached for one export (zoneinfo's
    own cache is shared and bounded)."""
    if postgresql:
        return lambda moment, name: moment
    zones = {}

    def local(moment, name):
        if moment is None:
            return None
        zone = zones.get(name)
        if zone is None:
            zone = zones[name] = ZoneInfo(name)
        return datetime.fromisoformat(moment + "+00:00").astimezone(zone).replace(
            tzinfo=None, microsecond=0)
    return local


def _id_text(column, postgresql):
    """An audit's UUID column: as text on PostgreSQL (its canonical form, cheaper than a
    uuid.UUID made then printed per row); SQLite stores it without dashes, so there it
    is read as a UUID."""
    return sa.cast(column, sa.Text) if postgresql else column


def audit_export(export, audit_url):
    """(header, rows) of the audits of an export, oldest first: the columns of AUDIT_COLUMNS,
    then one per item of item_columns, headed "<checklist_id>.<item_id>", holding the
    answer's value where the item applied (blank: not answered, did not apply, or another
    checklist's audit). The query is executed now (so that its errors come before any
    row); the rows are read as they are iterated. `audit_url(id)`: the audit's page."""
    items = item_columns(export.checklist_ids)
    positions = {}
    for column, (checklist_id, item_id) in enumerate(items):
        positions.setdefault(checklist_id, {})[item_id] = column
    photos = (sa.select(sa.func.count()).select_from(Photo).where(Photo.audit_id == Audit.id)
              .correlate(Audit).scalar_subquery())
    auditor = sa.func.coalesce(sa.func.nullif(User.name, ""), User.email)
    postgresql = db.engine.dialect.name == "postgresql"
    stmt = export.where(
        sa.select(_id_text(Audit.id, postgresql), Location.code, Location.name, Region.code,
                  Region.name, Location.timezone, Audit.checklist_id, Audit.checklist_version,
                  auditor, _on_clock(Audit.started_at, postgresql),
                  _on_clock(Audit.submitted_at, postgresql), Audit.score_percent,
                  Audit.critical_failed, photos, sa.cast(Audit.answers, sa.Text))
        .select_from(Audit).join(Location, Location.id == Audit.location_id)
        .join(Region, Region.id == Location.region_id).join(User, User.id == Audit.auditor_id),
        Audit.location_id, Audit.checklist_id, Audit.submitted_at,
    ).order_by(Audit.submitted_at, Audit.id)
    result = _stream(stmt)
    header = AUDIT_COLUMNS + [f"{checklist_id}.{item_id}" for checklist_id, item_id in items]
    local = _clock_reader(postgresql)
    width = len(items)

    def rows():
        loads = orjson.loads
        for (audit_id, code, name, region_code, region_name, timezone, checklist_id, version,
             by, started, submitted, score, critical, photo_count, answers) in result:
            cells = [None] * width
            where = positions[checklist_id]
            failed = []
            for item_id, answer in loads(answers).items():
                if answer["failed"]:
                    failed.append((answer["position"], item_id))
                if answer["applies"]:
                    column = where.get(item_id)
                    if column is not None:
                        cells[column] = answer["value"]
            if len(failed) > 1:
                failed.sort()
            yield [code, name, region_code, region_name, timezone, checklist_id, version, by,
                   local(started, timezone), local(submitted, timezone), score, critical,
                   " ".join([item_id for _, item_id in failed]), photo_count,
                   audit_url(audit_id), *cells]
    return header, rows()


def action_export(export, language, audit_url, action_url, now=None):
    """(header, rows) of the corrective actions opened in the export's period, oldest
    first (ACTION_COLUMNS; times on the location's clock; the item's title in `language`,
    else English). Executed now, read as iterated, like audit_export."""
    now = now or utcnow()
    owner = sa.func.coalesce(sa.func.nullif(User.name, ""), User.email)
    a = CorrectiveAction
    postgresql = db.engine.dialect.name == "postgresql"
    stmt = export.where(
        sa.select(a.id, Location.code, Location.name, Region.code, Region.name, Location.timezone,
                  a.checklist_id, a.item_id, a.title, a.critical, a.status, a.due_at, owner,
                  *(_on_clock(column, postgresql) for column in (
                      a.opened_at, a.due_at, a.first_done_at, a.closed_at, a.verified_at)),
                  a.repeat_count, _id_text(a.audit_id, postgresql))
        .select_from(a).join(Location, Location.id == a.location_id)
        .join(Region, Region.id == Location.region_id).join(User, User.id == a.owner_id),
        a.location_id, a.checklist_id, a.opened_at,
    ).order_by(a.opened_at, a.id)
    result = _stream(stmt)
    local = _clock_reader(postgresql)

    def rows():
        for (action_id, code, name, region_code, region_name, timezone, checklist_id, item_id,
             title, critical, status, due, by, opened, local_due, first_done, closed, verified,
             repeats, audit_id) in result:
            yield [action_id, code, name, region_code, region_name, timezone, checklist_id,
                   item_id, (title or {}).get(language) or (title or {}).get("en") or "",
                   critical, status, status in PENDING and due < now, by, local(opened, timezone),
                   local(local_due, timezone), local(first_done, timezone),
                   local(closed, timezone), local(verified, timezone), repeats,
                   audit_url(audit_id), action_url(action_id)]
    return ACTION_COLUMNS, rows()


# --- the files --------------------------------------------------------------------------

def csv_cells(row):
    """A row's cells as the csv module is to write them: text that a spreadsheet would
    take for a formula after an apostrophe; the rest as it writes them (None blank,
    True and False, numbers, dates and times as YYYY-MM-DD HH:MM:SS)."""
    return ["'" + value if value.__class__ is str and value[:1] in FORMULA_STARTS else value
            for value in row]


def csv_chunks(header, rows):
    """The CSV of a header and rows, UTF-8 with a byte order mark, as chunks of bytes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    writer.writerow(header)
    yield buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    count = 0
    for row in rows:
        writer.writerow(csv_cells(row))
        count += 1
        if count == CSV_CHUNK_ROWS:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
            count = 0
    if count:
        yield buffer.getvalue().encode()


def xlsx_text(sheet, value):
    """A text cell for a sheet: without the control characters a workbook cannot hold
    (openpyxl refuses them), and text even when it starts with = (not a formula)."""
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if value.startswith("="):
        cell = WriteOnlyCell(sheet, value)
        cell.data_type = "s"
        return cell
    return value


def xlsx_file(title, header, rows):
    """The workbook of a header and rows (one sheet, `title`) in a temporary file, at its
    start: written in openpyxl's write-only mode, row by row. InvalidInput if the rows
    do not fit in a sheet."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    sheet.append(header)
    try:
        for count, row in enumerate(rows, start=1):
            if count > XLSX_MAX_ROWS:
                _refuse("period", f"More than {XLSX_MAX_ROWS} rows do not fit in an Excel sheet: "
                                  "choose a shorter period, or CSV.")
            sheet.append([xlsx_text(sheet, v) if v.__class__ is str else v for v in row])
    except BaseException:
        # openpyxl keeps the sheet's rows in a temporary file of its own until saved.
        sheet.close()
        sheet._writer.cleanup()
        raise
    output = tempfile.TemporaryFile()
    try:
        workbook.save(output)
    except BaseException:
        output.close()
        raise
    output.seek(0)
    return output
