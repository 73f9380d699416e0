"""Does a questionnaire become verified only when two blind keyings agree?"""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from survey.models import Answer, Response
from survey.models_entry import EntryCase
from tests.entry.conftest import World, csrf, full_answers, key, login, logout, start


def _responses(app: Flask) -> list[Response]:
    with Session(app.extensions["sipas_engine"]) as session:
        return list(session.exec(select(Response)))


def test_two_agreeing_keyings_store_one_verified_response_with_the_sample_design(
        app: Flask, client: FlaskClient, world: World) -> None:
    login(client, "lan")
    page = key(client, world.qid(1), full_answers())
    assert "Một người khác sẽ nhập lại độc lập để kiểm tra" in page
    assert _responses(app) == []  # keyed once: nothing counts yet
    logout(client)
    login(client, "hung")
    key(client, world.qid(1), full_answers())
    [response] = _responses(app)
    assert response.status == "verified" and response.outcome == "completed"
    assert (response.psu, response.stratum, response.questionnaire_id) == ("4711", "S1",
                                                                          world.qid(1))
    assert response.prob_stage1 == 0.25 and abs(response.prob_stage2 - 12 / 240) < 1e-12
    assert abs(response.weight * 0.25 * 12 / 240 - 1) < 1e-9
    with Session(app.extensions["sipas_engine"]) as session:
        answers = {a.item_code: a for a in session.exec(
            select(Answer).where(Answer.response_id == response.id))}
    assert answers["c1_1"].value_num == 4 and answers["e_levels"].value_text == "1 3"
    assert answers["comment"].value_text == "Cán bộ nhiệt tình"


def test_the_compact_id_without_dashes_is_accepted(client: FlaskClient, world: World) -> None:
    login(client, "lan")
    assert "/entry/keying/" in start(client, world.qid(2).replace("-", ""))


def test_second_keyer_sees_none_of_the_first_keying(app: Flask, client: FlaskClient,
                                                    world: World) -> None:
    marker = "DẤU-VẾT-LẦN-MỘT-7319"
    answers = full_answers(comment=marker)
    answers["a_ethnicity"], answers["a_ethnicity_other"] = "2", "Khmer-ZQX"
    login(client, "lan")
    key(client, world.qid(3), answers)
    logout(client)
    login(client, "hung")
    pages = [client.get("/entry/").get_data(as_text=True)]
    path = start(client, world.qid(3))
    screen = client.get(path).get_data(as_text=True)
    pages.append(screen)
    assert 'id="keying"' in screen
    values = re.findall(r'<input id="f-[a-z0-9_]+" name="[a-z0-9_]+" value="([^"]*)"', screen)
    assert values and all(v == "" for v in values)
    second = full_answers(comment="khác")
    reply = client.post(path, data={**second, "csrf_token": csrf(client, path)},
                        follow_redirects=True)
    pages.append(reply.get_data(as_text=True))
    for page in pages:
        assert marker not in page and "Khmer-ZQX" not in page
    with Session(app.extensions["sipas_engine"]) as session:
        case = session.exec(select(EntryCase)).one()
    assert case.state == "mismatch"


def test_skipped_questions_and_bad_codes_are_refused_by_the_server(
        client: FlaskClient, world: World) -> None:
    login(client, "lan")
    path = start(client, world.qid(4))
    answers = full_answers()
    answers["a_ethnicity_other"] = "Tày"  # skipped: ethnicity is 1
    answers["c1_2"] = "7"  # not on the scale
    del answers["c2_1"]  # required
    reply = client.post(path, data={**answers, "csrf_token": csrf(client, path)})
    assert reply.status_code == 422
    html = reply.get_data(as_text=True)
    assert "Câu này được bỏ qua nhưng lại có trả lời" in html
    assert "không có trong danh sách lựa chọn" in html
    assert "Câu này bắt buộc trả lời" in html
    assert 'value="Tày"' in html  # fix and continue: what was typed stays


def test_no_interview_outcomes_take_no_answers(app: Flask, client: FlaskClient,
                                               world: World) -> None:
    login(client, "lan")
    path = start(client, world.qid(5))
    bad = client.post(path, data={"outcome": "3", "a_sex": "1",
                                  "csrf_token": csrf(client, path)})
    assert bad.status_code == 422 and "Không phỏng vấn được thì không có câu trả lời" in \
        bad.get_data(as_text=True)
    ok = client.post(path, data={"outcome": "3", "csrf_token": csrf(client, path)})
    assert ok.status_code == 302


def test_screened_out_outcome_must_match_the_screening_answer(client: FlaskClient,
                                                              world: World) -> None:
    login(client, "lan")
    path = start(client, world.qid(6))
    answers = {k: v for k, v in full_answers().items() if k.startswith(("a_", "outcome"))}
    answers.update(outcome="2", s_procedure_12m="1")
    reply = client.post(path, data={**answers, "csrf_token": csrf(client, path)})
    assert reply.status_code == 422 and "đi cùng câu sàng lọc" in reply.get_data(as_text=True)
    answers["s_procedure_12m"] = "2"
    assert client.post(path, data={**answers, "csrf_token": csrf(client, path)}).status_code \
        == 302


def test_a_share_of_zero_stores_single_keyings_as_received(app: Flask, client: FlaskClient,
                                                           world: World) -> None:
    app.config["ENTRY_DOUBLE_SHARE"] = 0.0
    login(client, "lan")
    key(client, world.qid(7), full_answers())
    [response] = _responses(app)
    assert response.status == "received"
