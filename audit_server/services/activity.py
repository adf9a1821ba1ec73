"""The activity log: `record` every admin change in the same transaction as the change
itself (so neither is stored without the other), and read them back, newest first."""
import sqlalchemy as sa

from ..extensions import db
from ..models import ActivityEntry


def _plain(value):
    """A value as the log keeps it: JSON types as they are, lists and dicts element-wise,
    anything else (dates, enums, ...) as its text."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    return str(value)


def changes(before, after):
    """The fields that differ between two snapshots (dicts), as (before, after) dicts of
    those fields only."""
    keys = [k for k in {**before, **after} if _plain(before.get(k)) != _plain(after.get(k))]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def record(actor, action, target_type, target_id="", label="", before=None, after=None):
    """Add an entry to the session (the caller commits it with the change). `actor` is the
    User who made the change (None for the system, e.g. a CLI command)."""
    entry = ActivityEntry(
        actor_id=getattr(actor, "id", None),
        actor_email=getattr(actor, "email", None) or "system",
        action=action, target_type=target_type, target_id=str(target_id or ""),
        target_label=str(label or "")[:255],
        before=_plain(before) if before is not None else None,
        after=_plain(after) if after is not None else None)
    db.session.add(entry)
    return entry


def list_entries(page, per_page, target_type=None, actor_id=None):
    """(entries, total) newest first, optionally of one kind of target or one actor."""
    stmt = sa.select(ActivityEntry)
    if target_type:
        stmt = stmt.where(ActivityEntry.target_type == target_type)
    if actor_id:
        stmt = stmt.where(ActivityEntry.actor_id == actor_id)
    total = db.session.scalar(stmt.with_only_columns(sa.func.count()).order_by(None))
    rows = db.session.scalars(stmt.order_by(ActivityEntry.at.desc(), ActivityEntry.id.desc())
                              .limit(per_page).offset((page - 1) * per_page)).all()
    return rows, total


def target_types():
    return db.session.scalars(sa.select(ActivityEntry.target_type).distinct()
                              .order_by(ActivityEntry.target_type)).all()
