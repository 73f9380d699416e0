"""Can an enumerator key the demo's paper questionnaires, and a second one verify them blind?"""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, col, select

from survey.models import Response, SampleUnit
from survey.services.demo import KEYED_PER_HAMLET, PERSONS_PER_HAMLET, build_demo
from tests import factories
from tests.entry.conftest import csrf, full_answers, key, logout


def _demo(app: Flask) -> dict[str, str]:
    """Build the demo in the app's database; return its accounts' passwords (printed once)."""
    with Session(app.extensions["sipas_engine"]) as session:
        factories.published(session)
        report = build_demo(session, secret=app.config["SECRET_KEY"].encode("utf-8"))
        session.commit()
    assert report is not None
    return dict(re.findall(r"^\s+(\S+)\s+\S+\s+(\S+)$", report, re.MULTILINE))


def _login(client: FlaskClient, username: str, password: str) -> None:
    token = csrf(client, "/auth/login")
    reply = client.post("/auth/login", data={"username": username, "password": password,
                                             "csrf_token": token})
    assert reply.status_code == 302, reply.get_data(as_text=True)


def _waiting(client: FlaskClient) -> list[str]:
    """The questionnaire IDs the start page says are still on paper for this enumerator."""
    page = client.get("/entry/").get_data(as_text=True)
    return [q for span in re.findall(r'<span class="waiting">([^<]*)</span>', page)
            for q in span.split(" · ")]


def test_an_enumerator_keys_a_demo_questionnaire_and_another_verifies_it(
        app: Flask, client: FlaskClient) -> None:
    passwords = _demo(app)
    _login(client, "nhaplieu1", passwords["nhaplieu1"])
    waiting = _waiting(client)
    # three hamlets each, serials 31–34 of each still on paper
    assert len(waiting) == 3 * (PERSONS_PER_HAMLET - KEYED_PER_HAMLET)
    assert {int(q.split("-")[2]) for q in waiting} == set(range(KEYED_PER_HAMLET + 1,
                                                                PERSONS_PER_HAMLET + 1))
    qid = waiting[0]
    key(client, qid, full_answers())
    assert qid not in _waiting(client)
    logout(client)
    _login(client, "nhaplieu2", passwords["nhaplieu2"])
    assert qid not in _waiting(client)  # nhaplieu1's questionnaire is not listed for others
    key(client, qid, full_answers())  # typed from the paper: the blind second keying
    with Session(app.extensions["sipas_engine"]) as session:
        keyed = session.exec(select(Response).where(Response.questionnaire_id == qid)).one()
        unit = session.exec(select(SampleUnit)
                            .where(SampleUnit.psu_code == qid.split("-")[1])).one()
        demo_row = session.exec(select(Response).where(
            Response.sample_unit_id == unit.id, col(Response.questionnaire_id) != qid)).first()
    assert keyed.status == "verified" and keyed.outcome == "completed"
    assert keyed.sample_unit_id == unit.id and keyed.psu == unit.psu_code
    assert demo_row is not None
    # the design columns come from the sample, exactly as for the demo's own responses
    assert (keyed.stratum, keyed.prob_stage1) == (demo_row.stratum, demo_row.prob_stage1)
    assert abs(keyed.weight - demo_row.weight) < 1e-9 * demo_row.weight
