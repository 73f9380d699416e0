"""Is every bad questionnaire ID or slip refused at once, with a message the keyer can act on?"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from survey.models import SurveyRound, User
from survey.models_sample import FieldAssignment
from survey.services.entry.start import EntryError, drawn_for_double
from survey.services.sample.questionnaire_ids import (
    ParsedId,
    check_questionnaire_id,
    legacy_questionnaire_id,
    luhn_digit,
    make_questionnaire_id,
    parse_questionnaire_id,
    serial_of,
)
from tests.entry.conftest import World, csrf, full_answers, key, login


def _try(client: FlaskClient, **form: str) -> str:
    reply = client.post("/entry/", data={**form, "csrf_token": csrf(client, "/entry/")})
    assert reply.status_code == 422
    return reply.get_data(as_text=True)


@pytest.mark.parametrize("typed, message", [
    ("{round}-4711-001-1", "sai số kiểm tra"),
    ("{round}47110011", "sai số kiểm tra"),
    ("9999-001-2", "không có trong mẫu"),
    ("99-4711-001-{check99}", "không có trong mẫu"),
    ("", "Hãy nhập mã phiếu"),
])
def test_bad_ids_are_refused_with_the_reason(client: FlaskClient, world: World, typed: str,
                                             message: str) -> None:
    prefix = f"{world.round_id:02d}"
    assert world.qid(1) == f"{prefix}-4711-001-{luhn_digit(prefix + '4711001')}"
    good = luhn_digit(prefix + "4711001")
    typed = typed.format(round=prefix, check99=luhn_digit("994711001"))
    if "-4711-001-1" in typed or typed.endswith("47110011"):
        typed = typed[:-1] + str((good + 1) % 10)  # a check digit that is surely wrong
    login(client, "lan")
    page = _try(client, kind="questionnaire", qid=typed)
    assert message in page
    assert " / " not in page.split('id="start-error">')[1].split("</p>")[0]  # one language


def test_a_serial_beyond_the_hamlet_sample_is_refused(client: FlaskClient, world: World) -> None:
    login(client, "lan")
    assert "ngoài dãy 1–12" in _try(client, kind="questionnaire", qid=world.qid(13))


def test_an_id_of_a_published_round_is_refused(app: Flask, client: FlaskClient,
                                               world: World) -> None:
    with Session(app.extensions["sipas_engine"]) as session:
        round_ = session.get(SurveyRound, world.round_id)
        assert round_ is not None
        round_.status = "published"
        session.add(round_)
        session.commit()
    login(client, "lan")
    assert "đã công bố" in _try(client, kind="questionnaire", qid=world.qid(1))


def test_a_keyer_cannot_key_the_same_questionnaire_twice(client: FlaskClient,
                                                         world: World) -> None:
    login(client, "lan")
    key(client, world.qid(1), full_answers())
    assert "Bạn đã nhập phiếu" in _try(client, kind="questionnaire", qid=world.qid(1))


def test_assigned_hamlets_are_keyed_first_by_their_enumerator(app: Flask, client: FlaskClient,
                                                              world: World) -> None:
    with Session(app.extensions["sipas_engine"]) as session:
        hung = session.exec(select(User).where(User.username == "hung")).one()
        session.add(FieldAssignment(sample_unit_id=world.sample_unit_id, enumerator_id=hung.id,
                                    first_serial=101, last_serial=110))
        session.commit()
    login(client, "lan")
    assert "ngoài dãy 101–110" in _try(client, kind="questionnaire", qid=world.qid(1))
    assert "được giao cho điều tra viên khác" in _try(client, kind="questionnaire",
                                                      qid=world.qid(101))


def test_desk_slips_need_a_known_desk_and_a_serial(client: FlaskClient, world: World) -> None:
    login(client, "lan")
    assert "Không có bộ phận một cửa" in _try(client, kind="slip", desk="NOPE", serial="12")
    assert "Số phiếu in sẵn không hợp lệ" in _try(client, kind="slip", desk=world.desk_code,
                                              serial="12 34")


def test_ids_are_read_in_every_printed_form_and_the_double_draw_follows_the_share() -> None:
    full = make_questionnaire_id(3, "4711", 1)
    assert full.startswith("03-4711-001-") and check_questionnaire_id(full)
    assert parse_questionnaire_id(f" {full.replace('-', ' ')} ") == [ParsedId(3, "4711", 1)]
    compact = parse_questionnaire_id(full.replace("-", ""))  # digits alone: both splits
    assert ParsedId(3, "4711", 1) in compact and ParsedId(None, "034711", 1) in compact
    assert parse_questionnaire_id(legacy_questionnaire_id("4711", 1)) == [
        ParsedId(None, "4711", 1)]
    assert not check_questionnaire_id("4711-001-1") and not check_questionnaire_id("²-001-1")
    assert serial_of(full) == 1 and serial_of("4711-012-3") == 12 and serial_of("x") is None
    assert parse_questionnaire_id("03 4711.001 " + full[-1]) == [ParsedId(3, "4711", 1)]
    keys = [f"Q:1:{n}" for n in range(2000)]
    assert all(drawn_for_double(k, 1.0, b"s") for k in keys)
    assert not any(drawn_for_double(k, 0.0, b"s") for k in keys)
    share = sum(drawn_for_double(k, 0.3, b"s") for k in keys) / len(keys)
    assert 0.25 < share < 0.35
    with pytest.raises(ValueError, match="between 0 and 1"):
        drawn_for_double("x", 1.5, b"s")
    assert issubclass(EntryError, ValueError)
