"""Are household results broken down by agency level and service field, one domain per choice?"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, update
from sqlmodel import Session, select

from analysis.design import make_design
from analysis.estimate import Domains
from analysis.index import Element, sipas_index
from survey.models import Answer, Response
from survey.services.instruments import latest_version
from survey.services.instruments_text import parse_stored
from survey.services.reports.dashboard import DashboardOptions, build_dashboard
from survey.services.reports.household import household_report, load_round


def _engine_on_subset(session: Session, item: str, code: str) -> tuple:
    """The overall index of respondents who chose ``code``: the engine, called by hand."""
    form = parse_stored(latest_version(session, "sipas_services").source_text)
    data = load_round(session, "2025", "sipas_services")
    design = make_design(data.n, weights=data.numbers["weight"], strata=data.text["stratum"],
                         clusters=[data.text["psu"]])
    elements = [Element(e.code, tuple(e.items), e.code) for e in form.elements]
    answers = {c: data.numbers[c] for e in elements for c in e.items}
    rows = np.array([code in str(v).split() for v in data.text[item].tolist()])
    dom = Domains.of(item, np.where(rows, "chosen", ""))
    est = sipas_index(design, answers, elements, dom, tuple(form.satisfied_codes),
                      tuple(form.valid_codes), 0.95, 0.80)
    overall = [e for e in est if e.level == "overall" and e.domain == {item: "chosen"}]
    assert len(overall) == 1
    elements_of = {e.name: e for e in est if e.level == "element"
                   and e.domain == {item: "chosen"}}
    psus = {(s, p) for s, p, r in zip(data.text["stratum"], data.text["psu"], rows,
                                      strict=True) if r}
    df_by_hand = len(psus) - len({s for s, _p in psus})
    return overall[0], int(rows.sum()), df_by_hand, elements_of


@pytest.mark.parametrize("item", ["e_levels", "e_fields"])
def test_does_each_chosen_answer_equal_the_engine_on_its_subset(demo: Flask, item: str) -> None:
    with Session(demo.extensions["sipas_engine"]) as session:
        rep = household_report(session, "2025", min_n=1)
        form = parse_stored(latest_version(session, "sipas_services").source_text)
        domains = rep.selections[item]
        data = load_round(session, "2025", "sipas_services")
        used = {c for v in data.text[item].tolist() for c in str(v).split()}
        # every choice somebody made, in the instrument's order (none chose "other" here)
        assert [d.code for d in domains] == [str(c.code) for c in form.item(item).choices
                                             if str(c.code) in used]
        for d in domains:
            expected, chosen, df, elements = _engine_on_subset(session, item, d.code)
            assert d.overall.n == expected.n == chosen
            assert d.overall.estimate == pytest.approx(expected.estimate, rel=1e-12)
            assert d.overall.se == pytest.approx(expected.se, rel=1e-12)
            assert d.overall.ci_low == pytest.approx(expected.ci_low, rel=1e-12)
            assert d.overall.ci_high == pytest.approx(expected.ci_high, rel=1e-12)
            # df per domain: PSUs with a respondent who chose it, minus their strata
            assert d.overall.df == expected.df == df
            # the elements too (linear combinations of the criteria, their own n and df)
            assert [e.code for e in d.elements] == list(elements)
            for row in d.elements:
                want = elements[row.code]
                assert (row.n, row.df) == (want.n, want.df)
                assert row.estimate == pytest.approx(want.estimate, rel=1e-12)
                assert row.se == pytest.approx(want.se, rel=1e-12)
    # a respondent who chose two answers counts in both: the domains overlap
    assert sum(d.overall.n for d in domains) > rep.overall.n  # type: ignore[union-attr]


def test_does_a_psu_where_nobody_chose_keep_its_place_in_the_design(demo: Flask) -> None:
    """The choices are estimated in one pass over copies of the rows; a PSU where nobody
    chose anything must still count in its stratum, as in R's ``subset()``."""
    with Session(demo.extensions["sipas_engine"]) as session:
        data = load_round(session, "2025", "sipas_services")
        psu = data.text["psu"][0]
        ids = [r.id for r in session.exec(select(Response).where(
            Response.status == "verified", Response.psu == psu)).all()]
        session.execute(delete(Answer).where(Answer.response_id.in_(ids),
                                             Answer.item_code == "e_levels"))
        session.execute(update(Response).where(Response.id.in_(ids))
                        .values(updated_at=datetime.now(UTC)))  # as an edit stamps it
        session.flush()
        rep = household_report(session, "2025", min_n=1)
        for d in rep.selections["e_levels"]:
            expected, _chosen, df, _elements = _engine_on_subset(session, "e_levels", d.code)
            assert (d.overall.n, d.overall.df) == (expected.n, expected.df)
            assert d.overall.se == pytest.approx(expected.se, rel=1e-12)
        session.rollback()


def test_are_the_domains_named_with_the_instruments_vietnamese_labels(demo: Flask) -> None:
    with Session(demo.extensions["sipas_engine"]) as session:
        vi = household_report(session, "2025")
        en = household_report(session, "2025", lang="en")
    levels = [d.domain for d in vi.selections["e_levels"]]
    assert levels[0] == "Cấp xã (xã, phường, thị trấn, đặc khu)"
    assert "Cấp tỉnh (sở, ngành, Trung tâm phục vụ hành chính công)" in levels
    assert "Đất đai" in [d.domain for d in vi.selections["e_fields"]]
    assert en.selections["e_levels"][0].domain == "Commune level"
    assert vi.selection_titles["e_levels"].startswith("Anh/Chị đã giải quyết")


def test_does_a_district_filter_narrow_each_chosen_answer(demo: Flask) -> None:
    with Session(demo.extensions["sipas_engine"]) as session:
        whole = build_dashboard(session, DashboardOptions(min_n=1)).household
        one = build_dashboard(session, DashboardOptions(min_n=1,
                                                        district="Huyện Tân Phú")).household
    n_whole = {d.code: d.overall.n for d in whole.selections["e_levels"]}
    n_one = {d.code: d.overall.n for d in one.selections["e_levels"]}
    assert all(n_one[c] <= n_whole[c] for c in n_one) and sum(n_one.values()) < sum(
        n_whole.values())


def test_does_the_dashboard_offer_a_breakdown_selector(analyst: FlaskClient) -> None:
    page = analyst.get("/reports/").get_data(as_text=True)
    assert 'id="filter-breakdown"' in page and 'value="e_fields"' in page
    for table in ("table-district", "table-e_levels", "table-e_fields"):
        assert f'id="{table}"' in page
    assert "Cấp xã (xã, phường, thị trấn, đặc khu)" in page
    assert "Theo cấp cơ quan" in page or "By agency level" in page
    only = analyst.get("/reports/?breakdown=e_fields").get_data(as_text=True)
    assert 'id="table-e_fields"' in only and "Giao thông vận tải" in only
    assert 'id="table-district"' not in only and 'id="table-e_levels"' not in only
    assert '<option value="e_fields" selected>' in only


def test_does_the_report_carry_both_breakdowns_in_vietnamese(analyst: FlaskClient) -> None:
    html = analyst.get("/reports/report?format=html").get_data(as_text=True)
    assert "Theo cấp cơ quan" in html and "Theo lĩnh vực thủ tục" in html
    assert "Cơ quan trung ương đóng tại địa phương" in html and "Hộ tịch" in html
    assert "các nhóm chồng lấn" in html


def test_is_an_unknown_breakdown_refused_precisely() -> None:
    with pytest.raises(ValueError, match="breakdown 'ward' is not one of province, district"):
        DashboardOptions(breakdown="ward")


def test_does_the_report_rank_the_districts_in_both_languages(analyst: FlaskClient) -> None:
    import re

    html = analyst.get("/reports/report?format=html&min_n=5").get_data(as_text=True)
    assert "Xếp hạng (khoảng 95%)" in html and "chưa phân biệt được với nhau" in html
    assert re.search(r">\s*[123] \([123]–[123]\)\s*<", html)  # three demo districts
    english = analyst.get("/reports/report?format=html&min_n=5&lang=en").get_data(as_text=True)
    assert "Rank (95% interval)" in english and "cannot be told apart" in english
