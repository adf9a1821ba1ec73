"""answers document: an audit's answers move from a row each into one JSON document on the audit

Revision ID: 0005_answers_document
Revises: 0004_action_photos
Create Date: 2026-12-01 08:30:00.000000

Stored answers are carried over (and back on downgrade), on both databases. The
column gets a server default so that SQLite can add it to the rows already there
without rebuilding `audits` (which other tables reference).
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '0005_answers_document'
down_revision = '0004_action_photos'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')

TO_DOCUMENT = {
    'postgresql': """
        UPDATE audits SET answers = COALESCE((
            SELECT jsonb_object_agg(item_id, jsonb_build_object(
                'position', position, 'value', value, 'comment', comment,
                'applies', applies, 'points', points, 'max_points', max_points,
                'failed', failed, 'critical', critical, 'photo_when_failed', photo_when_failed))
            FROM answers WHERE answers.audit_id = audits.id), '{}')
    """,
    'sqlite': """
        UPDATE audits SET answers = COALESCE((
            SELECT json_group_object(item_id, json_object(
                'position', position, 'value', json(value), 'comment', comment,
                'applies', json(CASE WHEN applies THEN 'true' ELSE 'false' END),
                'points', points, 'max_points', max_points,
                'failed', json(CASE WHEN failed THEN 'true' ELSE 'false' END),
                'critical', json(CASE WHEN critical THEN 'true' ELSE 'false' END),
                'photo_when_failed', json(CASE WHEN photo_when_failed THEN 'true' ELSE 'false' END)))
            FROM answers WHERE answers.audit_id = audits.id), '{}')
    """,
}

TO_ROWS = {
    'postgresql': """
        INSERT INTO answers (audit_id, item_id, position, value, comment, applies, points,
                             max_points, failed, critical, photo_when_failed)
        SELECT audits.id, answer.key, (answer.value->>'position')::integer, answer.value->'value',
               answer.value->>'comment', (answer.value->>'applies')::boolean,
               (answer.value->>'points')::float, (answer.value->>'max_points')::float,
               (answer.value->>'failed')::boolean, (answer.value->>'critical')::boolean,
               (answer.value->>'photo_when_failed')::boolean
        FROM audits, jsonb_each(audits.answers) AS answer
    """,
    'sqlite': """
        INSERT INTO answers (audit_id, item_id, position, value, comment, applies, points,
                             max_points, failed, critical, photo_when_failed)
        SELECT audits.id, answer.key, answer.value ->> '$.position', answer.value -> '$.value',
               answer.value ->> '$.comment', answer.value ->> '$.applies',
               answer.value ->> '$.points', answer.value ->> '$.max_points',
               answer.value ->> '$.failed', answer.value ->> '$.critical',
               answer.value ->> '$.photo_when_failed'
        FROM audits, json_each(audits.answers) AS answer
    """,
}


def upgrade():
    op.add_column('audits', sa.Column('answers', JSON, server_default='{}', nullable=False))
    op.execute(TO_DOCUMENT[op.get_bind().dialect.name])
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.drop_index('ix_answers_item_failed')
    op.drop_table('answers')


def downgrade():
    op.create_table('answers',
    sa.Column('audit_id', sa.Uuid(), nullable=False),
    sa.Column('item_id', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('value', JSON, nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('applies', sa.Boolean(), nullable=False),
    sa.Column('points', sa.Float(), nullable=True),
    sa.Column('max_points', sa.Float(), nullable=True),
    sa.Column('failed', sa.Boolean(), nullable=False),
    sa.Column('critical', sa.Boolean(), nullable=False),
    sa.Column('photo_when_failed', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['audit_id'], ['audits.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('audit_id', 'item_id')
    )
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.create_index('ix_answers_item_failed', ['item_id', 'failed'], unique=False)
    op.execute(TO_ROWS[op.get_bind().dialect.name])
    op.execute('ALTER TABLE audits DROP COLUMN answers')
