"""an account's area: the administrative unit whose subtree it may see (NULL: everything)

Revision ID: 0018_account_scope
Revises: 0017_kiosks
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


revision = '0018_account_scope'
down_revision = '0017_kiosks'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope_unit_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_user_account_scope_unit', 'admin_unit',
                                    ['scope_unit_id'], ['id'])
    # desks are listed and filtered by their unit once accounts have areas
    with op.batch_alter_table('desk', schema=None) as batch_op:
        batch_op.create_index('ix_desk_unit_id', ['unit_id'], unique=False)


def downgrade() -> None:
    scoped = op.get_bind().execute(sa.text(
        "SELECT count(*) FROM user_account WHERE scope_unit_id IS NOT NULL")).scalar_one()
    if scoped:  # going back would silently widen what those accounts see
        raise RuntimeError("accounts limited to an area exist: this database cannot go back "
                           "before 0018_account_scope (set them to the whole country first)")
    with op.batch_alter_table('desk', schema=None) as batch_op:
        batch_op.drop_index('ix_desk_unit_id')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint('fk_user_account_scope_unit', type_='foreignkey')
        batch_op.drop_column('scope_unit_id')
