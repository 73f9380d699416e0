"""Does the dashboard link its charts instead of drawing them into the page, and does each
link give exactly its chart, from any worker, to readers of its own area only?"""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from survey.services.reports import charts
from survey.views import reports as report_views
from tests.reports.conftest import PASSWORD
from tests.reports.test_area import DISTRICT, _area_account
from tests.support import sign_in

PAGE = "/reports/?period=2025-Q4&min_n=5"
ELEMENTS = "Chỉ số theo yếu tố với khoảng tin cậy và đường mục tiêu"


def _links(html: str) -> dict[str, tuple[str, int, int]]:
    """alt text -> (src, width, height) of every chart of the page."""
    found = re.findall(r'<figure class="chart"><img src="([^"]+)" alt="([^"]+)" '
                       r'width="(\d+)" height="(\d+)"', html)
    return {unescape(alt): (unescape(src), int(w), int(h)) for src, alt, w, h in found}


def _svg_pixels(svg: bytes) -> tuple[float, float]:
    """The drawn size in CSS pixels (matplotlib writes points: 72 a inch, 96 px a inch)."""
    size = re.search(rb'<svg[^>]* width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    assert size
    return float(size.group(1)) * 96 / 72, float(size.group(2)) * 96 / 72


def _forget_plans() -> None:
    """As another worker (or this one after a restart) knows nothing of the page."""
    with charts._PLANS_LOCK:
        charts._PLANS.clear()


def test_each_link_draws_its_chart_in_the_room_the_page_kept(analyst: FlaskClient) -> None:
    html = analyst.get(PAGE).get_data(as_text=True)
    assert "data:image" not in html  # nothing drawn into the page
    links = _links(html)
    # elements, districts, communes, two selections, priorities, desks and their trend
    assert len(links) >= 6 and ELEMENTS in links
    for alt, (src, width, height) in links.items():
        assert src.startswith("/reports/charts/"), alt
        got = analyst.get(src)
        assert got.status_code == 200 and got.mimetype == "image/svg+xml", alt
        assert got.headers["Cache-Control"] == "private, max-age=31536000, immutable"
        drawn_w, drawn_h = _svg_pixels(got.data)
        if "/trend" not in src:  # a dot chart's size is known before it is drawn
            assert abs(drawn_w - width) <= 1 and abs(drawn_h - height) <= 1, alt
        else:  # a trend chart is cropped to what it draws: about the room kept
            assert 0.8 < drawn_w / width < 1.2 and 0.8 < drawn_h / height < 1.2
    elements = analyst.get(links[ELEMENTS][0]).data.decode()
    assert "Tiếp cận dịch vụ" in elements  # an element's name, in the page's language
    assert re.search(r">\d{2},\d<", elements)  # its estimates with a decimal comma


def test_a_query_string_cannot_steer_the_links(analyst: FlaskClient) -> None:
    """Words of url_for's own (``_external``, ``_anchor``) or of the link's path (``name``,
    ``key``) in the page's address are not carried into its links."""
    got = analyst.get(PAGE + "&name=x&key=y&_external=1&_anchor=z&_scheme=ftp")
    assert got.status_code == 200
    for src, _w, _h in _links(got.get_data(as_text=True)).values():
        assert src.startswith("/reports/charts/") and "#" not in src
        assert "key=" not in src and "name=" not in src and "_external" not in src
        assert analyst.get(src).status_code == 200


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_a_worker_that_never_saw_the_page_draws_the_same_chart(analyst: FlaskClient) -> None:
    """The plan is not held (another host, a restart with the disk cache off): the chart is
    planned again from the page's question in the link, and it is the same drawing."""
    links = _links(analyst.get(PAGE).get_data(as_text=True))
    src = links[ELEMENTS][0]
    seen = analyst.get(src).data
    _forget_plans()
    again = analyst.get(src)
    assert again.status_code == 200 and again.data == seen
    assert again.headers["Cache-Control"] == "private, max-age=31536000, immutable"
    # a link whose key no longer names what the data draw (the data changed since the page,
    # or the link was made up) gets today's chart, which the browser is told not to keep
    stale = re.sub(r"/[0-9a-z-]+\.svg", "/dot-chart-0000.svg", src)
    got = analyst.get(stale)
    assert got.status_code == 200 and got.data == seen
    assert got.headers["Cache-Control"] == "no-store"
    # no such chart on that page, or a question the page would refuse: nothing
    assert analyst.get(src.replace("/elements/", "/nothing/")).status_code == 404
    assert analyst.get("/reports/charts/elements/x.svg?period=2025-Q9").status_code == 404


def test_another_worker_finds_the_plan_on_disk(analyst: FlaskClient, monkeypatch,
                                               tmp_path: Path) -> None:
    monkeypatch.setenv("SIPAS_REPORT_CACHE", str(tmp_path))
    src = _links(analyst.get(PAGE).get_data(as_text=True))[ELEMENTS][0]
    _forget_plans()

    def refused(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the chart was planned again instead of read")

    monkeypatch.setattr(report_views, "build_dashboard", refused)
    got = analyst.get(src)
    assert got.status_code == 200 and b"<svg" in got.data
    assert got.headers["Cache-Control"] == "private, max-age=31536000, immutable"


def test_a_district_reader_never_gets_the_province_chart(demo: Flask, client: FlaskClient,
                                                         analyst: FlaskClient) -> None:
    """A link seen by a province analyst, asked for by a district's account: the plan is
    held for the province only, so the district's reader gets the chart of its own area,
    exactly as its own page links it."""
    province_src = _links(analyst.get(PAGE).get_data(as_text=True))[ELEMENTS][0]
    province = analyst.get(province_src).data
    analyst.get("/auth/logout")
    _area_account(demo, "tanphu_charts", DISTRICT)
    sign_in(client, "tanphu_charts", PASSWORD)
    own_src = _links(client.get(PAGE).get_data(as_text=True))[ELEMENTS][0]
    assert own_src != province_src
    own = client.get(own_src)
    assert own.headers["Cache-Control"] == "private, max-age=31536000, immutable"
    borrowed = client.get(province_src)
    assert borrowed.status_code == 200 and borrowed.data == own.data != province
    assert borrowed.headers["Cache-Control"] == "no-store"


def test_charts_asked_for_at_once_are_each_drawn_whole(monkeypatch) -> None:
    """A browser asks for a page's charts together, so a worker's threads would draw them
    at the same moment: matplotlib is not thread-safe, so they are drawn one at a time, and
    each comes out exactly as drawn alone."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    from survey.services.reports.rows import IndexRow

    def plan(k: int) -> charts.Chart:
        rows = [(f"Xã số {k}-{i}", IndexRow(str(i), "x", "x", 50, 0.5 + i / 100, 0.02,
                                             0.45 + i / 100, 0.55 + i / 100, 40, 1.1, None,
                                             None, None, None, "", False))
                for i in range(12 + k)]
        return charts.plan_dots(rows, 0.8, f"Biểu đồ {k}", lang="vi")

    plans = [plan(k) for k in range(8)]
    alone = [charts._draw_dots(*p.args) for p in plans]
    charts._dot_chart.cache_clear()
    real, drawing, most = charts._draw_dots, [0], [0]
    lock = threading.Lock()

    def counted(*args):  # type: ignore[no-untyped-def]
        with lock:
            drawing[0] += 1
            most[0] = max(most[0], drawing[0])
        try:
            time.sleep(0.01)  # room for another thread to start drawing, if it may
            return real(*args)
        finally:
            with lock:
                drawing[0] -= 1

    monkeypatch.setattr(charts, "_draw_dots", counted)
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(lambda p: p.draw(), plans))
    assert together == alone and most[0] == 1
