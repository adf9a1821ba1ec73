"""actions: corrective actions, their linked audits and their timeline

Revision ID: 0003_actions
Revises: 0001_core
Create Date: 2026-11-23 13:40:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0003_actions'
down_revision = '0002_photos'
branch_labels = None
depends_on = None

UNRESOLVED = sa.text("status != 'verified'")


def upgrade():
    op.create_table('corrective_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('audit_id', sa.Uuid(), nullable=False),
    sa.Column('checklist_id', sa.String(length=64), nullable=False),
    sa.Column('item_id', sa.String(length=64), nullable=False),
    sa.Column('title', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('critical', sa.Boolean(), nullable=False),
    sa.Column('photo_required', sa.Boolean(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('repeat_count', sa.Integer(), nullable=False),
    sa.Column('verification_proposed_by_audit_id', sa.Uuid(), nullable=True),
    sa.Column('after_photo_id', sa.Uuid(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('open', 'in_progress', 'done', 'verified', 'reopened')", name='ck_corrective_actions_status'),
    sa.ForeignKeyConstraint(['audit_id'], ['audits.id'], ),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], ),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['verification_proposed_by_audit_id'], ['audits.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('corrective_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_corrective_actions_audit_id'), ['audit_id'], unique=False)
        batch_op.create_index('ix_corrective_actions_status_due', ['status', 'due_at'], unique=False)
        batch_op.create_index('ix_corrective_actions_owner_status', ['owner_id', 'status'], unique=False)
        batch_op.create_index('ix_corrective_actions_location_opened', ['location_id', 'opened_at'], unique=False)
        # At most one action per (location, checklist item) is not yet verified.
        batch_op.create_index('uq_corrective_actions_unresolved_item', ['location_id', 'checklist_id', 'item_id'],
                              unique=True, sqlite_where=UNRESOLVED, postgresql_where=UNRESOLVED)

    op.create_table('action_audits',
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('audit_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['corrective_actions.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['audit_id'], ['audits.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('action_id', 'audit_id')
    )
    with op.batch_alter_table('action_audits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_audits_audit_id'), ['audit_id'], unique=False)

    op.create_table('action_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('from_value', sa.String(length=64), nullable=True),
    sa.Column('to_value', sa.String(length=64), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('audit_id', sa.Uuid(), nullable=True),
    sa.CheckConstraint("kind IN ('opened', 'status', 'reassigned', 'note', 'linked_audit', 'verification_proposed', 'photo')", name='ck_action_events_kind'),
    sa.ForeignKeyConstraint(['action_id'], ['corrective_actions.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['audit_id'], ['audits.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('action_events', schema=None) as batch_op:
        batch_op.create_index('ix_action_events_action', ['action_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('action_events', schema=None) as batch_op:
        batch_op.drop_index('ix_action_events_action')

    op.drop_table('action_events')
    with op.batch_alter_table('action_audits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_action_audits_audit_id'))

    op.drop_table('action_audits')
    with op.batch_alter_table('corrective_actions', schema=None) as batch_op:
        batch_op.drop_index('uq_corrective_actions_unresolved_item')
        batch_op.drop_index('ix_corrective_actions_location_opened')
        batch_op.drop_index('ix_corrective_actions_owner_status')
        batch_op.drop_index('ix_corrective_actions_status_due')
        batch_op.drop_index(batch_op.f('ix_corrective_actions_audit_id'))

    op.drop_table('corrective_actions')
