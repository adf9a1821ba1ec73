"""The activity log: every change an admin makes, who made it, when, and what it was before
and after."""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import JSONDocument, UTCDateTime, utcnow


class ActivityEntry(db.Model):
    """One change. The actor's email and the target's label are copied, so the entry still
    reads right once either is renamed or removed; `before` and `after` hold the changed
    fields only (None for a creation or a removal)."""

    __tablename__ = "activity_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    actor_email: Mapped[str] = mapped_column(sa.String(255))
    action: Mapped[str] = mapped_column(sa.String(64))  # "region.create", "user.deactivate", ...
    target_type: Mapped[str] = mapped_column(sa.String(32))  # "region", "location", "user", ...
    target_id: Mapped[str] = mapped_column(sa.String(64), default="")
    target_label: Mapped[str] = mapped_column(sa.String(255), default="")
    before: Mapped[dict | None] = mapped_column(JSONDocument)
    after: Mapped[dict | None] = mapped_column(JSONDocument)

    __table_args__ = (sa.Index("ix_activity_log_target", "target_type", "target_id"),)
