"""The weekly digest e-mails sent: one row per person and ISO week, written only once
the mail server accepted the message (so a run that failed half-way resends only what
it had not sent)."""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class DigestDelivery(db.Model):
    __tablename__ = "digest_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    # The ISO week the digest covered, as ISO 8601 writes it: "2026-W48".
    week: Mapped[str] = mapped_column(sa.String(8))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The Message-ID header of the message sent, to find it in the mail server's log.
    message_id: Mapped[str] = mapped_column(sa.String(255))

    __table_args__ = (sa.UniqueConstraint("user_id", "week", name="uq_digest_deliveries_user_week"),)
