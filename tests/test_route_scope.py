"""Does an account limited to one province see and change only that province, on every route?

The route matrix (``test_route_matrix.py``) checks roles; this adds the area. Two provinces,
A and B, each with a desk, a tablet, a low rating followed up, a consented phone, a held
evaluation and accounts. Province A's enumerator, supervisor, analyst and administrator then
try every route of the matrix:

- a route declared area-aware (``SCOPED`` below, written by hand) must treat B's objects as
  if they did not exist: a 404 for B's desk, tablet, case or account, B left out of every
  list, and nothing of B's changed by any POST;
- every other route must refuse them with a 403 (deny by default), so a screen not yet
  taught about areas can never show them another province.

The ministry's account (no area) still sees both provinces.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from survey.models import AdminUnit, AuditLog, Desk, Response, SurveyRound, User
from survey.models_accounts import ApiToken
from survey.models_desk import DeskSignal
from survey.models_dossiers import FollowUp
from survey.models_entry import EntryCase, SerialAssignment
from survey.models_kiosk import KioskDevice
from survey.services.desks.links import desk_token
from survey.services.geography import ensure_levels
from survey.services.kiosk.devices import register
from tests import factories
from tests.desks.conftest import submit
from tests.support import CHEAP_ARGON2
from tests.test_route_matrix import ANON, MATRIX, TOKEN_ROUTES, _methods

PASSWORD = "route scope pass 1"
TOKEN = "sipas_route-scope-token-"  # + the username
ROLES = ("enumerator", "supervisor", "analyst", "admin")

# Routes that limit what they show and change to the account's area. Written by hand, as
# the matrix is: a view that gains or loses its area check without this list changing fails.
SCOPED = frozenset({
    "auth.logout", "auth.change_password", "tokens.index", "tokens.revoke",
    "desks.index", "desks.detail", "desks.qr", "desks.change", "desks.edit",
    "desks.kiosk_add", "desks.kiosk_revoke", "desks.contacts", "desks.bursts",
    "desks.decide_held_view", "followup.index", "followup.answer",
    "admin.users", "admin.set_user_active", "admin.reset_password",
    "admin.sign_out_everywhere", "admin.change_role", "admin.change_scope",
    "api.me", "api.desks", "api.units", "api.open_kiosk_ticket",
    "reports.dashboard", "reports.chart", "reports.report", "reports.exports", "reports.download",
    "reports.volumes", "api.responses", "api.rounds",
    "odata.service", "odata.metadata", "odata.entity_set",
    "entry.start", "entry.key", "entry.keep", "entry.review", "entry.reconcile_case",
    "entry.response", "entry.response_status", "entry.response_edit", "entry.fieldwork",
    "entry.assignments", "entry.assign_hamlet", "entry.unassign",
    "rounds.index", "rounds.detail", "rounds.listing", "rounds.weights", "rounds.publish",
    "sample.index", "sample.draw", "sample.lists_csv", "sample.lists_pdf", "uploads.template",
    "dossiers.index", "dossiers.coverage_view", "api.push_dossiers", "api.dossier_coverage",
    "api.dossier_link", "audit.index", "api.index",
})


@dataclass
class World:
    app: Flask
    desk_a: str
    desk_b: str
    kiosk_b: int
    case_b: int
    held_b: int
    user_b: int
    token_b: int
    paper_b: int = 0  # a keyed questionnaire of province B's hamlet
    mismatch_b: int = 0  # B's paper whose two keyings differ
    hamlet_b: int = 0  # B's sampled hamlet
    range_b: int = 0  # a serial range of it given to B's keyer


def _household(session: Session, units: dict[str, AdminUnit], keyer_b: int
               ) -> tuple[int, int, int, int]:
    """One open round sampling a hamlet in each province, a keyed questionnaire and a
    mismatched one in each, and a serial range of B's hamlet given to B's keyer."""
    from survey.models import SampleUnit, Stratum
    from survey.models_entry import EntryCase, SerialAssignment
    from survey.models_sample import FieldAssignment
    from survey.services.responses import store_response

    version = factories.published(session, "sipas_services")
    round_ = factories.survey_round(session, code="R1")
    made = {}
    for p in ("A", "B"):
        stratum = Stratum(round_id=round_.id, code=f"S{p}", name=f"Huyện {p}")
        session.add(stratum)
        session.flush()
        hamlet = SampleUnit(round_id=round_.id, stratum_id=stratum.id, unit_id=units[f"T{p}"].id,
                            psu_code=f"0{ord(p)}", prob_stage1=0.5, sample_size=10)
        session.add(hamlet)
        session.flush()
        session.add(FieldAssignment(sample_unit_id=hamlet.id, first_serial=1, last_serial=10))
        paper = store_response(session, instrument_version=version,
                               client_uuid=factories.new_uuid(), mode="paper",
                               answers={}, round_id=round_.id, unit_id=units[f"T{p}"].id,
                               sample_unit_id=hamlet.id, questionnaire_id=f"QN-{p * 3}",
                               outcome="refused").response
        case = EntryCase(entry_key=f"Q:{round_.id}:{p}", instrument_version_id=version.id,
                         round_id=round_.id, sample_unit_id=hamlet.id, state="mismatch",
                         questionnaire_id=f"MM-{p * 3}")
        session.add(case)
        session.flush()
        made[p] = (paper.id, case.id, hamlet.id)
    factories.survey_round(session, code="RB", unit_id=units["PB"].id)  # B's own round
    sub = SerialAssignment(sample_unit_id=made["B"][2], enumerator_id=keyer_b,
                           first_serial=3, last_serial=4)
    session.add(sub)
    session.flush()
    return (*made["B"], sub.id)  # type: ignore[return-value]


def _units(session: Session) -> dict[str, AdminUnit]:
    levels = ensure_levels(session)
    made: dict[str, AdminUnit] = {}
    for p in ("A", "B"):
        parent = None
        for level, code, name in (("province", f"P{p}", f"Tỉnh {p}"),
                                  ("district", f"H{p}", f"Huyện {p}"),
                                  ("commune", f"X{p}", f"Xã {p}"),
                                  ("hamlet", f"T{p}", f"Ấp {p}")):
            unit = AdminUnit(code=code, name=name, level_id=levels[level].id,
                             parent_id=parent.id if parent else None,
                             households=300 if level == "hamlet" else None)
            session.add(unit)
            session.flush()
            made[code] = parent = unit
    return made


@pytest.fixture
def world(engine: Engine, db_url: str, instance_dir: Path,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    from survey.app import create_app

    monkeypatch.delenv("REDIS_URL", raising=False)
    app = create_app({"TESTING": True, "SECRET_KEY": "scope", "DATABASE_URL": db_url,
                      "ARGON2_PARAMS": CHEAP_ARGON2, "WTF_CSRF_ENABLED": False})
    engine_ = app.extensions["sipas_engine"]
    with Session(engine_) as session:
        units = _units(session)
        factories.published(session, "desk_evaluation")
        desk_a = factories.desk(session, code="MC-AAA", unit_id=units["XA"].id, agency="UBND A")
        desk_b = factories.desk(session, code="MC-BBB", unit_id=units["XB"].id, agency="UBND B")
        for role in ROLES:
            user = factories.user(session, role, username=f"a-{role}", password=PASSWORD,
                                  scope_unit_id=units["PA"].id)
            session.add(ApiToken(user_id=user.id, name="scope", prefix=TOKEN[:12],
                                 token_hash=hashlib.sha256(f"{TOKEN}{user.username}".encode())
                                 .hexdigest()))
        user_b = factories.user(session, "enumerator", username="b-enumerator",
                                password=PASSWORD, scope_unit_id=units["PB"].id)
        admin_b = factories.user(session, "admin", username="b-admin", password=PASSWORD,
                                 scope_unit_id=units["PB"].id)
        token_b = ApiToken(user_id=admin_b.id, name="b", prefix=TOKEN[:12],
                           token_hash=hashlib.sha256(b"b-token").hexdigest())
        session.add(token_b)
        factories.user(session, "supervisor", username="ministry", password=PASSWORD)
        kiosk = register(session, desk_b, "Quầy B", None).device
        household = _household(session, units, user_b.id)  # type: ignore[arg-type]
        from survey.services.audit import record

        record(session, "desk.edit", "desk", desk_b.id, user_id=admin_b.id,
               detail={"code": "MC-BBB", "changes": {"name": {"old": "x", "new": "y"}}})
        session.commit()
        ids = (desk_a.code, desk_b.code, kiosk.id, user_b.id, token_b.id)
        paths = {d.code: "/d/" + desk_token(app.config["SECRET_KEY"], d)
                 for d in (desk_a, desk_b)}
    citizen = app.test_client()
    for code in ("MC-AAA", "MC-BBB"):  # a low rating with a consented phone, then one to be held
        for overall in ("1", "5"):
            reply, _ = submit(citizen, paths[code], overall=overall, comment=f"{code} {overall}",
                              contact_phone="0912345678" if overall == "1" else "",
                              contact_consent="yes" if overall == "1" else "")
            assert reply.status_code == 303
    with Session(engine_) as session:
        case_b = session.exec(select(FollowUp).join(Desk, Desk.id == FollowUp.desk_id)
                              .where(Desk.code == "MC-BBB")).one()
        held = session.exec(select(Response).join(Desk, Desk.id == Response.desk_id)
                            .where(Desk.code.in_(["MC-AAA", "MC-BBB"]))  # type: ignore[attr-defined]
                            .order_by(Response.id)).all()
        for response in held:  # the rating-5 ones: held as a burst would hold them
            signal = session.get(DeskSignal, response.id)
            assert signal is not None
            if session.exec(select(FollowUp).where(FollowUp.response_id == response.id)).first():
                continue
            response.status, signal.hold_reason = "held", "desk"
            session.add_all([response, signal])
        session.commit()
        held_b = next(r.id for r in held if r.status == "held" and
                      session.get(Desk, r.desk_id).code == "MC-BBB")  # type: ignore[union-attr]
        case_b_id = case_b.id
    yield World(app, ids[0], ids[1], ids[2], case_b_id, held_b, ids[3], ids[4], *household)
    engine_.dispose()


def _client(world: World, role: str) -> FlaskClient:
    client = world.app.test_client()
    reply = client.post("/auth/login", data={"username": f"a-{role}", "password": PASSWORD})
    assert reply.status_code == 302
    return client


def _ask(client: FlaskClient, method: str, url: str, role: str, endpoint: str,
         data: dict | None = None, json: dict | None = None):  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {TOKEN}a-{role}"} if endpoint in TOKEN_ROUTES else {}
    reply = client.open(url, method=method, headers=headers, data=data, json=json)
    reply.close()
    return reply


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_every_route_not_limited_to_areas_refuses_an_area_account(world: World) -> None:
    views = world.app.view_functions
    declared = {e for e, v in views.items() if getattr(v, "area_scoped", False)}
    assert declared == SCOPED, f"area-aware views drifted from the hand-written list: " \
                               f"{sorted(declared ^ SCOPED)}"
    wrong = []
    for role in ROLES:
        client = _client(world, role)
        for endpoint, (url, allowed) in MATRIX.items():
            if role not in allowed or ANON in allowed or endpoint in SCOPED:
                continue
            for method in _methods(world.app, endpoint):
                reply = _ask(client, method, url, role, endpoint)
                if reply.status_code != 403:
                    wrong.append(f"{method} {url} as province A's {role}: {reply.status_code}")
    assert not wrong, "\n".join(wrong)
    page = _client(world, "supervisor").post("/sample/frame")  # the national frame
    assert page.status_code == 403 and "phạm vi" in page.get_data(as_text=True)
    # the index is the area's domain (tests/reports/test_area.py); R1 has nothing verified
    api = world.app.test_client().get("/api/v1/index?round=R1",
                                      headers={"Authorization": f"Bearer {TOKEN}a-analyst"})
    assert api.status_code == 409 and "no verified" in api.get_json()["message"]


def _b_requests(w: World) -> dict[str, list[tuple[str, str, dict | None]]]:
    """Each area-aware route aimed at province B's objects (method, URL, form)."""
    return {
        "desks.detail": [("GET", f"/desks/{w.desk_b}", None)],
        "desks.qr": [("GET", f"/desks/{w.desk_b}/qr.png", None)],
        "desks.change": [("POST", f"/desks/{w.desk_b}/{a}", {"confirmed": "1"})
                         for a in ("disable", "rotate")],
        "desks.edit": [("GET", f"/desks/{w.desk_b}/edit", None),
                       ("POST", f"/desks/{w.desk_b}/edit", {"name": "taken over"})],
        "desks.kiosk_add": [("POST", f"/desks/{w.desk_b}/kiosks", {"name": "Quầy lạ"})],
        "desks.kiosk_revoke": [("POST", f"/desks/{w.desk_b}/kiosks/{w.kiosk_b}/revoke",
                                {"confirmed": "1"}),
                               ("POST", f"/desks/{w.desk_a}/kiosks/{w.kiosk_b}/revoke",
                                {"confirmed": "1"})],
        "admin.set_user_active": [("POST", f"/admin/users/{w.user_b}/active",
                                   {"active": "0", "confirmed": "1"})],
        "admin.reset_password": [("POST", f"/admin/users/{w.user_b}/password",
                                  {"confirmed": "1"})],
        "admin.sign_out_everywhere": [("POST", f"/admin/users/{w.user_b}/sessions",
                                       {"confirmed": "1"})],
        "admin.change_role": [("POST", f"/admin/users/{w.user_b}/role",
                               {"role": "analyst", "confirmed": "1"})],
        "admin.change_scope": [("POST", f"/admin/users/{w.user_b}/area",
                                {"unit": "PA", "confirmed": "1"})],
        "api.open_kiosk_ticket": [("POST", f"/api/v1/kiosk/{w.kiosk_b}/ticket", None)],
        "entry.response": [("GET", f"/entry/response/{w.paper_b}", None)],
        "entry.response_status": [("POST", f"/entry/response/{w.paper_b}/status",
                                   {"status": "rejected", "comment": "taken over"})],
        "entry.response_edit": [("POST", f"/entry/response/{w.paper_b}/edit",
                                 {"item_code": "age", "value": "40", "reason": "taken over"})],
        "entry.reconcile_case": [("GET", f"/entry/review/case/{w.mismatch_b}", None),
                                 ("POST", f"/entry/review/case/{w.mismatch_b}", {})],
        "entry.assign_hamlet": [("POST", f"/entry/assignments/{w.hamlet_b}",
                                 {"enumerator": str(w.user_b)})],
        "entry.unassign": [("POST", f"/entry/assignments/range/{w.range_b}/delete", None)],
        "rounds.detail": [("GET", "/rounds/RB", None)],
        "rounds.listing": [("POST", "/rounds/RB/listing", None),
                           ("POST", "/rounds/R1/listing", None)],  # the ministry's round
        "rounds.weights": [("POST", "/rounds/RB/weights", None),
                           ("POST", "/rounds/R1/weights", None)],
        "rounds.publish": [("POST", "/rounds/RB/publish", {"reason": "x", "confirmed": "1"}),
                           ("POST", "/rounds/R1/publish", {"reason": "x", "confirmed": "1"})],
        "sample.lists_csv": [("GET", "/sample/RB/fieldwork.csv", None)],
        "sample.lists_pdf": [("GET", "/sample/RB/fieldwork/b-enumerator.pdf", None)],
    }


def _b_unchanged(w: World) -> list[str]:
    with Session(w.app.extensions["sipas_engine"]) as session:
        desk = session.exec(select(Desk).where(Desk.code == w.desk_b)).one()
        user = session.get(User, w.user_b)
        kiosks = session.exec(select(KioskDevice).join(Desk).where(Desk.code == w.desk_b)).all()
        case = session.get(FollowUp, w.case_b)
        held = session.get(Response, w.held_b)
        token = session.get(ApiToken, w.token_b)
        assert user and case and held and token
        problems = [
            what for what, bad in (
                ("desk", not desk.active or desk.token_version != 1 or desk.name == "taken over"),
                ("account", not user.active or user.role != "enumerator"
                 or user.must_change_password or user.scope_unit_id is None
                 or session.get(AdminUnit, user.scope_unit_id).code != "PB"),  # type: ignore[union-attr]
                ("tablets", [k.name for k in kiosks] != ["Quầy B"] or kiosks[0].revoked_at),
                ("case", case.status != "open"),
                ("held", held.status != "held"),
                ("token", token.revoked_at is not None),
                ("paper", session.get(Response, w.paper_b).status != "received"),  # type: ignore[union-attr]
                ("mismatch", session.get(EntryCase, w.mismatch_b).state != "mismatch"),  # type: ignore[union-attr]
                ("range", session.get(SerialAssignment, w.range_b) is None),
                ("rounds", sorted(r.status for r in session.exec(select(SurveyRound)))
                 != ["open", "open"]),
            ) if bad]
        return problems


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_another_provinces_objects_are_not_found_and_stay_unchanged(world: World) -> None:
    wrong = []
    aimed = _b_requests(world)
    for role in ROLES:
        client = _client(world, role)
        for endpoint, asks in aimed.items():
            _url, allowed = MATRIX[endpoint]
            if role not in allowed:
                continue
            for method, url, form in asks:
                json = {"ticket": "A-001"} if endpoint.startswith("api.") else None
                reply = _ask(client, method, url, role, endpoint, data=form, json=json)
                if reply.status_code != 404:
                    wrong.append(f"{method} {url} as province A's {role}: {reply.status_code}")
        # lists: B's case answered, B's held evaluation released, B's token revoked
        if role in ("supervisor", "admin"):
            client.post(f"/followup/{world.case_b}", data={"status": "closed", "note": "x"})
            client.post("/desks/held", data={"decision": "release",
                                             "response_id": str(world.held_b)})
            client.post(f"/account/tokens/{world.token_b}/revoke")
    assert not wrong, "\n".join(wrong)
    assert _b_unchanged(world) == []


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_lists_show_only_the_accounts_province_and_the_ministry_sees_both(world: World) -> None:
    sup = _client(world, "supervisor")
    desks = sup.get("/desks/").get_data(as_text=True)
    assert 'data-desk="MC-AAA"' in desks and 'data-desk="MC-BBB"' not in desks
    assert "Tỉnh A (PA)" in desks  # the page says whose desks these are
    held = sup.get("/desks/bursts").get_data(as_text=True)
    assert "MC-AAA" in held and "MC-BBB" not in held
    contacts = sup.get("/desks/contacts.csv").get_data(as_text=True)
    assert ",MC-AAA," in contacts and ",MC-BBB," not in contacts
    cases = sup.get("/followup/").get_data(as_text=True)
    assert "MC-AAA 1" in cases and "MC-BBB 1" not in cases
    admin = _client(world, "admin").get("/admin/users").get_data(as_text=True)
    assert 'data-user="a-enumerator"' in admin and 'data-user="b-enumerator"' not in admin
    assert 'data-user="ministry"' not in admin  # the ministry's accounts are not the area's
    home = sup.get("/").get_data(as_text=True)
    assert "/desks/" in home and "/reports/" in home
    analyst = _client(world, "analyst")
    year = datetime.now(UTC).year  # the evaluations above were made now
    report = analyst.get(f"/reports/?period={year}").get_data(as_text=True)
    assert ">MC-AAA <" in report and "MC-BBB" not in report
    export = analyst.get("/reports/exports/download?format=csv").get_data(as_text=True)
    exported = list(csv.DictReader(io.StringIO(export.lstrip("\ufeff"))))
    assert {row["desk"] for row in exported if row["desk"]} == {"MC-AAA"}
    assert {row["questionnaire_id"] for row in exported if row["questionnaire_id"]} == {"QN-AAA"}
    token = {"Authorization": f"Bearer {TOKEN}a-analyst"}
    api = world.app.test_client()
    pulled = api.get("/api/v1/responses", headers=token).get_json()["items"]
    assert {item["desk"] or item["questionnaire_id"] for item in pulled} == {"MC-AAA", "QN-AAA"}
    assert api.get("/api/v1/me", headers=token).get_json()["area"] == "PA"
    listed = [d["code"] for d in api.get("/api/v1/desks", headers=token).get_json()["items"]]
    assert listed == ["MC-AAA"]
    units = {u["code"] for u in api.get("/api/v1/units", headers=token).get_json()["items"]}
    assert units == {"PA", "HA", "XA", "TA"}

    review = sup.get("/entry/review").get_data(as_text=True)
    assert "QN-AAA" in review and "QN-BBB" not in review
    assert "MM-AAA" in review and "MM-BBB" not in review
    fieldwork = sup.get("/entry/fieldwork").get_data(as_text=True)
    assert "Ấp A" in fieldwork and "Ấp B" not in fieldwork
    assigned = sup.get("/entry/assignments?round=R1").get_data(as_text=True)
    assert "Ấp A" in assigned and "Ấp B" not in assigned and "b-enumerator" not in assigned
    keyer = _client(world, "enumerator")
    from survey.services.sample.questionnaire_ids import make_questionnaire_id

    with Session(world.app.extensions["sipas_engine"]) as session:
        from survey.models import SampleUnit

        round_id = session.exec(select(SurveyRound.id).where(SurveyRound.code == "R1")).one()
        psus = {u.psu_code for u in session.exec(select(SampleUnit))}
    theirs = make_questionnaire_id(round_id, "066", 5)  # type: ignore[arg-type]
    ours = make_questionnaire_id(round_id, "065", 5)  # type: ignore[arg-type]
    assert psus == {"065", "066"}
    refused = keyer.post("/entry/?lang=en", data={"kind": "questionnaire", "qid": theirs})
    assert refused.status_code == 422 and "not in the sample" in refused.get_data(as_text=True)
    slip = keyer.post("/entry/?lang=en", data={"kind": "desk", "desk": "MC-BBB", "serial": "7"})
    assert slip.status_code == 422 and "No active one-stop desk" in slip.get_data(as_text=True)
    assert keyer.post("/entry/", data={"kind": "questionnaire", "qid": ours}).status_code == 302

    rounds = sup.get("/rounds/").get_data(as_text=True)
    assert 'href="/rounds/R1"' in rounds and 'href="/rounds/RB"' not in rounds
    national = sup.get("/rounds/R1").get_data(as_text=True)
    assert 'id="not-ours"' in national and 'id="publish-form"' not in national
    fieldwork = sup.get("/sample/R1/fieldwork.csv").get_data(as_text=True)
    assert "Ấp A" in fieldwork and "Ấp B" not in fieldwork
    assert 'id="frame-national"' in sup.get("/sample/").get_data(as_text=True)
    drawn = sup.post("/sample/draw?lang=en", data={
        "round": "RB", "strata_level": "district", "hamlets_per_stratum": "1",
        "per_hamlet": "5"})
    assert drawn.status_code == 400 and "no survey round &#39;RB&#39; of your area" in \
        drawn.get_data(as_text=True)
    made = sup.post("/rounds/", data={"code": "RA", "name": "Tỉnh A 2026", "year": "2026"})
    assert made.status_code == 302
    drew = sup.post("/sample/draw", data={
        "round": "RA", "strata_level": "district", "hamlets_per_stratum": "1",
        "per_hamlet": "5", "seed": "7"})
    assert drew.status_code == 302
    with Session(world.app.extensions["sipas_engine"]) as session:
        ra = session.exec(select(SurveyRound).where(SurveyRound.code == "RA")).one()
        assert session.get(AdminUnit, ra.unit_id).code == "PA"  # type: ignore[arg-type,union-attr]
        from survey.models import SampleUnit as Drawn

        places = {session.get(AdminUnit, u.unit_id).code  # type: ignore[union-attr]
                  for u in session.exec(select(Drawn).where(Drawn.round_id == ra.id))}
        assert places == {"TA"}  # drawn from its own province's hamlets only

    audit = _client(world, "admin").get("/audit/").get_data(as_text=True)
    assert "a-supervisor" in audit and "b-admin" not in audit
    wrong_desk = "code,procedure_code,procedure_name,field,agency,desk,received_at\n" \
        "000.00.12.H12-260101-0001,1.0001,Cấp giấy,Hộ tịch,UBND B,MC-BBB,01/01/2026\n"
    refused = sup.post("/dossiers/?lang=en", data={
        "file": (io.BytesIO(wrong_desk.encode()), "dossiers.csv")},
        content_type="multipart/form-data")
    assert refused.status_code == 400 and "unknown desk" in refused.get_data(as_text=True)
    pushed = world.app.test_client().post(
        "/api/v1/dossiers", headers={"Authorization": f"Bearer {TOKEN}a-supervisor"},
        json={"dossiers": [{"code": "000.00.12.H12-260101-0002", "procedure_code": "1.0001",
                            "procedure_name": "Cấp giấy", "field": "Hộ tịch",
                            "agency": "UBND B", "desk": "MC-BBB",
                            "received_at": "01/01/2026"}]})
    assert pushed.status_code == 422
    ministry = world.app.test_client()
    ministry.post("/auth/login", data={"username": "ministry", "password": PASSWORD})
    both = ministry.get("/desks/").get_data(as_text=True)
    assert 'data-desk="MC-AAA"' in both and 'data-desk="MC-BBB"' in both
    assert "MC-BBB 1" in ministry.get("/followup/").get_data(as_text=True)
    assert "MC-BBB" in ministry.get(f"/reports/?period={year}").get_data(as_text=True)


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_an_area_supervisor_adds_desks_and_keyers_only_inside_the_area(world: World) -> None:
    sup = _client(world, "supervisor")
    outside = sup.post("/desks/?lang=en", data={"code": "NEW1", "name": "Mới", "unit": "XB"})
    assert outside.status_code == 200
    assert "XB is outside your area (Tỉnh A)" in outside.get_data(as_text=True)
    inside = sup.post("/desks/", data={"code": "NEW2", "name": "Mới", "unit": "HA"})
    assert inside.status_code == 302
    default = sup.post("/desks/", data={"code": "NEW3", "name": "Mới"})  # no unit: the area's
    assert default.status_code == 302
    refused = sup.post("/admin/users?lang=en", data={
        "username": "new-b", "role": "enumerator", "password": PASSWORD, "unit": "PB"})
    assert refused.status_code == 422 and "outside your area" in refused.get_data(as_text=True)
    made = sup.post("/admin/users", data={"username": "new-a", "role": "enumerator",
                                          "password": PASSWORD})
    assert made.status_code == 302
    moved = sup.post("/desks/NEW2/edit?lang=en", data={"name": "Mới", "unit": "XB"})
    assert moved.status_code == 400 and "outside your area" in moved.get_data(as_text=True)
    with Session(world.app.extensions["sipas_engine"]) as session:
        codes = {d.code: session.get(AdminUnit, d.unit_id).code  # type: ignore[union-attr,arg-type]
                 for d in session.exec(select(Desk).where(Desk.code.like("NEW%"))).all()}  # type: ignore[attr-defined]
        assert codes == {"NEW2": "HA", "NEW3": "PA"}
        new_a = session.exec(select(User).where(User.username == "new-a")).one()
        assert session.get(AdminUnit, new_a.scope_unit_id).code == "PA"  # type: ignore[union-attr,arg-type]
        assert session.exec(select(User).where(User.username == "new-b")).first() is None


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_an_administrator_sets_an_area_within_their_own_and_it_is_audited(world: World) -> None:
    engine_ = world.app.extensions["sipas_engine"]
    with Session(engine_) as session:
        factories.user(session, "admin", username="national", password=PASSWORD)
        keyer = factories.user(session, "enumerator", username="moving", password=PASSWORD)
        session.commit()
        keyer_id = keyer.id
    national = world.app.test_client()
    national.post("/auth/login", data={"username": "national", "password": PASSWORD})
    asked = national.post(f"/admin/users/{keyer_id}/area?lang=en", data={"unit": "HB"})
    assert asked.status_code == 200 and "Limit moving to Huyện B (HB)?" in asked.get_data(
        as_text=True)  # a confirmation first
    done = national.post(f"/admin/users/{keyer_id}/area", data={"unit": "HB", "confirmed": "1"})
    assert done.status_code == 302
    # province A's administrator: B's account is none of theirs, A's own may move inside A
    area_admin = _client(world, "admin")
    assert area_admin.post(f"/admin/users/{keyer_id}/area",
                           data={"unit": "PA", "confirmed": "1"}).status_code == 404
    with Session(engine_) as session:
        mine = session.exec(select(User).where(User.username == "a-enumerator")).one().id
    beyond = area_admin.post(f"/admin/users/{mine}/area?lang=en",
                             data={"unit": "PB", "confirmed": "1"}, follow_redirects=True)
    assert "PB is outside your area" in beyond.get_data(as_text=True)
    assert area_admin.post(f"/admin/users/{mine}/area",
                           data={"unit": "XA", "confirmed": "1"}).status_code == 302
    with Session(engine_) as session:
        rows = session.exec(select(AuditLog).where(AuditLog.action == "user.area")
                            .order_by(AuditLog.id)).all()
        assert [(r.detail or {}).get("new") for r in rows] == ["HB", "XA"]
        assert [(r.detail or {}).get("old") for r in rows] == ["", "PA"]
        moved = session.get(User, keyer_id)
        assert moved is not None and session.get(AdminUnit, moved.scope_unit_id).code == "HB"  # type: ignore[arg-type,union-attr]
