"""Every version of every checklist that audits were ever filled against."""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import JSONDocument, UTCDateTime, utcnow


class ChecklistVersion(db.Model):
    """One checklist file's content, identified by its hash; never changed."""

    __tablename__ = "checklist_versions"

    checklist_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    version: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    definition: Mapped[dict] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
