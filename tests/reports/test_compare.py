"""Do comparisons between rounds and quarters give the difference, its SE, CI and a verdict?"""

from __future__ import annotations

import math
import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from survey.models import Answer, Response, SurveyRound
from survey.services.reports.compare import difference
from survey.services.reports.dashboard import DashboardOptions, build_dashboard
from survey.services.reports.rows import IndexRow


def _row(est: float | None, se: float | None, df: int, n: int = 100,
         suppressed: bool = False) -> IndexRow:
    return IndexRow("SIPAS", "SIPAS", "overall", n, est, se, None if est is None else 0.0,
                    None if est is None else 1.0, df, None, None, None, None, None, "",
                    suppressed)


def test_is_the_difference_tested_with_the_smaller_df() -> None:
    d = difference(_row(0.85, 0.02, 10), _row(0.80, 0.015, 6))
    assert d.diff == pytest.approx(0.05) and d.se == pytest.approx(0.025)
    # R: qt(0.975, 6) = 2.446912 (tolerance 1e-6 relative)
    assert d.ci_high - d.diff == pytest.approx(2.446912 * 0.025, rel=1e-6)
    assert d.df == 6 and d.significant is False
    assert d.words("en") == "up 5.0 points, not significant"
    assert d.words("vi") == "tăng 5,0 điểm, không có ý nghĩa thống kê"
    big = difference(_row(0.90, 0.01, 30), _row(0.80, 0.01, 30))
    assert big.significant is True and big.words("en") == "up 10.0 points, significant"


def test_does_a_suppressed_or_df_zero_estimate_refuse_a_comparison() -> None:
    hidden = difference(_row(None, None, 5, n=12, suppressed=True), _row(0.8, 0.02, 5))
    assert hidden.diff is None and "n < min n" in hidden.words("en")
    flat = difference(_row(0.85, 0.02, 0), _row(0.80, 0.02, 4))
    assert flat.significant is None and "df ≤ 0" in flat.note


def _previous_round(app: Flask, worse: bool) -> None:
    """Copy round 2025 as round 2024; with ``worse``, every satisfied answer becomes 2."""
    with Session(app.extensions["sipas_engine"]) as session:
        old = SurveyRound(code="2024", name="Khảo sát SIPAS 2024", year=2024)
        session.add(old)
        session.flush()
        now = session.exec(select(SurveyRound).where(SurveyRound.code == "2025")).one()
        for r in session.exec(select(Response).where(Response.round_id == now.id,
                                                     Response.status == "verified")).all():
            copy = Response(**{k: v for k, v in r.model_dump().items()
                               if k not in ("id", "client_uuid", "round_id", "dossier_hash")},
                            client_uuid=uuid.uuid4(), round_id=old.id)
            session.add(copy)
            session.flush()
            for a in session.exec(select(Answer).where(Answer.response_id == r.id)).all():
                value = a.value_num
                if worse and a.item_code.startswith("c") and value in (4.0, 5.0) \
                        and (r.id or 0) % 2 == 0:
                    value = 2.0
                session.add(Answer(response_id=copy.id, item_code=a.item_code,
                                   value_num=value, value_text=a.value_text))
        session.commit()


def test_is_a_clearly_worse_previous_round_a_significant_rise(demo: Flask) -> None:
    _previous_round(demo, worse=True)
    with Session(demo.extensions["sipas_engine"]) as session:
        dash = build_dashboard(session, DashboardOptions(round_code="2025"))
        before = build_dashboard(session, DashboardOptions(round_code="2024"))
    assert dash.previous_round == "2024" and before.previous_round is None
    overall = dash.round_changes[0]
    assert overall.code == "SIPAS" and overall.diff is not None and overall.diff > 0.1
    now, then = dash.household.overall, before.household.overall
    assert now is not None and then is not None
    assert overall.diff == pytest.approx(now.estimate - then.estimate)  # type: ignore[operator]
    assert overall.se == pytest.approx(math.hypot(now.se, then.se))  # type: ignore[arg-type]
    assert overall.significant is True
    assert [c.code for c in dash.round_changes] == ["SIPAS", "I", "II", "III", "IV", "V"]


def test_does_the_dashboard_print_the_comparison_in_words(demo: Flask, client: FlaskClient
                                                          ) -> None:
    from tests.reports.conftest import login

    _previous_round(demo, worse=False)
    login(demo, client, "analyst")
    html = client.get("/reports/?round=2025&lang=en").get_data(as_text=True)
    table = html[html.index('id="table-round-changes"'):]
    assert "unchanged 0.0 points, not significant" in table


def test_are_quarters_compared_per_desk(demo: Flask) -> None:
    with Session(demo.extensions["sipas_engine"]) as session:
        dash = build_dashboard(session, DashboardOptions(period="2025-Q4", min_n=20))
    assert dash.previous_period is not None and dash.previous_period.code == "2025-Q3"
    codes = [c.code for c in dash.desk_changes]
    assert codes[0] == "overall" and "TTHCC" in codes
    first = dash.desk_changes[0]
    assert first.se == pytest.approx(math.hypot(first.current.se, first.previous.se))  # type: ignore[arg-type]
