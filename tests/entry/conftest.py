"""Fixtures for paper entry: a sampled hamlet with questionnaire IDs, keyers and a supervisor."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from survey.models import SampleUnit, Stratum
from survey.services.sample.questionnaire_ids import make_questionnaire_id
from tests import factories

PASSWORD = "mật khẩu đủ dài 1"
PSU = "4711"


@dataclass(frozen=True)
class World:
    round_id: int
    sample_unit_id: int
    hamlet_id: int
    desk_code: str

    def qid(self, serial: int) -> str:
        return make_questionnaire_id(self.round_id, PSU, serial)


@pytest.fixture
def world(app: Flask) -> World:
    """One open round, one stratum, one sampled hamlet (PSU 4711, 12 questionnaires)."""
    return build_world(app)


def build_world(app: Flask) -> World:
    """The world of :func:`world`, for fixtures that build it once and copy it."""
    with Session(app.extensions["sipas_engine"]) as session:
        factories.published(session)
        round_ = factories.survey_round(session)
        hamlet = factories.hamlet_chain(session)
        stratum = Stratum(round_id=round_.id, code="S1", name="Huyện Đông")
        session.add(stratum)
        session.flush()
        unit = SampleUnit(round_id=round_.id, stratum_id=stratum.id, unit_id=hamlet.id,
                          psu_code=PSU, prob_stage1=0.25, listed_persons=240, sample_size=12)
        session.add(unit)
        desk = factories.desk(session, code="MC-TEST")
        for name, role in (("lan", "enumerator"), ("hung", "enumerator"), ("tuan", "enumerator"),
                           ("ha", "supervisor"), ("anh", "analyst"), ("quantri", "admin")):
            factories.user(session, role, username=name, password=PASSWORD)
        session.commit()
        return World(round_.id, unit.id, hamlet.id, desk.code)  # type: ignore[arg-type]


def csrf(client: FlaskClient, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert found is not None, f"no CSRF token on {path}"
    return found.group(1)


def login(client: FlaskClient, username: str) -> None:
    token = csrf(client, "/auth/login")
    reply = client.post("/auth/login", data={"username": username, "password": PASSWORD,
                                             "csrf_token": token})
    assert reply.status_code == 302, reply.get_data(as_text=True)


def logout(client: FlaskClient) -> None:
    token = csrf(client, "/")
    client.post("/auth/logout", data={"csrf_token": token})


def full_answers(comment: str = "Cán bộ nhiệt tình") -> dict[str, str]:
    """A completed household questionnaire as a keyer types it (codes as text)."""
    answers = {"outcome": "1", "a_sex": "2", "a_age_band": "3", "a_ethnicity": "1",
               "a_education": "4", "a_occupation": "5", "a_urban_rural": "2", "a_terrain": "2",
               "s_procedure_12m": "1", "e_fields": "3", "e_levels": "1 3"}
    for code in ("c1_1", "c1_2", "c1_3", "c1_4", "c2_1", "c2_2", "c2_3", "c2_4", "c3_1", "c3_2",
                 "c3_3", "c3_4", "c3_5", "c4_1", "c4_2", "c4_3", "c5_1", "c5_2", "c5_3"):
        answers[code] = "4"
    answers["c5_3"] = "9"
    for n in range(1, 10):
        answers[f"p{n}"] = "2"
    answers["comment"] = comment
    return answers


def start(client: FlaskClient, qid: str) -> str:
    """Type a questionnaire ID on the start page; return the keying screen's path."""
    token = csrf(client, "/entry/")
    reply = client.post("/entry/", data={"kind": "questionnaire", "qid": qid,
                                         "csrf_token": token})
    assert reply.status_code == 302, reply.get_data(as_text=True)
    return reply.headers["Location"]


def key(client: FlaskClient, qid: str, answers: dict[str, str]) -> str:
    """Key a whole questionnaire; return the page the keyer lands on afterwards."""
    path = start(client, qid)
    token = csrf(client, path)
    reply = client.post(path, data={**answers, "csrf_token": token})
    assert reply.status_code == 302, reply.get_data(as_text=True)
    return client.get(reply.headers["Location"]).get_data(as_text=True)
