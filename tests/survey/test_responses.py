"""Is every response stored exactly once, with nothing lost or silently changed?"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from survey.models import Answer, Response
from survey.services.responses import (
    ConflictError,
    DuplicateDossierError,
    dossier_hash,
    store_response,
)
from tests import factories

SECRET = b"k" * 32


def _count(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(Response)).one())


def test_a_resent_identical_submission_is_stored_once(engine: Engine) -> None:
    with Session(engine) as session:
        version = factories.published(session, "desk_evaluation")
        client = uuid.uuid4()
        first = store_response(session, instrument_version=version, client_uuid=client,
                               mode="qr", answers={"overall": 4})
        again = store_response(session, instrument_version=version, client_uuid=client,
                               mode="qr", answers={"overall": 4})
        session.commit()
        assert first.created and not again.created
        assert again.response.id == first.response.id
        assert _count(session) == 1


def test_different_content_under_a_used_uuid_is_a_conflict(engine: Engine) -> None:
    with Session(engine) as session:
        version = factories.published(session, "desk_evaluation")
        client = uuid.uuid4()
        store_response(session, instrument_version=version, client_uuid=client, mode="qr",
                       answers={"overall": 4})
        session.commit()
        with pytest.raises(ConflictError):
            store_response(session, instrument_version=version, client_uuid=client, mode="qr",
                           answers={"overall": 1})
        session.rollback()
        stored = session.exec(select(Answer).where(Answer.item_code == "overall")).one()
        assert stored.value_num == 4


def test_a_dossier_is_evaluated_once_and_never_stored_in_clear(engine: Engine) -> None:
    with Session(engine) as session:
        version = factories.published(session, "desk_evaluation")
        store_response(session, instrument_version=version, client_uuid=uuid.uuid4(), mode="qr",
                       answers={"overall": 5}, dossier_secret=SECRET, dossier_code="h12.2025.001")
        session.commit()
        with pytest.raises(DuplicateDossierError):
            store_response(session, instrument_version=version, client_uuid=uuid.uuid4(),
                           mode="qr", answers={"overall": 2}, dossier_secret=SECRET,
                           dossier_code=" H12.2025.001 ")
        session.rollback()
        assert _count(session) == 1
        dump = " ".join(
            str(v) for row in session.connection().execute(text("SELECT * FROM response"))
            for v in row
        )
        assert "2025.001" not in dump.upper()
        assert dossier_hash(SECRET, "H12.2025.001") in dump


@pytest.mark.parametrize(
    ("field", "value"), [("mode", "email"), ("status", "approved"), ("outcome", "moved")]
)
def test_unknown_codes_are_refused_before_storing(engine: Engine, field: str, value: str) -> None:
    with Session(engine) as session:
        version = factories.published(session, "desk_evaluation")
        kwargs = {"mode": "qr", field: value}
        with pytest.raises(ValueError, match=value):
            store_response(session, instrument_version=version, client_uuid=uuid.uuid4(),
                           answers={"overall": 3}, **kwargs)
        assert _count(session) == 0


def test_multi_select_and_text_answers_round_trip(engine: Engine) -> None:
    with Session(engine) as session:
        version = factories.published(session)
        result = store_response(session, instrument_version=version, client_uuid=uuid.uuid4(),
                                mode="paper", answers={"e_fields": [1, 3], "comment": "Tốt lắm"})
        session.commit()
        rows = {a.item_code: a for a in session.exec(
            select(Answer).where(Answer.response_id == result.response.id))}
        assert rows["e_fields"].value_text == "1 3"
        assert rows["comment"].value_text == "Tốt lắm"


def test_result_rows_never_reach_the_log_even_at_debug(engine: Engine, caplog) -> None:  # type: ignore[no-untyped-def]
    """Issue 15: with sqlalchemy.engine at DEBUG, result rows (a phone, a comment) were logged."""
    import logging

    from sqlalchemy import text

    caplog.set_level(logging.DEBUG, logger="sqlalchemy.engine")
    logging.getLogger("sqlalchemy.engine").setLevel(logging.DEBUG)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT '0912399999' AS phone")).scalar_one() == "0912399999"
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    assert any("SELECT" in r.getMessage() for r in caplog.records)  # statements still logged
    assert "0912399999" not in caplog.text.replace("SELECT '0912399999'", "")
