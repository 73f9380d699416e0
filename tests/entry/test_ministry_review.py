"""Two-level review: does the ministry accept or send back what a province has verified,
with the comment reaching the province, every decision audited, and any later change by
the province bringing the questionnaire back to the ministry?"""

from __future__ import annotations

import pytest
from flask import Flask
from sqlmodel import Session, col, select

from survey.models import AdminUnit, Answer, AuditLog, Response
from survey.models_entry import HqReview
from tests import factories
from tests.support import csrf_token, sign_in

PASSWORD = "hai cấp duyệt mật khẩu"


def _people(app: Flask) -> None:
    with Session(app.extensions["sipas_engine"]) as session:
        province = session.exec(select(AdminUnit).where(AdminUnit.code == "90")).one()
        factories.user(session, "supervisor", username="bo", password=PASSWORD)
        factories.user(session, "supervisor", username="tinh", password=PASSWORD,
                       scope_unit_id=province.id)
        session.commit()


def _verified(app: Flask, n: int) -> list[int]:
    with Session(app.extensions["sipas_engine"]) as session:
        return list(session.exec(select(Response.id).where(
            Response.mode == "paper", Response.status == "verified")
            .order_by(Response.id).limit(n)))  # type: ignore[arg-type]


def _state(app: Flask, rid: int) -> tuple[str, str | None]:
    with Session(app.extensions["sipas_engine"]) as session:
        row = session.get(Response, rid)
        decision = session.get(HqReview, rid)
        assert row is not None
        return row.status, decision.state if decision else None


def _actions(app: Flask, rid: int) -> list[str]:
    with Session(app.extensions["sipas_engine"]) as session:
        return [a.action for a in session.exec(select(AuditLog).where(
            AuditLog.entity == "response", AuditLog.entity_id == str(rid))
            .order_by(col(AuditLog.id)))]


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_the_ministry_sends_back_and_accepts_what_a_province_verified(demo: Flask) -> None:
    _people(demo)
    rid = _verified(demo, 1)[0]
    ministry = sign_in(demo.test_client(), "bo", PASSWORD)
    province = sign_in(demo.test_client(), "tinh", PASSWORD)
    listed = ministry.get("/entry/ministry").get_data(as_text=True)
    assert f'data-response="{rid}"' in listed and "Tỉnh An Hòa" in listed
    page = f"/entry/response/{rid}"
    token = csrf_token(ministry, page)
    assert 'id="ministry-form"' in ministry.get(page).get_data(as_text=True)
    assert 'id="ministry-form"' not in province.get(page).get_data(as_text=True)

    silent = ministry.post(f"{page}/ministry?lang=en", data={
        "csrf_token": token, "decision": "return", "comment": "  "}, follow_redirects=True)
    assert "Say what the province should check" in silent.get_data(as_text=True)
    assert _state(demo, rid) == ("verified", None)  # nothing changed

    ministry.post(f"{page}/ministry", data={"csrf_token": token, "decision": "return",
                                           "comment": "Tuổi ở câu A2 không khớp"})
    assert _state(demo, rid) == ("has_issues", "returned")
    seen = province.get(page).get_data(as_text=True)
    assert "Tuổi ở câu A2 không khớp" in seen and 'id="ministry-decision"' in seen
    assert province.get("/entry/ministry").status_code == 403  # the ministry's list only
    assert province.post(f"{page}/ministry", data={
        "csrf_token": csrf_token(province, page), "decision": "accept"}).status_code == 403
    assert f'data-response="{rid}"' not in ministry.get("/entry/ministry").get_data(
        as_text=True)  # back with the province

    province.post(f"{page}/status", data={"csrf_token": csrf_token(province, page),
                                          "status": "verified", "comment": "Đã đối chiếu"})
    assert _state(demo, rid) == ("verified", None)  # waiting for the ministry again
    ministry.post(f"{page}/ministry", data={"csrf_token": token, "decision": "accept"})
    ministry.post(f"{page}/ministry", data={"csrf_token": token, "decision": "accept"})
    assert _state(demo, rid) == ("verified", "accepted")
    assert f'data-response="{rid}"' not in ministry.get("/entry/ministry").get_data(
        as_text=True)
    assert _actions(demo, rid)[-3:] == ["hq_return", "review_status", "hq_accept"]

    with Session(demo.extensions["sipas_engine"]) as session:
        stored = session.get(Answer, (rid, "c1_1"))
        new = "2" if stored is None or stored.value_num != 2 else "3"
    province.post(f"{page}/edit", data={"csrf_token": csrf_token(province, page),
                                        "item_code": "c1_1", "value": new,
                                        "reason": "Sửa theo phiếu"})
    assert _state(demo, rid) == ("verified", None)  # changed since accepted: again waiting
    history = ministry.get(page + "?lang=en").get_data(as_text=True)
    assert "Sent back by the ministry" in history and "Accepted by the ministry" in history


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_the_ministry_accepts_ticked_questionnaires_and_leaves_changed_ones(
        demo: Flask) -> None:
    _people(demo)
    ids = _verified(demo, 4)
    ministry = sign_in(demo.test_client(), "bo", PASSWORD)
    with Session(demo.extensions["sipas_engine"]) as session:  # sent back meanwhile
        gone = session.get(Response, ids[3])
        assert gone is not None
        gone.status = "has_issues"
        session.add(gone)
        session.commit()
    token = csrf_token(ministry, "/entry/ministry")
    reply = ministry.post("/entry/ministry?lang=en", data={
        "csrf_token": token, "response_id": [str(i) for i in ids] + ["999999", "x"]},
        follow_redirects=True)
    text = reply.get_data(as_text=True)
    assert "3 questionnaires accepted" in text and "2 were no longer verified" in text
    assert [_state(demo, i)[1] for i in ids] == ["accepted"] * 3 + [None]
    only = ministry.get("/entry/ministry?province=90").get_data(as_text=True)
    assert all(f'data-response="{i}"' not in only for i in ids[:3])
    assert ministry.post("/entry/ministry", data={"response_id": str(ids[0])}
                         ).status_code == 400  # no CSRF token
