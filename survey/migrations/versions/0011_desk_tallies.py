"""desk evaluations counted per desk, month, mode and answer, kept current by triggers

The dashboard reads a quarter of desk evaluations as a few thousand counts instead of
millions of answer rows. Triggers in the database itself (not the app) keep the counts equal
to the rows whatever writes them: the QR form, paper slips, a review that holds, releases or
rejects an evaluation, an edited answer, a bulk load, a deleted response. On PostgreSQL the
answer triggers run once per statement over its transition table (a submission's answers
are one INSERT), which costs a QR submission far less than a trigger per answer. Months are UTC
months of ``created_at``, the same boundaries the report periods use. Only counted
evaluations enter (status neither rejected nor held) of instruments of kind ``desk``.

Revision ID: 0011_desk_tallies
Revises: 0010_keying_drafts
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


revision = '0011_desk_tallies'
down_revision = '0010_keying_drafts'
branch_labels = None
depends_on = None

COUNTED = ("{r}.desk_id IS NOT NULL AND {r}.status NOT IN ('rejected', 'held') AND EXISTS ("
           "SELECT 1 FROM instrument_version v JOIN instrument i ON i.id = v.instrument_id "
           "WHERE v.id = {r}.instrument_version_id AND i.kind = 'desk')")
TRACKED = "status, desk_id, mode, created_at, instrument_version_id"


def upgrade() -> None:
    op.create_table(
        'desk_tally',
        sa.Column('month', sa.String(7), nullable=False),
        sa.Column('desk_id', sa.Integer(), sa.ForeignKey('desk.id'), nullable=False),
        sa.Column('mode', sa.String(8), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('month', 'desk_id', 'mode'),
    )
    op.create_table(
        'desk_answer_tally',
        sa.Column('month', sa.String(7), nullable=False),
        sa.Column('desk_id', sa.Integer(), sa.ForeignKey('desk.id'), nullable=False),
        sa.Column('mode', sa.String(8), nullable=False),
        sa.Column('item_code', sa.String(64), nullable=False),
        sa.Column('value_num', sa.Float(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('month', 'desk_id', 'mode', 'item_code', 'value_num'),
    )
    # the report's other filters: a period of evaluations of one desk, a round's status
    op.create_index('ix_response_desk_created', 'response', ['desk_id', 'created_at'])
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_triggers()
    else:
        _postgresql_triggers()
    _backfill()


def _backfill() -> None:
    month = ("substr(r.created_at, 1, 7)" if op.get_bind().dialect.name == "sqlite"
             else "to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM')")
    counted = COUNTED.format(r="r")
    op.execute(f"INSERT INTO desk_tally (month, desk_id, mode, n) SELECT {month}, r.desk_id, "
               f"r.mode, count(*) FROM response r WHERE {counted} GROUP BY 1, 2, 3")
    op.execute(f"INSERT INTO desk_answer_tally (month, desk_id, mode, item_code, value_num, n) "
               f"SELECT {month}, r.desk_id, r.mode, a.item_code, a.value_num, count(*) "
               f"FROM answer a JOIN response r ON r.id = a.response_id "
               f"WHERE a.value_num IS NOT NULL AND {counted} GROUP BY 1, 2, 3, 4, 5")


def _sqlite_upsert_tally(r: str, delta: int) -> str:
    return (f"INSERT INTO desk_tally (month, desk_id, mode, n) VALUES "
            f"(substr({r}.created_at, 1, 7), {r}.desk_id, {r}.mode, {delta}) "
            "ON CONFLICT (month, desk_id, mode) DO UPDATE SET n = desk_tally.n + excluded.n;")


def _sqlite_upsert_answers(r: str, delta: int) -> str:
    return (f"INSERT INTO desk_answer_tally (month, desk_id, mode, item_code, value_num, n) "
            f"SELECT substr({r}.created_at, 1, 7), {r}.desk_id, {r}.mode, a.item_code, "
            f"a.value_num, {delta} FROM answer a WHERE a.response_id = {r}.id AND "
            "a.value_num IS NOT NULL ON CONFLICT (month, desk_id, mode, item_code, value_num) "
            "DO UPDATE SET n = desk_answer_tally.n + excluded.n;")


def _sqlite_upsert_answer(a: str, delta: int) -> str:
    return (f"INSERT INTO desk_answer_tally (month, desk_id, mode, item_code, value_num, n) "
            f"SELECT substr(r.created_at, 1, 7), r.desk_id, r.mode, {a}.item_code, "
            f"{a}.value_num, {delta} FROM response r WHERE r.id = {a}.response_id AND "
            f"{a}.value_num IS NOT NULL AND {COUNTED.format(r='r')} "
            "ON CONFLICT (month, desk_id, mode, item_code, value_num) "
            "DO UPDATE SET n = desk_answer_tally.n + excluded.n;")


def _sqlite_triggers() -> None:
    old, new = COUNTED.format(r="OLD"), COUNTED.format(r="NEW")
    statements = [
        f"CREATE TRIGGER desk_tally_response_insert AFTER INSERT ON response WHEN {new} "
        f"BEGIN {_sqlite_upsert_tally('NEW', 1)} END",
        f"CREATE TRIGGER desk_tally_response_update_old AFTER UPDATE OF {TRACKED} ON response "
        f"WHEN {old} BEGIN {_sqlite_upsert_tally('OLD', -1)} "
        f"{_sqlite_upsert_answers('OLD', -1)} END",
        f"CREATE TRIGGER desk_tally_response_update_new AFTER UPDATE OF {TRACKED} ON response "
        f"WHEN {new} BEGIN {_sqlite_upsert_tally('NEW', 1)} "
        f"{_sqlite_upsert_answers('NEW', 1)} END",
        # answers go first, while the response still says where they were counted
        "CREATE TRIGGER desk_tally_response_delete BEFORE DELETE ON response "
        "BEGIN DELETE FROM answer WHERE response_id = OLD.id; END",
        f"CREATE TRIGGER desk_tally_response_delete_count BEFORE DELETE ON response "
        f"WHEN {old} BEGIN {_sqlite_upsert_tally('OLD', -1)} END",
        f"CREATE TRIGGER desk_tally_answer_insert AFTER INSERT ON answer "
        f"BEGIN {_sqlite_upsert_answer('NEW', 1)} END",
        f"CREATE TRIGGER desk_tally_answer_delete AFTER DELETE ON answer "
        f"BEGIN {_sqlite_upsert_answer('OLD', -1)} END",
        "CREATE TRIGGER desk_tally_answer_update AFTER UPDATE OF response_id, item_code, "
        f"value_num ON answer BEGIN {_sqlite_upsert_answer('OLD', -1)} "
        f"{_sqlite_upsert_answer('NEW', 1)} END",
    ]
    for sql in statements:
        op.execute(sql)


POSTGRESQL = """
CREATE FUNCTION desk_tally_counts(r response) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT %(counted)s
$$;

CREATE FUNCTION desk_tally_add(r response, delta integer, answers boolean) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO desk_tally (month, desk_id, mode, n)
  VALUES (to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM'), r.desk_id, r.mode, delta)
  ON CONFLICT (month, desk_id, mode) DO UPDATE SET n = desk_tally.n + EXCLUDED.n;
  IF answers THEN  -- a new response has no answers yet: they count as they are inserted
    INSERT INTO desk_answer_tally (month, desk_id, mode, item_code, value_num, n)
    SELECT to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM'), r.desk_id, r.mode,
           a.item_code, a.value_num, delta
    FROM answer a WHERE a.response_id = r.id AND a.value_num IS NOT NULL
    ORDER BY a.item_code
    ON CONFLICT (month, desk_id, mode, item_code, value_num)
    DO UPDATE SET n = desk_answer_tally.n + EXCLUDED.n;
  END IF;
END $$;

CREATE FUNCTION desk_tally_response() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    DELETE FROM answer WHERE answer.response_id = OLD.id;
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') AND desk_tally_counts(OLD) THEN
    PERFORM desk_tally_add(OLD, -1, TG_OP = 'UPDATE');
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND desk_tally_counts(NEW) THEN
    PERFORM desk_tally_add(NEW, 1, TG_OP = 'UPDATE');
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END $$;

CREATE FUNCTION desk_tally_answers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    %(count_old)s
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    %(count_new)s
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER desk_tally_response_write AFTER INSERT OR UPDATE OF %(tracked)s ON response
  FOR EACH ROW EXECUTE FUNCTION desk_tally_response();

CREATE TRIGGER desk_tally_response_delete BEFORE DELETE ON response
  FOR EACH ROW EXECUTE FUNCTION desk_tally_response();

CREATE TRIGGER desk_tally_answer_insert AFTER INSERT ON answer REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION desk_tally_answers();

CREATE TRIGGER desk_tally_answer_delete AFTER DELETE ON answer REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION desk_tally_answers();

CREATE TRIGGER desk_tally_answer_update AFTER UPDATE ON answer
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION desk_tally_answers();
"""


def _pg_count_rows(table: str, sign: str) -> str:
    """Add (or take away) a statement's answers, read from its transition table."""
    return (f"INSERT INTO desk_answer_tally (month, desk_id, mode, item_code, value_num, n) "
            f"SELECT to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM'), r.desk_id, r.mode, "
            f"t.item_code, t.value_num, {sign}count(*) "
            f"FROM {table} t JOIN response r ON r.id = t.response_id "
            f"WHERE t.value_num IS NOT NULL AND desk_tally_counts(r) "
            f"GROUP BY 1, 2, 3, 4, 5 ORDER BY 4, 5 "
            f"ON CONFLICT (month, desk_id, mode, item_code, value_num) "
            f"DO UPDATE SET n = desk_answer_tally.n + EXCLUDED.n;")


def _postgresql_triggers() -> None:
    sql = POSTGRESQL % {"counted": COUNTED.format(r="r"), "tracked": TRACKED,
                        "count_old": _pg_count_rows("old_rows", "-"),
                        "count_new": _pg_count_rows("new_rows", "")}
    for statement in sql.split("\n\n"):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("response_insert", "response_update_old", "response_update_new",
                     "response_delete", "response_delete_count", "answer_insert",
                     "answer_delete", "answer_update"):
            op.execute(f"DROP TRIGGER IF EXISTS desk_tally_{name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS desk_tally_response_write ON response")
        op.execute("DROP TRIGGER IF EXISTS desk_tally_response_delete ON response")
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS desk_tally_answer_{name} ON answer")
        for fn in ("desk_tally_response()", "desk_tally_answers()",
                   "desk_tally_add(response, integer, boolean)", "desk_tally_counts(response)"):
            op.execute(f"DROP FUNCTION IF EXISTS {fn}")
    op.drop_index('ix_response_desk_created', table_name='response')
    op.drop_table('desk_answer_tally')
    op.drop_table('desk_tally')
