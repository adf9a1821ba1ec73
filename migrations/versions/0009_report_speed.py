"""report speed: each audit's scored items and whether they failed; the actions' report
indexes cover what the figures read

Revision ID: 0009_report_speed
Revises: 0007_report_indexes
Create Date: 2026-12-02 08:10:00.000000

`audits.scored_items` is {item id: 1 if it failed, else 0} over the answers that scored
(applied, answered, not N/A: "max_points" not null), read off the answers document;
the failure rates of the region report count it instead of unpacking every answer.
Stored audits get it in one statement on each database. The actions' indexes by
location and first move to done, and by location and status, gain the columns the
report figures read, so that those never read the rows.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '0009_report_speed'
down_revision = '0008_cadence'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')

FILL_SCORED_ITEMS = {
    'postgresql': """
        UPDATE audits SET scored_items = COALESCE((
            SELECT jsonb_object_agg(answer.key, CASE WHEN (answer.value ->> 'failed')::boolean
                                                     THEN 1 ELSE 0 END)
            FROM jsonb_each(audits.answers) AS answer
            WHERE jsonb_typeof(answer.value -> 'max_points') = 'number'), '{}')
    """,
    'sqlite': """
        UPDATE audits SET scored_items = (
            SELECT json_group_object(answer.key, CASE WHEN answer.value ->> '$.failed'
                                                      THEN 1 ELSE 0 END)
            FROM json_each(audits.answers) AS answer
            WHERE json_type(answer.value, '$.max_points') IN ('integer', 'real'))
    """,
}

# (name, columns before, columns after)
ACTION_INDEXES = (
    ('ix_corrective_actions_location_first_done', ['location_id', 'first_done_at'],
     ['location_id', 'first_done_at', 'checklist_id', 'opened_at', 'due_at']),
    ('ix_corrective_actions_location_status', ['location_id', 'status'],
     ['location_id', 'status', 'checklist_id', 'due_at']),
)


# Plain ALTER TABLE and CREATE INDEX, never a batch rebuild (see 0006: SQLite would
# rebuild `audits` by dropping it, deleting the rows that reference it).
def upgrade():
    op.add_column('audits', sa.Column('scored_items', JSON, nullable=True))
    op.execute(FILL_SCORED_ITEMS[op.get_bind().dialect.name])
    for name, _, columns in ACTION_INDEXES:
        op.drop_index(name, table_name='corrective_actions')
        op.create_index(name, 'corrective_actions', columns, unique=False)


def downgrade():
    for name, columns, _ in ACTION_INDEXES:
        op.drop_index(name, table_name='corrective_actions')
        op.create_index(name, 'corrective_actions', columns, unique=False)
    op.execute('ALTER TABLE audits DROP COLUMN scored_items')
