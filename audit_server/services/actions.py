"""Corrective actions: every failed item gets an owner and is followed until it is fixed.

An audit's failed items open actions (in the audit's own transaction, see
`follow_up_audit`); a later failure of the same item at the same location links
to the action still not verified instead of opening another, and the first later
pass proposes verification.

Status moves (MOVES):
    open        -> in_progress | done
    in_progress -> done
    reopened    -> in_progress | done
    done        -> verified | reopened
    verified    is final
Marking an action done or reopened needs a note; done also needs an "after" photo
when the item asked for a photo when failed. Verifying needs the role regional
or admin, or being the auditor of the later audit in which the item passed.
A failure found again by a later audit reopens a done action.

Deadlines: the item's `action_due_hours`, else 24 hours for critical items and
7 days for the others. Deadlines of up to 24 hours are exact instants; longer
ones run to 23:59:59 on the location's clock on the day they fall on.
"""
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import selectinload, undefer
from sqlalchemy.orm.exc import StaleDataError

from ..extensions import db
from ..models import ActionEvent, Audit, CorrectiveAction, Location, User
from ..models.actions import STATUSES, action_audits
from ..models.types import utcnow
from ..models.users import user_locations
from . import access
from .checklists import current_checklists, find_version
from .errors import Conflict, Forbidden, InvalidInput, NotFound
from .photos import store_photo

MOVES = {
    "open": ("in_progress", "done"),
    "in_progress": ("done",),
    "reopened": ("in_progress", "done"),
    "done": ("verified", "reopened"),
    "verified": (),
}
NOTE_REQUIRED = ("done", "reopened")
VERIFIER_ROLES = ("admin", "regional")
CRITICAL_DUE_HOURS = 24
DUE_HOURS = 7 * 24
EXACT_DEADLINE_HOURS = 24


# --- rules ------------------------------------------------------------------

def check_move(current, wanted):
    """Raise InvalidInput, naming the allowed moves, unless current -> wanted is legal."""
    if wanted in MOVES[current]:
        return
    if not MOVES[current]:
        message = f"A {current} action is final: its status cannot change."
    else:
        message = (f"An action that is {current} cannot become {wanted}; "
                   f"it can move to: {', '.join(MOVES[current])}.")
    raise InvalidInput(message, {"status": [message]})


def due_at_for(opened_at, item, timezone_name):
    """The deadline of an action for a checklist item failed at `opened_at` (UTC)."""
    hours = item.get("action_due_hours") or (
        CRITICAL_DUE_HOURS if item.get("critical") else DUE_HOURS)
    due = opened_at + timedelta(hours=hours)
    if hours <= EXACT_DEADLINE_HOURS:
        return due
    zone = ZoneInfo(timezone_name)
    end_of_day = datetime.combine(due.astimezone(zone).date(), time(23, 59, 59), tzinfo=zone)
    return end_of_day.astimezone(timezone.utc)


def title_for(item):
    """An action's title: the item's fix as a task (its action_title), else its label.
    It is stored with the action, so a later edit of the checklist does not retitle it."""
    return item.get("action_title") or item["label"]


def has_after_photo(action):
    """Whether an "after" photo shows the fix."""
    return action.after_photo_id is not None


def may_verify(user, action):
    return user.role in VERIFIER_ROLES or action.verification_proposer_id == user.id


def allowed_moves(user, action):
    """The statuses this user may move the action to now."""
    return [move for move in MOVES[action.status] if move != "verified" or may_verify(user, action)]


def default_owner_id(location_id, auditor_id):
    """The location's manager (the lowest id if several), else the auditor."""
    manager_id = db.session.scalar(
        sa.select(sa.func.min(User.id))
        .join(user_locations, user_locations.c.user_id == User.id)
        .where(user_locations.c.location_id == location_id, User.role == "manager", User.active)
    )
    return manager_id or auditor_id


# --- what an audit sets in motion --------------------------------------------

# The actions not yet verified of some items at a location, locked, so that concurrent
# audits of the same place take turns on them (PostgreSQL; SQLite writers take turns anyway):
# as actions, and as the plain columns that tell whether a pass changes them.
_UNVERIFIED_WHERE = (
    CorrectiveAction.location_id == sa.bindparam("location_id"),
    CorrectiveAction.checklist_id == sa.bindparam("checklist_id"),
    CorrectiveAction.status != "verified",
    CorrectiveAction.item_id.in_(sa.bindparam("item_ids", expanding=True)),
)
_UNVERIFIED = (sa.select(CorrectiveAction).where(*_UNVERIFIED_WHERE)
               .order_by(CorrectiveAction.id).with_for_update())
_UNVERIFIED_ROWS = (sa.select(CorrectiveAction.id, CorrectiveAction.opened_at,
                              CorrectiveAction.verification_proposed_by_audit_id)
                    .where(*_UNVERIFIED_WHERE).order_by(CorrectiveAction.id).with_for_update())


def follow_up_audit(audit, checklist, actions_pending=True):
    """Open, link or propose to verify the actions an audit's answers call for.

    Runs inside the audit's transaction and does not commit: the audit and its
    actions are stored together or not at all. Returns the actions the audit opened
    or was linked to. `audit` is a SubmittedAudit, already inserted; every action it
    opens or repeats is linked to it in action_audits. `actions_pending` False says
    that the location has no unverified actions of this checklist (insert_audit
    tells), so there are none to look up.
    """
    failed = audit.failed_items
    passed = [item_id for item_id, answer in audit.answers.items()
              if answer["max_points"] is not None and not answer["failed"]]
    params = {"location_id": audit.location_id, "checklist_id": audit.checklist_id,
              "item_ids": failed + passed}
    if not actions_pending:
        pending = {}
    elif failed:
        pending = {action.item_id: action for action in db.session.scalars(_UNVERIFIED, params)}
    else:
        # Only passes, which change an action only when they are the first since it
        # opened: read the locked rows as plain columns, and load just those actions.
        rows = db.session.connection().execute(_UNVERIFIED_ROWS, params)
        changing = [row.id for row in rows if proposes_verification(row, audit)]
        pending = {action.item_id: action for action in db.session.scalars(
            sa.select(CorrectiveAction).where(CorrectiveAction.id.in_(changing)))} if changing else {}
    now = utcnow()
    followed = []
    for item_id in failed:
        if item_id in pending:
            link_repeated_failure(pending[item_id], audit, now)
            followed.append(pending[item_id])
        else:
            followed.append(open_corrective_action(audit, checklist.item(item_id), now))
    for item_id in passed:
        if item_id in pending:
            propose_verification(pending[item_id], audit, now)
    if followed:
        db.session.flush()  # the actions just opened get their ids
        db.session.execute(action_audits.insert(),
                           [{"action_id": action.id, "audit_id": audit.id} for action in followed])
    return followed


def open_corrective_action(audit, item, now):
    location = db.session.get(Location, audit.location_id)
    action = CorrectiveAction(
        location_id=audit.location_id, audit_id=audit.id, checklist_id=audit.checklist_id,
        item_id=item["id"], title=title_for(item), critical=bool(item.get("critical")),
        photo_required=bool(item.get("photo_when_failed")),
        owner_id=default_owner_id(audit.location_id, audit.auditor_id), status="open",
        opened_at=audit.submitted_at,
        due_at=due_at_for(audit.submitted_at, item, location.timezone),
        updated_at=now,
    )
    db.session.add(action)
    _record(action, audit.auditor_id, "opened", now, to_value="open", audit_id=audit.id)
    return action


def link_repeated_failure(action, audit, now):
    """The item failed again while its action is not verified: count it, don't duplicate.
    (follow_up_audit links the audit to the action.)"""
    action.repeat_count += 1
    proposer = action.verification_proposed_by_audit_id
    if proposer is not None and audit.submitted_at > db.session.get(Audit, proposer).submitted_at:
        action.verification_proposed_by_audit_id = None  # the pass it relied on is outdated
    action.updated_at = now
    _record(action, audit.auditor_id, "linked_audit", now, to_value=str(action.repeat_count),
            audit_id=audit.id)
    if action.status == "done" and audit.submitted_at > action.closed_at:
        _move(action, "reopened", audit.auditor_id, "The item failed again in a later audit.", now)


def proposes_verification(action, audit):
    """Whether `audit`, where the action's item passed, proposes verifying it (`action`
    may be its row): the first pass since the action opened, or since a newer failure
    withdrew the last proposal, does; later passes leave the standing proposal alone."""
    return audit.submitted_at > action.opened_at and action.verification_proposed_by_audit_id is None


def propose_verification(action, audit, now):
    """A later audit passed the item: someone may now verify the fix."""
    if not proposes_verification(action, audit):
        return
    action.verification_proposed_by_audit_id = audit.id
    action.updated_at = now
    _record(action, audit.auditor_id, "verification_proposed", now, audit_id=audit.id)


# --- what people do ------------------------------------------------------------

def change_action(user, action_id, version, status=None, note=None, owner_id=None, reason=None):
    """Apply one change (a status move, a reassignment or a comment) to an action.

    `version` is the one the client read; if the action changed since, Conflict.
    Returns the action as it is now, with the moves the user may make from there.
    """
    action = _visible_action(user, action_id)
    if version != action.version:
        _raise_stale(action.version)
    note = (note or "").strip()
    now = utcnow()
    if status is not None:
        _change_status(user, action, status, note, now)
    elif owner_id is not None:
        reassign_action(user, action, owner_id, (reason or "").strip(), now)
    elif note:
        _record(action, user.id, "note", now, note=note)
    else:
        message = "Nothing to change: send a status, an owner_id with a reason, or a note."
        raise InvalidInput(message, {"note": [message]})
    action.updated_at = now
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        _raise_stale(db.session.get(CorrectiveAction, action_id).version)
    return get_action(user, action_id)


def _raise_stale(current_version):
    message = (f"The action changed since you read it (it is at version {current_version} now); "
               "reload it and try again.")
    raise Conflict(message, {"version": [message]})


def _change_status(user, action, status, note, now):
    if status not in STATUSES:
        raise InvalidInput("Unknown status.",
                           {"status": ["Must be one of: " + ", ".join(STATUSES) + "."]})
    check_move(action.status, status)
    if status in NOTE_REQUIRED and not note:
        message = f"A note is required to mark an action {status}: say what was done."
        raise InvalidInput(message, {"note": [message]})
    if status == "done" and action.photo_required and not has_after_photo(action):
        message = 'This item needs an "after" photo of the fix before the action can be done.'
        raise InvalidInput(message, {"after_photo": [message]})
    if status == "verified" and not may_verify(user, action):
        raise Forbidden("Only a regional manager, an admin or the auditor of the later audit "
                        "where the item passed can verify an action.")
    _move(action, status, user.id, note, now)


def _move(action, status, actor_id, note, now):
    _record(action, actor_id, "status", now, from_value=action.status, to_value=status, note=note)
    action.status = status
    action.updated_at = now
    if status == "done":
        action.closed_at = now
        action.first_done_at = action.first_done_at or now
    elif status == "verified":
        action.verified_at = now
    elif status == "reopened":
        action.closed_at = None
        action.after_photo_id = None
        action.verification_proposed_by_audit_id = None


def reassign_action(user, action, owner_id, reason, now):
    """Give an action to another user who can see its location; nobody is notified."""
    if not reason:
        message = "A reason is required to reassign an action."
        raise InvalidInput(message, {"reason": [message]})
    owner = db.session.scalar(_possible_owners(action).where(User.id == owner_id))
    if owner is None:
        message = "The new owner must be an active user who can see this action's location."
        raise InvalidInput(message, {"owner_id": [message]})
    if owner.id == action.owner_id:
        message = "This user already owns the action."
        raise InvalidInput(message, {"owner_id": [message]})
    _record(action, user.id, "reassigned", now, from_value=str(action.owner_id),
            to_value=str(owner.id), note=reason)
    action.owner = owner


def _record(action, actor_id, kind, at, **values):
    """Append one entry to the action's timeline."""
    db.session.add(ActionEvent(action=action, actor_id=actor_id, kind=kind, at=at, **values))


def add_action_photo(user, action_id, photo_id, file_stream, caption=""):
    """Attach the "after" photo that shows the fix. Returns (photo, created).

    Idempotent like store_photo: the same upload again returns the stored photo and
    changes nothing. The photo is committed first; the action then points at it, so
    a retry after a failure in between completes the job.
    """
    action = _visible_action(user, action_id)
    if action.status == "verified":
        message = "A verified action is final: it takes no more photos."
        raise InvalidInput(message, {"photo": [message]})
    photo, created = store_photo(user, photo_id, file_stream, caption=caption,
                                 location_id=action.location_id, action_id=action.id)
    if action.after_photo_id != photo.id:
        now = utcnow()
        action.after_photo_id = photo.id
        action.updated_at = now
        _record(action, user.id, "photo", now, to_value=str(photo.id), note=caption)
        db.session.commit()
    return photo, created


# --- reading -----------------------------------------------------------------

def _action_query(user):
    stmt = sa.select(CorrectiveAction).options(
        selectinload(CorrectiveAction.owner), selectinload(CorrectiveAction.location),
        undefer(CorrectiveAction.verification_proposer_id),
    )
    return access.in_scope(stmt, user, CorrectiveAction.location_id)


def _for(user, action):
    """The action as `user` sees it: with `allowed_moves`, the statuses they may move it to."""
    action.allowed_moves = allowed_moves(user, action)
    return action


def _visible_action(user, action_id):
    """An action the user may see, with its audits and timeline, else NotFound."""
    action = db.session.scalar(_action_query(user).where(CorrectiveAction.id == action_id).options(
        selectinload(CorrectiveAction.audits),
        selectinload(CorrectiveAction.events).selectinload(ActionEvent.actor),
    ))
    if action is None:
        raise NotFound("No such action.")
    return action


def get_action(user, action_id):
    """An action the user may see (with its allowed_moves for them), else NotFound."""
    return _for(user, _visible_action(user, action_id))


def guidance_for(action):
    """What good looks like for an action's item ({"es", "en"}), or None: as the checklist
    version of the audit that opened it says, else as the current checklist says (an action
    opened before its item had guidance still gets it)."""
    found_by = db.session.get(Audit, action.audit_id)
    for checklist in (find_version(action.checklist_id, found_by.checklist_version),
                      current_checklists().get(action.checklist_id)):
        item = checklist and checklist.item(action.item_id)
        if item and item.get("guidance"):
            return item["guidance"]
    return None


def _possible_owners(action):
    """A SELECT of the users who may own an action: the active ones who see its location."""
    return sa.select(User).where(User.active, access.sees_location(action.location_id))


def possible_owners(action):
    """The users who may own the action (those reassign_action accepts); by name, then email."""
    return db.session.scalars(_possible_owners(action).order_by(User.name, User.email)).all()


def people_in_timeline(action):
    """{user id: User} of everyone the timeline names: actors and the owners of reassignments."""
    ids = {e.actor_id for e in action.events if e.actor_id is not None}
    for event in action.events:
        if event.kind == "reassigned":
            ids.update(int(v) for v in (event.from_value, event.to_value) if v and v.isdigit())
    return {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(ids)))}


def list_actions(user, page, per_page, statuses=(), location_id=None, audit_id=None,
                 owner_id=None, overdue=None, now=None):
    """One page of the actions a user may see, overdue first, then by deadline (each with
    its allowed_moves for the user); and the total."""
    now = now or utcnow()
    stmt = access.in_scope(sa.select(CorrectiveAction.id), user, CorrectiveAction.location_id)
    if statuses:
        stmt = stmt.where(CorrectiveAction.status.in_(statuses))
    if location_id is not None:
        stmt = stmt.where(CorrectiveAction.location_id == location_id)
    if audit_id is not None:
        stmt = stmt.where(CorrectiveAction.id.in_(
            sa.select(action_audits.c.action_id).where(action_audits.c.audit_id == audit_id)))
    if owner_id is not None:
        stmt = stmt.where(CorrectiveAction.owner_id == owner_id)
    if overdue is not None:
        is_overdue = CorrectiveAction.is_overdue(now)
        stmt = stmt.where(is_overdue if overdue else sa.not_(is_overdue))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    ids = db.session.scalars(
        stmt.order_by(sa.case((CorrectiveAction.is_overdue(now), 0), else_=1),
                      CorrectiveAction.due_at, CorrectiveAction.id)
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    found = {a.id: a for a in db.session.scalars(
        _action_query(user).where(CorrectiveAction.id.in_(ids)))}
    return [_for(user, found[i]) for i in ids], total
