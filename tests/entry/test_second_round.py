"""A second round is drawn while paper of the first is still being keyed: does each questionnaire
land in its own round, and can old paper (printed without the round number) still be keyed?"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from survey.models import Response, SampleUnit, Stratum, SurveyRound, User
from survey.models_entry import EntryCase, Keying
from survey.models_sample import FieldAssignment
from survey.services.sample.questionnaire_ids import legacy_questionnaire_id, make_questionnaire_id
from tests import factories
from tests.entry.conftest import PSU, World, csrf, full_answers, key, login


@dataclass(frozen=True)
class TwoRounds:
    first: World
    second_round_id: int
    second_code: str
    first_code: str

    def second_qid(self, serial: int) -> str:
        return make_questionnaire_id(self.second_round_id, PSU, serial)


@pytest.fixture
def rounds(app: Flask, world: World) -> TwoRounds:
    """World's round (12 questionnaires in PSU 4711) plus a newer round whose draw gave
    another hamlet the same PSU number (numbers restart) with 6 questionnaires."""
    app.config["ENTRY_DOUBLE_SHARE"] = 0.0  # one keying stores the response
    with Session(app.extensions["sipas_engine"]) as session:
        first = session.get(SampleUnit, world.sample_unit_id)
        assert first is not None
        newer = factories.survey_round(session, year=2026)
        stratum = Stratum(round_id=newer.id, code="S1", name="Huyện Đông")
        session.add(stratum)
        session.flush()
        unit = SampleUnit(round_id=newer.id, stratum_id=stratum.id,
                          unit_id=factories.hamlet_chain(session).id, psu_code=PSU,
                          prob_stage1=0.5, listed_persons=100, sample_size=6)
        session.add(unit)
        session.flush()
        lan = session.exec(select(User).where(User.username == "lan")).one()
        for su, last in ((first, 12), (unit, 6)):
            session.add(FieldAssignment(sample_unit_id=su.id, enumerator_id=lan.id,
                                        first_serial=1, last_serial=last))
        codes = {r.id: r.code for r in session.exec(select(SurveyRound))}
        session.commit()
        return TwoRounds(world, newer.id, newer.code, codes[world.round_id])  # type: ignore[arg-type]


def _stored(app: Flask) -> list[tuple[int, str]]:
    with Session(app.extensions["sipas_engine"]) as session:
        return sorted((r.round_id, r.questionnaire_id) for r in session.exec(
            select(Response).where(Response.mode == "paper")))  # type: ignore[misc]


def _start(client: FlaskClient, qid: str, round_code: str = "") -> tuple[int, str]:
    reply = client.post("/entry/", data={"kind": "questionnaire", "qid": qid,
                                         "round": round_code,
                                         "csrf_token": csrf(client, "/entry/")})
    return reply.status_code, reply.headers.get("Location") or reply.get_data(as_text=True)


def test_each_round_keeps_its_own_questionnaires(app: Flask, client: FlaskClient,
                                                 rounds: TwoRounds) -> None:
    assert rounds.first.qid(1) != rounds.second_qid(1)
    login(client, "lan")
    key(client, rounds.first.qid(1), full_answers())
    key(client, rounds.second_qid(1), full_answers())
    assert _stored(app) == sorted([(rounds.first.round_id, rounds.first.qid(1)),
                                   (rounds.second_round_id, rounds.second_qid(1))])
    page = client.get("/entry/").get_data(as_text=True)
    assert f'data-round="{rounds.first_code}"' in page
    assert f'data-round="{rounds.second_code}"' in page


def test_leftover_paper_of_the_earlier_round_lands_in_its_own_round(
        app: Flask, client: FlaskClient, rounds: TwoRounds) -> None:
    """Serial 8 exists only in the first round's hamlet (the newer one has 6): the old paper's
    legacy ID goes there, not into the newer round with "outside the range"."""
    login(client, "lan")
    status, where = _start(client, legacy_questionnaire_id(PSU, 8))
    assert status == 302, where
    client.post(where, data={**full_answers(), "csrf_token": csrf(client, where)})
    assert _stored(app) == [(rounds.first.round_id, rounds.first.qid(8))]


def test_an_id_in_two_open_rounds_asks_for_the_round(app: Flask, client: FlaskClient,
                                                     rounds: TwoRounds) -> None:
    login(client, "lan")
    legacy = legacy_questionnaire_id(PSU, 2)
    status, page = _start(client, legacy)
    assert status == 422
    assert "nhiều đợt khảo sát đang mở" in page and rounds.second_code in page
    assert 'name="round"' in page and _stored(app) == []
    status, where = _start(client, legacy, rounds.first_code)
    assert status == 302, where
    client.post(where, data={**full_answers(), "csrf_token": csrf(client, where)})
    assert _stored(app) == [(rounds.first.round_id, rounds.first.qid(2))]
    # a round that does not hold this ID is refused, not ignored
    status, page = _start(client, rounds.second_qid(3), rounds.first_code)
    assert status == 422 and "không có trong mẫu của đợt" in page


def test_paper_stored_under_its_legacy_id_is_not_keyed_again(app: Flask, client: FlaskClient,
                                                             rounds: TwoRounds) -> None:
    """A questionnaire keyed before round prefixes existed keeps its stored legacy ID; typing
    the new full ID of the same paper is refused as already entered, and so is a case."""
    with Session(app.extensions["sipas_engine"]) as session:
        version = factories.published(session)
        session.add(Response(client_uuid=uuid.uuid4(), content_hash="x" * 64,
                             instrument_version_id=version.id, round_id=rounds.first.round_id,
                             mode="paper", status="verified", outcome="completed",
                             sample_unit_id=rounds.first.sample_unit_id,
                             questionnaire_id=legacy_questionnaire_id(PSU, 4)))
        case = EntryCase(entry_key=f"Q:{rounds.first.round_id}:{legacy_questionnaire_id(PSU, 5)}",
                         instrument_version_id=version.id, round_id=rounds.first.round_id,
                         sample_unit_id=rounds.first.sample_unit_id,
                         questionnaire_id=legacy_questionnaire_id(PSU, 5))
        session.add(case)
        session.flush()
        lan = session.exec(select(User).where(User.username == "lan")).one()
        draft = Keying(case_id=case.id, pass_no=1, keyer_id=lan.id)
        session.add(draft)
        session.commit()
        draft_path = f"/entry/keying/{draft.id}"
    login(client, "lan")
    status, page = _start(client, rounds.first.qid(4))
    assert status == 422 and "đã được nhập xong" in page
    status, where = _start(client, rounds.first.qid(5))  # resumes the existing case
    assert status == 302 and where.endswith(draft_path)
    with Session(app.extensions["sipas_engine"]) as session:
        assert len(session.exec(select(EntryCase)).all()) == 1


def test_second_keyings_due_are_listed_for_everyone_but_the_first_keyer(
        app: Flask, client: FlaskClient, world: World) -> None:
    app.config["ENTRY_DOUBLE_SHARE"] = 1.0
    login(client, "lan")
    key(client, world.qid(7), full_answers())
    mine = client.get("/entry/").get_data(as_text=True)
    assert 'id="second-due"' not in mine  # never one's own first keying
    client.post("/auth/logout", data={"csrf_token": csrf(client, "/entry/")})
    login(client, "hung")
    theirs = client.get("/entry/").get_data(as_text=True)
    assert 'id="second-due"' in theirs and world.qid(7) in theirs.split('id="second-due"')[1]
    key(client, world.qid(7), full_answers())  # verified: off the list
    assert 'id="second-due"' not in client.get("/entry/").get_data(as_text=True)
