"""Are mismatches reconciled against the paper, and is every later change traced?"""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from survey.models import Answer, AuditLog, Response
from survey.models_entry import Discrepancy
from tests.entry.conftest import World, csrf, full_answers, key, login, logout


def _mismatch(client: FlaskClient, world: World, serial: int = 1) -> None:
    login(client, "lan")
    key(client, world.qid(serial), full_answers())
    logout(client)
    second = full_answers()
    second.update(c2_3="5", e_levels="1")
    login(client, "hung")
    key(client, world.qid(serial), second)
    logout(client)


def _case_path(client: FlaskClient) -> str:
    found = re.search(r'href="(/entry/review/case/\d+)"', client.get("/entry/review")
                      .get_data(as_text=True))
    assert found is not None
    return found.group(1)


def test_supervisor_records_the_paper_value_and_the_response_is_verified(
        app: Flask, client: FlaskClient, world: World) -> None:
    _mismatch(client, world)
    login(client, "ha")
    path = _case_path(client)
    page = client.get(path).get_data(as_text=True)
    assert re.search(r'class="v1">4<.*class="v2">5<', page, re.S)  # side by side
    assert re.search(r'class="v1">1 3<.*class="v2">1<', page, re.S)
    bad = client.post(path, data={"paper_c2_3": "8", "paper_e_levels": "1 3",
                                  "csrf_token": csrf(client, path)})
    assert bad.status_code == 422  # 8 is not on the scale: nothing stored
    reply = client.post(path, data={"paper_c2_3": "5", "paper_e_levels": "1 3",
                                    "csrf_token": csrf(client, path)})
    assert reply.status_code == 302
    with Session(app.extensions["sipas_engine"]) as session:
        response = session.exec(select(Response)).one()
        c23 = session.get(Answer, (response.id, "c2_3"))
        levels = session.get(Answer, (response.id, "e_levels"))
        log = session.exec(select(AuditLog).where(AuditLog.action == "reconcile")).one()
        rows = session.exec(select(Discrepancy)).all()
    assert response.status == "verified"
    assert c23 is not None and c23.value_num == 5 and levels.value_text == "1 3"
    assert log.detail["fields"]["c2_3"] == {"first": "4", "second": "5", "paper": "5"}
    assert {r.item_code: r.paper_value for r in rows} == {"c2_3": "5", "e_levels": "1 3"}


def test_fieldwork_dashboard_counts_progress_and_keyer_errors(
        app: Flask, client: FlaskClient, world: World) -> None:
    _mismatch(client, world, 1)
    login(client, "lan")
    key(client, world.qid(2), full_answers())
    logout(client)
    login(client, "ha")
    path = _case_path(client)
    client.post(path, data={"paper_c2_3": "5", "paper_e_levels": "1 3",
                            "csrf_token": csrf(client, path)})
    page = client.get("/entry/fieldwork").get_data(as_text=True)
    row = re.search(r'<tr data-psu="4711">(.*?)</tr>', page, re.S)
    assert row is not None
    cells = dict(re.findall(r'<td class="(planned|once|mismatch|stored|verified)">(\d+)</td>',
                            row.group(1)))
    assert cells == {"planned": "12", "once": "1", "mismatch": "0", "stored": "1",
                     "verified": "1"}
    # lan erred on c2_3 (4, paper 5); hung erred on e_levels (1, paper "1 3"): 1 error each
    # out of the 40 fields each keyed (39 answers + the outcome).
    for keyer in ("lan", "hung"):
        line = re.search(rf'<tr data-keyer="{keyer}">(.*?)</tr>', page, re.S)
        assert line is not None
        assert "<td>40</td><td>2</td>" in line.group(1)
        assert 'class="error-rate">2,5 %<' in line.group(1)  # Vietnamese: a decimal comma
    # one questionnaire is stored (completed), one waits in a mismatch... both of 12 planned:
    # 11 still pending, RR1 = 1/1 of the finalised
    assert re.search(r'<td class="total-pending">11</td>', page)
    assert re.search(r'data-rate="RR1"><th>RR1</th><td>100 %</td>', page)
    assert '<td class="total-completed">1</td>' in page


def test_changing_a_verified_answer_needs_a_reason_and_is_in_the_history(
        app: Flask, client: FlaskClient, world: World) -> None:
    login(client, "lan")
    key(client, world.qid(1), full_answers())
    logout(client)
    login(client, "hung")
    key(client, world.qid(1), full_answers())
    logout(client)
    with Session(app.extensions["sipas_engine"]) as session:
        rid = session.exec(select(Response.id)).one()
    login(client, "ha")
    path = f"/entry/response/{rid}"
    no_reason = client.post(f"{path}/edit", data={"item_code": "c1_1", "value": "2",
                                                  "reason": " ", "csrf_token": csrf(client, path)},
                            follow_redirects=True)
    assert "Sửa dữ liệu cần có lý do" in no_reason.get_data(as_text=True)
    out_of_range = client.post(f"{path}/edit", data={
        "item_code": "c1_1", "value": "6", "reason": "x", "csrf_token": csrf(client, path)},
        follow_redirects=True)
    assert "không có trong danh sách lựa chọn" in out_of_range.get_data(as_text=True)
    client.post(f"{path}/edit", data={"item_code": "c1_1", "value": "2",
                                      "reason": "phiếu ghi 2, nhập nhầm",
                                      "csrf_token": csrf(client, path)})
    with Session(app.extensions["sipas_engine"]) as session:
        assert session.get(Answer, (rid, "c1_1")).value_num == 2  # type: ignore[union-attr]
        log = session.exec(select(AuditLog).where(AuditLog.action == "edit_answer")).one()
    assert log.detail == {"field": "c1_1", "old": "4", "new": "2"}
    assert log.reason == "phiếu ghi 2, nhập nhầm" and log.user_id is not None
    history = client.get(path).get_data(as_text=True)
    assert re.search(r'<td>ha</td><td>Đã sửa câu trả lời</td>\s*<td title="[^"]+">c1_1</td>'
                     r"<td>4</td><td>2</td>\s*<td>phiếu ghi 2, nhập nhầm</td>", history)


def test_review_states_move_with_comments(app: Flask, client: FlaskClient,
                                          world: World) -> None:
    app.config["ENTRY_DOUBLE_SHARE"] = 0.0
    login(client, "lan")
    key(client, world.qid(1), full_answers())
    logout(client)
    with Session(app.extensions["sipas_engine"]) as session:
        rid = session.exec(select(Response.id)).one()
    login(client, "ha")
    path = f"/entry/response/{rid}"
    assert f'href="{path}"' in client.get("/entry/review?status=received").get_data(as_text=True)
    page = client.post(f"{path}/status", data={"status": "has_issues", "comment": "",
                                               "csrf_token": csrf(client, path)},
                       follow_redirects=True).get_data(as_text=True)
    assert "Hãy ghi lý do hoặc nhận xét" in page
    client.post(f"{path}/status", data={"status": "has_issues", "comment": "thiếu trang 2",
                                        "csrf_token": csrf(client, path)})
    client.post(f"{path}/status", data={"status": "verified", "comment": "đã bổ sung",
                                        "csrf_token": csrf(client, path)})
    with Session(app.extensions["sipas_engine"]) as session:
        assert session.get(Response, rid).status == "verified"  # type: ignore[union-attr]
        moves = [(a.detail["old"], a.detail["new"], a.reason) for a in session.exec(
            select(AuditLog).where(AuditLog.action == "review_status").order_by(AuditLog.id))]
    assert moves == [("received", "has_issues", "thiếu trang 2"),
                     ("has_issues", "verified", "đã bổ sung")]


def test_a_published_round_refuses_edits_and_status_changes(
        app: Flask, client: FlaskClient, world: World) -> None:
    from survey.models import SurveyRound

    for keyer in ("lan", "hung"):
        login(client, keyer)
        key(client, world.qid(1), full_answers())
        logout(client)
    with Session(app.extensions["sipas_engine"]) as session:
        rid = session.exec(select(Response.id)).one()
        round_ = session.get(SurveyRound, world.round_id)
        assert round_ is not None
        round_.status = "published"
        session.add(round_)
        session.commit()
    login(client, "ha")
    path = f"/entry/response/{rid}"
    page = client.post(f"{path}/edit", data={"item_code": "c1_1", "value": "2", "reason": "x",
                                             "csrf_token": csrf(client, path)},
                       follow_redirects=True).get_data(as_text=True)
    assert "đã công bố" in page
    with Session(app.extensions["sipas_engine"]) as session:
        assert session.get(Answer, (rid, "c1_1")).value_num == 4  # type: ignore[union-attr]
        assert session.get(Response, rid).status == "verified"  # type: ignore[union-attr]
        assert not session.exec(select(AuditLog).where(AuditLog.action == "edit_answer")).all()
