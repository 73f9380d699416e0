"""Does ``sipas init --demo national`` build the whole country as the ministry and the
provinces would see it: 34 provinces, each with its desks and its part of the national
round, a supervisor limited to it, and desk evaluations whose tallies equal the rows?"""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import func, text
from sqlmodel import Session, select

from survey.cli import main
from survey.db import make_engine
from survey.models import Response, SurveyRound, User
from survey.services import demo_national
from survey.services.reports import tallies
from survey.services.reports.dashboard import DashboardOptions, build_dashboard
from survey.services.reports.words import merged_text
from survey.services.scope import of_user


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
                   "WHERE l.code = 'province' AND u.valid_to IS NULL") == 34
        assert one("SELECT count(*) FROM admin_unit u JOIN geo_level l ON l.id = u.level_id "
                   "WHERE l.code = 'province' AND u.successor_id IS NOT NULL") == 63 - 34
        assert one("SELECT count(*) FROM geo_level WHERE code = 'district'") == 0  # 2025 map
        assert one("SELECT count(*) FROM desk") == 34 * demo_national.DESKS
        assert one("SELECT count(*) FROM survey_round") == 2
        # 2025: two hamlets per commune; 2024, on the old map: two per province, of 63
        assert one("SELECT count(*) FROM sample_unit") == 34 * demo_national.COMMUNES * 2 \
            + 63 * 2
        assert one("SELECT count(DISTINCT r.stratum) FROM response r JOIN survey_round s "
                   "ON s.id = r.round_id WHERE s.code = '2024'") == 63
        assert one("SELECT count(*) FROM response WHERE mode = 'paper' AND status = "
                   "'verified'") == (34 * demo_national.COMMUNES * 2 + 63 * 2) * 2
        assert one("SELECT count(*) FROM response WHERE mode = 'qr'") == 2000
        # every desk and every province supervisor belongs to one province, its own
        assert one("SELECT count(*) FROM desk d JOIN admin_unit u ON u.id = d.unit_id "
                   "WHERE substr(u.code, 1, 2) <> substr(d.code, 4, 2)") == 0
        assert one("SELECT count(*) FROM user_account a JOIN admin_unit u ON "
                   "u.id = a.scope_unit_id WHERE a.username = 't' || u.code || '-giamsat'") \
            == 34
        assert one("SELECT count(*) FROM response r JOIN user_account a ON "
                   "a.id = r.enumerator_id JOIN survey_round s ON s.id = r.round_id "
                   "WHERE s.code = '2025' AND r.stratum NOT LIKE "
                   "substr(a.username, 2, 2) || '%'") == 0  # each province keyed its own
    with Session(engine) as session:
        from_rows, stored = tallies.from_rows(session), tallies.stored(session)
        assert from_rows == stored and sum(n for *_k, n in stored[0]) == 2000
        # the old round on today's map: 34 provinces, each merger said, and the trend
        # from 2024 to 2025 compares the same areas
        old = build_dashboard(session, DashboardOptions(period="2026-Q1", round_code="2024",
                                                        lang="en")).household
        assert len(old.breakdowns["province"]) == 34
        assert old.formers["province"]["Tỉnh Tuyên Quang"] == ("Tỉnh Hà Giang",)
        assert old.formers["province"]["Thành phố Hồ Chí Minh"] == (
            "Tỉnh Bà Rịa - Vũng Tàu", "Tỉnh Bình Dương")
        assert len(old.formers["province"]) == 23  # 34 provinces, 11 unchanged
        said = merged_text(old.formers, "en")  # provinces named, communes counted
        assert "Tỉnh Tuyên Quang now includes the former Tỉnh Hà Giang" in said[1]
        merged = {c for names in old.formers["commune"].values() for c in names}
        assert said[2] == (f"Commune: {len(merged)} former units now lie in "
                           f"{len(old.formers['commune'])} of today's (see the table by "
                           "this level).")
        new = build_dashboard(session, DashboardOptions(period="2026-Q1", round_code="2025"))
        assert new.previous_round == "2024" and new.round_changes
        assert new.household.formers == {}
        # 34 provinces' "Phường Số 1": 204 communes, each its own row, told apart
        communes = [d.domain for d in new.household.breakdowns["commune"]]
        assert len(communes) == len(set(communes)) == 34 * demo_national.COMMUNES
        assert "Phường Số 1, Tỉnh Tuyên Quang" in communes
        # Tuyên Quang's supervisor: the 2024 index of today's Tuyên Quang, Hà Giang included
        user = session.exec(select(User).where(User.username == "t08-giamsat")).one()
        mine = build_dashboard(session, DashboardOptions(period="2026-Q1", round_code="2024",
                                                         area=of_user(session, user)))
        held = session.exec(select(func.count()).select_from(Response).join(
            SurveyRound, SurveyRound.id == Response.round_id).where(  # type: ignore[arg-type]
            SurveyRound.code == "2024", Response.stratum.in_(("08", "02")))).one()  # type: ignore[union-attr]
        assert mine.household.design["rows"] == held
    engine.dispose()
    walk = runner.invoke(main, ["frame", "crosswalk", "--level", "province"])
    assert walk.exit_code == 0, walk.output
    assert "02,Tỉnh Hà Giang,province,2025-06-30,08,Tỉnh Tuyên Quang" in walk.output
    assert "29 units taken over" in walk.output
    before = runner.invoke(main, ["frame", "crosswalk", "--on", "2025-06-30"])
    assert "0 units taken over" in before.output  # the old map's last day
    bad = runner.invoke(main, ["frame", "crosswalk", "--level", "district"])
    assert bad.exit_code != 0 and "'district' is not a level of the frame" in bad.output
    assert "Traceback" not in bad.output
    again = runner.invoke(main, ["init", "--demo", "national"])
    assert again.exit_code == 0 and "demo not added" in again.output
