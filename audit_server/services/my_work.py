"""What waits for a person: the open corrective actions they own, for the home page.

The seam to the corrective-actions service (`services/actions.py`, built on its own
branch): its `list_actions(user, page, per_page, statuses=, owner_id=)` returns
CorrectiveAction rows (`title` in es/en, `location`, `due_at`, `is_overdue(now)`),
which are turned here into the plain `OpenAction`s that templates/home/_actions.html
shows. Where that service is not part of the build, a person has no actions.
"""
import importlib.util
from dataclasses import dataclass
from datetime import datetime

from ..models.types import utcnow

HOME_LIMIT = 5


@dataclass(frozen=True)
class OpenAction:
    id: int
    title: dict  # {"es": ..., "en": ...}
    location_name: str
    timezone: str
    due_at: datetime
    overdue: bool


def open_corrective_actions(user, limit=HOME_LIMIT):
    """The user's own actions still to be fixed, overdue first, then by deadline."""
    if importlib.util.find_spec(f"{__package__}.actions") is None:
        return []
    from ..models.actions import PENDING
    from . import actions

    now = utcnow()
    rows, _total = actions.list_actions(user, 1, limit, statuses=PENDING, owner_id=user.id, now=now)
    return [OpenAction(a.id, a.title, a.location.name, a.location.timezone, a.due_at, a.is_overdue(now))
            for a in rows]
