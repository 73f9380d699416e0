"""Can an analyst log in, read the dashboard, filter by district and download an export?"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlmodel import Session

from survey.services.demo import build_demo
from tests import factories
from tests.browser import chromium, live_server
from tests.support import artifact_dir

PASSWORD = "mật khẩu phân tích 123"


def _charts_arrive(page) -> None:  # type: ignore[no-untyped-def]
    """Every chart the page links is fetched and drawn by the browser (the page's CSP, the
    session cookie and the chart route together), in the room the page kept for it."""
    import time

    waited = time.monotonic()
    # polled from here: the page's CSP (rightly) forbids the eval Playwright's own wait uses
    while not page.evaluate("[...document.querySelectorAll('figure.chart img')]"
                            ".every(i => i.complete && i.naturalWidth > 0)"):
        assert time.monotonic() - waited < 20, "the charts did not arrive in 20 s"
        time.sleep(0.05)
    for box in page.locator("figure.chart img").evaluate_all(
            "imgs => imgs.map(i => [i.naturalWidth, i.width, i.height])"):
        assert box[0] > 300 and box[1] > 300 and box[2] > 100


@pytest.mark.browser
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_analyst_reads_filters_and_downloads(app: Flask, tmp_path: Path) -> None:
    with Session(app.extensions["sipas_engine"]) as session:
        factories.published(session)
        build_demo(session, secret=b"s" * 32)
        factories.user(session, "analyst", username="anh", password=PASSWORD)
        session.commit()
    shots = artifact_dir(tmp_path, "reports")
    with live_server(app) as base, chromium() as browser:
        context = browser.new_context(accept_downloads=True,  # type: ignore[attr-defined]
                                      viewport={"width": 1200, "height": 900})
        page = context.new_page()
        page.goto(base + "/auth/login")
        page.fill("input[name=username]", "anh")
        page.fill("input[name=password]", PASSWORD)
        page.locator("form button[type=submit]").last.click()
        page.goto(base + "/reports/")
        assert page.locator("h1").inner_text() == "Bảng tổng hợp"
        whole = page.locator("#sipas-index").inner_text()
        n_whole = int(page.locator("#sipas-n").inner_text())
        # Vietnamese page: a decimal comma (80,4)
        assert "," in whole and float(whole.replace(",", ".")) > 50
        assert page.locator("#sipas-ci").is_visible()
        assert page.locator("#table-criteria tbody tr").count() == 19
        assert page.locator("figure.chart img").count() >= 3
        _charts_arrive(page)
        page.screenshot(path=str(shots / "dashboard.png"), full_page=True)

        page.select_option("#filter-district", "Huyện Tân Phú")
        page.click("#apply-filters")
        page.wait_for_url("**district=*")
        assert "Huyện Tân Phú" in page.locator("h2").first.inner_text()
        assert int(page.locator("#sipas-n").inner_text()) < n_whole
        assert page.locator("#table-district").count() == 0
        _charts_arrive(page)
        page.screenshot(path=str(shots / "dashboard-district.png"), full_page=True)

        page.select_option("#filter-breakdown", "e_levels")
        page.click("#apply-filters")
        page.wait_for_url("**breakdown=e_levels*")
        assert page.locator("#table-e_levels tbody tr").count() >= 2
        assert page.locator("#table-e_fields").count() == 0
        assert page.locator("#table-desk-trend").count() == 1
        page.screenshot(path=str(shots / "dashboard-levels.png"), full_page=True)

        page.click("#link-exports")
        with page.expect_download() as info:
            page.click("#download-xlsx")
        saved = shots / info.value.suggested_filename
        info.value.save_as(str(saved))
        page.screenshot(path=str(shots / "exports.png"), full_page=True)
        context.close()
    from openpyxl import load_workbook

    book = load_workbook(saved, read_only=True)
    header = next(book["data"].iter_rows(max_row=1, values_only=True))
    assert header[:3] == ("response_id", "instrument", "instrument_version")
    assert "weight" in header and "c1_1" in header
    for name in ("dashboard.png", "dashboard-district.png", "exports.png"):
        assert (shots / name).stat().st_size > 5000
