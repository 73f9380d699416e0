"""an index on admin_unit.successor_id: an area's subtree on today's map follows it

Revision ID: 0021_successor_index
Revises: 0020_round_area
Create Date: 2026-12-06
"""
from alembic import op


revision = '0021_successor_index'
down_revision = '0020_round_area'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_admin_unit_successor_id', 'admin_unit', ['successor_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_admin_unit_successor_id', table_name='admin_unit')
