"""query indexes: the lists' indexes carry the columns their pages sort by, so a page of
audits or of open actions is read from the index alone

Revision ID: 0014_query_indexes
Revises: 0013_invitations
Create Date: 2026-12-03 09:45:00.000000

Checked with EXPLAIN (ANALYZE, BUFFERS) on a million audits (bench/explain.py --compare,
docs/postgresql.md):
- ix_audits_location_submitted (location_id, submitted_at) gains id: the audits of a
  location, newest first (ORDER BY submitted_at DESC, id), read by an index-only scan
  instead of the index and every row it names;
- ix_corrective_actions_status_due (status, due_at) gains id: the open or overdue actions
  of a scope (ORDER BY overdue first, due_at, id) sorted without reading the rows.
Each keeps its name; widened, it serves every query the narrower one did. (Widening
ix_audits_submitted too, for a regional manager's list, did not pay: that plan's cost is
the scope check per row, not the rows read; docs/postgresql.md.) Plain
DROP INDEX and CREATE INDEX on both databases (no batch rebuild: see 0006).
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014_query_indexes'
down_revision = '0013_invitations'
branch_labels = None
depends_on = None

# (name, table, columns before, columns after); bench/explain.py --compare reads them.
INDEXES = (
    ('ix_audits_location_submitted', 'audits',
     ['location_id', 'submitted_at'], ['location_id', 'submitted_at', 'id']),
    ('ix_corrective_actions_status_due', 'corrective_actions',
     ['status', 'due_at'], ['status', 'due_at', 'id']),
)


def upgrade():
    for name, table, _, columns in INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, unique=False)


def downgrade():
    for name, table, columns, _ in INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, unique=False)
