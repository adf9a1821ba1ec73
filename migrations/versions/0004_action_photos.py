"""action photos: "after" photos of corrective actions; photos know their location

Revision ID: 0004_action_photos
Revises: 0003_actions
Create Date: 2026-11-23 13:56:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_action_photos'
down_revision = '0003_actions'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.add_column(sa.Column('action_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_photos_action_id', ['action_id'], unique=False)
        batch_op.create_foreign_key('fk_photos_action_id', 'corrective_actions', ['action_id'], ['id'],
                                    ondelete='CASCADE')
        batch_op.create_check_constraint('ck_photos_one_subject',
                                         '(audit_id IS NULL) <> (action_id IS NULL)')

    with op.batch_alter_table('corrective_actions', schema=None) as batch_op:
        batch_op.create_foreign_key('fk_corrective_actions_after_photo', 'photos', ['after_photo_id'],
                                    ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('corrective_actions', schema=None) as batch_op:
        batch_op.drop_constraint('fk_corrective_actions_after_photo', type_='foreignkey')

    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.drop_constraint('ck_photos_one_subject', type_='check')
        batch_op.drop_constraint('fk_photos_action_id', type_='foreignkey')
        batch_op.drop_index('ix_photos_action_id')
        batch_op.drop_column('action_id')
