"""Does coverage count evaluated ÷ returned dossiers, and on time by both accounts, exactly
as a fixture with known answers says?"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from flask import Flask
from sqlmodel import Session

from survey.services.desks.links import dossier_secret
from survey.services.dossiers.records import DossierRow, store_dossiers
from survey.services.responses import store_response
from tests import factories
from tests.dossiers.support import cli_key


def _at(day: int, month: int = 8, hour: int = 10) -> datetime:
    return datetime(2025, month, day, hour, tzinfo=UTC)


def _world(app: Flask) -> None:
    """Desk A: four dossiers returned in 2025-Q3 — two on time, one late, one with no due
    date — plus one returned in October and one not returned. Three evaluations carry a
    code: D1 (said on time: agrees), D3 (said on time: the dossier was late), D2 (rejected:
    not counted). Desk B: one dossier returned in Q3, not evaluated."""
    secret = dossier_secret(app.config["SECRET_KEY"])
    with Session(app.extensions["sipas_engine"]) as session:
        version = factories.published(session, "desk_evaluation")
        a = factories.desk(session, code="MC-A", name="A")
        b = factories.desk(session, code="MC-B", name="B")
        session.flush()

        def row(code, desk, due, returned, field="Hộ tịch"):  # type: ignore[no-untyped-def]
            return DossierRow(code, "1.001612", "Khai sinh", field, "UBND xã", desk.id,
                              _at(1), due, returned, "")

        store_dossiers(session, [
            row("D1", a, _at(5), _at(4)), row("D2", a, _at(5), _at(5)),
            row("D3", a, _at(5), _at(9)), row("D4", a, None, _at(9), "Chứng thực"),
            row("D5", a, _at(5), _at(3, 10)), row("D6", a, _at(5), None),
            row("D7", b, _at(5), _at(5))], secret, "import")
        for code, said, status in (("D1", 1, "received"), ("D3", 1, "verified"),
                                   ("D2", 2, "rejected")):
            store_response(session, instrument_version=version, mode="qr",
                           client_uuid=factories.new_uuid(), status=status,
                           answers={"overall": 4, "on_time": said}, dossier_secret=secret,
                           dossier_code=code, desk_id=a.id)
        session.commit()


def test_is_coverage_exactly_the_fixtures(app: Flask) -> None:
    from survey.services.dossiers.coverage import coverage
    from survey.services.reports.period import parse_period

    _world(app)
    with Session(app.extensions["sipas_engine"]) as session:
        by_desk = {r.group: r for r in coverage(session, parse_period("2025-Q3"), "desk")}
        by_field = {r.group: r for r in coverage(session, parse_period("2025-Q3"), "field")}
    a, b, every = by_desk["MC-A"], by_desk["MC-B"], by_desk[""]
    assert (a.returned, a.evaluated, a.coverage) == (4, 2, 0.5)
    assert (a.with_due, a.on_time, a.on_time_rate) == (3, 2, 2 / 3)
    assert (a.citizens_answered, a.citizens_on_time, a.citizens_on_time_rate) == (2, 2, 1.0)
    assert (a.compared, a.agree, a.agreement) == (2, 1, 0.5)
    assert (b.returned, b.evaluated, b.coverage, b.agreement) == (1, 0, 0.0, None)
    assert (every.returned, every.evaluated) == (5, 2)
    assert by_field["Chứng thực"].returned == 1 and by_field["Hộ tịch"].returned == 4


def test_do_the_command_and_the_api_give_the_same_coverage(app: Flask, runner, cli_env
                                                           ) -> None:  # type: ignore[no-untyped-def]
    from survey.cli import main
    from survey.services.api.tokens import create_token

    app.config["SECRET_KEY"] = cli_key()  # the command line's key hashes the codes
    _world(app)
    done = runner.invoke(main, ["dossiers", "coverage", "--period", "2025-Q3", "--format",
                                "json"], env=cli_env)
    assert done.exit_code == 0, done.output
    with Session(app.extensions["sipas_engine"]) as session:
        user = factories.user(session, "analyst", username="cov")
        token = create_token(session, user, "Power BI", 1).secret
        session.commit()
    reply = app.test_client().get("/api/v1/dossiers/coverage?period=2025-Q3",
                                  headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 200 and reply.get_json() == json.loads(done.output)
    table = runner.invoke(main, ["dossiers", "coverage", "--period", "2025-Q3"], env=cli_env)
    assert "MC-A" in table.output and "50.0%" in table.output
    bad = runner.invoke(main, ["dossiers", "coverage", "--period", "2025-Q5"], env=cli_env)
    assert bad.exit_code != 0 and "2025-Q5" in bad.output

