"""desk evaluations beyond the normal rate are held: review status 'held', hold reason,
the held dossier hash, and an index to count one address's evaluations across desks

Revision ID: 0008_desk_holds
Revises: 0007_serial_assignment
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


revision = '0008_desk_holds'
down_revision = '0007_serial_assignment'
branch_labels = None
depends_on = None

OLD = "status IN ('received', 'verified', 'has_issues', 'rejected')"
NEW = "status IN ('received', 'verified', 'has_issues', 'rejected', 'held')"


def upgrade() -> None:
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_constraint('ck_response_status', type_='check')
        batch_op.create_check_constraint('ck_response_status', NEW)
    with op.batch_alter_table('desk_signal', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hold_reason', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('held_dossier_hash', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_desk_signal_address_at', ['address_hash', 'created_at'],
                              unique=False)


def downgrade() -> None:
    op.execute("UPDATE response SET status = 'received' WHERE status = 'held'")
    with op.batch_alter_table('desk_signal', schema=None) as batch_op:
        batch_op.drop_index('ix_desk_signal_address_at')
        batch_op.drop_column('held_dossier_hash')
        batch_op.drop_column('hold_reason')
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_constraint('ck_response_status', type_='check')
        batch_op.create_check_constraint('ck_response_status', OLD)
