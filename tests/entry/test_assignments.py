"""Can a supervisor hand hamlets and serial ranges to enumerators, and does keying obey it?"""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, col, select

from survey.models import AuditLog, RoundStatus, SurveyRound, User
from survey.models_entry import EntryCase, SerialAssignment
from survey.models_sample import FieldAssignment
from tests.entry.conftest import World, csrf, full_answers, key, login, logout, start


def _user_id(app: Flask, username: str) -> int:
    with Session(app.extensions["sipas_engine"]) as session:
        user = session.exec(select(User).where(User.username == username)).one()
        assert user.id is not None
        return user.id


def _assign(client: FlaskClient, world: World, enumerator: int | str, first: str = "",
            last: str = "") -> str:
    """POST the assignment form; return the page the supervisor lands on (with its message)."""
    token = csrf(client, "/entry/assignments")
    reply = client.post(f"/entry/assignments/{world.sample_unit_id}", data={
        "enumerator": str(enumerator), "first": first, "last": last, "csrf_token": token},
        follow_redirects=True)
    assert reply.status_code == 200
    return html.unescape(reply.get_data(as_text=True))


def _refused_start(client: FlaskClient, qid: str) -> str:
    reply = client.post("/entry/", data={"kind": "questionnaire", "qid": qid,
                                         "csrf_token": csrf(client, "/entry/")})
    assert reply.status_code == 422
    return reply.get_data(as_text=True)


def _split(app: Flask, client: FlaskClient, world: World) -> None:
    """Serials 1–12 to lan, then 5–8 of them to hung."""
    login(client, "ha")
    assert "4711: 1–12 → lan" in _assign(client, world, _user_id(app, "lan"))
    assert "4711: 5–8 → hung" in _assign(client, world, _user_id(app, "hung"), "5", "8")
    logout(client)


def test_the_screen_lists_each_sampled_hamlet_with_its_id_range(client: FlaskClient,
                                                                world: World) -> None:
    login(client, "ha")
    page = html.unescape(client.get("/entry/assignments").get_data(as_text=True))
    assert f"{world.qid(1)} – {world.qid(12)}" in page
    assert 'data-range="1-12"' in page
    assert "chưa giao" in page or "unassigned" in page


def test_enumerators_see_only_their_own_questionnaires(app: Flask, client: FlaskClient,
                                                       world: World) -> None:
    _split(app, client, world)
    pages = {}
    for name in ("lan", "hung", "tuan"):
        login(client, name)
        pages[name] = client.get("/entry/").get_data(as_text=True)
        logout(client)
    lan_ids = [world.qid(n) for n in (1, 2, 3, 4, 9, 10, 11, 12)]
    hung_ids = [world.qid(n) for n in (5, 6, 7, 8)]
    assert all(q in pages["lan"] for q in lan_ids)
    assert not any(q in pages["lan"] for q in hung_ids)
    assert all(q in pages["hung"] for q in hung_ids)
    assert not any(q in pages["hung"] for q in lan_ids)
    assert 'id="my-assignments"' not in pages["tuan"]


def test_an_enumerator_cannot_first_key_or_open_another_enumerators_questionnaire(
        app: Flask, client: FlaskClient, world: World) -> None:
    _split(app, client, world)
    login(client, "hung")
    assert "được giao cho điều tra viên khác" in _refused_start(client, world.qid(1))
    logout(client)
    login(client, "lan")
    assert "được giao cho điều tra viên khác" in _refused_start(client, world.qid(6))
    lans_screen = start(client, world.qid(2))
    logout(client)
    login(client, "hung")
    assert client.get(lans_screen).status_code == 404  # another keyer's screen: not found
    assert client.get("/entry/assignments").status_code == 403


def test_the_blind_second_keying_is_still_open_to_another_enumerator(
        app: Flask, client: FlaskClient, world: World) -> None:
    _split(app, client, world)
    login(client, "lan")
    key(client, world.qid(3), full_answers())
    logout(client)
    login(client, "hung")
    key(client, world.qid(3), full_answers())
    with Session(app.extensions["sipas_engine"]) as session:
        case = session.exec(select(EntryCase)).one()
    assert case.state == "verified"


@pytest.mark.parametrize("first, last, message", [
    ("10", "13", "Dãy 10–13 phải nằm trong dãy 1–12 của thôn/ấp 4711"),
    ("0", "3", "Dãy 0–3 phải nằm trong"),
    ("7", "5", "Dãy 7–5 phải nằm trong"),
    ("7", "", "Nhập cả số đầu và số cuối của dãy"),
    ("x", "3", "Số thứ tự phải là số nguyên dương"),
    ("7", "9", "Dãy 7–9 trùng với dãy 5–8 đã giao cho hung"),
])
def test_bad_ranges_are_refused_in_one_language(app: Flask, client: FlaskClient, world: World,
                                                  first: str, last: str, message: str) -> None:
    _split(app, client, world)
    login(client, "ha")
    page = _assign(client, world, _user_id(app, "tuan"), first, last)
    assert message in page
    alert = page.split(message)[0].rsplit('role="alert">', 1)[1] + page.split(message)[1]
    assert " / " not in alert.split("</p>")[0]  # no "vi / en" pair
    with Session(app.extensions["sipas_engine"]) as session:
        ranges = session.exec(select(SerialAssignment)).all()
    assert [(r.first_serial, r.last_serial) for r in ranges] == [(5, 8)]


def test_only_active_enumerators_take_questionnaires(app: Flask, client: FlaskClient,
                                                     world: World) -> None:
    login(client, "ha")
    for name in ("ha", "anh", "quantri"):
        assert "Chỉ giao phiếu cho điều tra viên đang hoạt động" in _assign(client, world,
                                                                     _user_id(app, name))
    assert "Hãy chọn một điều tra viên" in _assign(client, world, "")
    with Session(app.extensions["sipas_engine"]) as session:
        tuan = session.exec(select(User).where(User.username == "tuan")).one()
        tuan.active = False
        session.add(tuan)
        session.commit()
    assert "Chỉ giao phiếu cho điều tra viên đang hoạt động" in _assign(client, world,
                                                                 _user_id(app, "tuan"))
    with Session(app.extensions["sipas_engine"]) as session:
        assert session.exec(select(FieldAssignment)).all() == []


def test_reassignments_are_audited_and_the_whole_hamlet_replaces_sub_ranges(
        app: Flask, client: FlaskClient, world: World) -> None:
    _split(app, client, world)
    login(client, "ha")
    assert "5–8 → tuan" in _assign(client, world, _user_id(app, "tuan"), "5", "8")
    assert "1–12 → hung" in _assign(client, world, _user_id(app, "hung"))
    hung, ha = _user_id(app, "hung"), _user_id(app, "ha")
    with Session(app.extensions["sipas_engine"]) as session:
        assert session.exec(select(SerialAssignment)).all() == []
        hamlet = session.exec(select(FieldAssignment)).one()
        assert hamlet.enumerator_id == hung
        audit = session.exec(select(AuditLog).where(col(AuditLog.action).startswith(
            "assignment.")).order_by(col(AuditLog.id))).all()
    assert [(a.action, a.user_id) for a in audit] == [
        ("assignment.hamlet", ha), ("assignment.range", ha), ("assignment.range", ha),
        ("assignment.hamlet", ha)]
    assert audit[2].detail and audit[2].detail["previous"] == "hung"
    assert audit[3].detail and audit[3].detail["replaced_ranges"] == ["5-8"]


def test_a_removed_range_goes_back_to_the_hamlets_enumerator(app: Flask, client: FlaskClient,
                                                             world: World) -> None:
    _split(app, client, world)
    with Session(app.extensions["sipas_engine"]) as session:
        range_id = session.exec(select(SerialAssignment)).one().id
    login(client, "ha")
    token = csrf(client, "/entry/assignments")
    reply = client.post(f"/entry/assignments/range/{range_id}/delete",
                        data={"csrf_token": token}, follow_redirects=True)
    assert ": 4711: 5–8" in html.unescape(reply.get_data(as_text=True))
    logout(client)
    login(client, "lan")
    assert world.qid(6) in client.get("/entry/").get_data(as_text=True)


def test_a_published_round_refuses_assignment_changes(app: Flask, client: FlaskClient,
                                                      world: World) -> None:
    _split(app, client, world)
    with Session(app.extensions["sipas_engine"]) as session:
        round_ = session.get(SurveyRound, world.round_id)
        assert round_ is not None
        round_.status = RoundStatus.published.value
        session.add(round_)
        session.commit()
    login(client, "ha")
    page = _assign(client, world, _user_id(app, "tuan"), "1", "2")
    assert "Đợt khảo sát R" in page and "đã công bố (dữ liệu đã khóa)" in page
    assert 'id="frozen"' in page and 'class="assign"' not in page
    with Session(app.extensions["sipas_engine"]) as session:
        assert len(session.exec(select(SerialAssignment)).all()) == 1


def test_the_enumerator_menu_starts_on_the_hamlets_own_enumerator(app: Flask, client: FlaskClient,
                                                                  world: World) -> None:
    login(client, "ha")
    before = client.get("/entry/assignments").get_data(as_text=True)
    assert '<option value="" selected disabled>' in before  # nobody yet: nobody preselected
    _assign(client, world, _user_id(app, "hung"))
    page = client.get("/entry/assignments").get_data(as_text=True)
    chosen = re.findall(r'<option value="(\d+)" selected>', page)
    assert chosen == [str(_user_id(app, "hung"))]
