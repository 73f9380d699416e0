"""Do the desk tallies stay equal to the rows, and does the report read from them say what
the engine says on the rows?

The demo province's desk evaluations are changed the ways a service changes them: new
evaluations, holds, releases, rejections, edited and deleted answers, a moved date, a
corrected desk, deleted responses, a bulk insert that bypasses the ORM. After every change
the triggers' counts must equal a GROUP BY over the rows, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

import numpy as np
import pytest
from flask import Flask
from sqlalchemy import insert, update
from sqlmodel import Session, select

from analysis.design import make_design
from analysis.engine import NumericIndicator, run
from analysis.estimate import Domains, satisfied_indicator
from survey.models import NOT_COUNTED, Answer, Desk, Instrument, InstrumentVersion, Response
from survey.services.desks.volumes import import_volumes
from survey.services.instruments import latest_version
from survey.services.instruments_text import parse_stored
from survey.services.reports import tallies
from survey.services.reports.desk import desk_report
from survey.services.reports.period import Period, parse_period
from tests.factories import new_uuid


def _same(session: Session) -> None:
    session.commit()
    stored, rows = tallies.stored(session), tallies.from_rows(session)
    assert stored[0] == rows[0]
    assert stored[1] == rows[1]
    assert rows[0] and rows[1]


def _desk_responses(session: Session) -> list[Response]:
    return list(session.exec(
        select(Response).join(InstrumentVersion).join(Instrument)
        .where(Instrument.kind == "desk").order_by(Response.id)))


def test_do_the_tallies_follow_every_write(demo: Flask) -> None:
    rng = random.Random(7)
    with Session(demo.extensions["sipas_engine"]) as session:
        _same(session)  # the migration's backfill and the demo's inserts
        responses = _desk_responses(session)
        assert len(responses) > 50
        for r in rng.sample(responses, 4):
            r.status = "held"
        for r in rng.sample(responses, 3):
            r.status = "rejected"
        _same(session)
        held = [r for r in responses if r.status == "held"]
        held[0].status = "received"  # a supervisor releases one
        _same(session)
        answers = list(session.exec(select(Answer).where(Answer.value_num.is_not(None))))
        for a in rng.sample(answers, 6):
            a.value_num = float(rng.randint(1, 5))
        _same(session)
        for a in rng.sample(answers, 3):
            session.delete(a)
        _same(session)
        for r in rng.sample(responses, 4):
            r.created_at = datetime(2025, 10, 3, 9, 30, tzinfo=UTC)
        desks = list(session.exec(select(Desk)))
        responses[-1].desk_id = desks[0].id if responses[-1].desk_id != desks[0].id \
            else desks[1].id
        _same(session)
        for r in rng.sample(responses, 2):
            session.delete(r)
        _same(session)
        version = latest_version(session, "desk_evaluation")
        now = datetime(2025, 8, 15, 10, tzinfo=UTC)
        new_ids = []
        for i in range(5):
            rid = session.exec(insert(Response).values(
                client_uuid=new_uuid(), content_hash=f"bulk{i}", mode="qr",
                instrument_version_id=version.id, status="received", created_at=now,
                updated_at=now, desk_id=desks[i % len(desks)].id).returning(Response.id)
            ).scalar_one()
            new_ids.append(rid)
        session.exec(insert(Answer), params=[
            dict(response_id=rid, item_code="overall", value_num=float(1 + i % 5))
            for i, rid in enumerate(new_ids)])
        _same(session)
        session.exec(update(Response).where(Response.id.in_(new_ids[:2]))
                     .values(status="held"))
        _same(session)


def _row_reference(session: Session, period: Period, items: list[str]):
    """The report's old row-level path: every evaluation and answer of the period."""
    start = datetime(period.start.year, period.start.month, period.start.day, tzinfo=UTC)
    end = datetime(period.end.year, period.end.month, period.end.day, tzinfo=UTC)
    where = (Instrument.kind == "desk", Response.status.not_in(NOT_COUNTED),
             Response.desk_id.is_not(None), Response.created_at >= start,
             Response.created_at < end)
    resp = session.exec(select(Response.id, Desk.code, Desk.agency, Response.mode)
                        .join(Desk, Desk.id == Response.desk_id)
                        .join(InstrumentVersion).join(Instrument).where(*where)
                        .order_by(Response.id)).all()
    answers: dict[int, dict[str, float]] = {}
    for rid, code, num in session.exec(
            select(Answer.response_id, Answer.item_code, Answer.value_num)
            .join(Response).join(InstrumentVersion).join(Instrument).where(*where)):
        if num is not None:
            answers.setdefault(rid, {})[code] = num
    values = {c: np.array([answers.get(r[0], {}).get(c, np.nan) for r in resp]) for c in items}
    cols = {"desk": np.array([r[1] for r in resp], dtype=object),
            "agency": np.array([r[2] or r[1] for r in resp], dtype=object),
            "mode": np.array([r[3] for r in resp], dtype=object)}
    return values, cols


@pytest.mark.parametrize("period_code", ["2025-Q3", "2025-08", "2025-10"])
def test_is_the_report_from_tallies_the_engine_on_the_rows(demo: Flask, period_code: str
                                                           ) -> None:
    rng = random.Random(3)
    with Session(demo.extensions["sipas_engine"]) as session:
        responses = _desk_responses(session)
        for r in rng.sample(responses, 8):  # some evaluations land in October ...
            r.created_at = datetime(2025, 10, 2, 8, tzinfo=UTC)
        lonely = responses[0]  # ... one of them alone at its desk that month
        others = [r for r in responses[1:] if r.desk_id != lonely.desk_id]
        lonely.created_at = datetime(2025, 10, 20, 8, tzinfo=UTC)
        for r in responses[1:]:
            if r.desk_id == lonely.desk_id and r.created_at.month == 10:
                r.created_at = datetime(2025, 9, 1, tzinfo=UTC)
        assert others
        session.commit()
        assert import_volumes(session, "desk,period,dossiers\nTTHCC,2025-Q3,1200\n"
                              "MC-TANPHU,2025-Q3,800\n").inserted == 2
        session.commit()
        period = parse_period(period_code)
        report = desk_report(session, period, min_n=0, weighted=True)
        assert report.problem is None
        form = parse_stored(latest_version(session, "desk_evaluation").source_text)
        items = [c for c, _ in report.items]
        values, cols = _row_reference(session, period, items)
        n = values[items[0]].size
        assert report.evaluations == n
        sat, val = tuple(form.satisfied_codes), tuple(form.valid_codes)
        strata = cols["desk"]
        for by, shown in (("desk", report.desks), ("agency", report.agencies),
                          ("mode", report.modes)):
            dom = Domains.of(by, cols[by])
            design = make_design(n, weights=np.ones(n), strata=strata, lonely_psu="adjust")
            y = np.where(np.isin(values["overall"], val), values["overall"], np.nan)
            res = run(design, [satisfied_indicator(c, values[c], sat, val) for c in items]
                      + [NumericIndicator("mean", y, ~np.isnan(y))], dom.codes, len(dom.labels))
            assert [row.key for row in shown] == list(dom.labels)
            for d, row in enumerate(shown, start=1):
                assert row.evaluations == int((cols[by] == row.key).sum())
                for j, item in enumerate((row.headline, *row.items[1:])):
                    assert item.n == int(res.n[d, j])
                    if res.n[d, j] == 0:
                        continue
                    assert item.estimate == pytest.approx(res.estimate[d, j], rel=1e-12)
                    assert item.se == pytest.approx(res.se[d, j], rel=1e-12, abs=1e-15)
                    assert item.df == int(res.df[d, j])
                assert row.headline.mean_score == pytest.approx(res.estimate[d, len(items)],
                                                                rel=1e-12)
        design = make_design(n, weights=np.ones(n), strata=strata, lonely_psu="adjust")
        whole = run(design, [satisfied_indicator("overall", values["overall"], sat, val)])
        assert report.overall.estimate == pytest.approx(whole.estimate[0, 0], rel=1e-12)
        assert report.overall.se == pytest.approx(whole.se[0, 0], rel=1e-12)
        if period_code == "2025-Q3":  # volume weights: dossiers ÷ evaluations, 0 without
            vol = {"TTHCC": 1200, "MC-TANPHU": 800}
            w = np.array([vol[c] / (strata == c).sum() if c in vol else 0.0 for c in strata])
            weighted = run(make_design(n, weights=w, strata=strata, lonely_psu="adjust"),
                           [satisfied_indicator("overall", values["overall"], sat, val)])
            assert report.overall_weighted is not None
            assert report.overall_weighted.estimate == pytest.approx(weighted.estimate[0, 0],
                                                                     rel=1e-12)
            assert report.overall_weighted.se == pytest.approx(weighted.se[0, 0], rel=1e-12)
            assert report.overall_weighted.n == int(weighted.n[0, 0])
        if period_code == "2025-10":  # the lonely desk: a row without an interval
            desk_code = session.get(Desk, lonely.desk_id).code
            row = {r.key: r for r in report.desks}[desk_code]
            assert row.evaluations == 1 and row.headline.df == 0
            assert not row.headline.has_ci and "df ≤ 0" in row.headline.reason


def test_does_the_cli_check_and_rebuild_the_counts(demo, runner, cli_env, db_url: str) -> None:
    """After a write that bypassed the triggers, check says so and rebuild repairs it."""
    from sqlalchemy import text

    from survey.cli import main
    from survey.db import make_engine

    ok = runner.invoke(main, ["tallies", "check"])
    assert ok.exit_code == 0 and "the counts equal the rows" in ok.output
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE desk_tally SET n = n + 5"))
    engine.dispose()
    wrong = runner.invoke(main, ["tallies", "check"])
    assert wrong.exit_code == 1 and "sipas tallies rebuild" in wrong.output
    fixed = runner.invoke(main, ["tallies", "rebuild"])
    assert fixed.exit_code == 0 and "rebuilt" in fixed.output
    assert runner.invoke(main, ["tallies", "check"]).exit_code == 0
