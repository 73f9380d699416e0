"""low ratings followed up: a case per low desk evaluation, answered and closed by the agency

Revision ID: 0016_follow_up
Revises: 0015_answer_source
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


revision = '0016_follow_up'
down_revision = '0015_answer_source'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('follow_up',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('desk_id', sa.Integer(), nullable=False),
    sa.Column('agency', sa.String(length=200), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('note', sa.String(length=2000), nullable=False),
    sa.Column('handled_by', sa.Integer(), nullable=True),
    sa.Column('first_response_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('open', 'answered', 'closed')", name='ck_follow_up_status'),
    sa.ForeignKeyConstraint(['desk_id'], ['desk.id'], ),
    sa.ForeignKeyConstraint(['handled_by'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['response_id'], ['response.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('response_id')
    )
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.create_index('ix_follow_up_status_opened', ['status', 'opened_at'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_up_status_opened')
    op.drop_table('follow_up')
