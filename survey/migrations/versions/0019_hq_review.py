"""the ministry's review after the province's: a questionnaire accepted or sent back

A table of its own rather than columns on ``response``: SQLite would rebuild ``response`` to
add a checked column, dropping its tally triggers (see 0017).

Revision ID: 0019_hq_review
Revises: 0018_account_scope
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


revision = '0019_hq_review'
down_revision = '0018_account_scope'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('hq_review',
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('comment', sa.String(length=2000), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("state IN ('accepted', 'returned')", name='ck_hq_review_state'),
    sa.ForeignKeyConstraint(['by_id'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['response_id'], ['response.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('response_id')
    )


def downgrade() -> None:
    op.drop_table('hq_review')
