"""counter tablets (kiosks) registered to a desk, their tickets, and the 'kiosk' mode

The response table's mode check gains 'kiosk'. PostgreSQL replaces the constraint. SQLite
cannot alter a CHECK constraint, and rebuilding ``response`` would drop its tally triggers
and, with foreign keys on, cascade into every answer; so the constraint's text is widened
in the schema itself, the way SQLite's documentation describes for changes that leave the
stored rows valid (section 7 of "ALTER TABLE": a looser CHECK changes no row on disk).

Revision ID: 0017_kiosks
Revises: 0016_follow_up
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


revision = '0017_kiosks'
down_revision = '0016_follow_up'
branch_labels = None
depends_on = None

OLD = "mode IN ('paper', 'qr')"
NEW = "mode IN ('paper', 'qr', 'kiosk')"


def _mode_check(before: str, after: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.execute("ALTER TABLE response DROP CONSTRAINT ck_response_mode")
        op.execute(f"ALTER TABLE response ADD CONSTRAINT ck_response_mode CHECK ({after})")
        return
    sql = bind.execute(sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND "
                               "name = 'response'")).scalar_one()
    if sql.count(before) != 1:
        raise RuntimeError(f"response's mode check is not {before!r}; not changed")
    version = bind.execute(sa.text("PRAGMA schema_version")).scalar_one()
    bind.execute(sa.text("PRAGMA writable_schema = ON"))
    bind.execute(sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND "
                         "name = 'response'"), {"sql": sql.replace(before, after)})
    bind.execute(sa.text(f"PRAGMA schema_version = {int(version) + 1}"))
    bind.execute(sa.text("PRAGMA writable_schema = OFF"))


def upgrade() -> None:
    op.create_table('kiosk_device',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('desk_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['desk_id'], ['desk.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key_hash')
    )
    with op.batch_alter_table('kiosk_device', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kiosk_device_desk_id'), ['desk_id'], unique=False)
    op.create_table('kiosk_ticket',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=40), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('dossier_hash', sa.String(length=64), nullable=True),
    sa.Column('response_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("source IN ('api', 'officer')", name='ck_kiosk_ticket_source'),
    sa.ForeignKeyConstraint(['device_id'], ['kiosk_device.id'], ),
    sa.ForeignKeyConstraint(['response_id'], ['response.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('response_id')
    )
    with op.batch_alter_table('kiosk_ticket', schema=None) as batch_op:
        batch_op.create_index('ix_kiosk_ticket_device_opened', ['device_id', 'opened_at'],
                              unique=False)
    _mode_check(OLD, NEW)


def downgrade() -> None:
    kept = op.get_bind().execute(sa.text("SELECT count(*) FROM response WHERE mode = 'kiosk'"))
    if kept.scalar_one():  # never delete evaluations to go back a version
        raise RuntimeError("kiosk evaluations are stored: this database cannot go back "
                           "before 0017_kiosks")
    _mode_check(NEW, OLD)
    with op.batch_alter_table('kiosk_ticket', schema=None) as batch_op:
        batch_op.drop_index('ix_kiosk_ticket_device_opened')
    op.drop_table('kiosk_ticket')
    with op.batch_alter_table('kiosk_device', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kiosk_device_desk_id'))
    op.drop_table('kiosk_device')
