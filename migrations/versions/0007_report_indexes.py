"""report indexes: the audits of a location and checklist in a period, covering the
figures read from them; the actions of a location by status

Revision ID: 0007_report_indexes
Revises: 0006_report_columns
Create Date: 2026-12-02 05:45:00.000000

Reports read a region's audits location by location (`location_id IN (the report's
locations)`, `checklist_id IN (its checklists)`, `submitted_at` in the period and the
previous one). With only (checklist_id, submitted_at) and (location_id, submitted_at)
to choose from, SQLite read every region's audits of the period through the checklist
index; this index serves all three conditions and holds the score and the critical flag,
so the audit figures never read the (large) rows. The actions open now at a region's
locations: (location_id, status). See docs/reports.md for the plans.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0007_report_indexes'
down_revision = '0006_report_columns'
branch_labels = None
depends_on = None


# Plain CREATE INDEX, never a batch rebuild (see 0006: SQLite would rebuild `audits`).
def upgrade():
    op.create_index('ix_audits_location_checklist_submitted', 'audits',
                    ['location_id', 'checklist_id', 'submitted_at', 'score_percent',
                     'critical_failed'], unique=False)
    op.create_index('ix_corrective_actions_location_status', 'corrective_actions',
                    ['location_id', 'status'], unique=False)


def downgrade():
    op.drop_index('ix_corrective_actions_location_status', table_name='corrective_actions')
    op.drop_index('ix_audits_location_checklist_submitted', table_name='audits')
