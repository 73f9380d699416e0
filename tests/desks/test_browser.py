"""Can a citizen evaluate a desk on a phone in a real browser, JavaScript off?"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlmodel import Session, func, select

from survey.models import Response
from tests.browser import chromium, live_server
from tests.desks.conftest import DeskLink
from tests.support import artifact_dir


@pytest.mark.browser
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_citizen_evaluates_on_a_360px_phone_without_javascript(
    app: Flask, desk_link: DeskLink, tmp_path: Path
) -> None:
    shots = artifact_dir(tmp_path)
    with live_server(app) as base, chromium() as browser:
        context = browser.new_context(  # type: ignore[attr-defined]
            viewport={"width": 360, "height": 740}, java_script_enabled=False,
            is_mobile=True, has_touch=True)
        page = context.new_page()
        response = page.goto(base + desk_link.path)
        assert response is not None and response.status == 200
        assert page.locator("h1").inner_text().startswith("Đánh giá mức độ hài lòng")
        page.set_viewport_size({"width": 320, "height": 740})
        width = page.locator("body").bounding_box()
        assert width is not None and width["width"] <= 320
        page.set_viewport_size({"width": 360, "height": 740})
        page.get_by_label("Hộ tịch", exact=False).check()
        page.locator("#q-overall").get_by_label("5 Rất hài lòng").check()
        page.locator("#q-on_time").get_by_label("Đúng hẹn hoặc sớm hơn").check()
        page.locator("#q-staff_attitude").get_by_label("4 Hài lòng", exact=True).check()
        page.locator("#f-visits").fill("1")
        page.locator("#f-dossier_code").fill("h01.2025.12345")
        page.locator("#f-comment").fill("Cán bộ hướng dẫn tận tình.")
        page.screenshot(path=str(shots / "desk-form-360.png"), full_page=True)
        page.get_by_role("button", name="Gửi đánh giá").click()
        page.wait_for_url("**/d/thanks/**")
        assert "Cảm ơn" in page.locator("h1").inner_text()
        assert "Bộ phận Một cửa xã Phú Lâm" in page.locator("main").inner_text()
        page.screenshot(path=str(shots / "desk-thanks-360.png"), full_page=True)
        context.close()
    assert (shots / "desk-thanks-360.png").stat().st_size > 1000
    with Session(app.extensions["sipas_engine"]) as session:
        assert session.exec(select(func.count()).select_from(Response)).one() == 1


def _count(app: Flask) -> int:
    with Session(app.extensions["sipas_engine"]) as session:
        return int(session.exec(select(func.count()).select_from(Response)).one())


@pytest.mark.browser
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_back_expiry_no_cookies_and_a_language_switch_lose_nothing_and_store_once(
    app: Flask, desk_link: DeskLink, tmp_path: Path
) -> None:
    shots = artifact_dir(tmp_path)
    with live_server(app) as base, chromium() as browser:
        context = browser.new_context(  # type: ignore[attr-defined]
            viewport={"width": 360, "height": 740}, java_script_enabled=False, is_mobile=True)
        page = context.new_page()
        page.goto(base + desk_link.path)
        page.locator("#q-overall").get_by_label("4 Hài lòng", exact=True).check()
        page.locator("#f-comment").fill("Chờ hơi lâu.")
        # Switching to English mid-form keeps what was given so far.
        page.get_by_role("button", name="English").click()
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.locator("#q-overall input[value='4']").is_checked()
        assert page.locator("#f-comment").input_value() == "Chờ hơi lâu."
        page.get_by_role("button", name="Tiếng Việt").click()
        # A phone that keeps no cookies and a form left open until it expired.
        context.clear_cookies()
        app.config["DESK_FORM_MAX_AGE"] = -1
        page.locator("#q-service_field input").first.check()
        page.locator("#q-on_time input").first.check()
        page.locator("#q-staff_attitude").get_by_label("5 Rất hài lòng").check()
        page.locator("#f-visits").fill("2")
        page.get_by_role("button", name="Gửi đánh giá").click()
        assert "đã hết hạn" in page.locator("#notice").inner_text()
        assert page.locator("#f-comment").input_value() == "Chờ hơi lâu."  # nothing lost
        assert page.locator("#q-overall input[value='4']").is_checked()
        assert _count(app) == 0
        page.screenshot(path=str(shots / "desk-expired-360.png"), full_page=True)
        app.config["DESK_FORM_MAX_AGE"] = 3600
        context.clear_cookies()
        page.get_by_role("button", name="Gửi đánh giá").click()  # one tap sends it
        page.wait_for_url("**/d/thanks/**")
        assert _count(app) == 1
        # Back, then "send" again: the same form instance, so nothing is stored twice.
        page.go_back()
        page.get_by_role("button", name="Gửi đánh giá").click()
        page.wait_for_url("**/d/thanks/**")
        assert "Cảm ơn" in page.locator("h1").inner_text()
        assert _count(app) == 1
        context.close()
