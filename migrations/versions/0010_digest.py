"""digest: the weekly digest e-mails sent, one per person and ISO week

Revision ID: 0010_digest
Revises: 0007_report_indexes
Create Date: 2026-12-02 08:00:00.000000

`flask digest send` writes a row once the mail server accepted a person's digest of a
week; (user_id, week) is unique, so running it again for that week sends nothing new.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_digest'
down_revision = '0009_report_speed'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('digest_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('week', sa.String(length=8), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('message_id', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'week', name='uq_digest_deliveries_user_week')
    )


def downgrade():
    op.drop_table('digest_deliveries')
