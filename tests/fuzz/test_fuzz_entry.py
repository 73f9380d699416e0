"""Can any post to the paper-entry screens (start, keying a household questionnaire or a
desk slip, reconciling two keyings, a supervisor's review state and answer edits) cause a
500 or store an answer that fails the questionnaire's checks?

Valid posts are stored (single keying: ``ENTRY_DOUBLE_SHARE`` 0), so the fuzzers reach the
store; the ``province`` fixture then re-checks every stored response.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from survey.models import Response
from survey.models_entry import CaseState, EntryCase
from survey.services.sample.questionnaire_ids import make_questionnaire_id
from tests.fuzz.conftest import PSUS, Province, csrf_token, logged_in
from tests.fuzz.strategies import bent, encoded, junk, with_csrf

FIXTURES = settings(suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow, HealthCheck.data_too_large])
SLIP = {"service_field": "3", "overall": "5", "on_time": "1", "staff_attitude": "4",
        "visits": "2", "posted_procedures": "9", "feedback_handling": "5", "comment": "Tốt"}


def household() -> dict[str, str]:
    """A completed household questionnaire as a keyer types it (codes as text)."""
    answers = {"outcome": "1", "a_sex": "2", "a_age_band": "3", "a_ethnicity": "1",
               "a_education": "4", "a_occupation": "5", "a_urban_rural": "2", "a_terrain": "2",
               "s_procedure_12m": "1", "e_fields": "3", "e_levels": "1 3",
               "comment": "Cán bộ nhiệt tình"}
    for code in ("c1_1", "c1_2", "c1_3", "c1_4", "c2_1", "c2_2", "c2_3", "c2_4", "c3_1", "c3_2",
                 "c3_3", "c3_4", "c3_5", "c4_1", "c4_2", "c4_3", "c5_1", "c5_2", "c5_3"):
        answers[code] = "4"
    answers.update({f"p{n}": "2" for n in range(1, 10)})
    return answers


def questionnaire_ids(round_id: int) -> Iterator[str]:
    for psu in PSUS:
        for serial in range(1, 1000):
            yield make_questionnaire_id(round_id, psu, serial)


def start(client: FlaskClient, fields: dict[str, str]) -> str:
    reply = client.post("/entry/", data={**fields, "csrf_token": csrf_token(client, "/entry/")})
    assert reply.status_code == 302, reply.get_data(as_text=True)[:300]
    return reply.headers["Location"]


def _check(status: int, where: str) -> None:
    event(f"{where}: status {status}")
    assert status < 500, where


@FIXTURES
@given(data=st.data())
def test_start_screen(app: Flask, province: Province, data: st.DataObject) -> None:
    client = logged_in(app, "lan")
    real, foreign = csrf_token(client, "/entry/"), csrf_token(logged_in(app, "hung"), "/entry/")
    base = data.draw(st.sampled_from([
        {"kind": "questionnaire",
         "qid": make_questionnaire_id(province.round_id, PSUS[0], 1)},
        {"kind": "desk", "desk": province.desk_code, "serial": "A-0001"}]))
    form = data.draw(bent(base, ("kind", "qid", "desk", "serial")))
    with_csrf(data.draw, form, real, foreign)
    _check(client.post("/entry/", **encoded(form)).status_code, "start")


def test_keying_screen(app: Flask, province: Province) -> None:
    """One keyer, a fresh document whenever the last one was saved."""
    client = logged_in(app, "lan")
    foreign = csrf_token(logged_in(app, "hung"), "/entry/")
    slips, qids = itertools.count(1), questionnaire_ids(province.round_id)
    current = {"household": start(client, {"kind": "questionnaire", "qid": next(qids)}),
               "slip": start(client, {"kind": "desk", "desk": province.desk_code,
                                      "serial": f"F-{next(slips)}"})}

    @FIXTURES
    @given(kind=st.sampled_from(["household", "slip"]), data=st.data())
    def example(kind: str, data: st.DataObject) -> None:
        path = current[kind]
        form = data.draw(bent(household() if kind == "household" else SLIP, ("outcome",)))
        with_csrf(data.draw, form, csrf_token(client, path), foreign)
        reply = client.post(path, **encoded(form))
        _check(reply.status_code, f"keying {kind}")
        if reply.status_code == 302:  # saved: the next example keys a new document
            current[kind] = start(client, {"kind": "questionnaire", "qid": next(qids)}
                                  if kind == "household" else
                                  {"kind": "desk", "desk": province.desk_code,
                                   "serial": f"F-{next(slips)}"})

    example()
    with Session(app.extensions["sipas_engine"]) as session:  # the fuzzer reached the store
        kinds = {r.desk_id is None for r in session.exec(select(Response))}
        assert kinds == {True, False}, "no household questionnaire or no slip was stored"


def _stored_household(app: Flask, province: Province) -> int:
    """Key one household questionnaire (single keying) and return its response id."""
    client = logged_in(app, "lan")
    qid = make_questionnaire_id(province.round_id, PSUS[-1], 999)
    path = start(client, {"kind": "questionnaire", "qid": qid})
    reply = client.post(path, data={**household(), "csrf_token": csrf_token(client, path)})
    assert reply.status_code == 302
    with Session(app.extensions["sipas_engine"]) as session:
        return int(session.exec(select(Response.id).where(Response.mode == "paper")).one())


def test_review_state_and_answer_edits(app: Flask, province: Province) -> None:
    response_id = _stored_household(app, province)
    client = logged_in(app, "ha")
    page = f"/entry/response/{response_id}"
    foreign = csrf_token(logged_in(app, "quantri"), page)

    @FIXTURES
    @given(data=st.data())
    def example(data: st.DataObject) -> None:
        target_id = data.draw(st.sampled_from([response_id] * 4 + [0, 999_999, 2**31 - 1]))
        if data.draw(st.booleans()):
            base = {"status": data.draw(st.sampled_from(["verified", "has_issues", "rejected",
                                                         "received"])), "comment": "Đã xem"}
            path = f"/entry/response/{target_id}/status"
        else:
            base = {"item_code": data.draw(st.sampled_from(["c1_1", "a_sex", "e_levels",
                                                            "comment", "outcome", "s_procedure_12m",
                                                            "c5_3"])),
                    "value": data.draw(st.one_of(st.sampled_from(["1", "2", "5", "9", "1 2"]),
                                                 junk)),
                    "reason": "Phiếu giấy ghi khác"}
            path = f"/entry/response/{target_id}/edit"
        form = data.draw(bent(base))
        with_csrf(data.draw, form, csrf_token(client, page), foreign)
        _check(client.post(path, **encoded(form)).status_code, path.rsplit("/", 1)[1])

    example()


def test_reconcile_screen(app: Flask, province: Province) -> None:
    """Two keyers disagree on a questionnaire; the supervisor types what the paper says."""
    app.config["ENTRY_DOUBLE_SHARE"] = 1.0
    qid = make_questionnaire_id(province.round_id, PSUS[-1], 998)
    for keyer, comment in (("lan", "Tốt"), ("hung", "Rất tốt")):
        client = logged_in(app, keyer)
        path = start(client, {"kind": "questionnaire", "qid": qid})
        reply = client.post(path, data={**household(), "comment": comment,
                                        "csrf_token": csrf_token(client, path)})
        assert reply.status_code == 302
    with Session(app.extensions["sipas_engine"]) as session:
        case = session.exec(select(EntryCase).where(EntryCase.questionnaire_id == qid)).one()
        assert case.state == CaseState.mismatch.value
        page = f"/entry/review/case/{case.id}"
    client = logged_in(app, "ha")
    foreign = csrf_token(logged_in(app, "quantri"), page)

    @FIXTURES
    @given(data=st.data())
    def example(data: st.DataObject) -> None:
        base = {"paper_comment": data.draw(st.sampled_from(["Tốt", "Rất tốt"])),
                "paper_c1_1": "4"}
        form = data.draw(bent(base, ("paper_outcome", "paper_c5_3")))
        with_csrf(data.draw, form, csrf_token(client, page), foreign)
        _check(client.post(page, **encoded(form)).status_code, "reconcile")

    example()
