"""Are follow-up phone numbers deleted after the retention period, evaluations kept?"""

from __future__ import annotations

import uuid
from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from survey.cli import main
from survey.db import make_engine
from survey.models import AuditLog, Response, utcnow
from survey.models_desk import DeskContact
from survey.services.desks.retention import purge_contacts
from survey.services.responses import store_response
from tests import factories


def _with_contact(session: Session, days_ago: int, phone: str) -> int:
    version = factories.published(session, "desk_evaluation")
    stored = store_response(session, instrument_version=version, client_uuid=uuid.uuid4(),
                            mode="qr", answers={"overall": 4})
    session.add(DeskContact(response_id=stored.response.id, phone=phone,
                            consent_at=utcnow() - timedelta(days=days_ago)))
    session.flush()
    return stored.response.id  # type: ignore[return-value]


def test_old_contacts_are_purged_and_evaluations_kept(engine: Engine) -> None:
    with Session(engine) as session:
        old = _with_contact(session, 200, "0912000001")
        recent = _with_contact(session, 10, "0912000002")
        session.commit()
        assert purge_contacts(session, 180) == 1
        session.commit()
        phones = [c.phone for c in session.exec(select(DeskContact))]
        assert phones == ["0912000002"]
        assert session.get(Response, old) is not None and session.get(Response, recent)
        audit = session.exec(select(AuditLog).where(AuditLog.action == "contacts.purge")).one()
        assert audit.detail == {"deleted": 1, "older_than_days": 180}
        assert "0912" not in str(audit.detail)


def test_cli_purges_with_a_given_period(runner: CliRunner, cli_env: dict[str, str]) -> None:
    assert runner.invoke(main, ["init"]).exit_code == 0
    engine = make_engine(cli_env["DATABASE_URL"])
    with Session(engine) as session:
        _with_contact(session, 40, "0912000003")
        _with_contact(session, 5, "0912000004")
        session.commit()
    result = runner.invoke(main, ["desk", "purge-contacts", "--days", "30"])
    assert result.exit_code == 0, result.output
    assert "deleted 1 contacts older than 30 days" in result.output
    with engine.connect() as conn:
        assert conn.execute(text("SELECT phone FROM desk_contact")).scalars().all() == [
            "0912000004"]
    engine.dispose()
    bad = runner.invoke(main, ["desk", "purge-contacts", "--days", "-1"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output
