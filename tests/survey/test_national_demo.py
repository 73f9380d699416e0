"""Does ``sipas init --demo national`` build the whole country as the ministry and the
provinces would see it: 34 provinces, each with its desks and its part of the national
round, a supervisor limited to it, and desk evaluations whose tallies equal the rows?"""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlmodel import Session

from survey.cli import main
from survey.db import make_engine
from survey.services import demo_national
from survey.services.reports import tallies


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_the_national_demo_is_the_whole_country(runner: CliRunner, cli_env: dict[str, str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo_national, "QUESTIONNAIRES", 2)  # the shape, not the size
    monkeypatch.setattr(demo_national, "CHUNK", 700)  # several bulk statements
    result = runner.invoke(main, ["init", "--demo", "national", "--evaluations", "2000"])
    assert result.exit_code == 0, result.output
    assert "bo-phantich" in result.output and "t79-giamsat" in result.output
    engine = make_engine(cli_env["DATABASE_URL"])
    with engine.connect() as conn:
        def one(sql: str) -> int:
            return int(conn.execute(text(sql)).scalar_one())

        assert one("SELECT count(*) FROM admin_unit u JOIN geo_level l ON l.id = u.level_id "
                   "WHERE l.code = 'province'") == 34
        assert one("SELECT count(*) FROM geo_level WHERE code = 'district'") == 0  # 2025 map
        assert one("SELECT count(*) FROM desk") == 34 * demo_national.DESKS
        assert one("SELECT count(*) FROM survey_round") == 1
        assert one("SELECT count(*) FROM sample_unit") == 34 * demo_national.COMMUNES * 2
        assert one("SELECT count(*) FROM response WHERE mode = 'paper' AND status = "
                   "'verified'") == 34 * demo_national.COMMUNES * 2 * 2
        assert one("SELECT count(*) FROM response WHERE mode = 'qr'") == 2000
        # every desk and every province supervisor belongs to one province, its own
        assert one("SELECT count(*) FROM desk d JOIN admin_unit u ON u.id = d.unit_id "
                   "WHERE substr(u.code, 1, 2) <> substr(d.code, 4, 2)") == 0
        assert one("SELECT count(*) FROM user_account a JOIN admin_unit u ON "
                   "u.id = a.scope_unit_id WHERE a.username = 't' || u.code || '-giamsat'") \
            == 34
        assert one("SELECT count(*) FROM response r JOIN user_account a ON "
                   "a.id = r.enumerator_id WHERE r.stratum NOT LIKE "
                   "substr(a.username, 2, 2) || '%'") == 0  # each province keyed its own
    with Session(engine) as session:
        from_rows, stored = tallies.from_rows(session), tallies.stored(session)
        assert from_rows == stored and sum(n for *_k, n in stored[0]) == 2000
    engine.dispose()
    again = runner.invoke(main, ["init", "--demo", "national"])
    assert again.exit_code == 0 and "demo not added" in again.output
