"""a survey round's area: the unit whose hamlets it samples and whose staff run it

Revision ID: 0020_round_area
Revises: 0019_hq_review
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


revision = '0020_round_area'
down_revision = '0019_hq_review'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('survey_round', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_survey_round_unit', 'admin_unit', ['unit_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('survey_round', schema=None) as batch_op:
        batch_op.drop_constraint('fk_survey_round_unit', type_='foreignkey')
        batch_op.drop_column('unit_id')
