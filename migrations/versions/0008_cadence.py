"""cadence: how often each checklist is due at a region's locations

Revision ID: 0008_cadence
Revises: 0007_report_indexes
Create Date: 2026-12-02 08:00:00.000000

One row per region and checklist (by the checklist's id, which its versions share);
a region without a row for a checklist has the default of the checklist's kind
(services/cadence.py). The state of each location is computed from its audits'
`local_date` through `ix_audits_location_checklist_date` (migration 0006).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_cadence'
down_revision = '0007_report_indexes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'cadences',
        sa.Column('region_id', sa.Integer(), nullable=False),
        sa.Column('checklist_id', sa.String(length=64), nullable=False),
        sa.Column('days', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('days BETWEEN 1 AND 365', name='ck_cadences_days'),
        sa.ForeignKeyConstraint(['region_id'], ['regions.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('region_id', 'checklist_id'),
    )


def downgrade():
    op.drop_table('cadences')
