"""activity: the log of every admin change (who, what, when, before and after)

Revision ID: 0011_activity
Revises: 0010_digest
Create Date: 2026-12-02 20:20:00.000000
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0011_activity'
down_revision = '0010_digest'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade():
    op.create_table('activity_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_email', sa.String(length=255), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target_type', sa.String(length=32), nullable=False),
    sa.Column('target_id', sa.String(length=64), nullable=False),
    sa.Column('target_label', sa.String(length=255), nullable=False),
    sa.Column('before', JSON, nullable=True),
    sa.Column('after', JSON, nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_activity_log_at', 'activity_log', ['at'])
    op.create_index('ix_activity_log_target', 'activity_log', ['target_type', 'target_id'])


def downgrade():
    op.drop_index('ix_activity_log_target', table_name='activity_log')
    op.drop_index('ix_activity_log_at', table_name='activity_log')
    op.drop_table('activity_log')
