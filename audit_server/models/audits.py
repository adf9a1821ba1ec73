"""A submitted audit, its answers and the score it got."""
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .checklists import ChecklistVersion
from .org import Location
from .types import JSONDocument, UTCDateTime, utcnow
from .users import User


class AuditOutcome:
    """What an audit's answers call for, read from its `answers` and `photos`.

    Shared by the stored Audit and by a just-submitted audit, which the submit path
    keeps as plain rows (services/audits.py)."""

    @property
    def failed_items(self):
        return [a.item_id for a in self.answers if a.failed]

    @property
    def photos_missing(self):
        """Failed items whose checklist asks for a photo and that have none yet."""
        documented = {p.item_id for p in self.photos}
        return [a.item_id for a in self.answers
                if a.failed and a.photo_when_failed and a.item_id not in documented]


class Audit(AuditOutcome, db.Model):
    """The primary key is the client's UUID: a replayed submission hits it."""

    __tablename__ = "audits"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("locations.id"))
    # The exact checklist version the audit was filled against (its natural key).
    checklist_id: Mapped[str] = mapped_column(sa.String(64))
    checklist_version: Mapped[str] = mapped_column(sa.String(16))
    auditor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    # SHA-256 of the normalised submission: tells a replay from a conflict.
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    # The score as computed at submission against the pinned checklist version.
    score_percent: Mapped[float | None] = mapped_column(sa.Float)
    points: Mapped[float] = mapped_column(sa.Float)
    max_points: Mapped[float] = mapped_column(sa.Float)
    critical_failed: Mapped[bool] = mapped_column()
    sections: Mapped[list] = mapped_column(JSONDocument)

    location: Mapped[Location] = relationship()
    checklist: Mapped[ChecklistVersion] = relationship(viewonly=True)
    auditor: Mapped[User] = relationship()
    answers: Mapped[list["Answer"]] = relationship(
        back_populates="audit", cascade="all, delete-orphan", order_by="Answer.position"
    )
    # The corrective actions this audit opened or was linked to as a repeated failure.
    actions: Mapped[list["CorrectiveAction"]] = relationship(  # noqa: F821
        secondary="action_audits", viewonly=True, order_by="CorrectiveAction.id"
    )
    photos: Mapped[list["Photo"]] = relationship(  # noqa: F821 (models/photos.py)
        order_by="Photo.created_at", viewonly=True
    )

    __table_args__ = (
        sa.ForeignKeyConstraint(["checklist_id", "checklist_version"],
                                ["checklist_versions.checklist_id", "checklist_versions.version"]),
        sa.Index("ix_audits_location_submitted", "location_id", "submitted_at"),
        sa.Index("ix_audits_checklist_submitted", "checklist_id", "submitted_at"),
        sa.Index("ix_audits_submitted", "submitted_at"),
    )


class Answer(db.Model):
    """One item's answer with its scored outcome, for per-item reports in SQL."""

    __tablename__ = "answers"

    audit_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("audits.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    position: Mapped[int] = mapped_column()
    value: Mapped[object] = mapped_column(JSONDocument, nullable=True)
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    applies: Mapped[bool] = mapped_column()
    points: Mapped[float | None] = mapped_column(sa.Float)
    max_points: Mapped[float | None] = mapped_column(sa.Float)
    failed: Mapped[bool] = mapped_column(default=False)
    critical: Mapped[bool] = mapped_column(default=False)
    # The item asks for a photo when it fails (as the checklist version said).
    photo_when_failed: Mapped[bool] = mapped_column(default=False)

    audit: Mapped[Audit] = relationship(back_populates="answers")

    __table_args__ = (sa.Index("ix_answers_item_failed", "item_id", "failed"),)
