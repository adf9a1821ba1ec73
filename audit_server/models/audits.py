"""A submitted audit, its answers and the score it got."""
import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .checklists import ChecklistVersion
from .org import Location
from .types import JSONDocument, UTCDateTime, utcnow
from .users import User


class AuditOutcome:
    """What an audit's answers call for, read from its `answers` document and `photos`.

    Shared by the stored Audit and by a just-submitted audit, which the submit path
    keeps as plain attributes (services/audits.py)."""

    def answers_in_order(self):
        """(item_id, answer) pairs in the checklist's order."""
        return sorted(self.answers.items(), key=lambda pair: pair[1]["position"])

    @property
    def failed_items(self):
        return [item_id for item_id, answer in self.answers_in_order() if answer["failed"]]

    @property
    def photos_missing(self):
        """Failed items whose checklist asks for a photo and that have none yet."""
        documented = {p.item_id for p in self.photos}
        return [item_id for item_id, answer in self.answers_in_order()
                if answer["failed"] and answer["photo_when_failed"] and item_id not in documented]


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
    # The day of `submitted_at` on the location's clock, fixed at submission: reports
    # group audits into the location's days and Monday-to-Sunday weeks by it, the same
    # on both databases (SQLite knows no time zones). Every audit has one; the column
    # is nullable only so that migration 0006 could add it without rebuilding the table.
    local_date: Mapped[date | None] = mapped_column(sa.Date)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    # SHA-256 of the normalised submission: tells a replay from a conflict.
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    # The score as computed at submission against the pinned checklist version.
    score_percent: Mapped[float | None] = mapped_column(sa.Float)
    points: Mapped[float] = mapped_column(sa.Float)
    max_points: Mapped[float] = mapped_column(sa.Float)
    critical_failed: Mapped[bool] = mapped_column()
    sections: Mapped[list] = mapped_column(JSONDocument)
    # The answers with their scored outcome, one document per audit, keyed by item id:
    #   {"rings_to_answer": {"position": 1, "value": 4, "comment": "", "applies": true,
    #    "points": 1.0, "max_points": 2.0, "failed": false, "critical": false,
    #    "photo_when_failed": false}, ...}
    # "position" is the item's place in the checklist; "critical" and
    # "photo_when_failed" are as the pinned version said. An audit is written once
    # and read whole, so one row holds it all (a row per answer made a submission
    # 17 rows and 36 index entries); exports read it as it is, and reports reach
    # into it with the databases' JSON functions. Failures are rows as well: every
    # failed item is linked to its corrective action (action_audits).
    # (The server default only let migration 0005 add the column to stored audits.)
    answers: Mapped[dict] = mapped_column(JSONDocument, server_default="{}")
    # The answers that scored (applied, answered, not N/A: "max_points" not null), each
    # as 1 if it failed, else 0: {"rings_to_answer": 0, "warm_transfer": 1, ...}. Read off
    # `answers` at submission (services/audits.new_audit), so that reports count the
    # failures of each item without unpacking every answer. Every audit has it; nullable
    # only so that migration 0009 could add it (and fill it) without rebuilding the table.
    scored_items: Mapped[dict | None] = mapped_column(JSONDocument)

    location: Mapped[Location] = relationship()
    checklist: Mapped[ChecklistVersion] = relationship(viewonly=True)
    auditor: Mapped[User] = relationship()
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
        # A location's audits, newest first (ORDER BY submitted_at DESC, id), a page read
        # from the index alone (migration 0014, docs/postgresql.md).
        sa.Index("ix_audits_location_submitted", "location_id", "submitted_at", "id"),
        sa.Index("ix_audits_checklist_submitted", "checklist_id", "submitted_at"),
        sa.Index("ix_audits_submitted", "submitted_at"),
        sa.Index("ix_audits_location_checklist_date", "location_id", "checklist_id", "local_date"),
        # The reports' audits of a location and checklist in a period, covering the
        # figures they read (migration 0007, docs/reports.md).
        sa.Index("ix_audits_location_checklist_submitted", "location_id", "checklist_id",
                 "submitted_at", "score_percent", "critical_failed"),
    )
