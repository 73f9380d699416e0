"""Do the weights follow the selection made, adjust for nonresponse, rake and freeze?"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from analysis.design import make_design
from analysis.estimate import mean
from survey.models import AdminUnit, Response, SampleUnit, SurveyRound
from survey.models_sample import ResponseWeight, WeightsVersion
from survey.services.sample.rounds import publish_round
from survey.services.sample.weights import compute_weights
from survey.services.sample.weights_calc import trim_weights
from tests.sample.conftest import add_fieldwork

OUTCOMES = ("completed", "completed", "screened_out", "refused", "completed", "absent",
            "completed", "not_found", "completed", "completed")


def _outcome(su: SampleUnit, k: int) -> str:
    return OUTCOMES[(k + int(su.psu_code)) % len(OUTCOMES)]


def _rows(session: Session) -> list[tuple[Response, SampleUnit]]:
    return list(session.exec(select(Response, SampleUnit).join(
        SampleUnit, SampleUnit.id == Response.sample_unit_id)).all())  # type: ignore[arg-type]


def test_respondents_carry_their_hamlets_nonrespondents(
    engine: Engine, drawn: Callable[..., str]
) -> None:
    code = drawn()
    with Session(engine) as session:
        add_fieldwork(session, code, _outcome, listed=lambda su: 40 + int(su.psu_code))
        summary = compute_weights(session, code, min_respondents=1)
        session.commit()
        per_psu: dict[str, float] = {}
        for r, su in _rows(session):
            p2 = su.sample_size / su.listed_persons  # type: ignore[operator]
            assert r.prob_stage1 == su.prob_stage1 and r.prob_stage2 == pytest.approx(p2)
            assert r.psu == su.psu_code and r.stratum is not None
            if r.outcome in ("completed", "screened_out"):
                assert r.weight is not None and r.weight > 0
                per_psu[su.psu_code] = per_psu.get(su.psu_code, 0) + r.weight
            else:
                assert r.weight is None
        for su in session.exec(select(SampleUnit)):
            assert per_psu[su.psu_code] == pytest.approx(su.listed_persons / su.prob_stage1)
        assert summary.respondents + summary.nonrespondents == 60
        assert summary.respondents == sum(1 for r, _ in _rows(session) if r.weight)


def test_a_hamlet_with_too_few_respondents_is_pooled_in_its_stratum(
    engine: Engine, drawn: Callable[..., str]
) -> None:
    code = drawn()
    with Session(engine) as session:
        add_fieldwork(session, code, lambda su, k: "completed" if su.psu_code != "0001" or k == 1
                      else "refused")
        summary = compute_weights(session, code, min_respondents=3)
        assert summary.collapsed == ("0001",)
        total = sum(1 / (su.prob_stage1 * su.sample_size / 100)
                    * su.sample_size for su in session.exec(select(SampleUnit)))
        assert summary.sum_final == pytest.approx(total)


def test_a_stratum_without_any_respondent_is_a_clear_error(
    engine: Engine, drawn: Callable[..., str]
) -> None:
    code = drawn()
    with Session(engine) as session:
        add_fieldwork(session, code, lambda su, k: "refused" if su.psu_code in ("0001", "0002")
                      else "completed")
        with pytest.raises(ValueError, match="no respondents"):
            compute_weights(session, code)


def test_raking_hits_the_margins_over_the_screened_out_too(
    engine: Engine, drawn: Callable[..., str], tmp_path: Path
) -> None:
    code = drawn()
    margins = tmp_path / "margins.csv"
    margins.write_text("variable,value,total\na_sex,1,5100\na_sex,2,5300\n"
                       "urban_rural,urban,4000\nurban_rural,rural,6400\n", encoding="utf-8")
    with Session(engine) as session:
        add_fieldwork(session, code, _outcome, answers=lambda su, k: {"a_sex": 1 + k % 2})
        summary = compute_weights(session, code, margins=margins)
        assert summary.rake_iterations is not None and summary.sum_final == pytest.approx(10400)
        units = {u.id: u for u in session.exec(select(AdminUnit))}
        totals: dict[str, float] = {}
        for r, su in _rows(session):
            if r.weight:
                sex = "a_sex=" + str(1 + int(r.questionnaire_id.split("-")[2]) % 2)  # type: ignore[union-attr]
                ur = "ur=" + str(units[su.unit_id].urban_rural)
                for key in (sex, ur):
                    totals[key] = totals.get(key, 0) + r.weight
        assert totals == pytest.approx({"a_sex=1": 5100, "a_sex=2": 5300, "ur=urban": 4000,
                                        "ur=rural": 6400}, rel=1e-6)
        # the summary keeps each target beside what the stored weights reach (the screen's
        # table), equal to the sums just read back from the responses
        reached = {f"{v}={x}": (t, a) for v, x, t, a in summary.margins}
        assert set(reached) == {"a_sex=1", "a_sex=2", "urban_rural=urban", "urban_rural=rural"}
        assert reached["a_sex=1"][1] == pytest.approx(totals["a_sex=1"], rel=1e-9)
        assert reached["urban_rural=rural"] == pytest.approx((6400, totals["ur=rural"]))
        trimmed = compute_weights(session, code, margins=margins, trim=1.2)
        moved = {f"{v}={x}": a for v, x, _t, a in trimmed.margins}
        assert trimmed.trimmed > 0 and moved["a_sex=1"] != pytest.approx(5100, rel=1e-6)


def test_margins_adding_up_to_different_populations_are_refused(
    engine: Engine, drawn: Callable[..., str], tmp_path: Path
) -> None:
    """Raking can meet at most one of them (the weights would end on the last margin's
    total, the others unmet): a supervisor is told, in words, before anything is stored."""
    from survey.messages import UserError

    code = drawn()
    margins = tmp_path / "margins.csv"
    margins.write_text("variable,value,total\na_sex,1,5100\na_sex,2,5300\n"
                       "urban_rural,urban,4000\nurban_rural,rural,9400\n", encoding="utf-8")
    with Session(engine) as session:
        add_fieldwork(session, code, _outcome, answers=lambda su, k: {"a_sex": 1 + k % 2})
        with pytest.raises(UserError, match="different totals") as refused:
            compute_weights(session, code, margins=margins)
        assert refused.value.params["totals"] == "a_sex 10400; urban_rural 13400"
        assert all(r.weight is None for r, _ in _rows(session))  # nothing stored


def test_one_adult_per_household_multiplies_by_the_adults(
    engine: Engine, drawn: Callable[..., str]
) -> None:
    code = drawn()
    with Session(engine) as session:
        add_fieldwork(session, code, lambda su, k: "completed",
                      answers=lambda su, k: {"hh_adults": 1 + k % 3})
        compute_weights(session, code, adults_item="hh_adults")
        for r, su in _rows(session):
            adults = 1 + int(r.questionnaire_id.split("-")[2]) % 3  # type: ignore[union-attr]
            assert r.prob_stage2 == pytest.approx(su.sample_size / 100 / adults)
            assert r.weight == pytest.approx(1 / (su.prob_stage1 * r.prob_stage2))
        with pytest.raises(ValueError, match="no number of adults in 'missing_item'"):
            compute_weights(session, code, adults_item="missing_item")


def test_a_published_round_keeps_its_weights_and_corrections_make_a_version(
    engine: Engine, drawn: Callable[..., str]
) -> None:
    code = drawn()
    with Session(engine) as session:
        add_fieldwork(session, code, _outcome)
        with pytest.raises(ValueError, match="no computed weights"):
            publish_round(session, code)
        first = compute_weights(session, code)
        publish_round(session, code)
        before = {r.id: r.weight for r, _ in _rows(session)}
        with pytest.raises(ValueError, match="frozen; make a new version 2"):
            compute_weights(session, code, trim=1.2)
        assert {r.id: r.weight for r, _ in _rows(session)} == before
        with pytest.raises(ValueError, match="needs a reason"):
            compute_weights(session, code, new_version=True)
        second = compute_weights(session, code, trim=1.5, new_version=True,
                                 reason="listing corrected")
        assert (first.version, second.version) == (1, 2)
        round_ = session.exec(select(SurveyRound).where(SurveyRound.code == code)).one()
        assert round_.status == "published" and round_.weights_version == 2
        v1 = session.exec(select(WeightsVersion).where(WeightsVersion.version == 1)).one()
        kept = {w.response_id: w.weight for w in
                session.exec(select(ResponseWeight).where(ResponseWeight.version_id == v1.id))}
        assert kept == before


def test_unlisted_hamlets_are_named(engine: Engine, drawn: Callable[..., str]) -> None:
    code = drawn()
    with Session(engine) as session:
        add_fieldwork(session, code, _outcome, listed=lambda su: 0)
        with pytest.raises(ValueError, match="no listed count from the field"):
            compute_weights(session, code)


def test_the_estimates_use_the_stored_design_columns(
    engine: Engine, drawn: Callable[..., str]
) -> None:
    """The weighted mean of a hamlet-level constant equals Σ w·x / Σ w from the columns."""
    code = drawn()
    with Session(engine) as session:
        add_fieldwork(session, code, _outcome)
        compute_weights(session, code)
        rows = [r for r, _ in _rows(session) if r.weight]
    y = np.array([float(r.psu) for r in rows])  # type: ignore[arg-type]
    w = np.array([r.weight for r in rows], dtype=float)
    design = make_design(len(rows), weights=w, strata=np.array([r.stratum for r in rows]),
                         clusters=[np.array([r.psu for r in rows])])
    result = mean(design, y)
    assert result.estimate[0, 0] == pytest.approx((w * y).sum() / w.sum(), rel=1e-12)
    assert result.df[0, 0] == 6 - 3


def test_trimming_caps_weights_and_keeps_the_total() -> None:
    w = np.array([1.0, 1, 1, 1, 1, 1, 1, 2, 6, 0])
    trimmed, count = trim_weights(w, 3.0)
    assert count == 1 and trimmed.sum() == pytest.approx(w.sum())
    assert trimmed.max() == pytest.approx(3.0)
    assert trimmed[-1] == 0
    with pytest.raises(ValueError, match="greater than 1"):
        trim_weights(w, 0.5)
    with pytest.raises(ValueError, match="too low"):
        trim_weights(np.array([1.0, 1, 1, 1, 100]), 1.5)
