"""Does upgrading from every earlier revision keep every stored response intact?"""

from __future__ import annotations

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text

from survey.db import make_engine
from survey.migrate import alembic_config, current_revision, head_revision, upgrade_database

REVISIONS = [
    rev.revision
    for rev in reversed(list(ScriptDirectory.from_config(alembic_config("sqlite://"))
                             .walk_revisions()))
]


def _seed(conn) -> None:  # type: ignore[no-untyped-def]
    """Rows written with the columns of the first revision, as an old SIPAS would."""
    conn.execute(text(
        "INSERT INTO instrument (id, code, kind, title_vi) VALUES (1, 'f', 'desk', 'Phiếu')"))
    conn.execute(text(
        "INSERT INTO instrument_version (id, instrument_id, version, content_hash, source_text,"
        " published_at) VALUES (1, 1, '1', 'h', 'code: f', CURRENT_TIMESTAMP)"))
    for rid in (1, 2, 3):
        conn.execute(text(
            "INSERT INTO response (id, client_uuid, content_hash, instrument_version_id, mode,"
            " status, created_at, updated_at, stratum, psu, weight) VALUES (:id, :u, 'c', 1,"
            " 'paper', 'verified', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'S1', 'P1', 12.5)"),
            {"id": rid, "u": f"00000000-0000-0000-0000-00000000000{rid}"})
        conn.execute(text(
            "INSERT INTO answer (response_id, item_code, value_num, value_text) VALUES"
            " (:id, 'c1_1', :v, NULL), (:id, 'comment', NULL, 'Cán bộ nhiệt tình')"),
            {"id": rid, "v": float(rid)})


@pytest.mark.parametrize("revision", REVISIONS)
def test_data_written_at_a_revision_survives_the_upgrade(db_url: str, revision: str) -> None:
    engine = make_engine(db_url)
    config = alembic_config(db_url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    with engine.begin() as conn:
        _seed(conn)
    upgrade_database(engine)
    assert current_revision(engine) == head_revision(db_url)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT r.id, r.stratum, r.psu, r.weight, a.item_code, a.value_num, a.value_text "
            "FROM response r JOIN answer a ON a.response_id = r.id ORDER BY r.id, a.item_code"
        )).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [
        (rid, "S1", "P1", 12.5, code, num, txt)
        for rid in (1, 2, 3)
        for code, num, txt in (("c1_1", float(rid), None), ("comment", None, "Cán bộ nhiệt tình"))
    ]
