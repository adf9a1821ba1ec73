"""What waits for a person: the corrective actions they own, or may follow, as plain rows;
and, for a regional manager or an admin, the fixes waiting for her verification and the
critical failures of the last days.

The actions they own or follow are built on `services/actions.list_actions` (overdue
first, then by deadline); the rows are what templates/actions/_row.html shows on the home
page and on "My actions".
"""
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from ..extensions import db
from ..models import Audit, ChecklistVersion, CorrectiveAction, Location
from ..models.actions import PENDING, STATUSES
from ..models.types import utcnow
from . import access, actions
from .scoring import iter_items

# The home pages list a person's first open actions (overdue first), then "See all N".
HOME_LIMIT = 3
# The regional home's lists: how many of each it shows, and the days of critical failures.
WAITING_LIMIT = 10
CRITICAL_LIMIT = 10
CRITICAL_DAYS = 7
# Still to follow: everything but the final status.
UNVERIFIED = tuple(s for s in STATUSES if s != "verified")


@dataclass(frozen=True)
class ActionRow:
    id: int
    title: dict  # {"es": ..., "en": ...}
    location_name: str
    timezone: str
    status: str
    owner_name: str
    due_at: datetime
    overdue_by: timedelta | None  # None when not overdue

    @property
    def overdue(self):
        return self.overdue_by is not None


def action_row(action, now):
    return ActionRow(action.id, action.title, action.location.name, action.location.timezone,
                     action.status, action.owner.name or action.owner.email, action.due_at,
                     now - action.due_at if action.is_overdue(now) else None)


def open_corrective_actions(user, limit=HOME_LIMIT):
    """The user's own actions still to be fixed, overdue first, then by deadline (at most
    `limit`); their total; and how many of them are overdue."""
    now = utcnow()
    found, total = actions.list_actions(user, 1, limit, statuses=PENDING, owner_id=user.id, now=now)
    _none, overdue = actions.list_actions(user, 1, 0, statuses=PENDING, owner_id=user.id,
                                           overdue=True, now=now)
    return [action_row(a, now) for a in found], total, overdue


def overdue_actions(user, limit=HOME_LIMIT, now=None):
    """The actions still to be fixed in the user's scope (whoever owns them) whose
    deadline has passed, the longest overdue first (at most `limit`); and their total."""
    now = now or utcnow()
    found, total = actions.list_actions(user, 1, limit, statuses=PENDING, overdue=True, now=now)
    return [action_row(a, now) for a in found], total


def actions_to_follow(user, page, per_page, everyone=False):
    """One page of the unverified actions the user owns (or, with `everyone`, may see)
    as rows, overdue first; and their total."""
    now = utcnow()
    found, total = actions.list_actions(user, page, per_page, statuses=UNVERIFIED,
                                        owner_id=None if everyone else user.id, now=now)
    return [action_row(a, now) for a in found], total


@dataclass(frozen=True)
class WaitingRow:
    """An action marked done, waiting for someone to verify the fix."""
    id: int
    title: dict  # {"es": ..., "en": ...}
    location_name: str
    timezone: str
    done_at: datetime  # when it was (last) marked done
    waited: timedelta


def waiting_for_verification(user, page=1, per_page=WAITING_LIMIT, now=None):
    """One page of the actions marked done (not yet verified) in the user's scope, the
    longest waiting first, as WaitingRows; and their total."""
    now = now or utcnow()
    done_at = CorrectiveAction.closed_at  # set by every move to done
    done = access.in_scope(
        sa.select(CorrectiveAction.id, CorrectiveAction.title, Location.name, Location.timezone,
                  done_at.label("done_at"))
        .join(Location, Location.id == CorrectiveAction.location_id)
        .where(CorrectiveAction.status == "done"),
        user, CorrectiveAction.location_id)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(done.subquery()))
    rows = db.session.execute(done.order_by(done_at, CorrectiveAction.id)
                              .limit(per_page).offset((page - 1) * per_page))
    return [WaitingRow(*row, waited=now - row.done_at) for row in rows], total


@dataclass(frozen=True)
class CriticalFailure:
    """An audit in which a critical item failed."""
    audit_id: uuid.UUID
    location_code: str
    location_name: str
    local_date: date
    items: list  # the labels ({"es": ..., "en": ...}) of the critical items that failed


def critical_failures(user, days=CRITICAL_DAYS, limit=CRITICAL_LIMIT, now=None):
    """The audits of the last `days` days (by submission) in the user's scope in which a
    critical item failed, newest first (at most `limit`), each with the labels of those
    items as its checklist version words them; and how many there are in all."""
    now = now or utcnow()
    failed = access.in_scope(
        sa.select(Audit.id, Location.code, Location.name, Audit.local_date, Audit.answers,
                  ChecklistVersion.definition)
        .join(Location, Location.id == Audit.location_id)
        .join(ChecklistVersion, sa.and_(ChecklistVersion.checklist_id == Audit.checklist_id,
                                        ChecklistVersion.version == Audit.checklist_version))
        .where(Audit.critical_failed, Audit.submitted_at >= now - timedelta(days=days),
               Audit.submitted_at <= now),
        user, Audit.location_id)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(failed.subquery()))
    rows = db.session.execute(failed.order_by(Audit.submitted_at.desc(), Audit.id).limit(limit))
    return [CriticalFailure(audit_id, code, name, local_date, [
        item["label"] for _, item in iter_items(definition)
        if answers.get(item["id"], {}).get("failed") and answers[item["id"]].get("critical")
    ]) for audit_id, code, name, local_date, answers, definition in rows], total
