"""answers taken from the dossier (a dossier's evaluation link), with their source

Revision ID: 0015_answer_source
Revises: 0014_dossiers
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


revision = '0015_answer_source'
down_revision = '0014_dossiers'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('answer_source',
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('item_code', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['response_id'], ['response.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('response_id', 'item_code')
    )


def downgrade() -> None:
    op.drop_table('answer_source')
