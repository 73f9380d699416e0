"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('geo_level',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_vi', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=True),
    sa.Column('depth', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('instrument',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('title_vi', sa.String(length=300), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('survey_round',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('weights_version', sa.Integer(), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('open', 'published')", name='ck_round_status'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('user_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('admin', 'supervisor', 'enumerator', 'analyst')", name='ck_user_role'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    op.create_table('admin_unit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('level_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('urban_rural', sa.String(length=10), nullable=True),
    sa.Column('households', sa.Integer(), nullable=True),
    sa.Column('population', sa.Integer(), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('successor_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['level_id'], ['geo_level.id'], ),
    sa.ForeignKeyConstraint(['parent_id'], ['admin_unit.id'], ),
    sa.ForeignKeyConstraint(['successor_id'], ['admin_unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    with op.batch_alter_table('admin_unit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_admin_unit_level_id'), ['level_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_admin_unit_parent_id'), ['parent_id'], unique=False)

    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('entity', sa.String(length=64), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)

    op.create_table('instrument_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('source_text', sa.Text(), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['instrument_id'], ['instrument.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('instrument_id', 'version')
    )
    with op.batch_alter_table('instrument_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_instrument_version_instrument_id'), ['instrument_id'], unique=False)

    op.create_table('stratum',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('population_psus', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['round_id'], ['survey_round.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('round_id', 'code')
    )
    with op.batch_alter_table('stratum', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stratum_round_id'), ['round_id'], unique=False)

    op.create_table('desk',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('agency', sa.String(length=200), nullable=False),
    sa.Column('admin_level', sa.String(length=32), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('token_version', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['admin_unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('sample_unit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('stratum_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('psu_code', sa.String(length=32), nullable=False),
    sa.Column('measure_of_size', sa.Float(), nullable=True),
    sa.Column('prob_stage1', sa.Float(), nullable=False),
    sa.Column('listed_persons', sa.Integer(), nullable=True),
    sa.Column('sample_size', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['survey_round.id'], ),
    sa.ForeignKeyConstraint(['stratum_id'], ['stratum.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['admin_unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('round_id', 'unit_id')
    )
    with op.batch_alter_table('sample_unit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sample_unit_round_id'), ['round_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sample_unit_stratum_id'), ['stratum_id'], unique=False)

    op.create_table('response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_uuid', sa.Uuid(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('instrument_version_id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=True),
    sa.Column('mode', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('sample_unit_id', sa.Integer(), nullable=True),
    sa.Column('stratum', sa.String(length=32), nullable=True),
    sa.Column('psu', sa.String(length=32), nullable=True),
    sa.Column('prob_stage1', sa.Float(), nullable=True),
    sa.Column('prob_stage2', sa.Float(), nullable=True),
    sa.Column('weight', sa.Float(), nullable=True),
    sa.Column('questionnaire_id', sa.String(length=32), nullable=True),
    sa.Column('enumerator_id', sa.Integer(), nullable=True),
    sa.Column('desk_id', sa.Integer(), nullable=True),
    sa.Column('dossier_hash', sa.String(length=64), nullable=True),
    sa.Column('slip_serial', sa.String(length=32), nullable=True),
    sa.CheckConstraint("mode IN ('paper', 'qr')", name='ck_response_mode'),
    sa.CheckConstraint("outcome IS NULL OR outcome IN ('completed', 'screened_out', 'refused', 'absent', 'not_found')", name='ck_response_outcome'),
    sa.CheckConstraint("status IN ('received', 'verified', 'has_issues', 'rejected')", name='ck_response_status'),
    sa.ForeignKeyConstraint(['desk_id'], ['desk.id'], ),
    sa.ForeignKeyConstraint(['enumerator_id'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['instrument_version_id'], ['instrument_version.id'], ),
    sa.ForeignKeyConstraint(['round_id'], ['survey_round.id'], ),
    sa.ForeignKeyConstraint(['sample_unit_id'], ['sample_unit.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['admin_unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('client_uuid'),
    sa.UniqueConstraint('dossier_hash'),
    sa.UniqueConstraint('round_id', 'questionnaire_id', 'mode')
    )
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_response_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_response_desk_id'), ['desk_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_response_instrument_version_id'), ['instrument_version_id'], unique=False)
        batch_op.create_index('ix_response_round_status', ['round_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_response_unit_id'), ['unit_id'], unique=False)

    op.create_table('answer',
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('item_code', sa.String(length=64), nullable=False),
    sa.Column('value_num', sa.Float(), nullable=True),
    sa.Column('value_text', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['response_id'], ['response.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('response_id', 'item_code')
    )
    _create_audit_guards()


AUDIT_GUARD_MESSAGE = "audit_log is append-only"


def _create_audit_guards() -> None:
    """Make the audit log append-only in the database itself, not just in the code."""
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                f"BEGIN SELECT RAISE(ABORT, '{AUDIT_GUARD_MESSAGE}'); END"
            )
    else:
        op.execute(
            "CREATE FUNCTION audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{AUDIT_GUARD_MESSAGE}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_guard()"
        )


def _drop_audit_guards() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_guard()")


def downgrade() -> None:
    _drop_audit_guards()
    op.drop_table('answer')
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_response_unit_id'))
        batch_op.drop_index('ix_response_round_status')
        batch_op.drop_index(batch_op.f('ix_response_instrument_version_id'))
        batch_op.drop_index(batch_op.f('ix_response_desk_id'))
        batch_op.drop_index(batch_op.f('ix_response_created_at'))

    op.drop_table('response')
    with op.batch_alter_table('sample_unit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sample_unit_stratum_id'))
        batch_op.drop_index(batch_op.f('ix_sample_unit_round_id'))

    op.drop_table('sample_unit')
    op.drop_table('desk')
    with op.batch_alter_table('stratum', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stratum_round_id'))

    op.drop_table('stratum')
    with op.batch_alter_table('instrument_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_instrument_version_instrument_id'))

    op.drop_table('instrument_version')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))

    op.drop_table('audit_log')
    with op.batch_alter_table('admin_unit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_admin_unit_parent_id'))
        batch_op.drop_index(batch_op.f('ix_admin_unit_level_id'))

    op.drop_table('admin_unit')
    op.drop_table('user_account')
    op.drop_table('survey_round')
    op.drop_table('instrument')
    op.drop_table('geo_level')
