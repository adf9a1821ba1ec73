"""What waits for a person: the corrective actions they own, or may follow, as plain rows.

Built on `services/actions.list_actions` (overdue first, then by deadline); the rows
are what templates/actions/_row.html shows on the home page and on "My actions".
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..models.actions import PENDING, STATUSES
from ..models.types import utcnow
from . import actions

HOME_LIMIT = 5
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
    """The user's own actions still to be fixed, overdue first, then by deadline."""
    now = utcnow()
    found, _total = actions.list_actions(user, 1, limit, statuses=PENDING, owner_id=user.id, now=now)
    return [action_row(a, now) for a in found]


def actions_to_follow(user, page, per_page, everyone=False):
    """One page of the unverified actions the user owns (or, with `everyone`, may see)
    as rows, overdue first; and their total."""
    now = utcnow()
    found, total = actions.list_actions(user, page, per_page, statuses=UNVERIFIED,
                                        owner_id=None if everyone else user.id, now=now)
    return [action_row(a, now) for a in found], total
