"""How often each checklist is due at a region's locations."""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow

MIN_DAYS, MAX_DAYS = 1, 365


class Cadence(db.Model):
    """A region's cadence for a checklist: an audit of it is due every `days` days at
    each of the region's locations. The checklist is named by its id, which every
    version of its file shares (a version is its content hash), so a new version of the
    file keeps its cadence. No row: the default of the checklist's kind
    (services/cadence.py)."""

    __tablename__ = "cadences"

    region_id: Mapped[int] = mapped_column(
        sa.ForeignKey("regions.id", ondelete="CASCADE"), primary_key=True)
    checklist_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    days: Mapped[int] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.CheckConstraint(f"days BETWEEN {MIN_DAYS} AND {MAX_DAYS}", name="ck_cadences_days"),
    )
