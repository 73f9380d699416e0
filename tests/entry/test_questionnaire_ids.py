"""Is every bad questionnaire ID or slip refused at once, with a message the keyer can act on?"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from survey.models import User
from survey.models_sample import FieldAssignment
from survey.services.entry.start import EntryError, drawn_for_double, normalise_questionnaire_id
from tests.entry.conftest import World, csrf, full_answers, key, login


def _try(client: FlaskClient, **form: str) -> str:
    reply = client.post("/entry/", data={**form, "csrf_token": csrf(client, "/entry/")})
    assert reply.status_code == 422
    return reply.get_data(as_text=True)


@pytest.mark.parametrize("typed, message", [
    ("4711-001-1", "wrong check digit"),
    ("47110011", "wrong check digit"),
    ("9999-001-2", "not in the sample"),
    ("", "Type the questionnaire ID"),
])
def test_bad_ids_are_refused_with_the_reason(client: FlaskClient, world: World, typed: str,
                                             message: str) -> None:
    assert world.qid(1) == "4711-001-0"  # the Luhn digit the tests rely on
    login(client, "lan")
    assert message in _try(client, kind="questionnaire", qid=typed)


def test_a_serial_beyond_the_hamlet_sample_is_refused(client: FlaskClient, world: World) -> None:
    login(client, "lan")
    assert "range 1–12" in _try(client, kind="questionnaire",
                                                      qid=world.qid(13))


def test_a_keyer_cannot_key_the_same_questionnaire_twice(client: FlaskClient,
                                                         world: World) -> None:
    login(client, "lan")
    key(client, world.qid(1), full_answers())
    assert "You have already keyed" in _try(client, kind="questionnaire", qid=world.qid(1))


def test_assigned_hamlets_are_keyed_first_by_their_enumerator(app: Flask, client: FlaskClient,
                                                              world: World) -> None:
    with Session(app.extensions["sipas_engine"]) as session:
        hung = session.exec(select(User).where(User.username == "hung")).one()
        session.add(FieldAssignment(sample_unit_id=world.sample_unit_id, enumerator_id=hung.id,
                                    first_serial=101, last_serial=110))
        session.commit()
    login(client, "lan")
    assert "range 101–110" in _try(client, kind="questionnaire",
                                                         qid=world.qid(1))
    assert "assigned to another enumerator" in _try(client, kind="questionnaire",
                                                    qid=world.qid(101))


def test_desk_slips_need_a_known_desk_and_a_serial(client: FlaskClient, world: World) -> None:
    login(client, "lan")
    assert "No active one-stop desk" in _try(client, kind="slip", desk="NOPE", serial="12")
    assert "slip serial is not valid" in _try(client, kind="slip", desk=world.desk_code,
                                              serial="12 34")


def test_ids_are_normalised_and_the_double_draw_follows_the_share() -> None:
    assert normalise_questionnaire_id(" 4711 001 1 ") == "4711-001-1"
    assert normalise_questionnaire_id("47110011") == "4711-001-1"
    keys = [f"Q:1:{n}" for n in range(2000)]
    assert all(drawn_for_double(k, 1.0, b"s") for k in keys)
    assert not any(drawn_for_double(k, 0.0, b"s") for k in keys)
    share = sum(drawn_for_double(k, 0.3, b"s") for k in keys) / len(keys)
    assert 0.25 < share < 0.35
    with pytest.raises(ValueError, match="between 0 and 1"):
        drawn_for_double("x", 1.5, b"s")
    assert issubclass(EntryError, ValueError)
