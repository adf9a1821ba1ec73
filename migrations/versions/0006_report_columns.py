"""report columns: an audit's local date, an action's first move to done, and their indexes

Revision ID: 0006_report_columns
Revises: 0005_answers_document
Create Date: 2026-12-02 04:40:00.000000

`audits.local_date` is the day of `submitted_at` on the location's clock: reports put
audits into the location's days and weeks by it. Stored audits get it from their
location's time zone (PostgreSQL in one statement; SQLite, which knows no time
zones, in Python). `corrective_actions.first_done_at` is read off the timeline.
"""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_report_columns'
down_revision = '0005_answers_document'
branch_labels = None
depends_on = None

BATCH = 5000


def _fill_local_dates(connection):
    if connection.dialect.name == 'postgresql':
        connection.execute(sa.text(
            "UPDATE audits SET local_date = (audits.submitted_at AT TIME ZONE locations.timezone)::date "
            "FROM locations WHERE locations.id = audits.location_id"))
        return
    rows = connection.execute(sa.text(
        "SELECT audits.id, audits.submitted_at, locations.timezone FROM audits "
        "JOIN locations ON locations.id = audits.location_id"))
    update = sa.text("UPDATE audits SET local_date = :local_date WHERE id = :id")
    values = []
    for audit_id, submitted_at, zone in rows:
        instant = datetime.fromisoformat(submitted_at).replace(tzinfo=timezone.utc)
        values.append({'id': audit_id, 'local_date': instant.astimezone(ZoneInfo(zone)).date().isoformat()})
    for start in range(0, len(values), BATCH):
        connection.execute(update, values[start:start + BATCH])


# Plain ALTER TABLE, never a batch rebuild: SQLite would rebuild `audits` by dropping it,
# and with foreign keys on, that deletes the rows that reference it. So `local_date`
# stays nullable in the table (every audit stored since has one).
def upgrade():
    op.add_column('audits', sa.Column('local_date', sa.Date(), nullable=True))
    _fill_local_dates(op.get_bind())
    op.create_index('ix_audits_location_checklist_date', 'audits',
                    ['location_id', 'checklist_id', 'local_date'], unique=False)
    op.add_column('corrective_actions',
                  sa.Column('first_done_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_corrective_actions_location_first_done', 'corrective_actions',
                    ['location_id', 'first_done_at'], unique=False)
    op.execute(
        "UPDATE corrective_actions SET first_done_at = (SELECT MIN(action_events.at) "
        "FROM action_events WHERE action_events.action_id = corrective_actions.id "
        "AND action_events.kind = 'status' AND action_events.to_value = 'done')")


def downgrade():
    op.drop_index('ix_corrective_actions_location_first_done', 'corrective_actions')
    op.execute('ALTER TABLE corrective_actions DROP COLUMN first_done_at')
    op.drop_index('ix_audits_location_checklist_date', 'audits')
    op.execute('ALTER TABLE audits DROP COLUMN local_date')
