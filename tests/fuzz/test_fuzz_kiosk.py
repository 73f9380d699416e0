"""Can any body a tablet (or anyone who has its address) sends make a 500, or store an
evaluation the form would refuse? Each stored row is checked against the form at the end."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from survey.instruments import validate_answers
from survey.models import Answer, Response
from survey.services.instruments import latest_version
from survey.services.instruments_text import parse_stored
from tests.kiosk.conftest import ANSWERS, Tablet, tablet  # noqa: F401 (the fixture)

FIXTURES = settings(suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])
VALUES = st.one_of(st.none(), st.booleans(), st.integers(-10, 100), st.floats(allow_nan=True),
                   st.text(max_size=30), st.lists(st.integers(-2, 99), max_size=4))
ANSWER_SETS = st.dictionaries(st.sampled_from([*ANSWERS, "low_reasons", "dossier_code",
                                               "nope"]), VALUES, max_size=12)
MOMENTS = st.one_of(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2999, 1, 1),
                                 timezones=st.just(UTC)).map(datetime.isoformat),
                    st.text(max_size=40), st.none(), st.integers())


@FIXTURES
@given(answers=st.one_of(ANSWER_SETS, st.just(dict(ANSWERS)).map(dict)),
       bent=st.dictionaries(st.sampled_from(list(ANSWERS)), VALUES, max_size=3),
       moment=st.one_of(st.just("now"), MOMENTS),
       ident=st.one_of(st.just("fresh"), st.text(max_size=40), st.none()),
       extra=st.dictionaries(st.sampled_from(["iv", "ticket", "x"]),
                             st.one_of(st.integers(-5, 2**40), st.text(max_size=5), st.none()),
                             max_size=3))
def sent_by_anyone(app: Flask, tablet: Tablet, answers: dict, bent: dict,  # noqa: F811
                   moment: object, ident: object, extra: dict) -> None:
    """One generated body: never a 5xx, always JSON."""
    body = {"uuid": str(uuid.uuid4()) if ident == "fresh" else ident,
            "answers": {**answers, **bent},
            "answered_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
            if moment == "now" else moment, **extra}
    reply = app.test_client().post(tablet.path + "/evaluations", json=body)
    assert reply.status_code in (200, 201, 409, 422), (reply.status_code, body)
    assert reply.is_json


def test_no_kiosk_body_fails_or_stores_what_the_form_refuses(app: Flask,
                                                             tablet: Tablet) -> None:  # noqa: F811
    sent_by_anyone(app, tablet)  # type: ignore[call-arg]
    with Session(app.extensions["sipas_engine"]) as session:
        form = parse_stored(latest_version(session, "desk_evaluation").source_text)
        for response in session.exec(select(Response)).all():
            assert response.mode == "kiosk"
            answers = {a.item_code: a.value_num if a.value_num is not None else a.value_text
                       for a in session.exec(select(Answer).where(
                           Answer.response_id == response.id)).all()}
            typed = {k: int(v) if isinstance(v, float) and v.is_integer() else v
                     for k, v in answers.items()}
            assert validate_answers(form, typed) == {}, typed
