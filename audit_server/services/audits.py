"""Submitting, reading and listing audits."""
import functools
import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from ..extensions import db
from ..models import Audit, CorrectiveAction, Location, Photo
from ..models.audits import AuditOutcome
from ..models.types import utcnow
from . import access
from .actions import follow_up_audit
from .checklists import find_version, validate_answers
from .errors import Conflict, InvalidInput, NotFound, Unavailable
from .photos import store_photo
from .scoring import applies, iter_items, score_answers

CLOCK_SKEW = timedelta(hours=24)
# Tries at storing an audit whose actions a concurrent audit of the same place is changing.
STORE_ATTEMPTS = 3


def _content_hash(data, version):
    """The identity of a submission's content, independent of formatting and time zones."""
    content = {
        "location_id": data["location_id"],
        "checklist_id": data["checklist_id"],
        "checklist_version": version,
        "started_at": data["started_at"].timestamp(),
        "submitted_at": data["submitted_at"].timestamp(),
        "answers": data["answers"],
        "notes": data.get("notes") or "",
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def submit_audit(user, data):
    """Store and score one audit. Returns (audit, created): the stored Audit for a
    replay, a SubmittedAudit when it was stored now.

    Idempotent on the client's UUID: the same submission again returns the stored
    audit; the same id with other content is a Conflict. The insert skips a
    duplicate primary key in the database (ON CONFLICT DO NOTHING), so this holds
    under concurrent replays too, without a look-up before every insert. The
    corrective actions the answers call for are opened, linked or proposed for
    verification in the same transaction, so a replay never opens them twice.
    """
    try:
        checklist = find_version(data["checklist_id"], data.get("checklist_version"))
    except NotFound as exc:
        field = "checklist_version" if data.get("checklist_version") else "checklist_id"
        raise InvalidInput(exc.message, {field: [exc.message]}) from None
    if data["submitted_at"] < data["started_at"]:
        raise InvalidInput("An audit cannot be submitted before it started.",
                           {"submitted_at": ["Must not be earlier than started_at."]})
    if data["submitted_at"] > utcnow() + CLOCK_SKEW:
        raise InvalidInput("The submission time is in the future.",
                           {"submitted_at": ["Must not be in the future."]})
    validate_answers(checklist, data["answers"])
    timezone_name = db.session.scalar(
        sa.select(Location.timezone).where(Location.id == data["location_id"]))
    if timezone_name is None:
        raise InvalidInput("Unknown location.", {"location_id": ["Unknown location."]})
    audit = new_audit(user, data, checklist, timezone_name)

    for _ in range(STORE_ATTEMPTS):
        try:
            stored = insert_audit(audit, user)
            if stored is None:
                db.session.rollback()
                replayed = _replay(user, data)
                replayed.previous = previous_audit(user, replayed)
                return replayed, False
            actions = follow_up_audit(audit, checklist, stored.actions_pending)
            audit.actions = sorted(actions, key=lambda a: a.id)
            audit.previous = previous_audit(user, audit)
            db.session.commit()
            return audit, True
        except (sa.exc.IntegrityError, StaleDataError):
            # Another audit of the same location opened or changed one of these
            # actions at the same moment: try again on top of what it stored.
            db.session.rollback()
    # A passing clash, not a refusal of this audit: the phone's outbox retries a 503.
    raise Unavailable("The audit could not be stored: its actions kept changing; send it again.",
                      retry_after=1)


def _replay(user, data):
    """Nothing was inserted: the stored audit if this is the same submission again
    (stored before, or by a concurrent replay just now); otherwise an error."""
    existing = db.session.get(Audit, data["id"])
    if existing is None or not access.can_see_location(user, data["location_id"]):
        raise InvalidInput("Unknown location.", {"location_id": ["Unknown location."]})
    version = data.get("checklist_version") or existing.checklist_version
    if existing.content_hash != _content_hash(data, version):
        raise Conflict("An audit with this id was already submitted with different content.",
                       {"id": ["Already used for another audit."]})
    return existing


class SubmittedAudit(AuditOutcome, SimpleNamespace):
    """A scored audit as plain attributes, named like Audit's: the columns of
    `audits`, `photos` (none yet) and `actions` (those it opened or was linked to,
    once stored).

    Submitting is the hot path, so it builds no ORM object; reading an audit later
    loads the ORM Audit."""


def new_audit(user, data, checklist, timezone_name, score=None):
    """A SubmittedAudit, scored, for valid submission data (not stored yet) at a
    location on the clock `timezone_name`. `score`: the answers' scored_parts (or their
    score_answers), when the caller has it already (the demo history shares one between
    like audits)."""
    if score is None:
        values = {k: a.get("value") for k, a in data["answers"].items()}
        score = score_answers(checklist.definition, values)
    parts = score if isinstance(score, ScoredParts) else scored_parts(checklist, score)
    answers = answers_document(parts, data["answers"])
    return SubmittedAudit(
        id=data["id"],
        location_id=data["location_id"],
        checklist_id=checklist.id,
        checklist_version=checklist.version,
        auditor_id=user.id,
        started_at=data["started_at"],
        submitted_at=data["submitted_at"],
        received_at=utcnow(),
        local_date=data["submitted_at"].astimezone(ZoneInfo(timezone_name)).date(),
        notes=data.get("notes") or "",
        content_hash=_content_hash(data, checklist.version),
        score_percent=parts.score_percent,
        points=parts.points,
        max_points=parts.max_points,
        critical_failed=parts.critical_failed,
        sections=[dict(s) for s in parts.sections],
        answers=answers,
        scored_items={item_id: int(answer["failed"]) for item_id, answer in answers.items()
                      if answer["max_points"] is not None},
        photos=[],
        actions=[],
    )


@dataclass(frozen=True)
class ScoredParts:
    """What an audit stores of its score (see scored_parts)."""
    score_percent: float | None
    points: float
    max_points: float
    critical_failed: bool
    sections: tuple  # the `sections` document's entries
    items: tuple  # (item id, position, its answer's other entries), in the checklist's order


def scored_parts(checklist, score):
    """What an audit stores of a score_answers Score: its columns, its sections and, for
    each item, the entries of its answer but position, value and comment (answers_document
    adds them)."""
    results = {r.item_id: r for r in score.items}
    items = []
    for position, (_, item) in enumerate(iter_items(checklist.definition)):
        result = results[item["id"]]
        items.append((item["id"], position, {
            "applies": result.applies,
            "points": None if result.points is None else float(result.points),
            "max_points": None if result.max_points is None else float(result.max_points),
            "failed": result.failed, "critical": result.critical,
            "photo_when_failed": bool(item.get("photo_when_failed")),
        }))
    return ScoredParts(
        score_percent=score.percent, points=float(score.points), max_points=float(score.max_points),
        critical_failed=score.critical_failed,
        sections=tuple({"id": s.id, "points": float(s.points), "max_points": float(s.max_points),
                        "percent": s.percent} for s in score.sections),
        items=tuple(items))


def answers_document(parts, answers):
    """The `answers` document of an audit (see Audit.answers), in the checklist's order:
    each answered item's position, value, comment and ScoredParts entries."""
    document = {}
    for item_id, position, scored in parts.items:
        answer = answers.get(item_id)
        if answer is not None:
            document[item_id] = {"position": position, "value": answer.get("value"),
                                 "comment": answer.get("comment") or "", **scored}
    return document


def insert_audit(audit, user):
    """INSERT a SubmittedAudit, if its location is one the user may see and its id is
    not taken. Returns None if nothing was inserted, else a row whose
    `actions_pending` says whether the location has actions of this checklist not
    yet verified (only then must follow_up_audit look at them).

    Submitting is the hot path, so this is one Core statement on the session's
    connection (the ORM's unit of work would cost more than everything else here);
    see _store_statement.
    """
    connection = db.session.connection()
    statement = _store_statement(connection.dialect.name, user.role, user.id)
    return connection.execute(statement, _row(audit, _AUDIT_COLUMNS)).one_or_none()


@functools.lru_cache(maxsize=1024)
def _store_statement(dialect, role, user_id):
    """The statement that stores an audit for a user (by role and id, which is all
    the scoping rule reads), built once per user and process:

        INSERT INTO audits SELECT <the values>
          WHERE EXISTS (<the location, if the user may see it>)
          ON CONFLICT (id) DO NOTHING
        RETURNING id, EXISTS (<unverified actions of this checklist there>)
    """
    visible = access.visible_location(SimpleNamespace(id=user_id, role=role),
                                      sa.bindparam("location_id"))
    return (
        _DIALECTS[dialect].insert(AUDITS)
        .from_select(_AUDIT_COLUMNS, _AUDIT_VALUES.where(sa.exists(visible)))
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(AUDITS.c.id, _ACTIONS_PENDING)
    )


AUDITS = Audit.__table__
_AUDIT_COLUMNS = tuple(c.key for c in AUDITS.columns)
_DIALECTS = {"postgresql": postgresql, "sqlite": sqlite}
_AUDIT_VALUES = sa.select(*[sa.bindparam(c.key, type_=c.type) for c in AUDITS.columns])
_ACTIONS_PENDING = sa.exists().where(
    CorrectiveAction.location_id == sa.bindparam("location_id"),
    CorrectiveAction.checklist_id == sa.bindparam("checklist_id"),
    CorrectiveAction.status != "verified",
).label("actions_pending")


def _row(obj, keys):
    return {key: getattr(obj, key) for key in keys}


def previous_audit(user, audit):
    """The audit of the same checklist at the same location just before `audit` (by
    submission time, then id, the order of every list of audits), if the user may see
    it: what the phone's summary compares a score with. Relative to `audit`, so a
    replay of it gets the same answer whatever was submitted since."""
    earlier = sa.or_(Audit.submitted_at < audit.submitted_at,
                     sa.and_(Audit.submitted_at == audit.submitted_at, Audit.id > audit.id))
    stmt = (sa.select(Audit.id, Audit.submitted_at, Audit.score_percent)
            .where(Audit.location_id == audit.location_id,
                   Audit.checklist_id == audit.checklist_id, earlier)
            .order_by(Audit.submitted_at.desc(), Audit.id).limit(1))
    return db.session.execute(access.in_scope(stmt, user, Audit.location_id)).one_or_none()


def _audit_query(user):
    stmt = sa.select(Audit).options(
        selectinload(Audit.actions).options(selectinload(CorrectiveAction.owner),
                                            selectinload(CorrectiveAction.location)),
        selectinload(Audit.photos))
    return access.in_scope(stmt, user, Audit.location_id)


def get_audit(user, audit_id):
    audit = db.session.scalar(_audit_query(user).where(Audit.id == audit_id))
    if audit is None:
        raise NotFound("No such audit.")
    return audit


def read_audit(user, audit_id):
    """An audit the user may see, with the `previous` one of its checklist there."""
    audit = get_audit(user, audit_id)
    audit.previous = previous_audit(user, audit)
    return audit


def list_audits(user, page, per_page, location_id=None, checklist_id=None, since=None, until=None):
    """One page of the audits a user may see, newest first, and the total count."""
    stmt = access.in_scope(sa.select(Audit.id), user, Audit.location_id)
    if location_id is not None:
        stmt = stmt.where(Audit.location_id == location_id)
    if checklist_id is not None:
        stmt = stmt.where(Audit.checklist_id == checklist_id)
    if since is not None:
        stmt = stmt.where(Audit.submitted_at >= since)
    if until is not None:
        stmt = stmt.where(Audit.submitted_at < until)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    ids = db.session.scalars(
        stmt.order_by(Audit.submitted_at.desc(), Audit.id)
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    audits = {a.id: a for a in db.session.scalars(_audit_query(user).where(Audit.id.in_(ids)))}
    return [audits[i] for i in ids], total


def add_audit_photo(user, audit_id, photo_id, file_stream, item_id=None, caption=""):
    """Attach a photo to an audit the user may see, optionally to one of its checklist
    items. Returns (photo, created); idempotent like store_photo."""
    audit = get_audit(user, audit_id)
    items = {item["id"] for _, item in iter_items(audit.checklist.definition)}
    if item_id is not None and item_id not in items:
        raise InvalidInput("This audit's checklist has no such item.",
                           {"item_id": ["Not an item of this audit's checklist."]})
    return store_photo(user, photo_id, file_stream, caption=caption, location_id=audit.location_id,
                       audit_id=audit.id, item_id=item_id)


def list_audit_photos(user, audit_id, page, per_page):
    """One page of an audit's photos, oldest first, and the total count."""
    audit = get_audit(user, audit_id)
    stmt = sa.select(Photo).where(Photo.audit_id == audit.id)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    photos = db.session.scalars(
        stmt.order_by(Photo.created_at, Photo.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return photos, total


def latest_scores(user, location_ids):
    """The latest audit of each checklist at each of the given locations the user may see:
    {location_id: {checklist_id: Audit}}, one query with a window function."""
    if not location_ids:
        return {}
    newest_first = sa.func.row_number().over(
        partition_by=(Audit.location_id, Audit.checklist_id),
        order_by=(Audit.submitted_at.desc(), Audit.id),
    ).label("rank")
    ranked = access.in_scope(
        sa.select(Audit.id, newest_first).where(Audit.location_id.in_(location_ids)),
        user, Audit.location_id,
    ).subquery()
    rows = db.session.scalars(
        sa.select(Audit).join(ranked, ranked.c.id == Audit.id).where(ranked.c.rank == 1)
    )
    latest = {}
    for audit in rows:
        latest.setdefault(audit.location_id, {})[audit.checklist_id] = audit
    return latest


def score_history(user, location_id, since):
    """Every scored audit of a location the user may see from the local date `since` on:
    [(checklist_id, local_date, score_percent)], oldest first."""
    stmt = access.in_scope(
        sa.select(Audit.checklist_id, Audit.local_date, Audit.score_percent)
        .where(Audit.location_id == location_id, Audit.local_date >= since,
               Audit.score_percent.is_not(None))
        .order_by(Audit.local_date, Audit.submitted_at, Audit.id),
        user, Audit.location_id)
    return [tuple(row) for row in db.session.execute(stmt)]


@dataclass(frozen=True)
class AnswerLine:
    """One item of an audit's checklist as the audit answered it."""
    item: dict  # the item as the audit's (pinned) checklist version defines it
    answer: dict | None  # its entry in the audit's answers document; None if not answered
    applies: bool  # False: its condition was not met ("did not apply")
    photos: list


@dataclass(frozen=True)
class SectionLines:
    section: dict  # as the pinned version defines it
    subtotal: dict | None  # the audit's {"points", "max_points", "percent"} for it
    lines: list  # AnswerLine, in the checklist's order


def answer_sheet(audit):
    """The audit's checklist version, section by section, each item with its answer,
    whether it applied and its photos; and the photos attached to no item."""
    values = {item_id: answer.get("value") for item_id, answer in audit.answers.items()}
    subtotals = {s["id"]: s for s in audit.sections}
    photos = {}
    for photo in audit.photos:
        photos.setdefault(photo.item_id, []).append(photo)
    applicable, sheet = {}, []
    for section in audit.checklist.definition["sections"]:
        lines = []
        for item in section["items"]:
            answer = audit.answers.get(item["id"])
            # A stored answer says whether it applied; an item left out was asked only
            # if its condition held.
            applicable[item["id"]] = (answer["applies"] if answer is not None
                                      else applies(item, values, applicable))
            lines.append(AnswerLine(item, answer, applicable[item["id"]], photos.pop(item["id"], [])))
        sheet.append(SectionLines(section, subtotals.get(section["id"]), lines))
    return sheet, [photo for attached in photos.values() for photo in attached]
