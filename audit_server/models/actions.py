"""Corrective actions: a failed checklist item with an owner, a deadline and a timeline."""
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from ..extensions import db
from .audits import Audit
from .org import Location
from .types import JSONDocument, UTCDateTime, utcnow
from .users import User

STATUSES = ("open", "in_progress", "done", "verified", "reopened")
# Statuses in which the fix is still to be made (and the deadline still runs).
PENDING = ("open", "in_progress", "reopened")
EVENT_KINDS = ("opened", "status", "reassigned", "note", "linked_audit",
               "verification_proposed", "photo")

action_audits = sa.Table(
    "action_audits",
    db.metadata,
    sa.Column("action_id", sa.ForeignKey("corrective_actions.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("audit_id", sa.ForeignKey("audits.id", ondelete="CASCADE"), primary_key=True,
              index=True),
)


class CorrectiveAction(db.Model):
    """One failure to fix. At most one per (location, checklist item) is not yet verified:
    a partial unique index says so, so a repeated failure links to it instead."""

    __tablename__ = "corrective_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("locations.id"))
    # The audit that found the failure; later failures are linked through action_audits.
    audit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("audits.id"), index=True)
    checklist_id: Mapped[str] = mapped_column(sa.String(64))
    item_id: Mapped[str] = mapped_column(sa.String(64))
    # The fix as a task ({"es": ..., "en": ...}): the item's action_title, else its label, as
    # they read when the action was opened (services/actions.py title_for).
    title: Mapped[dict] = mapped_column(JSONDocument)
    critical: Mapped[bool] = mapped_column(default=False)
    # The item asked for a photo when failed: closing needs an "after" photo.
    photo_required: Mapped[bool] = mapped_column(default=False)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(sa.String(16), default="open")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The latest move to done (cleared when reopened), and the first one ever: reports
    # time the fix by the first (a reopened action was not fixed on time).
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    repeat_count: Mapped[int] = mapped_column(default=0)
    verification_proposed_by_audit_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("audits.id"))
    # The "after" photo that shows the fix (cleared when the action is reopened).
    after_photo_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey(
        "photos.id", ondelete="SET NULL", use_alter=True, name="fk_corrective_actions_after_photo"))
    version: Mapped[int] = mapped_column(default=1)
    # Who audited the pass that proposed verification (they may verify): read from the
    # audit when asked for, or with the action where a query undefers it.
    verification_proposer_id: Mapped[int | None] = column_property(
        sa.select(Audit.auditor_id).where(Audit.id == verification_proposed_by_audit_id)
        .correlate_except(Audit).scalar_subquery(), deferred=True)

    location: Mapped[Location] = relationship()
    owner: Mapped[User] = relationship()
    audits: Mapped[list[Audit]] = relationship(secondary=action_audits,
                                               order_by=Audit.submitted_at)
    events: Mapped[list["ActionEvent"]] = relationship(
        back_populates="action", order_by="ActionEvent.id", cascade="all")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.CheckConstraint(f"status IN {STATUSES}", name="ck_corrective_actions_status"),
        sa.Index("uq_corrective_actions_unresolved_item", "location_id", "checklist_id", "item_id",
                 unique=True, sqlite_where=sa.text("status != 'verified'"),
                 postgresql_where=sa.text("status != 'verified'")),
        # The open or overdue actions of a scope, in the lists' order (overdue first,
        # due_at, id), sorted from the index alone (migration 0014, docs/postgresql.md).
        sa.Index("ix_corrective_actions_status_due", "status", "due_at", "id"),
        sa.Index("ix_corrective_actions_owner_status", "owner_id", "status"),
        sa.Index("ix_corrective_actions_location_opened", "location_id", "opened_at"),
        # The reports' actions of a location, covering what their figures read
        # (migration 0009, docs/reports.md).
        sa.Index("ix_corrective_actions_location_first_done", "location_id", "first_done_at",
                 "checklist_id", "opened_at", "due_at"),
        sa.Index("ix_corrective_actions_location_status", "location_id", "status",
                 "checklist_id", "due_at"),
    )

    @hybrid_method
    def is_overdue(self, now):
        return self.status in PENDING and self.due_at < now

    @is_overdue.expression
    def is_overdue(cls, now):
        return sa.and_(cls.status.in_(PENDING), cls.due_at < now)

    @property
    def due_local(self):
        """The deadline on the location's clock."""
        return self.due_at.astimezone(ZoneInfo(self.location.timezone))


class ActionEvent(db.Model):
    """One entry of an action's timeline. Append-only: rows are never updated or deleted."""

    __tablename__ = "action_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(
        sa.ForeignKey("corrective_actions.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(sa.String(32))
    from_value: Mapped[str | None] = mapped_column(sa.String(64))
    to_value: Mapped[str | None] = mapped_column(sa.String(64))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    audit_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("audits.id"))

    action: Mapped[CorrectiveAction] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint(f"kind IN {EVENT_KINDS}", name="ck_action_events_kind"),
        sa.Index("ix_action_events_action", "action_id", "id"),
    )


@sa.event.listens_for(ActionEvent, "before_update")
@sa.event.listens_for(ActionEvent, "before_delete")
def _refuse_rewriting_history(_mapper, _connection, event):
    raise ValueError(f"action event {event.id} is history: it is never changed or deleted")
