"""a keying pass keeps what has been typed so far as a draft

Revision ID: 0010_keying_drafts
Revises: 0009_staff_sessions
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


revision = '0010_keying_drafts'
down_revision = '0009_staff_sessions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('keying', schema=None) as batch_op:
        batch_op.add_column(sa.Column('draft', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('draft_saved_at', sa.DateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('keying', schema=None) as batch_op:
        batch_op.drop_column('draft_saved_at')
        batch_op.drop_column('draft')
