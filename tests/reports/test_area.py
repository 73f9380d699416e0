"""Does an account limited to an area get the reports, exports and data feeds of that area,
computed as the design says, and nothing of the rest?

The demo province has two districts. An account limited to Huyện Tân Phú must get exactly
what the province's dashboard shows when the district filter chooses Tân Phú (a domain of
the round's design, so the same standard errors and degrees of freedom, not a subset's),
the desks of that district and its communes only, and in its exports, API pages and OData
feed only the questionnaires of its hamlets and the evaluations of its desks.
"""

from __future__ import annotations

import csv
import io

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from survey.models import AdminUnit, Desk, Response
from survey.services.geography import ancestry_table
from survey.services.reports.dashboard import DashboardOptions, build_dashboard
from survey.services.scope import of_user
from tests import factories
from tests.reports.conftest import PASSWORD
from tests.support import sign_in

DISTRICT = "Huyện Tân Phú"


def _area_account(app: Flask, username: str, unit_name: str, role: str = "analyst") -> int:
    with Session(app.extensions["sipas_engine"]) as session:
        unit = session.exec(select(AdminUnit).where(AdminUnit.name == unit_name)).one()
        user = factories.user(session, role, username=username, password=PASSWORD,
                              scope_unit_id=unit.id)
        session.commit()
        return int(user.id)  # type: ignore[arg-type]


def _token(app: Flask, user_id: int) -> str:
    from survey.models import User
    from survey.services.api.tokens import create_token

    with Session(app.extensions["sipas_engine"]) as session:
        user = session.get(User, user_id)
        assert user is not None
        made = create_token(session, user, "area test", 30)
        session.commit()
        return made.secret


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_a_district_account_gets_what_the_district_filter_shows(demo: Flask,
                                                                 client: FlaskClient) -> None:
    user_id = _area_account(demo, "tanphu", DISTRICT)
    with Session(demo.extensions["sipas_engine"]) as session:
        from survey.models import User

        area = of_user(session, session.get(User, user_id))
        whole = build_dashboard(session, DashboardOptions(period="2025", district=DISTRICT))
        mine = build_dashboard(session, DashboardOptions(period="2025", area=area))
        province = build_dashboard(session, DashboardOptions(period="2025"))
    assert mine.household.overall is not None and mine.household.breakdowns
    # the same domain of the same design: every number, SE, df, breakdown, rank and priority
    assert repr(mine.household) == repr(whole.household)
    assert repr(mine.household) != repr(province.household)
    assert set(mine.household.breakdowns) == {"commune", "hamlet"}
    assert mine.areas["district"] == ()  # its own level is not a choice
    assert {d.key for d in mine.desk.desks} == {"MC-TANPHU", "MC-PHULAM"}
    assert {d.key for d in province.desk.desks} == {"TTHCC", "MC-TANPHU", "MC-LONGDIEN",
                                                    "MC-PHULAM"}
    mine_rows = {d.key: d.headline for d in mine.desk.desks}
    for row in province.desk.desks:  # a desk's own numbers do not depend on who reads them
        if row.key in mine_rows:
            assert repr(mine_rows[row.key]) == repr(row.headline)
    assert mine.desk.evaluations == sum(d.evaluations for d in province.desk.desks
                                        if d.key in mine_rows)

    sign_in(client, "tanphu", PASSWORD)
    page = client.get("/reports/?period=2025&lang=en")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert DISTRICT in html and "MC-TANPHU" in html and "MC-LONGDIEN" not in html
    assert 'id="filter-district"' not in html
    other = client.get("/reports/?period=2025&district=Huyện Long Điền&lang=en")
    assert other.status_code == 400 and "within your area" in other.get_data(as_text=True)
    pdf = client.get("/reports/report?period=2025")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def _expected_ids(app: Flask, district_code: str) -> set[int]:
    """Responses of the district's hamlets and of desks placed in it, by walking the tree."""
    with Session(app.extensions["sipas_engine"]) as session:
        codes = ancestry_table(session, "code")
        inside = {u for u, names in codes.items() if names.get("district") == district_code}
        desks = {d.id for d in session.exec(select(Desk)) if d.unit_id in inside}
        return {r.id for r in session.exec(select(Response))  # type: ignore[misc]
                if r.unit_id in inside or r.desk_id in desks}


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_an_area_accounts_export_api_and_feed_hold_only_its_rows(demo: Flask,
                                                                  client: FlaskClient) -> None:
    user_id = _area_account(demo, "tanphu", DISTRICT)
    with Session(demo.extensions["sipas_engine"]) as session:
        code = session.exec(select(AdminUnit.code).where(AdminUnit.name == DISTRICT)).one()
    expected = _expected_ids(demo, code)
    with Session(demo.extensions["sipas_engine"]) as session:
        everyone = len(session.exec(select(Response.id)).all())
    assert 0 < len(expected) < everyone  # the other district's rows exist, and are left out
    sign_in(client, "tanphu", PASSWORD)
    reply = client.get("/reports/exports/download?format=csv")
    assert reply.status_code == 200
    rows = list(csv.DictReader(io.StringIO(reply.get_data(as_text=True).lstrip("\ufeff"))))
    assert {int(r["response_id"]) for r in rows} == expected
    assert {r["district"] for r in rows if r["district"]} == {DISTRICT}
    assert {r["desk"] for r in rows if r["desk"]} == {"MC-TANPHU", "MC-PHULAM"}

    api = demo.test_client()
    secret = _token(demo, user_id)
    auth = {"Authorization": f"Bearer {secret}"}
    seen: set[int] = set()
    url: str | None = "/api/v1/responses?limit=500"
    while url:
        page = api.get(url, headers=auth).get_json()
        seen |= {int(item["response_id"]) for item in page["items"]}
        url = page["next"]
    assert seen == expected
    feed = api.get("/odata/v1/sipas_services?$count=true", headers=auth).get_json()
    households = {i for i in expected if i in {int(r["response_id"]) for r in rows
                                               if r["instrument"] == "sipas_services"}}
    assert feed["@odata.count"] == len(households)


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_an_area_accounts_index_is_its_domain_and_nothing_else(demo: Flask,
                                                               cli_env: dict[str, str]) -> None:
    """``sipas index --db --as``, ``/api/v1/index`` and the OData index set of an area's
    account: the area's estimates alone, a domain of the round's design, to the last digit
    the dashboard's district filter; the ministry's token still gets the whole."""
    import json

    from click.testing import CliRunner

    from survey.cli import main
    from survey.services.reports.household import household_report

    user_id = _area_account(demo, "tanphu", DISTRICT)
    with Session(demo.extensions["sipas_engine"]) as session:
        filtered = household_report(session, filter_by=("district", DISTRICT))
        admin = factories.user(session, "analyst", username="bo-analyst", password=PASSWORD)
        session.commit()
        admin_id = admin.id
    assert filtered.overall is not None
    runner = CliRunner()
    done = runner.invoke(main, ["index", "--db", "--instrument", "sipas_services",
                                "--as", "tanphu", "--by", "commune", "--format", "json"])
    assert done.exit_code == 0, done.output
    printed = json.loads(done.output[done.output.index("{"):])
    rows = printed["estimates"]
    assert printed["design"]["within"] == {"district": DISTRICT}
    assert {tuple(r["domain"].items())[0][0] for r in rows} == {"district", "commune"}
    assert all(r["domain"] for r in rows)  # nothing of the whole province
    mine = next(r for r in rows if r["domain"] == {"district": DISTRICT}
                and r["indicator"] == "SIPAS")
    assert mine["estimate"] == pytest.approx(filtered.overall.estimate, abs=1e-12)
    assert mine["se"] == pytest.approx(filtered.overall.se, abs=1e-12)
    assert mine["df"] == filtered.overall.df
    communes = {r["domain"]["commune"] for r in rows if "commune" in r["domain"]}
    assert communes == {d.domain for d in filtered.breakdowns["commune"]}

    api = demo.test_client()
    auth = {"Authorization": f"Bearer {_token(demo, user_id)}"}
    reply = api.get("/api/v1/index?by=commune", headers=auth)
    assert reply.status_code == 200, reply.get_data(as_text=True)
    assert reply.get_json()["estimates"] == rows  # the command's answer, by construction
    names = [s["name"] for s in api.get("/odata/v1/", headers=auth).get_json()["value"]]
    assert "index_sipas_services" in names
    feed = api.get("/odata/v1/index_sipas_services", headers=auth).get_json()["value"]
    assert {r["domain"] for r in feed} == {DISTRICT}
    assert next(r for r in feed if r["indicator"] == "SIPAS")["estimate"] == mine["estimate"]
    whole = api.get("/api/v1/index", headers={
        "Authorization": f"Bearer {_token(demo, admin_id)}"}).get_json()["estimates"]
    assert any(r["domain"] == {} for r in whole)
    clash = runner.invoke(main, ["index", "--db", "--instrument", "sipas_services",
                                 "--as", "tanphu", "--within", "district=Huyện Long Điền"])
    assert clash.exit_code == 1 and "limited to Huyện Tân Phú" in clash.output


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_command_line_acts_as_an_area_account_with_as(demo: Flask, cli_env: dict[str, str],
                                                           tmp_path) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from survey.cli import main

    _area_account(demo, "tanphu", DISTRICT)
    _area_account(demo, "keyer-tp", DISTRICT, role="enumerator")
    with Session(demo.extensions["sipas_engine"]) as session:
        code = session.exec(select(AdminUnit.code).where(AdminUnit.name == DISTRICT)).one()
    runner = CliRunner()
    out = tmp_path / "tanphu.csv"
    done = runner.invoke(main, ["export", "--out", str(out), "--as", "tanphu"])
    assert done.exit_code == 0, done.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert {int(r["response_id"]) for r in rows} == _expected_ids(demo, code)
    pdf = tmp_path / "tanphu.pdf"
    made = runner.invoke(main, ["report", "--period", "2025", "--out", str(pdf),
                                "--as", "tanphu", "--lang", "en"])
    assert made.exit_code == 0, made.output
    assert pdf.read_bytes().startswith(b"%PDF")
    no_db = runner.invoke(main, ["index", "--instrument", "sipas_services", "--as", "tanphu"])
    assert no_db.exit_code == 1 and "--as needs --db" in no_db.output
    assert "Traceback" not in no_db.output
    for who, words in (("nobody", "no active account 'nobody'"),
                       ("keyer-tp", "keyer-tp is enumerator")):
        refused = runner.invoke(main, ["export", "--out", str(out), "--as", who])
        assert refused.exit_code == 1 and words in refused.output
        assert "Traceback" not in refused.output
