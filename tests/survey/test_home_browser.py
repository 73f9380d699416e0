"""Is the home page usable on a 320 px phone in a real browser?"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlmodel import Session

from survey.services.demo import build_demo
from tests import factories
from tests.browser import chromium, live_server


@pytest.mark.browser
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_home_fits_a_320px_phone(app: Flask, tmp_path: Path) -> None:
    with Session(app.extensions["sipas_engine"]) as session:
        factories.published(session)
        build_demo(session, secret=b"s" * 32)
        session.commit()
    with live_server(app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 320, "height": 640})  # type: ignore[attr-defined]
        response = page.goto(base + "/")
        assert response is not None and response.status == 200
        assert page.locator("h1").inner_text().startswith("Chỉ số hài lòng")
        overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert overflow is False
        page.screenshot(path=str(tmp_path / "home-320.png"), full_page=True)
        assert (tmp_path / "home-320.png").stat().st_size > 1000
        page.get_by_role("link", name="English").click()
        assert "Citizen satisfaction" in page.locator("h1").inner_text()
