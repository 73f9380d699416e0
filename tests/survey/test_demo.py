"""Is the demo believable: valid answers under the form's own rules, sound weights?"""

from __future__ import annotations

import random

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from survey.instruments import validate_answers
from survey.services.demo import _household_answers, build_demo
from survey.services.instruments_text import parse_stored
from tests import factories


def test_generated_answers_pass_the_questionnaire_checks(engine: Engine) -> None:
    with Session(engine) as session:
        form = parse_stored(factories.published(session).source_text)
        desk_form = parse_stored(factories.published(session, "desk_evaluation").source_text)
    rng = random.Random(7)
    for outcome in ["completed"] * 60 + ["screened_out"] * 20:
        answers = _household_answers(form, rng, outcome)
        assert validate_answers(form, answers) == {}
        assert (answers["s_procedure_12m"] == 2) == (outcome == "screened_out")
    nines = 0
    for _ in range(400):  # enough that a 4 % "no answer" in a required item shows up
        answers = _household_answers(desk_form, rng, "completed")
        assert validate_answers(desk_form, answers) == {}
        for item in desk_form.questions:
            if answers.get(item.code) == desk_form.missing_code:
                assert item.na_allowed, item.code
                nines += 1
    assert nines > 0  # where the form allows it, "no answer" still occurs


def test_weights_are_inverse_selection_probabilities(engine: Engine) -> None:
    with Session(engine) as session:
        factories.published(session)
        build_demo(session, secret=b"x" * 32)
        session.commit()
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT prob_stage1, prob_stage2, weight, stratum, psu FROM response "
            "WHERE mode = 'paper'")).all()
        mos = conn.execute(text(
            "SELECT s.code, sum(su.prob_stage1) FROM sample_unit su "
            "JOIN stratum s ON s.id = su.stratum_id GROUP BY s.code")).all()
    assert rows
    for p1, p2, weight, stratum, psu in rows:
        assert 0 < p1 <= 1 and 0 < p2 <= 1 and stratum and psu
        assert abs(weight * p1 * p2 - 1) < 1e-9
    # PPS: within a stratum the sampled hamlets' probabilities sum to at most n_h = 3.
    assert all(0 < total <= 3 + 1e-9 for _code, total in mos)
