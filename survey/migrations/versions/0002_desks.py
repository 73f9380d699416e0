"""desk evaluations: consented follow-up contacts and burst signals

Revision ID: 0002_desks
Revises: 0001
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_desks'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('desk_contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('consent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['response_id'], ['response.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('response_id')
    )
    op.create_table('desk_signal',
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('desk_id', sa.Integer(), nullable=False),
    sa.Column('address_hash', sa.String(length=16), nullable=False),
    sa.Column('pattern_hash', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['desk_id'], ['desk.id'], ),
    sa.ForeignKeyConstraint(['response_id'], ['response.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('response_id')
    )
    with op.batch_alter_table('desk_signal', schema=None) as batch_op:
        batch_op.create_index('ix_desk_signal_desk_at', ['desk_id', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('desk_signal', schema=None) as batch_op:
        batch_op.drop_index('ix_desk_signal_desk_at')
    op.drop_table('desk_signal')
    op.drop_table('desk_contact')
