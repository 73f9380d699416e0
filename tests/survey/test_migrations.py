"""Do the migrations build exactly the models, keep rows, and refuse a newer database?"""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel

from survey.db import import_all_models, make_engine
from survey.migrate import MigrationError, current_revision, head_revision, upgrade_database


def test_empty_database_upgrades_to_head_matching_the_models(db_url: str) -> None:
    import_all_models()
    engine = make_engine(db_url)
    before, after = upgrade_database(engine)
    assert before is None
    assert after == head_revision(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata
        )
    engine.dispose()
    assert diff == []


def test_upgrading_again_changes_nothing_and_keeps_rows(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO geo_level (code, name_vi, depth) VALUES ('x', 'X', 0)"))
    upgrade_database(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM geo_level")).scalar_one() == 1


def test_database_from_a_newer_sipas_is_refused_untouched(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM alembic_version"))
        conn.execute(text("INSERT INTO alembic_version (version_num) VALUES ('9999_future')"))
        conn.execute(text("INSERT INTO geo_level (code, name_vi, depth) VALUES ('x', 'X', 0)"))
    with pytest.raises(MigrationError, match="newer SIPAS"):
        upgrade_database(engine)
    assert current_revision(engine) == "9999_future"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM geo_level")).scalar_one() == 1


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"]
)
def test_audit_log_is_append_only_in_the_database(engine: Engine, statement: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO audit_log (at, action, entity) VALUES (CURRENT_TIMESTAMP, 'a', 'b')")
        )
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT action FROM audit_log")).scalar_one() == "a"


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar_one() >= 5000
    engine.dispose()
