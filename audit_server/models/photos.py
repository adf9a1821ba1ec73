"""Photo evidence: the processed renditions of an uploaded photo and what it documents."""
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class Photo(db.Model):
    """The primary key is the client's UUID: a replayed upload hits it.

    Only the display and thumbnail renditions are stored (metadata stripped); the
    original is known by its SHA-256 and size, which tell a replay from a conflict.
    `captured_at` is the camera's EXIF DateTimeOriginal: converted to UTC when the
    camera recorded its offset (OffsetTimeOriginal), otherwise the wall-clock time
    as given, marked UTC; null when the photo carries no capture time.
    """

    __tablename__ = "photos"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    # Where it was taken: who may see it follows from this (services/access.py).
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("locations.id"), index=True)
    # What it documents: an audit (evidence of a failure) or a corrective action (the fix).
    audit_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("audits.id", ondelete="CASCADE"))
    action_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("corrective_actions.id", ondelete="CASCADE", name="fk_photos_action_id"),
        index=True)
    item_id: Mapped[str | None] = mapped_column(sa.String(64))
    caption: Mapped[str] = mapped_column(sa.Text, default="")
    original_sha256: Mapped[str] = mapped_column(sa.String(64))
    display_sha256: Mapped[str] = mapped_column(sa.String(64))
    thumb_sha256: Mapped[str] = mapped_column(sa.String(64))
    content_type: Mapped[str] = mapped_column(sa.String(32))
    # The upright original's size in pixels, and its size in bytes.
    width: Mapped[int] = mapped_column()
    height: Mapped[int] = mapped_column()
    bytes: Mapped[int] = mapped_column()
    display_bytes: Mapped[int] = mapped_column()
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    uploaded_by: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.Index("ix_photos_audit_id", "audit_id"),
        sa.CheckConstraint("(audit_id IS NULL) <> (action_id IS NULL)", name="ck_photos_one_subject"),
    )

    def blob(self, size):
        """The SHA-256 of a rendition ("display" or "thumb")."""
        return {"display": self.display_sha256, "thumb": self.thumb_sha256}[size]
