"""Submitting, reading and listing audits."""
import hashlib
import json
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Answer, Audit
from ..models.types import utcnow
from . import access
from .checklists import find_version, validate_answers
from .errors import Conflict, InvalidInput, NotFound
from .scoring import iter_items, score_answers

CLOCK_SKEW = timedelta(hours=24)


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
    version = data.get("checklist_version") or existing.checklist_version.version
    if existing.content_hash != _content_hash(data, version):
        raise Conflict("An audit with this id was already submitted with different content.",
                       {"id": ["Already used for another audit."]})
    return existing


def submit_audit(user, data):
    """Store and score one audit. Returns (audit, created).

    Idempotent on the client's UUID: the same submission again returns the stored
    audit; the same id with other content is a Conflict. The primary key makes
    this hold under concurrent replays too.
    """
    existing = db.session.get(Audit, data["id"])
    if existing is not None:
        if not access.can_see_location(user, existing.location_id):
            raise Conflict("This audit id is already used.", {"id": ["Already used."]})
        return _replay(existing, data), False

    if not access.can_see_location(user, data["location_id"]):
        raise InvalidInput("Unknown location.", {"location_id": ["Unknown location."]})
    try:
        checklist, version_row = find_version(data["checklist_id"], data.get("checklist_version"))
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

    audit = new_audit(user, data, checklist, version_row)
    db.session.add(audit)
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        # A concurrent replay of the same id won the race.
        db.session.rollback()
        existing = db.session.get(Audit, data["id"])
        if existing is None:
            raise
        return _replay(existing, data), False
    return audit, True


def new_audit(user, data, checklist, version_row):
    """A scored Audit with its Answer rows for valid submission data (not yet added)."""
    values = {k: a.get("value") for k, a in data["answers"].items()}
    score = score_answers(checklist.definition, values)
    audit = Audit(
        id=data["id"],
        location_id=data["location_id"],
        checklist_version_id=version_row.id,
        checklist_id=checklist.id,
        auditor_id=user.id,
        started_at=data["started_at"],
        submitted_at=data["submitted_at"],
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
            item_id=item["id"], position=position, value=answer.get("value"),
            comment=answer.get("comment") or "", applies=result.applies,
            points=None if result.points is None else float(result.points),
            max_points=None if result.max_points is None else float(result.max_points),
            failed=result.failed, critical=result.critical,
        ))
    return audit


def _audit_query(user):
    stmt = sa.select(Audit).options(
        selectinload(Audit.answers), selectinload(Audit.checklist_version),
        selectinload(Audit.location),
    )
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
