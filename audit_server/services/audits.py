"""Submitting, reading and listing audits."""
import hashlib
import json
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import make_transient_to_detached, selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from ..extensions import db
from ..models import Answer, Audit, Photo
from ..models.types import utcnow
from . import access
from .actions import follow_up_audit
from .checklists import find_version, validate_answers
from .errors import Conflict, InvalidInput, NotFound
from .photos import store_photo
from .scoring import iter_items, score_answers

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


def _replay(existing, data):
    """The stored audit if `data` is the same submission again; Conflict otherwise."""
    version = data.get("checklist_version") or existing.checklist_version
    if existing.content_hash != _content_hash(data, version):
        raise Conflict("An audit with this id was already submitted with different content.",
                       {"id": ["Already used for another audit."]})
    return existing


def submit_audit(user, data):
    """Store and score one audit. Returns (audit, created).

    Idempotent on the client's UUID: the same submission again returns the stored
    audit; the same id with other content is a Conflict. The insert skips a
    duplicate primary key in the database (ON CONFLICT DO NOTHING), so this holds
    under concurrent replays too, without a look-up before every insert. The
    corrective actions the answers call for are opened, linked or proposed for
    verification in the same transaction, so a replay never opens them twice.
    """
    if not access.can_see_location(user, data["location_id"]):
        raise InvalidInput("Unknown location.", {"location_id": ["Unknown location."]})
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

    for _ in range(STORE_ATTEMPTS):
        audit = new_audit(user, data, checklist)
        stored = [audit, *audit.answers]
        try:
            if not insert_audit(audit):
                # Stored before (a replay), or by a concurrent replay just now.
                db.session.rollback()
                return _replay(db.session.get(Audit, data["id"]), data), False
            actions = follow_up_audit(audit, checklist)
            db.session.commit()
            set_committed_value(audit, "actions", sorted(actions, key=lambda a: a.id))
            return audit, True
        except (sa.exc.IntegrityError, StaleDataError):
            # Another audit of the same location opened or changed one of these
            # actions at the same moment: try again on top of what it stored.
            db.session.rollback()
            for row in stored:
                if row in db.session:
                    db.session.expunge(row)
    raise Conflict("The audit could not be stored: its actions kept changing; send it again.")


def insert_audit(audit):
    """INSERT an audit and its answers unless its id is taken; True if it was inserted.

    Plain cached INSERTs on the session's connection rather than the ORM's unit of
    work: submitting is the hot path. Once inserted, the audit and its answers join
    the session as persistent objects (no second INSERT, no SELECT), so that actions
    can refer to them.
    """
    connection = db.session.connection()
    audits, answers = Audit.__table__, Answer.__table__
    insert = (postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert)(audits)
    row = {c.key: getattr(audit, c.key) for c in audits.columns}
    inserted = connection.execute(
        insert.on_conflict_do_nothing(index_elements=["id"]).returning(audits.c.id), row
    ).scalar() is not None
    if not inserted:
        return False
    if audit.answers:
        connection.execute(sa.insert(answers),
                           [{c.key: getattr(a, c.key) for c in answers.columns} for a in audit.answers])
    for stored in (audit, *audit.answers):
        make_transient_to_detached(stored)
    set_committed_value(audit, "photos", [])  # a new audit has none yet
    db.session.add(audit)
    return True


def new_audit(user, data, checklist):
    """A scored Audit with its Answer rows for valid submission data (transient)."""
    values = {k: a.get("value") for k, a in data["answers"].items()}
    score = score_answers(checklist.definition, values)
    audit = Audit(
        id=data["id"],
        location_id=data["location_id"],
        checklist_id=checklist.id,
        checklist_version=checklist.version,
        auditor_id=user.id,
        started_at=data["started_at"],
        submitted_at=data["submitted_at"],
        received_at=utcnow(),
        notes=data.get("notes") or "",
        content_hash=_content_hash(data, checklist.version),
        score_percent=score.percent,
        points=float(score.points),
        max_points=float(score.max_points),
        critical_failed=score.critical_failed,
        sections=[{"id": s.id, "points": float(s.points), "max_points": float(s.max_points),
                   "percent": s.percent} for s in score.sections],
    )
    results = {r.item_id: r for r in score.items}
    for position, (_, item) in enumerate(iter_items(checklist.definition)):
        answer = data["answers"].get(item["id"])
        if answer is None:
            continue
        result = results[item["id"]]
        audit.answers.append(Answer(
            audit_id=audit.id, item_id=item["id"], position=position, value=answer.get("value"),
            comment=answer.get("comment") or "", applies=result.applies,
            points=None if result.points is None else float(result.points),
            max_points=None if result.max_points is None else float(result.max_points),
            failed=result.failed, critical=result.critical,
            photo_when_failed=bool(item.get("photo_when_failed")),
        ))
    return audit


def _audit_query(user):
    stmt = sa.select(Audit).options(
        selectinload(Audit.answers), selectinload(Audit.actions), selectinload(Audit.photos))
    return access.in_scope(stmt, user, Audit.location_id)


def get_audit(user, audit_id):
    audit = db.session.scalar(_audit_query(user).where(Audit.id == audit_id))
    if audit is None:
        raise NotFound("No such audit.")
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
