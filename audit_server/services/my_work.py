"""What waits for a person: the open corrective actions they own.

The seam to the corrective-actions service: when `services/actions.py` exists it
provides `open_actions_for(user, limit)`, a list of objects with `id`, `title`,
`location_name`, `due_at` (aware datetime or None) and `overdue` (bool); the home
page shows them with templates/home/_actions.html. Until that service is part of
the build, a person has no actions.
"""
import importlib.util

HOME_LIMIT = 5


def open_corrective_actions(user, limit=HOME_LIMIT):
    if importlib.util.find_spec(f"{__package__}.actions") is None:
        return []
    from . import actions

    return actions.open_actions_for(user, limit=limit)
