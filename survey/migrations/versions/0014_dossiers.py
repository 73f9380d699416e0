"""dossiers from the one-stop system (keyed hashes of the dossier code and the officer)

Revision ID: 0014_dossiers
Revises: 0013_webhooks
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


revision = '0014_dossiers'
down_revision = '0013_webhooks'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dossier',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('procedure_code', sa.String(length=64), nullable=False),
    sa.Column('procedure_name', sa.String(length=500), nullable=False),
    sa.Column('field', sa.String(length=200), nullable=False),
    sa.Column('agency', sa.String(length=200), nullable=False),
    sa.Column('desk_id', sa.Integer(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('returned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('officer_hash', sa.String(length=64), nullable=True),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("source IN ('import', 'api')", name='ck_dossier_source'),
    sa.ForeignKeyConstraint(['desk_id'], ['desk.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code_hash')
    )
    with op.batch_alter_table('dossier', schema=None) as batch_op:
        batch_op.create_index('ix_dossier_desk_returned', ['desk_id', 'returned_at'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('dossier', schema=None) as batch_op:
        batch_op.drop_index('ix_dossier_desk_returned')
    op.drop_table('dossier')
