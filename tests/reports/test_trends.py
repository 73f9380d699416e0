"""Does the trend show each quarter (and each round) exactly as that period's own report?"""

from __future__ import annotations

import re
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from survey.services.reports import charts
from survey.services.reports.dashboard import DashboardOptions, build_dashboard
from survey.services.reports.desk import desk_report
from survey.services.reports.period import parse_period
from survey.services.reports.trend import trend_quarters
from tests.reports.test_compare import _previous_round


def _points(svg: bytes, series: int = 0) -> list[str]:
    return re.findall(rf'id="point-{series}-([^"]+)"', svg.decode())


def _chart(client: FlaskClient, html: str, alt: str) -> bytes:
    """The chart the page links with this text, as the browser gets it."""
    src = re.search(rf'<img src="([^"]+)" alt="{re.escape(alt)}"', html)
    assert src, f"no chart {alt!r}"
    got = client.get(unescape(src.group(1)))
    assert got.status_code == 200 and got.mimetype == "image/svg+xml"
    return got.data


def test_do_trend_quarters_end_with_the_period() -> None:
    year = [q.code for q in trend_quarters(parse_period("2025"))]
    assert year[0] == "2024-Q1" and year[-1] == "2025-Q4" and len(year) == 8
    assert [q.code for q in trend_quarters(parse_period("2025-02"), 3)] == [
        "2024-Q3", "2024-Q4", "2025-Q1"]


def test_is_each_quarter_the_desk_report_of_that_quarter(demo: Flask) -> None:
    with Session(demo.extensions["sipas_engine"]) as session:
        trend = build_dashboard(session, DashboardOptions(period="2025-Q4", min_n=5)).desk_trend
        assert trend is not None
        # quarters before the first evaluation are left out; the window ends at the period
        assert trend.quarters == ("2025-Q3", "2025-Q4")
        seen: set[str] = set()
        for i, q in enumerate(trend.quarters):
            rep = desk_report(session, parse_period(q), min_n=5)
            assert rep.overall is not None and trend.overall[i] == rep.overall
            assert trend.counts[i] == rep.overall.n
            for name, rows in trend.agencies:
                mine = next((a.headline for a in rep.agencies if a.name == name), None)
                assert rows[i] == mine
            seen |= {a.name for a in rep.agencies}
        # every agency with evaluations in any quarter has its own line
        assert [n for n, _r in trend.agencies] == sorted(seen)
        q3 = build_dashboard(session, DashboardOptions(period="2025-Q3")).desk_trend
    assert q3 is not None and q3.quarters == ("2025-Q3",)


def test_does_the_trend_chart_draw_one_point_per_quarter() -> None:
    from tests.reports.test_compare import _row

    rows = [_row(0.81, 0.02, 280, n=288), None, _row(0.88, 0.03, 70, n=76),
            _row(None, None, 5, n=6, suppressed=True)]
    svg = charts.trend_chart(["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"],
                             [("Tất cả các Bộ phận", rows), ("UBND tỉnh", rows[:2] + [None, None])],
                             0.8, "Xu hướng", counts=[288, 0, 76, 6])
    # no evaluations or a suppressed quarter: no point, never a fake zero
    assert _points(svg, 0) == ["2025_Q1", "2025_Q3"]
    assert _points(svg, 1) == ["2025_Q1"]


def test_does_the_dashboard_show_the_trend_by_quarter_and_agency(analyst: FlaskClient) -> None:
    html = analyst.get("/reports/?period=2025-Q4&min_n=5").get_data(as_text=True)
    table = html[html.index('id="table-desk-trend"'):]
    table = table[:table.index("</table>")]
    assert "<th>2025-Q3</th><th>2025-Q4</th>" in table
    assert "tất cả các Bộ phận" in table
    assert "UBND tỉnh" in table and "n = " in table
    svg = _chart(analyst, html, "Xu hướng theo quý (đánh giá tại Bộ phận Một cửa)")
    assert _points(svg) == ["2025_Q3", "2025_Q4"]


def test_are_several_rounds_charted_side_by_side(demo: Flask, client: FlaskClient) -> None:
    from tests.reports.conftest import login

    _previous_round(demo, worse=True)
    with Session(demo.extensions["sipas_engine"]) as session:
        dash = build_dashboard(session, DashboardOptions(round_code="2025"))
        alone = build_dashboard(session, DashboardOptions(round_code="2024"))
    assert [c for c, _r in dash.household_trend] == ["2024", "2025"]
    assert dash.household_trend[1][1] == dash.household.overall
    assert alone.household.overall == dash.household_trend[0][1]
    login(demo, client, "analyst")
    html = client.get("/reports/?round=2025").get_data(as_text=True)
    assert 'id="table-round-trend"' in html
    assert _points(_chart(client, html, "Chỉ số SIPAS qua các đợt khảo sát")) == ["2024", "2025"]
    report = client.get("/reports/report?round=2025&format=html").get_data(as_text=True)
    assert "Chỉ số SIPAS qua các đợt khảo sát" in report


@pytest.mark.parametrize("lang,words", [("vi", ("Xu hướng theo quý", "Tất cả các Bộ phận")),
                                        ("en", ("Trend by quarter", "All desks"))])
def test_does_the_printable_report_carry_the_quarterly_trend(
    demo: Flask, lang: str, words: tuple[str, str]
) -> None:
    from survey.services.reports.content import build_content

    with Session(demo.extensions["sipas_engine"]) as session:
        dash = build_dashboard(session, DashboardOptions(period="2025-Q4", lang=lang))
    blocks = build_content(dash, lang, png=False).blocks
    i = next(i for i, b in enumerate(blocks) if b.kind == "h2" and words[0] in b.text)
    table, chart = blocks[i + 1], blocks[i + 2]
    assert table.header[1:] == ("2025-Q3", "2025-Q4") and table.rows[0][0] == words[1]
    assert f"n = {dash.desk_trend.counts[0]}" in table.rows[0][1]  # type: ignore[union-attr]
    assert _points(chart.chart_svg) == ["2025_Q3", "2025_Q4"]


def test_the_page_computes_each_quarter_and_round_once(demo: Flask,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The trend reused nothing: the period's own desk report and the previous quarter's were
    computed again for the trend, and the current round's household report too (issue 14)."""
    from survey.services.reports import dashboard, trend

    calls = {"desk": [], "household": []}
    real_desk, real_household = trend.desk_report, trend.household_report

    def desk_spy(session, period, *args, **kw):  # type: ignore[no-untyped-def]
        calls["desk"].append(period.code)
        return real_desk(session, period, *args, **kw)

    def household_spy(session, code, *args, **kw):  # type: ignore[no-untyped-def]
        calls["household"].append(code)
        return real_household(session, code, *args, **kw)

    with Session(demo.extensions["sipas_engine"]) as session:
        fresh_trend = trend.desk_trend(session, parse_period("2025-Q3"))
        monkeypatch.setattr(trend, "desk_report", desk_spy)
        monkeypatch.setattr(trend, "household_report", household_spy)
        dash = dashboard.build_dashboard(session, DashboardOptions(period="2025-Q3"))
    # the page's own quarter and the one before are reused; the quarters before them hold
    # no evaluation in the demo: nothing to estimate
    assert calls["desk"] == []
    assert calls["household"] == []  # the page's own round: reused
    assert dash.desk_trend == fresh_trend  # and the figures are the same


def test_the_trend_chart_draws_all_desks_and_the_biggest_agencies_only() -> None:
    """Forty agencies in one chart are neither legible nor cheap: the chart draws all
    desks and the six agencies with the most answers in the latest quarter; the table
    (``series``) keeps every one."""
    from survey.services.reports.rows import IndexRow
    from survey.services.reports.trend import CHART_AGENCIES, DeskTrend

    def row(n: int) -> IndexRow:
        return IndexRow("q1", "x", "item", n, 0.8, 0.02, 0.76, 0.84, n - 1, 1.0, None, None,
                        None, None, "", False)

    agencies = tuple((f"UBND {k:02d}", (row(500), row(10 * k + 40) if k != 3 else None))
                     for k in range(10))
    trend = DeskTrend(("2025-Q4", "2026-Q1"), (row(900), row(950)), agencies)
    drawn = trend.charted("all")
    assert len(trend.series("all")) == 11 and len(drawn) == 1 + CHART_AGENCIES
    assert drawn[0][0] == "all"
    # the six largest in the latest quarter (agency 3 has none then, whatever it had before)
    assert [name for name, _r in drawn[1:]] == ["UBND 04", "UBND 05", "UBND 06", "UBND 07",
                                                "UBND 08", "UBND 09"]
    assert trend.agencies_left_out == 10 - CHART_AGENCIES
    small = DeskTrend(trend.quarters, trend.overall, agencies[:4])
    assert small.charted("all") == small.series("all") and small.agencies_left_out == 0


def test_a_quarter_without_evaluations_is_a_gap_not_an_estimate(demo: Flask,
                                                                 monkeypatch: pytest.MonkeyPatch
                                                                 ) -> None:
    """Quarters with no counted evaluation are not estimated: before the first one they are
    left out, between two others they are a gap (no point), and the others are each
    quarter's own desk report."""
    from sqlalchemy import text

    from survey.services.reports import trend

    estimated: list[str] = []
    real = trend.desk_report

    def spy(session, period, *args, **kw):  # type: ignore[no-untyped-def]
        estimated.append(period.code)
        return real(session, period, *args, **kw)

    monkeypatch.setattr(trend, "desk_report", spy)
    with Session(demo.extensions["sipas_engine"]) as session:
        for table in ("desk_tally", "desk_answer_tally"):  # 2025-Q3's counts moved to Q1
            for old, new in (("2025-07", "2025-01"), ("2025-08", "2025-02"),
                             ("2025-09", "2025-03")):
                session.exec(text(f"UPDATE {table} SET month = :new WHERE month = :old"),  # type: ignore[call-overload]
                             params={"old": old, "new": new})
        got = trend.desk_trend(session, parse_period("2025-Q4"), min_n=5)
        assert got is not None
        assert got.quarters == ("2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4")
        assert sorted(estimated) == ["2025-Q1", "2025-Q4"]  # the gaps cost nothing
        assert got.overall[1] is None and got.overall[2] is None
        for i, code in ((0, "2025-Q1"), (3, "2025-Q4")):
            rep = real(session, parse_period(code), min_n=5)
            assert rep.overall is not None and got.overall[i] == rep.overall
            for name, rows in got.agencies:
                assert rows[1] is None and rows[2] is None
                assert rows[i] == next((a.headline for a in rep.agencies if a.name == name),
                                       None)
        session.rollback()
