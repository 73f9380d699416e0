"""paper entry: sub-ranges of a hamlet's questionnaire serials assigned to enumerators

Revision ID: 0007_serial_assignment
Revises: 0006_merge_features
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa


revision = '0007_serial_assignment'
down_revision = '0006_merge_features'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('serial_assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sample_unit_id', sa.Integer(), nullable=False),
    sa.Column('enumerator_id', sa.Integer(), nullable=False),
    sa.Column('first_serial', sa.Integer(), nullable=False),
    sa.Column('last_serial', sa.Integer(), nullable=False),
    sa.Column('assigned_by', sa.Integer(), nullable=True),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('first_serial >= 1 AND last_serial >= first_serial', name='ck_serial_assignment_range'),
    sa.ForeignKeyConstraint(['assigned_by'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['enumerator_id'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['sample_unit_id'], ['sample_unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sample_unit_id', 'first_serial')
    )
    with op.batch_alter_table('serial_assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_serial_assignment_enumerator_id'), ['enumerator_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_serial_assignment_sample_unit_id'), ['sample_unit_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('serial_assignment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_serial_assignment_sample_unit_id'))
        batch_op.drop_index(batch_op.f('ix_serial_assignment_enumerator_id'))
    op.drop_table('serial_assignment')
