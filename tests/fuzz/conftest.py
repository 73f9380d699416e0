"""A small province for the fuzzers: forms, a round with a sampled hamlet, a desk, one user
per role, and the check that nothing invalid was ever stored.

The fuzzers drive the real app through the Flask test client with CSRF on (tokens are read
from the rendered pages, as a browser would). The desk limits are raised: thousands of
examples come from one address.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from survey.instruments import validate_answers
from survey.models import Answer, InstrumentVersion, Response, SampleUnit, Stratum
from survey.services.desks.links import desk_token
from survey.services.entry.keying import NO_INTERVIEW, canonical, typed
from survey.services.instruments_text import parse_stored
from tests import factories

PASSWORD = "mật khẩu đủ dài 1"
PSUS = ("5120", "5121", "5122", "5123", "5124", "5125")
ROLES = {"lan": "enumerator", "hung": "enumerator", "ha": "supervisor", "anh": "analyst",
         "quantri": "admin"}
RAISED = "1000000 per minute"


@dataclass(frozen=True)
class Province:
    desk_code: str
    desk_path: str
    round_code: str
    round_id: int


@pytest.fixture(autouse=True)
def _own_limiter_storage(monkeypatch: pytest.MonkeyPatch) -> None:
    """Count requests in memory, never in a developer's Redis."""
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("SIPAS_TRUSTED_PROXIES", raising=False)


@pytest.fixture
def province(app: Flask) -> Iterator[Province]:
    app.config.update(DESK_LIMIT_ADDRESS=RAISED, ENTRY_DOUBLE_SHARE=0.0)
    with Session(app.extensions["sipas_engine"]) as session:
        factories.published(session)
        round_ = factories.survey_round(session)
        stratum = Stratum(round_id=round_.id, code="S1", name="Huyện Đông")
        session.add(stratum)
        session.flush()
        for psu in PSUS:  # 999 questionnaires each: enough for the large fuzzing profile
            hamlet = factories.hamlet_chain(session)
            hamlet.households = 120  # a drawable frame for the sample-draw fuzzer
            session.add(hamlet)
            session.add(SampleUnit(round_id=round_.id, stratum_id=stratum.id, unit_id=hamlet.id,
                                   psu_code=psu, prob_stage1=0.25, listed_persons=240,
                                   sample_size=999))
        desk = factories.desk(session, code="MC-FUZZ", name="Bộ phận Một cửa", agency="UBND")
        for name, role in ROLES.items():
            factories.user(session, role, username=name, password=PASSWORD)
        place = Province(desk.code, "/d/" + desk_token(app.config["SECRET_KEY"], desk),
                         round_.code, round_.id)
        session.commit()  # nothing left open: on SQLite an open transaction holds the lock
    yield place
    assert_only_valid_responses(app)


def csrf_token(client: FlaskClient, path: str) -> str:
    """The token a browser would post back, read from the rendered form."""
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert found is not None, f"no CSRF token on {path}"
    return found.group(1)


def logged_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    reply = client.post("/auth/login", data={"username": username, "password": PASSWORD,
                                             "csrf_token": csrf_token(client, "/auth/login")})
    assert reply.status_code == 302, reply.status_code
    return client


def assert_only_valid_responses(app: Flask) -> None:
    """Every stored response passes its own frozen version's checks (or has no answers
    when nobody was interviewed); no answer names an unknown item or holds a dossier code."""
    with Session(app.extensions["sipas_engine"]) as session:
        forms = {}
        for response in session.exec(select(Response)):
            vid = response.instrument_version_id
            if vid not in forms:
                version = session.get(InstrumentVersion, vid)
                assert version is not None
                forms[vid] = parse_stored(version.source_text)
            form = forms[vid]
            values = {}
            for row in session.exec(select(Answer).where(Answer.response_id == response.id)):
                assert form.has_item(row.item_code) and row.item_code != "dossier_code", row
                raw = row.value_text if row.value_text is not None else str(row.value_num)
                values[row.item_code] = canonical(form.item(row.item_code), raw)
            if response.outcome in NO_INTERVIEW:
                assert values == {}, (response.id, values)
                continue
            answers = {code: typed(form.item(code), text) for code, text in values.items()}
            assert validate_answers(form, answers) == {}, (response.id, answers)
