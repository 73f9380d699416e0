"""household sample: fieldwork assignments, weights versions

Revision ID: 0003_sample
Revises: 0001
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa


revision = '0003_sample'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('field_assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sample_unit_id', sa.Integer(), nullable=False),
    sa.Column('enumerator_id', sa.Integer(), nullable=True),
    sa.Column('first_serial', sa.Integer(), nullable=False),
    sa.Column('last_serial', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['enumerator_id'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['sample_unit_id'], ['sample_unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sample_unit_id')
    )
    op.create_table('weights_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('options', sa.JSON(), nullable=True),
    sa.Column('summary', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['round_id'], ['survey_round.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('round_id', 'version')
    )
    with op.batch_alter_table('weights_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_weights_version_round_id'), ['round_id'], unique=False)
    op.create_table('response_weight',
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('prob_stage1', sa.Float(), nullable=False),
    sa.Column('prob_stage2', sa.Float(), nullable=False),
    sa.Column('weight', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['response_id'], ['response.id'], ),
    sa.ForeignKeyConstraint(['version_id'], ['weights_version.id'], ),
    sa.PrimaryKeyConstraint('version_id', 'response_id')
    )


def downgrade() -> None:
    op.drop_table('response_weight')
    with op.batch_alter_table('weights_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_weights_version_round_id'))
    op.drop_table('weights_version')
    op.drop_table('field_assignment')
