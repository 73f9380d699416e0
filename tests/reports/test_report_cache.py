"""Is a computed report kept for every worker, and never shown once its data changed?

Issue 14: "a cache that never lies: an estimate for a published round, or for a closed
period, is computed once; anything else is recomputed or invalidated when data changes".
Each test starts with empty per-process caches, as a fresh worker does, and counts how
often the household report and the charts are really computed.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
from flask import Flask
from sqlmodel import Session, select

from survey.instruments import load_instrument
from survey.models import Answer, Response, SurveyRound
from survey.services.reports import cache, charts, household, round_data
from survey.services.reports.dashboard import DashboardOptions, build_dashboard
from survey.services.reports.rows import IndexRow


@pytest.fixture
def kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The disk cache on, in a folder of its own; the processes' own caches empty."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("SIPAS_REPORT_CACHE", str(folder))
    _fresh_worker()
    return folder


def _fresh_worker() -> None:
    round_data._kept.clear()
    charts._dot_chart.cache_clear()
    charts._trend_chart.cache_clear()


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    computed: list[str] = []
    real = household._household_report

    def counted(session, round_, *args):  # type: ignore[no-untyped-def]
        computed.append(round_.code)
        return real(session, round_, *args)

    monkeypatch.setattr(household, "_household_report", counted)
    return computed


def test_a_round_is_computed_once_for_every_worker(demo: Flask, kept: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    computed = _counting(monkeypatch)
    with Session(demo.extensions["sipas_engine"]) as session:
        first = household.household_report(session, "2025")
        _fresh_worker()  # another worker, or this one after a restart
        again = household.household_report(session, "2025")
    assert computed == ["2025"]
    assert again == first and again.overall is not None
    assert len(list(kept.glob("household-*.pickle"))) == 1


def test_any_change_a_reader_could_see_computes_again(demo: Flask, kept: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    computed = _counting(monkeypatch)
    engine = demo.extensions["sipas_engine"]
    with Session(engine) as session:
        before = household.household_report(session, "2025")
        # an answer corrected: the edit stamps the response (as the app's edit does)
        response = session.exec(select(Response).where(Response.status == "verified")
                                .order_by(Response.id)).first()
        criterion = load_instrument("sipas_services").elements[0].items[0]
        answer = session.exec(select(Answer).where(Answer.response_id == response.id,
                                                   Answer.item_code == criterion)).one()
        answer.value_num = 1.0 if answer.value_num in (4.0, 5.0) else 5.0  # (un)satisfied
        response.updated_at = response.updated_at.replace(year=response.updated_at.year + 1)
        session.add_all([answer, response])
        session.commit()
        _fresh_worker()
        edited = household.household_report(session, "2025")
        assert len(computed) == 2
        assert edited.design == before.design  # same questionnaires...
        assert edited != before  # ...other numbers
        # other options and another language are other questions
        household.household_report(session, "2025", min_n=10)
        household.household_report(session, "2025", lang="en")
        assert len(computed) == 4
        # the round renamed: its name is printed, so it is part of the question
        round_ = session.exec(select(SurveyRound).where(SurveyRound.code == "2025")).one()
        round_.name = round_.name + " (bản sửa)"
        session.add(round_)
        session.commit()
        renamed = household.household_report(session, "2025")
        assert len(computed) == 5 and renamed.round_name.endswith("(bản sửa)")


def test_a_damaged_or_unwritable_cache_never_costs_the_page(demo: Flask, kept: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    computed = _counting(monkeypatch)
    with Session(demo.extensions["sipas_engine"]) as session:
        good = household.household_report(session, "2025")
        (stored,) = kept.glob("household-*.pickle")
        stored.write_bytes(stored.read_bytes()[:100])  # a half-written file
        _fresh_worker()
        assert household.household_report(session, "2025") == good
        assert len(computed) == 2
        stored.unlink()
        kept.chmod(0o500)  # read-only folder
        try:
            _fresh_worker()
            if os.access(kept, os.W_OK):  # root ignores the mode: make writing fail instead
                monkeypatch.setattr(cache, "_write", _refuse)
            assert household.household_report(session, "2025") == good
        finally:
            kept.chmod(0o700)
    assert len(computed) == 3


def _refuse(*_args: object) -> None:
    raise PermissionError("read-only")


def test_the_dashboard_of_a_fresh_worker_draws_no_chart_twice(demo: Flask, kept: Path,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    with Session(demo.extensions["sipas_engine"]) as session:
        first = build_dashboard(session, DashboardOptions(period="2025-Q3"))
    svg = charts.dot_chart([("A", first.household.overall)], 0.8, "SIPAS")
    drawn: list[str] = []
    real = charts._draw_dots
    monkeypatch.setattr(charts, "_draw_dots", lambda *a: drawn.append(a[3]) or real(*a))  # title
    _fresh_worker()
    assert charts.dot_chart([("A", first.household.overall)], 0.8, "SIPAS") == svg
    assert drawn == []  # read from disk
    other = IndexRow("x", "x", "overall", 40, 0.5, 0.05, 0.4, 0.6, 30, 1.0, None, None, None,
                     None, "", False)
    charts.dot_chart([("A", other)], 0.8, "SIPAS")
    assert drawn == ["SIPAS"]  # other numbers: drawn


def test_old_entries_are_removed_beyond_the_limit(kept: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "KEEP", 5)
    for k in range(8):
        assert cache.remember("t", (k,), lambda k=k: k * k) == k * k
    files = list(kept.glob("t-*.pickle"))
    assert len(files) == 5
    assert sorted(pickle.loads(p.read_bytes()) for p in files) == [9, 16, 25, 36, 49]


def test_off_means_nothing_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIPAS_REPORT_CACHE", "off")
    monkeypatch.setenv("SIPAS_INSTANCE", str(tmp_path))
    assert cache.remember("t", (1,), lambda: "computed") == "computed"
    assert not any(tmp_path.rglob("*.pickle"))


def test_the_key_changes_with_the_code_that_computes(monkeypatch: pytest.MonkeyPatch) -> None:
    before = cache.key_of("household", ("same question",))
    cache.code_stamp.cache_clear()
    monkeypatch.setattr(cache, "code_stamp", lambda: "another release")
    assert cache.key_of("household", ("same question",)) != before


def test_new_weights_with_the_same_total_are_new_numbers(demo: Flask, kept: Path,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    """Weights calibrated to the population keep their total: the fingerprint must see the
    weights themselves (the weights step writes them without stamping the responses)."""
    from sqlalchemy import update

    computed = _counting(monkeypatch)
    with Session(demo.extensions["sipas_engine"]) as session:
        before = household.household_report(session, "2025")
        rows = session.exec(select(Response.id, Response.weight).where(
            Response.status == "verified", Response.weight.is_not(None))
            .order_by(Response.weight)).all()
        (low_id, low), (high_id, high) = rows[0], rows[-1]
        assert low != high
        session.execute(update(Response), [{"id": low_id, "weight": high},
                                           {"id": high_id, "weight": low}])  # same total
        session.commit()
        _fresh_worker()
        after = household.household_report(session, "2025")
    assert len(computed) == 2
    assert after.overall != before.overall


def test_a_printed_report_asked_again_is_the_same_file(kept: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from survey.services.reports import render
    from survey.services.reports.content import Block, Content

    laid_out: list[str] = []
    real = render._render_pdf
    monkeypatch.setattr(render, "_render_pdf", lambda c: laid_out.append(c.title) or real(c))
    content = Content("Báo cáo SIPAS quý 1", "vi",
                      (Block("p", "Chỉ số hài lòng: 78,0%"),))
    first = render.render_pdf(content)
    assert first.startswith(b"%PDF") and render.render_pdf(content) == first
    assert laid_out == ["Báo cáo SIPAS quý 1"]  # the second one was read back
    other = Content(content.title, "vi", (Block("p", "Chỉ số hài lòng: 78,1%"),))
    assert render.render_pdf(other) != first and len(laid_out) == 2


def test_desk_results_are_estimated_once_per_state_of_the_counts(
    demo: Flask, kept: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import text

    from survey.models import Desk
    from survey.services.reports import desk
    from survey.services.reports.period import parse_period

    estimated: list[str] = []
    real = desk._desk_report
    monkeypatch.setattr(desk, "_desk_report",
                        lambda *a: estimated.append(a[1].code) or real(*a))
    quarter = parse_period("2025-Q3")
    with Session(demo.extensions["sipas_engine"]) as session:
        first = desk.desk_report(session, quarter)
        assert first.evaluations > 0 and desk.desk_report(session, quarter) == first
        assert estimated == ["2025-Q3"]  # the second worker read it back
        renamed = session.exec(select(Desk).order_by(Desk.id)).first()
        renamed.name = renamed.name + " (mới)"  # names are printed: part of the question
        session.add(renamed)
        session.commit()
        assert any(r.name.endswith("(mới)") for r in desk.desk_report(session, quarter).desks)
        session.execute(text("UPDATE desk_tally SET n = n + 1 WHERE desk_id = :d"),
                        {"d": renamed.id})  # as a new evaluation would (the triggers)
        session.commit()
        moved = desk.desk_report(session, quarter)
    assert estimated == ["2025-Q3"] * 3
    assert moved.evaluations == first.evaluations + _tally_rows(demo, renamed.id)


def _tally_rows(demo: Flask, desk_id: int) -> int:
    """Tally rows (month × mode) of a desk in 2025-Q3: each got one evaluation more above."""
    from sqlalchemy import text

    with Session(demo.extensions["sipas_engine"]) as session:
        return int(session.execute(text(
            "SELECT count(*) FROM desk_tally WHERE desk_id = :d AND month IN "
            "('2025-07', '2025-08', '2025-09')"), {"d": desk_id}).one()[0])
