"""The demo organisation's history: audits and the corrective actions they set in motion,
generated location by location and written in bulk.

Each location is simulated on its own, in the order things happened, from a random
generator seeded by (seed, location code), so the same seed and options give the same
rows. The location's quality drifts from week to week (a random walk; some locations
slip over the last weeks, some improve); each audit's answers are drawn from it, then
made into the audit the app would store by `audits.new_audit` (the real scoring). Its
failures open, link and propose to verify corrective actions by the rules of
`services/actions.py`; the people then work on them (done with a note, verified by the
regional manager; some late, some reopened, some never) at instants in the history.

Rows are written with Core executemany on SQLite and COPY on PostgreSQL, in batches of
whole locations, never through the ORM's unit of work.
"""
import hashlib
import io
import multiprocessing
import operator
import os
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from PIL import Image

from ..extensions import db
from ..json_provider import dumps_document
from ..models import ActionEvent, Audit, CorrectiveAction, Location, Photo, User
from ..models.actions import action_audits
from ..models.types import UTCDateTime, utcnow
from ..models.users import user_locations, user_regions
from ..storage import photo_store
from .actions import due_at_for, title_for
from .audits import new_audit, scored_parts
from .checklists import current_checklist_of_kind, store_versions
from .item_types import NA, is_scored, item_fraction, type_of
from .photos import ImageLimits, process_image
from .scoring import iter_items, score_answers

# How often each kind is audited: a walk-in about weekly, a phone call about fortnightly.
WALK_IN_DAYS, PHONE_DAYS = 7, 14
PHONE_SHARE = WALK_IN_DAYS / (WALK_IN_DAYS + PHONE_DAYS)
OPEN_HOURS = (9.0, 20.5)  # audits happen while the shop is open, on its clock
SLIPPING_WEEKS = 6  # the last weeks over which some locations slip and some improve
BATCH_AUDITS = 20000  # rows are written when the locations simulated hold this many audits
CHUNK_AUDITS = 2000  # a worker simulates locations with about this many audits at a time
WORKERS = min(2, os.cpu_count() or 1)
SCORES_KEPT = 100000  # scores remembered per checklist (see History._score)
NA_SHARE, COMMENT_SHARE, NOTE_SHARE = 0.12, 0.3, 0.08
# What people do about an action: a share is done late, by LATE_DAYS; the regional
# manager checks a done one within CHECK_HOURS and reopens a share, done again within
# REDONE_HOURS. A share of the actions due in the history's last BEHIND_DAYS are not done
# yet when it ends: overdue by days. So no action is overdue by more than MAX_OVERDUE_DAYS
# when the history ends (tests/unit/test_demo_data.py).
LATE_SHARE, LATE_DAYS = 0.12, (1, 6)
CHECK_HOURS, REOPEN_SHARE, REDONE_HOURS = (2, 72), 0.06, (12, 72)
BEHIND_SHARE, BEHIND_DAYS = 0.25, 5
MAX_OVERDUE_DAYS = max(LATE_DAYS[1], BEHIND_DAYS) + (CHECK_HOURS[1] + REDONE_HOURS[1]) / 24

FIRST_NOTICED = [
    "Un cliente esperando en la caja", "Staff smiling at the counter", "Cajas apiladas en la entrada",
    "Good music, bright shop", "Nadie en el mostrador", "El suelo mojado junto a la puerta",
    "Olor a café recién hecho ☕", "Escaparate precioso, muy navideño 🎄",
]
FIRST_IMPRESSION = ["Amable y rápida", "Tono cansado, poco interés", "Muy profesional 👍",
                    "Me pasaron de un lado a otro", "Resolvió todo en la primera llamada"]
COMMENTS = [
    "Nadie saludó en casi un minuto 😕", "Cola de seis personas y una sola caja abierta",
    "Cartel de ofertas caído junto a la entrada", "Música demasiado alta", "Suelo pegajoso en el pasillo 2",
    "Tardaron muchísimo en coger el teléfono ☎️", "La dependienta estaba al móvil",
    "Luz fundida en el escaparate", "Me colgaron al transferir la llamada",
]
NOTES = ["Día de rebajas, tienda llena.", "Visita a primera hora; aún reponiendo.",
         "Llovía: alfombra de entrada empapada.", "Segunda visita de la semana (cambio de turno)."]
CLOSING_NOTES = [
    "Hablado con el equipo en la reunión de la mañana.", "Briefed the team at the morning huddle.",
    "Turnos ajustados para cubrir la entrada.", "Added a second person at the counter at peak times.",
    "Sustituida la bombilla y revisado el resto del escaparate.", "Limpieza reforzada a mediodía.",
]
VERIFY_NOTE = "Comprobado en la visita."
REOPEN_NOTE = "En la visita seguía igual: hay que repetirlo."
REPEAT_NOTE = "The item failed again in a later audit."  # as actions.link_repeated_failure says
PHOTO_CAPTION = "Después del arreglo"


@dataclass
class Site:
    """A location being simulated: who audits it, who owns its actions, who verifies."""
    id: int
    code: str
    timezone: str
    auditor_id: int
    owner_id: int
    verifier_id: int | None
    audits: int


@dataclass
class Action:
    """A corrective action as it evolves: its row, its timeline and what people will do."""
    row: dict
    events: list = field(default_factory=list)
    plan: list = field(default_factory=list)  # [(at, status, actor_id, note)], in time order
    proposed_at: datetime | None = None  # submitted_at of the audit that proposed verification


class Writer:
    """Rows to insert, per table, written in batches in foreign-key order: executemany
    on SQLite, COPY on PostgreSQL. A row is made of what the driver takes as soon as it
    is added (plain text and numbers, which cross from a worker process quickly).
    Actions are inserted without their "after" photo (photos point at actions), which
    is set once the photos are in."""

    TABLES = (Audit.__table__, CorrectiveAction.__table__, action_audits, ActionEvent.__table__,
              Photo.__table__)
    # The columns holding the ids numbered here, by the counter they come from.
    NUMBERED = {"corrective_actions": {"id": "action"},
                "action_events": {"id": "event", "action_id": "action"},
                "action_audits": {"action_id": "action"}, "photos": {"action_id": "action"}}

    def __init__(self, dialect):
        self.dialect = dialect
        self.rows = {table.name: [] for table in self.TABLES}
        self.after_photos = []  # [photo id, action id]
        # Per table: the row's values in column order, and which of them need converting.
        self.values = {table.name: operator.itemgetter(*[c.key for c in table.columns])
                       for table in self.TABLES}
        self.converters = {table.name: [(i, convert) for i, convert in enumerate(
            _converter(c.type, dialect) for c in table.columns) if convert is not _same]
            for table in self.TABLES}
        self.photo_id = _converter(Photo.__table__.c.id.type, dialect)

    @property
    def audits(self):
        return len(self.rows["audits"])

    def add(self, table, row):
        values = list(self.values[table.name](row))
        for i, convert in self.converters[table.name]:
            values[i] = convert(values[i])
        self.rows[table.name].append(values)

    def add_after_photo(self, action_id, photo_id):
        self.after_photos.append([self.photo_id(photo_id), action_id])

    def take(self, chunk, ids):
        """Add the rows of a simulated chunk, whose actions and events are numbered from 0:
        from the next ids (`ids`, which move on past them)."""
        for name, numbered in self.NUMBERED.items():
            columns = [c.key for c in Writer.TABLES_BY_NAME[name].columns]
            shifts = [(columns.index(column), ids[counter]) for column, counter in numbered.items()]
            for row in chunk.rows[name]:
                for index, base in shifts:
                    row[index] += base
        for row in chunk.after_photos:
            row[1] += ids["action"]
        ids["action"] += len(chunk.rows["corrective_actions"])
        ids["event"] += len(chunk.rows["action_events"])
        for name, rows in chunk.rows.items():
            self.rows[name] += rows
        self.after_photos += chunk.after_photos

    def flush(self, connection):
        driver = connection.connection.driver_connection
        for table in self.TABLES:
            rows = self.rows[table.name]
            if rows:
                columns = ", ".join(f'"{c.key}"' for c in table.columns)
                if self.dialect.name == "postgresql":
                    with driver.cursor().copy(f"COPY {table.name} ({columns}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
                else:
                    marks = ", ".join("?" * len(table.columns))
                    # table names from the models, values bound (bandit B608)
                    driver.executemany(f"INSERT INTO {table.name} ({columns}) VALUES ({marks})", rows)  # nosec B608
                rows.clear()
        if self.after_photos:
            mark = "%s::uuid" if self.dialect.name == "postgresql" else "?"
            driver.cursor().executemany(
                # table names from the models, values bound (bandit B608)
                f"UPDATE corrective_actions SET after_photo_id = {mark} WHERE id = "  # nosec B608
                f"{'%s' if self.dialect.name == 'postgresql' else '?'}", self.after_photos)
            self.after_photos.clear()


Writer.TABLES_BY_NAME = {table.name: table for table in Writer.TABLES}


def _converter(column_type, dialect):
    """What makes a value of a column what the driver takes: on SQLite, the column type's
    own conversion (UUIDs as hex, JSON as text), UTC times written as it writes them but
    faster (tests/unit/test_demo_data.py checks they agree); on PostgreSQL, the text COPY
    reads (ISO times, JSON as the app writes it)."""
    if dialect.name != "postgresql":
        if isinstance(column_type, UTCDateTime):
            return _sqlite_time
        return column_type.dialect_impl(dialect).bind_processor(dialect) or _same
    if isinstance(column_type, sa.JSON):
        return lambda value: None if value is None else dumps_document(value)
    if isinstance(column_type, (UTCDateTime, sa.Date)):
        return lambda value: None if value is None else value.isoformat()
    if isinstance(column_type, sa.Uuid):
        return lambda value: None if value is None else str(value)
    return _same


def _sqlite_time(value):
    """A UTC time as SQLite holds it: naive UTC text with microseconds."""
    if value is None:
        return None
    if value.tzinfo is not timezone.utc:
        value = value.astimezone(timezone.utc)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def _same(value):
    return value


def seed_history(count, until, seed, progress=lambda n: None):
    """`count` audits at the stored locations, each location's ending on `until` (a date,
    at 20:00 UTC at the latest, and never after now), with their corrective actions;
    nothing if the database holds audits already. Returns how many audits were made; `progress(n)` hears of
    every n audits written.

    WORKERS processes simulate chunks of locations (each from its own seed, so who
    simulates what changes nothing) while this one numbers the actions and events in
    the order of the chunks and writes them."""
    if count <= 0 or db.session.scalar(sa.select(sa.func.count()).select_from(Audit)):
        return 0
    checklists = {kind: current_checklist_of_kind(kind) for kind in ("walk_in", "phone")}
    store_versions({c.id: c for c in checklists.values()})
    # Nothing happens after now: a history until today ends now if that is before 20:00.
    end = min(datetime.combine(until, time(20), tzinfo=timezone.utc),
              utcnow().replace(microsecond=0))
    writer = Writer(db.session.get_bind().dialect)
    global _HISTORY
    _HISTORY = History(writer.dialect, checklists, end, seed, _demo_photo(seed))
    ids = {"action": 1 + (db.session.scalar(sa.select(sa.func.max(CorrectiveAction.id))) or 0),
           "event": 1 + (db.session.scalar(sa.select(sa.func.max(ActionEvent.id))) or 0)}
    written = 0
    with multiprocessing.get_context("fork").Pool(WORKERS, initializer=_in_worker) as pool:
        for chunk in pool.imap(_simulate, _chunks(_sites(count, seed))):
            writer.take(chunk, ids)
            if writer.audits >= BATCH_AUDITS or writer.audits + written == count:
                written += writer.audits
                progress(writer.audits)
                writer.flush(_bulk_connection())
                db.session.commit()
    _HISTORY = None
    _after_bulk_load(db.session.connection())
    db.session.commit()
    return count


_HISTORY = None  # the History the worker processes simulate with (they inherit it)


def _in_worker():
    """A worker process uses no database connection of its parent's."""
    db.engine.dispose(close=False)


def _simulate(sites):
    return _HISTORY.simulate_chunk(sites)


def _chunks(sites):
    """The sites in consecutive groups of about CHUNK_AUDITS audits."""
    chunk, audits = [], 0
    for site in sites:
        chunk.append(site)
        audits += site.audits
        if audits >= CHUNK_AUDITS:
            yield chunk
            chunk, audits = [], 0
    if chunk:
        yield chunk


def _sites(count, seed):
    """Every location with its share of the `count` audits (in proportion to how busy
    it is: 0.6 to 1.4), its auditor (its first manager), the owner of its actions (the
    same manager, as actions.default_owner_id picks) and its regional manager."""
    managers = dict(db.session.execute(
        sa.select(user_locations.c.location_id, sa.func.min(User.id))
        .join(User, User.id == user_locations.c.user_id)
        .where(User.role == "manager", User.active).group_by(user_locations.c.location_id)).all())
    verifiers = dict(db.session.execute(
        sa.select(user_regions.c.region_id, sa.func.min(User.id))
        .join(User, User.id == user_regions.c.user_id)
        .where(User.role == "regional", User.active).group_by(user_regions.c.region_id)).all())
    admin = db.session.scalar(sa.select(sa.func.min(User.id)).where(User.role == "admin"))
    locations = db.session.execute(
        sa.select(Location.id, Location.code, Location.timezone, Location.region_id)
        .order_by(Location.code)).all()
    # seeded demo data, no secret (bandit B311)
    busy = [random.Random(f"{seed}:busy:{loc.code}").uniform(0.6, 1.4) for loc in locations]  # nosec B311
    shares = [count * b / sum(busy) for b in busy]
    quotas = [int(s) for s in shares]
    by_remainder = sorted(range(len(shares)), key=lambda i: (quotas[i] - shares[i], i))
    for i in by_remainder[:count - sum(quotas)]:
        quotas[i] += 1
    sites = []
    for loc, quota in zip(locations, quotas):
        manager = managers.get(loc.id, admin)
        sites.append(Site(loc.id, loc.code, loc.timezone, manager, manager,
                          verifiers.get(loc.region_id, admin), quota))
    return sites


def _demo_photo(seed):
    """The columns of the demo "after" photo but its id and subject, its renditions stored."""
    rng = random.Random(seed)  # seeded demo data, no secret  # nosec B311
    image = Image.frombytes("RGB", (1200, 900), rng.randbytes(1200 * 900 * 3))
    original = io.BytesIO()
    image.save(original, "JPEG", quality=85)
    processed = process_image(io.BytesIO(original.getvalue()), ImageLimits.from_config(current_app.config))
    store = photo_store()
    return {
        "audit_id": None, "item_id": None, "caption": PHOTO_CAPTION,
        "original_sha256": hashlib.sha256(original.getvalue()).hexdigest(),
        "bytes": len(original.getvalue()),
        "display_sha256": store.put(processed.display.data, processed.content_type),
        "thumb_sha256": store.put(processed.thumb.data, processed.content_type),
        "display_bytes": len(processed.display.data), "content_type": processed.content_type,
        "width": processed.width, "height": processed.height, "captured_at": None,
    }


def _bulk_connection():
    """The session's connection, on SQLite with a page cache large enough to index
    a million audits without rereading the disk (for this connection only)."""
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA cache_size = -262144")  # 256 MB
    return connection


def _after_bulk_load(connection):
    """PostgreSQL's sequences past the ids given here; fresh statistics for the planner."""
    if connection.dialect.name == "postgresql":
        for table in ("corrective_actions", "action_events"):
            connection.exec_driver_sql(
                # table names from the models (no input) (bandit B608)
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # nosec B608
                f"COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)")
    connection.exec_driver_sql("ANALYZE")


def _scored_key(definition):
    """The items whose answers a score depends on: those scored and those a condition
    reads, as (item, whether the key holds its answer's item_fraction). A condition reads
    an answer itself, a score only the item_fraction of a scored answer: the key holds
    that of numbers (counts, seconds), so that like hold times share a score (and the
    scored_parts, which hold no answer). Other answers are few values already."""
    conditions = {item["applies_if"]["item"] for _, item in iter_items(definition)
                  if item.get("applies_if")}
    return tuple((item, item["id"] not in conditions and type_of(item).widget == "number")
                 for _, item in iter_items(definition)
                 if is_scored(item) or item["id"] in conditions)


class History:
    """Simulates locations one by one into a Writer."""

    def __init__(self, dialect, checklists, end, seed, photo):
        self.dialect = dialect
        self.checklists = checklists
        self.end = end
        self.seed = seed
        self.photo = photo  # the columns of every "after" photo but its id and subject
        self.keys = {c.id: _scored_key(c.definition) for c in checklists.values()}
        self.items = {(c.id, item["id"]): item for c in checklists.values()
                      for _, item in iter_items(c.definition)}
        # How much harder (or easier) than the location's level each item is; critical
        # items are minded more.
        # seeded demo data, no secret (bandit B311)
        self.bias = {item["id"]: random.Random(f"{seed}:item:{item['id']}").uniform(  # nosec B311
            *(0.07, 0.10) if item.get("critical") else (-0.05, 0.03))
            for c in checklists.values() for _, item in iter_items(c.definition)}
        self._opened = []  # the actions of the location being simulated
        self._scores = {}  # {checklist id: {its _scored_key's answers: ScoredParts}}
        self._fractions = {}  # {item id: {value: item_fraction}}

    def _score(self, checklist, answers):
        """The scored_parts of the answers' score_answers, shared by the audits that answer
        alike the items a score depends on (_scored_key: the others change nothing in it).
        Each item's values are of one type here, so equal keys are like answers."""
        key = []
        for item, by_fraction in self.keys[checklist.id]:
            answer = answers.get(item["id"])
            value = None if answer is None else answer["value"]
            if by_fraction and value is not None and value != NA:
                fractions = self._fractions.setdefault(item["id"], {})
                if value not in fractions:
                    fraction = item_fraction(item, value)  # (a tuple hashes faster)
                    fractions[value] = (fraction.numerator, fraction.denominator)
                value = fractions[value]
            key.append(value)
        key = tuple(key)
        scores = self._scores.setdefault(checklist.id, {})
        if key not in scores:
            if len(scores) >= SCORES_KEPT:
                scores.clear()
            values = {item_id: answer["value"] for item_id, answer in answers.items()}
            scores[key] = scored_parts(checklist, score_answers(checklist.definition, values))
        return scores[key]

    # --- one location ----------------------------------------------------------

    def simulate_chunk(self, sites):
        """The rows of these locations' histories (as Writer.take takes them), actions
        and events numbered from 0."""
        self.writer, self.next_action_id, self.next_event_id = Writer(self.dialect), 0, 0
        for site in sites:
            self.simulate(site)
        return SimpleNamespace(rows=self.writer.rows, after_photos=self.writer.after_photos)

    def simulate(self, site):
        rng = random.Random(f"{self.seed}:{site.code}")  # seeded demo data, no secret  # nosec B311
        zone = ZoneInfo(site.timezone)
        visits = sorted(self._visits(site, rng, zone))
        quality = self._quality(rng, visits)
        auditor = SimpleNamespace(id=site.auditor_id)
        pending = {}
        for submitted, kind in visits:
            checklist = self.checklists[kind]
            weeks_back = (self.end - submitted).days // 7
            audit = self._audit(site, checklist, auditor, submitted, quality[weeks_back], rng)
            self.writer.add(Audit.__table__, vars(audit))
            self._follow_up(site, audit, checklist, pending, rng)
        for action in pending.values():
            self._advance(site, action, self.end, rng)
        for action in self._opened:
            self._write_action(action)
        self._opened = []

    def _visits(self, site, rng, zone):
        """(submitted_at, kind) of the location's audits: walk-ins about weekly and phone
        calls about fortnightly, going back from the end, at opening hours on its clock."""
        phones = round(site.audits * PHONE_SHARE)
        for kind, n, days in (("walk_in", site.audits - phones, WALK_IN_DAYS),
                              ("phone", phones, PHONE_DAYS)):
            back = rng.uniform(0, days)
            for _ in range(n):
                day = self.end.date() - timedelta(days=int(back))
                hour = rng.uniform(*OPEN_HOURS)
                local = datetime.combine(day, time()) + timedelta(hours=hour)
                submitted = local.replace(tzinfo=zone).astimezone(timezone.utc)
                if submitted > self.end:
                    submitted -= timedelta(days=1)
                yield submitted.replace(microsecond=0), kind
                back += rng.uniform(0.7 * days, 1.3 * days)

    def _quality(self, rng, visits):
        """The location's chance that an item is up to standard, per week back from the end:
        a random walk, and over the last weeks a slip or an improvement for some."""
        weeks = 1 + max(((self.end - submitted).days // 7 for submitted, _ in visits), default=0)
        level = rng.uniform(0.84, 0.98)
        walk = []
        for _ in range(weeks):
            level = min(0.99, max(0.45, level + rng.gauss(0, 0.012)))
            walk.append(level)
        walk.reverse()  # walk[w]: w weeks back
        trend = rng.random()
        step = -0.03 if trend < 0.15 else 0.025 if trend < 0.30 else 0.0
        for w in range(min(SLIPPING_WEEKS, weeks)):
            walk[w] = min(0.99, max(0.35, walk[w] + step * (SLIPPING_WEEKS - w)))
        return walk

    def _audit(self, site, checklist, auditor, submitted, quality, rng):
        answers = {}
        for _, item in iter_items(checklist.definition):
            condition = item.get("applies_if")
            if condition and answers.get(condition["item"], {}).get("value") != condition["equals"]:
                continue  # it does not apply (an unanswered call skips the rest)
            answer = self._answer(item, quality + self.bias[item["id"]], rng)
            if answer is not None:
                answers[item["id"]] = answer
        taken = timedelta(seconds=rng.randint(40, 200) if checklist.kind == "walk_in"
                          else rng.randint(90, 600))
        data = {"id": uuid.UUID(int=rng.getrandbits(128), version=4), "location_id": site.id,
                "checklist_id": checklist.id, "started_at": submitted - taken,
                "submitted_at": submitted, "answers": answers,
                "notes": rng.choice(NOTES) if rng.random() < NOTE_SHARE else ""}
        audit = new_audit(auditor, data, checklist, site.timezone,
                          score=self._score(checklist, answers))
        # Sent at once, or a while later when the phone was offline (by the history's end).
        delay = rng.uniform(1, 90) if rng.random() > 0.03 else rng.uniform(600, 20000)
        audit.received_at = min(submitted + timedelta(seconds=round(delay)), self.end)
        return audit

    @staticmethod
    def _answer(item, chance, rng):
        """An answer ({"value", "comment"?}) to an item, or None (an optional item left out)."""
        kind = item["type"]
        good = rng.random() < min(0.995, max(0.05, chance))
        if kind == "text":
            if not item.get("required") and rng.random() < 0.3:
                return None
            value = rng.choice(FIRST_NOTICED if item.get("required") else FIRST_IMPRESSION)
        elif item.get("na_allowed") and rng.random() < NA_SHARE:
            value = NA
        elif kind == "yes_no":
            bad_is_yes = item.get("bad_answer") == "yes"
            value = (not bad_is_yes) if good else bad_is_yes
        elif kind == "rating":
            value = rng.choice([4, 5, 5]) if good else rng.choice([1, 2, 3])
        elif kind in ("count", "seconds") and "bands" in item:
            # In steps (5 s of hold, not every second), so that like audits share a score.
            limits = [int(b["max"]) for b in item["bands"] if "max" in b]
            step = max(1, limits[0] // 6)
            value = (step * rng.randint(0, limits[0] // step) if good
                     else limits[0] + step * rng.randint(1, (2 * limits[-1] - limits[0]) // step))
        elif kind in ("count", "seconds"):
            if not item.get("required", True) and rng.random() < 0.2:
                return None
            value = rng.randint(60, 420)
        else:
            value = rng.choice(item["options"])["value"]
        answer = {"value": value}
        if not good and rng.random() < COMMENT_SHARE:
            answer["comment"] = rng.choice(COMMENTS)
        return answer

    # --- corrective actions, as services/actions.follow_up_audit handles them ---------

    def _follow_up(self, site, audit, checklist, pending, rng):
        now = audit.received_at
        for action in list(pending.values()):
            self._advance(site, action, now, rng)
            if action.row["status"] == "verified":
                del pending[(action.row["checklist_id"], action.row["item_id"])]
        failed = audit.failed_items
        passed = [item_id for item_id, answer in audit.answers.items()
                  if answer["max_points"] is not None and not answer["failed"]]
        followed = []
        for item_id in failed:
            key = (checklist.id, item_id)
            if key in pending:
                self._link(site, pending[key], audit, now, rng)
            else:
                pending[key] = self._open(site, audit, self.items[key], now, rng)
            followed.append(pending[key])
        for item_id in passed:
            action = pending.get((checklist.id, item_id))
            if action and audit.submitted_at > action.row["opened_at"] and action.proposed_at is None:
                action.row["verification_proposed_by_audit_id"] = audit.id
                action.proposed_at = audit.submitted_at
                self._event(action, audit.auditor_id, "verification_proposed", now, audit_id=audit.id)
                self._touch(action, now)
        for action in followed:
            self.writer.add(action_audits, {"action_id": action.row["id"], "audit_id": audit.id})

    def _open(self, site, audit, item, now, rng):
        due = due_at_for(audit.submitted_at, item, site.timezone)
        action = Action(row={
            "id": self._new_id("next_action_id"), "location_id": site.id, "audit_id": audit.id,
            "checklist_id": audit.checklist_id, "item_id": item["id"], "title": title_for(item),
            "critical": bool(item.get("critical")),
            "photo_required": bool(item.get("photo_when_failed")), "owner_id": site.owner_id,
            "status": "open", "opened_at": audit.submitted_at, "due_at": due, "closed_at": None,
            "first_done_at": None, "verified_at": None, "updated_at": now, "repeat_count": 0,
            "verification_proposed_by_audit_id": None, "after_photo_id": None, "version": 1,
        })
        self._event(action, audit.auditor_id, "opened", now, to_value="open", audit_id=audit.id)
        action.plan = self._plan(site, audit.submitted_at, due, rng)
        self._opened.append(action)
        return action

    def _link(self, site, action, audit, now, rng):
        """The item failed again: count it; withdraw a proposal it outdates; reopen a done action."""
        row = action.row
        row["repeat_count"] += 1
        if action.proposed_at is not None and audit.submitted_at > action.proposed_at:
            row["verification_proposed_by_audit_id"], action.proposed_at = None, None
        self._event(action, audit.auditor_id, "linked_audit", now, to_value=str(row["repeat_count"]),
                    audit_id=audit.id)
        if row["status"] == "done" and audit.submitted_at > row["closed_at"]:
            self._move(action, "reopened", audit.auditor_id, REPEAT_NOTE, now)
            action.plan = self._plan_again(site, now, rng)
        self._touch(action, now)

    def _plan(self, site, opened, due, rng):
        """What people will do about a new action: mostly done on time with a note, then
        verified by the regional manager; some done a few days late, some reopened at the
        check. Every action gets done: those still open when the history ends were opened
        in its last days, and those overdue then (some of those due in its last days)
        are late by days, not months."""
        if self.end - timedelta(days=BEHIND_DAYS) <= due < self.end and rng.random() < BEHIND_SHARE:
            done = self.end + timedelta(days=rng.uniform(*LATE_DAYS))  # after the history
        elif rng.random() < LATE_SHARE:
            done = due + timedelta(days=rng.uniform(*LATE_DAYS))
        else:
            done = opened + (due - opened) * rng.uniform(0.05, 0.95)
        plan = []
        if rng.random() < 0.3:
            plan.append((opened + (done - opened) * rng.uniform(0.1, 0.8), "in_progress",
                         site.owner_id, ""))
        plan.append((done, "done", site.owner_id, rng.choice(CLOSING_NOTES)))
        check = done + timedelta(hours=rng.uniform(*CHECK_HOURS))
        if rng.random() < REOPEN_SHARE:
            plan.append((check, "reopened", site.verifier_id, REOPEN_NOTE))
            plan += self._plan_again(site, check, rng)
        else:
            plan.append((check, "verified", site.verifier_id, VERIFY_NOTE))
        return plan

    @staticmethod
    def _plan_again(site, reopened, rng):
        """A reopened action is done again, then verified."""
        done = reopened + timedelta(hours=rng.uniform(*REDONE_HOURS))
        return [(done, "done", site.owner_id, rng.choice(CLOSING_NOTES)),
                (done + timedelta(hours=rng.uniform(*CHECK_HOURS)), "verified", site.verifier_id,
                 VERIFY_NOTE)]

    def _advance(self, site, action, until, rng):
        """Carry out the planned moves made before `until` (a move needs the one before)."""
        while action.plan and action.plan[0][0] < until:
            at, status, actor_id, note = action.plan.pop(0)
            at = at.replace(microsecond=0)
            if status == "done" and action.row["photo_required"]:
                taken = at - timedelta(minutes=rng.randint(2, 30))
                self._after_photo(site, action, max(taken, action.events[-1]["at"]))
            self._move(action, status, actor_id, note, at)
            self._touch(action, at)

    def _move(self, action, status, actor_id, note, at):
        """As actions._move: the timeline entry and the columns a status sets."""
        row = action.row
        self._event(action, actor_id, "status", at, from_value=row["status"], to_value=status,
                    note=note)
        row["status"] = status
        if status == "done":
            row["closed_at"] = at
            row["first_done_at"] = row["first_done_at"] or at
        elif status == "verified":
            row["verified_at"] = at
        elif status == "reopened":
            row["closed_at"] = None
            row["after_photo_id"] = None
            row["verification_proposed_by_audit_id"], action.proposed_at = None, None

    def _after_photo(self, site, action, at):
        """The "after" photo a done action of a photo-required item needs (one demo image)."""
        photo = dict(self.photo, id=uuid.UUID(int=random.Random(  # seeded demo data, no secret  # nosec B311
            f"{self.seed}:photo:{site.code}:{action.row['id']}:{len(action.events)}").getrandbits(128), version=4),
            location_id=site.id, action_id=action.row["id"], uploaded_by=site.owner_id,
            created_at=at)
        self.writer.add(Photo.__table__, photo)
        action.row["after_photo_id"] = photo["id"]
        self._event(action, site.owner_id, "photo", at, to_value=str(photo["id"]), note=PHOTO_CAPTION)
        self._touch(action, at)

    def _write_action(self, action):
        row = dict(action.row)
        if row["after_photo_id"] is not None:
            self.writer.add_after_photo(row["id"], row["after_photo_id"])
            row["after_photo_id"] = None
        self.writer.add(CorrectiveAction.__table__, row)
        for event in action.events:
            self.writer.add(ActionEvent.__table__, event)

    def _event(self, action, actor_id, kind, at, from_value=None, to_value=None, note="",
               audit_id=None):
        action.events.append({"id": self._new_id("next_event_id"), "action_id": action.row["id"],
                              "at": at, "actor_id": actor_id, "kind": kind,
                              "from_value": from_value, "to_value": to_value, "note": note,
                              "audit_id": audit_id})

    @staticmethod
    def _touch(action, at):
        """One more change stored: the row's version and updated_at move on."""
        action.row["version"] += 1
        action.row["updated_at"] = at

    def _new_id(self, counter):
        value = getattr(self, counter)
        setattr(self, counter, value + 1)
        return value
