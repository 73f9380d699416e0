"""Does migration 0017 widen the mode check in place, keeping the rows and the tally
triggers (SQLite's schema edited, not the table rebuilt), and refuse to go back over kiosk
evaluations?"""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from survey.db import make_engine
from survey.migrate import alembic_config, upgrade_database

DESK_ROWS = (
    "INSERT INTO instrument (id, code, kind, title_vi) VALUES (1, 'f', 'desk', 'Phiếu')",
    "INSERT INTO instrument_version (id, instrument_id, version, content_hash, source_text,"
    " published_at) VALUES (1, 1, '1', 'h', 'code: f', CURRENT_TIMESTAMP)",
    "INSERT INTO desk (id, code, name, agency, admin_level, token_version, active)"
    " VALUES (1, 'MC', 'Bộ phận', '', '', 1, true)",
)


def _evaluation(conn, rid: int, mode: str) -> None:  # type: ignore[no-untyped-def]
    conn.execute(text(
        "INSERT INTO response (id, client_uuid, content_hash, instrument_version_id, mode,"
        " status, created_at, updated_at, desk_id) VALUES (:id, :u, 'c', 1, :mode, 'received',"
        " '2026-11-05 10:00:00', '2026-11-05 10:00:00', 1)"),
        {"id": rid, "u": f"00000000-0000-0000-0000-00000000000{rid}", "mode": mode})
    conn.execute(text("INSERT INTO answer (response_id, item_code, value_num) VALUES"
                      " (:id, 'overall', 4)"), {"id": rid})


def test_the_mode_check_is_widened_in_place(db_url: str) -> None:
    engine = make_engine(db_url)
    config = alembic_config(db_url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0016_follow_up")
    with engine.begin() as conn:
        for statement in DESK_ROWS:
            conn.execute(text(statement))
        _evaluation(conn, 1, "qr")
    with pytest.raises(IntegrityError), engine.begin() as conn:
        _evaluation(conn, 2, "kiosk")  # not yet a mode
    upgrade_database(engine)
    with engine.begin() as conn:
        _evaluation(conn, 2, "kiosk")
    with pytest.raises(IntegrityError), engine.begin() as conn:
        _evaluation(conn, 3, "fax")  # still checked
    with engine.connect() as conn:
        tally = conn.execute(text("SELECT mode, n FROM desk_tally ORDER BY mode")).all()
        answers = conn.execute(text("SELECT mode, item_code, n FROM desk_answer_tally "
                                    "ORDER BY mode")).all()
        if db_url.startswith("sqlite"):
            assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
    assert [tuple(r) for r in tally] == [("kiosk", 1), ("qr", 1)]  # the triggers still count
    assert [tuple(r) for r in answers] == [("kiosk", "overall", 1), ("qr", "overall", 1)]
    with engine.begin() as conn, pytest.raises(RuntimeError, match="cannot go back"):
        config.attributes["connection"] = conn
        command.downgrade(config, "0016_follow_up")
    engine.dispose()
