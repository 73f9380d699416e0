"""Does the dashboard show the household index, its CI, n and verdict, as the engine says?"""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from survey.cli import main
from tests.reports.conftest import login


def _text(client: FlaskClient, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    return page.get_data(as_text=True)


def test_does_the_dashboard_show_the_index_the_cli_computes(
    analyst: FlaskClient, runner: CliRunner, cli_env: dict[str, str]
) -> None:
    html = _text(analyst, "/reports/?target=80")
    shown = re.search(r'id="sipas-index">([\d.,]+)<', html)
    ci = re.search(r'id="sipas-ci">([\d.,]+)–([\d.,]+)<', html)
    n = re.search(r'id="sipas-n">(\d+)<', html)
    assert shown and ci and n
    result = runner.invoke(main, ["index", "--db", "--round", "2025", "--instrument",
                                  "sipas_services", "--target", "0.8", "--format", "json"])
    assert result.exit_code == 0, result.output
    overall = next(e for e in json.loads(result.output)["estimates"]
                   if e["level"] == "overall" and e["domain"] == {})
    # the page is Vietnamese: a decimal comma (80,4), the CLI's JSON keeps plain numbers
    assert shown.group(1) == f"{100 * overall['estimate']:.1f}".replace(".", ",")
    assert ci.group(1) == f"{100 * overall['ci_low']:.1f}".replace(".", ",")
    assert ci.group(2) == f"{100 * overall['ci_high']:.1f}".replace(".", ",")
    assert int(n.group(1)) == overall["n"]
    verdicts = {"above": "verdict-above", "below": "verdict-below",
                "inconclusive": "verdict-inconclusive"}
    verdict_html = html[html.index('id="sipas-verdict"'):][:400]
    assert verdicts[overall["verdict"]] in verdict_html


def test_are_all_19_criteria_and_5_elements_listed_with_scores(analyst: FlaskClient) -> None:
    html = _text(analyst, "/reports/")
    criteria = html[html.index('id="table-criteria"'):html.index("</table>",
                                                                  html.index('id="table-criteria"'))]
    codes = re.findall(r"<abbr title=\"[^\"]+\">(c\d_\d)</abbr>", criteria)
    assert len(codes) == 19
    elements = html[html.index('id="table-elements"'):]
    for code in ("I.", "II.", "III.", "IV.", "V."):
        assert f'<th scope="row">{code} ' in elements
    assert "Không hài lòng (%)" in html or "Dissatisfied (%)" in html


def test_are_small_cells_suppressed_and_df_zero_said_plainly(analyst: FlaskClient) -> None:
    suppressed = _text(analyst, "/reports/")
    hamlets = suppressed[suppressed.index('id="table-hamlet"'):]
    assert "Ấp Cây Gáo" in hamlets
    # every hamlet has < 30 respondents in the demo: suppressed, no number shown
    first = hamlets[:hamlets.index("</tr>", hamlets.index("<tbody>"))]
    assert "n below the minimum" in first or "dưới mức tối thiểu" in first
    shown = _text(analyst, "/reports/?min_n=5")
    hamlets = shown[shown.index('id="table-hamlet"'):]
    # a hamlet is one PSU in one stratum: df = 0, so no interval, and the page says why
    assert "df ≤ 0" in hamlets[:hamlets.index("</table>")]


def test_does_a_district_filter_narrow_the_estimate_to_that_district(
    analyst: FlaskClient,
) -> None:
    whole = _text(analyst, "/reports/")
    one = _text(analyst, "/reports/?district=Huyện Tân Phú")
    assert "– Huyện Tân Phú</h2>" in one and "district =" not in one
    n_whole = int(re.search(r'id="sipas-n">(\d+)<', whole).group(1))  # type: ignore[union-attr]
    n_one = int(re.search(r'id="sipas-n">(\d+)<', one).group(1))  # type: ignore[union-attr]
    assert 0 < n_one < n_whole
    assert 'id="table-district"' not in one and 'id="table-commune"' in one
    district_row = re.search(r'Huyện Tân Phú</th>\s*<td class="num">([\d.,]+)</td>', whole)
    assert district_row and district_row.group(1) == re.search(
        r'id="sipas-index">([\d.,]+)<', one).group(1)  # type: ignore[union-attr]


def test_does_the_desk_section_say_it_is_not_a_sample(analyst: FlaskClient) -> None:
    html = _text(analyst, "/reports/?period=2025-Q3&lang=en")
    assert "self-selected, not a sample" in html
    assert "Volume weights are a model" in html
    assert re.search(r'id="desk-overall">[\d.,]+<', html)
    for code in ("TTHCC", "MC-TANPHU", "MC-LONGDIEN", "MC-PHULAM"):
        assert code in html[html.index('id="table-desks"'):]


@pytest.mark.parametrize("role,status", [("enumerator", 403), ("supervisor", 200),
                                         ("admin", 200)])
def test_who_may_open_the_dashboard(demo: Flask, client: FlaskClient, role: str,
                                    status: int) -> None:
    login(demo, client, role)
    assert client.get("/reports/").status_code == status


def test_anonymous_users_are_sent_to_log_in(demo: Flask, client: FlaskClient) -> None:
    page = client.get("/reports/")
    assert page.status_code == 302 and "/auth/login" in page.headers["Location"]


def test_a_bad_period_is_a_clear_400(analyst: FlaskClient) -> None:
    for bad in ("2025-Q9", "2025Q5", "2025-13"):
        page = analyst.get(f"/reports/?period={bad}")
        assert page.status_code == 400
        text = page.get_data(as_text=True)
        assert "2025-Q3 (quý)" in text or "tháng phải từ 01 đến 12" in text, bad


def test_the_commune_filter_follows_the_district(analyst: FlaskClient) -> None:
    """The commune list holds only the chosen district's communes; a commune of another
    district is refused with the reason, never silently ignored."""
    whole = _text(analyst, "/reports/")
    one = _text(analyst, "/reports/?district=Huyện Tân Phú")

    def communes(page: str) -> set[str]:
        box = page.split('name="commune"')[1].split("</select>")[0]
        return set(re.findall(r'<option value="([^"]+)"', box))

    inside, every = communes(one), communes(whole)
    assert inside and inside < every
    stranger = sorted(every - inside)[0]
    refused = analyst.get(f"/reports/?district=Huyện Tân Phú&commune={stranger}")
    assert refused.status_code == 400
    assert "không thuộc Huyện Tân Phú" in refused.get_data(as_text=True)


def test_periods_are_chosen_from_those_that_hold_evaluations(analyst: FlaskClient) -> None:
    page = _text(analyst, "/reports/")
    box = page.split('id="filter-period"')[1].split("</select>")[0]
    periods = re.findall(r'<option value="([^"]+)"', box)
    assert periods and all(re.fullmatch(r"\d{4}(-Q[1-4]|-\d\d)?", p) for p in periods)
    assert re.search(r'<option value="([^"]+)" selected>', box)


def test_a_system_without_a_household_round_still_shows_its_desks(app, client) -> None:  # type: ignore[no-untyped-def]
    """A province that only collects at desks gets a dashboard, not an error page."""
    import re
    import uuid

    from sqlmodel import Session

    from survey.services.responses import store_response
    from tests import factories

    with Session(app.extensions["sipas_engine"]) as session:
        version = factories.published(session, "desk_evaluation")
        desk = factories.desk(session, name="Bộ phận Một cửa thử")
        for k in range(40):
            store_response(session, instrument_version=version, client_uuid=uuid.uuid4(),
                           mode="qr", answers={"overall": 4 + k % 2}, desk_id=desk.id)
        lonely = factories.desk(session, name="Bàn mới mở")  # one evaluation this period
        store_response(session, instrument_version=version, client_uuid=uuid.uuid4(),
                       mode="qr", answers={"overall": 2}, desk_id=lonely.id)
        factories.user(session, "analyst", username="xem", password="mật khẩu đủ dài")
        session.commit()
    form = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
    assert token is not None
    client.post("/auth/login", data={"username": "xem", "password": "mật khẩu đủ dài",
                                     "csrf_token": token.group(1)})
    page = client.get("/reports/?period=" + _current_quarter())
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Bộ phận Một cửa thử" in html and "Bàn mới mở" in html  # a lonely desk breaks nothing


def _current_quarter() -> str:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    return f"{now.year}-Q{(now.month - 1) // 3 + 1}"


def test_a_newer_round_without_data_does_not_empty_the_dashboard(
    demo: Flask, analyst: FlaskClient, runner: CliRunner, cli_env: dict[str, str]
) -> None:
    """A 2026 round drawn but not keyed, and a same-year round with nothing verified yet: the
    dashboard, `sipas index --db` and the report still open on 2025, which has data."""
    from sqlmodel import Session

    from tests import factories

    with Session(demo.extensions["sipas_engine"]) as session:
        factories.survey_round(session, code="2026", name="Khảo sát SIPAS 2026", year=2026)
        factories.survey_round(session, code="2025-bổ-sung", name="Bổ sung", year=2025)
        session.commit()
    html = _text(analyst, "/reports/")
    shown = re.search(r'id="sipas-index">([\d.,]+)<', html)
    assert shown is not None, "the dashboard opened on a round without data"
    result = runner.invoke(main, ["index", "--db", "--instrument", "sipas_services",
                                  "--format", "json"])
    assert result.exit_code == 0, result.output
    overall = next(e for e in json.loads(result.output)["estimates"]
                   if e["level"] == "overall" and e["domain"] == {})
    assert shown.group(1) == f"{100 * overall['estimate']:.1f}".replace(".", ",")


def test_each_district_is_set_against_the_province_with_its_own_se(
    demo: Flask, analyst: FlaskClient,
) -> None:
    """The district table says how each district differs from the whole province: the
    difference of the two indices (the district is part of the province, which the SE of
    the difference takes into account: ``analysis.compare.index_against_whole``, pinned to R's
    svycontrast) and higher / lower / cannot be told apart from its 95 % CI."""
    from sqlmodel import Session

    from survey.services.reports.household import household_report

    with Session(demo.extensions["sipas_engine"]) as session:
        hh = household_report(session, "2025", min_n=5)
    districts = hh.breakdowns["district"]
    assert districts and hh.overall is not None
    for row in districts:
        d = row.against
        assert d is not None and d.second == ""  # the whole province
        assert d.difference == pytest.approx(row.overall.estimate - hh.overall.estimate,
                                             abs=1e-12)
        assert d.se is not None and d.se > 0
        want = "higher" if d.ci_low > 0 else "lower" if d.ci_high < 0 else "cannot be told apart"
        assert d.verdict == want
    html = _text(analyst, "/reports/?min_n=5")
    assert "So với toàn tỉnh/thành phố (điểm)" in html
    table = html[html.index('id="table-district"'):]
    table = table[:table.index("</table>")]
    said = {"higher": "cao hơn", "lower": "thấp hơn",
            "cannot be told apart": "không phân biệt được"}
    for row in districts:
        diff = f"{100 * row.against.difference:+.1f}".replace(".", ",")
        assert f"{diff} · {said[row.against.verdict]}" in table, row.domain
    english = _text(analyst, "/reports/?min_n=5&lang=en")
    assert "Against the province (points)" in english


def test_districts_are_ranked_with_an_interval_and_communes_are_not(
    demo: Flask, analyst: FlaskClient,
) -> None:
    """Districts are the sample's strata, so their indices are independent estimates and each
    gets its rank with a 95% interval (``analysis.ranking``, by hand in its own tests);
    communes share strata, so they are not ranked on the page."""
    import numpy as np
    from sqlmodel import Session

    from analysis.ranking import rank_intervals
    from survey.services.reports.household import household_report

    with Session(demo.extensions["sipas_engine"]) as session:
        hh = household_report(session, "2025", min_n=5)
    districts = [d for d in hh.breakdowns["district"] if d.overall.shown]
    assert len(districts) >= 3 and all(d.rank for d in districts)
    want = rank_intervals([d.domain for d in districts],
                          np.array([d.overall.estimate for d in districts]),
                          np.array([d.overall.se for d in districts]))
    assert {a.area: (a.rank, a.lower, a.upper) for a in want.areas} == {
        d.domain: d.rank for d in districts}
    assert all(d.rank is None for d in hh.breakdowns.get("commune", ()))
    html = _text(analyst, "/reports/?min_n=5")
    table = html[html.index('id="table-district"'):]
    table = table[:table.index("</table>")]
    assert "Xếp hạng (khoảng tin cậy 95%)" in table
    for d in districts:
        assert f"{d.rank[0]} ({d.rank[1]}–{d.rank[2]})" in table, d.domain
    communes = html[html.index('id="table-commune"'):]
    assert "Xếp hạng" not in communes[:communes.index("</table>")]


def test_the_analysis_commands_read_the_round_from_the_database(
    analyst: FlaskClient, runner: CliRunner, cli_env: dict[str, str]
) -> None:
    """``sipas compare|model|quantile|association --db`` read the same verified round as
    ``sipas estimate --db``: the compared estimates are estimate's, per district."""
    common = ["--db", "--round", "2025", "--format", "json"]
    est = runner.invoke(main, ["estimate", "--var", "c1_1", "--satisfied", "4,5", "--by",
                               "district", *common])
    assert est.exit_code == 0, est.output
    by = {r["domain"]["district"]: r["estimate"] for r in json.loads(est.output)["estimates"]
          if r["domain"]}
    cmp = runner.invoke(main, ["compare", "--var", "c1_1", "--satisfied", "4,5", "--by",
                               "district", *common])
    assert cmp.exit_code == 0, cmp.output
    pairs = json.loads(cmp.output)["differences"]
    assert len(pairs) == len(by) * (len(by) - 1) // 2
    for p in pairs:
        assert p["estimate_first"] == pytest.approx(by[p["first"]], rel=1e-12)
        assert p["estimate_second"] == pytest.approx(by[p["second"]], rel=1e-12)
    for args in (["model", "--outcome", "c1_1", "--predictor", "district"],
                 ["quantile", "--var", "c1_1", "--valid", "1,2,3,4,5"],
                 ["association", "--var", "c1_1", "--satisfied", "4,5", "--by", "district"]):
        done = runner.invoke(main, [*args, *common])
        assert done.exit_code == 0, (args, done.output)
        assert json.loads(done.output)["design"]["n"] > 100


def test_too_many_areas_to_set_against_the_whole_are_said_not_hidden(
    analyst: FlaskClient, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from analysis import compare
    from survey.services.reports import cache

    monkeypatch.setattr(compare, "MAX_CELLS", 1)  # any breakdown is "too many" now
    monkeypatch.setattr(cache, "remember", lambda kind, args, compute: compute())
    html = _text(analyst, "/reports/?min_n=5")
    assert "Quá nhiều địa bàn để so sánh từng địa bàn với tổng thể" in html
