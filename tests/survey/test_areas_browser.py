"""In a real browser: the ministry's analyst compares two provinces; a province's supervisor
sees only their own province and cannot reach the other's desk even by typing its address;
after a reform merges the other province into theirs, they see it, and the round (read on
today's map) says what was merged.

The demo province with its second district moved under a province of its own ("Tỉnh Bình
Sơn"): one round whose strata lie in two provinces, as a national round's do.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from sqlmodel import Session, select

from survey.models import AdminUnit, GeoLevel
from survey.services.demo import build_demo
from tests import factories
from tests.browser import chromium, live_server

PASSWORD = "hai tỉnh mật khẩu 1"


def _two_provinces(app: Flask) -> None:
    with Session(app.extensions["sipas_engine"]) as session:
        factories.published(session)
        build_demo(session, secret=b"s" * 32)
        level = session.exec(select(GeoLevel).where(GeoLevel.code == "province")).one()
        other = AdminUnit(code="91", name="Tỉnh Bình Sơn", level_id=level.id)
        session.add(other)
        session.flush()
        district = session.exec(select(AdminUnit).where(AdminUnit.name == "Huyện Long Điền")
                                ).one()
        district.parent_id = other.id
        session.add(district)
        an_hoa = session.exec(select(AdminUnit).where(AdminUnit.code == "90")).one()
        factories.user(session, "analyst", username="bo-phantich", password=PASSWORD)
        factories.user(session, "supervisor", username="anhoa-giamsat", password=PASSWORD,
                       scope_unit_id=an_hoa.id)
        session.commit()


def _sign_in(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/auth/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_load_state()


@pytest.mark.browser
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_ministry_compares_provinces_and_a_province_sees_only_its_own(
        app: Flask, tmp_path: Path) -> None:
    _two_provinces(app)
    with live_server(app) as base, chromium() as browser:
        ministry = browser.new_page()  # type: ignore[attr-defined]
        _sign_in(ministry, base, "bo-phantich")
        ministry.goto(base + "/reports/?period=2025")
        table = ministry.locator("#table-province")
        assert table.count() == 1
        rows = table.locator("tbody tr")
        assert rows.count() == 2
        names = {rows.nth(k).locator("th").inner_text().strip() for k in range(2)}
        assert names == {"Tỉnh An Hòa", "Tỉnh Bình Sơn"}
        for k in range(2):  # each province with its own interval
            assert "–" in rows.nth(k).locator("td").nth(1).inner_text()
        assert "toàn quốc" in table.locator("thead").inner_text()
        assert "MC-LONGDIEN" in ministry.inner_text("body")
        ministry.screenshot(path=str(tmp_path / "ministry.png"), full_page=True)

        province = browser.new_context().new_page()  # type: ignore[attr-defined]
        _sign_in(province, base, "anhoa-giamsat")
        province.goto(base + "/")
        province.locator("main a[href='/desks/'], a[href='/desks/']").first.click()
        province.wait_for_load_state()
        listed = province.locator("#desks").inner_text()
        assert "MC-TANPHU" in listed and "MC-LONGDIEN" not in listed
        assert "Tỉnh An Hòa (90)" in province.locator("#area").inner_text()
        typed = province.goto(base + "/desks/MC-LONGDIEN")
        assert typed is not None and typed.status == 404
        typed = province.goto(base + "/desks/MC-LONGDIEN/qr.png")
        assert typed is not None and typed.status == 404
        dash = province.goto(base + "/reports/?period=2025")
        assert dash is not None and dash.status == 200
        text = province.locator("main").inner_text() if province.locator("main").count() \
            else province.inner_text("body")
        assert "Tỉnh An Hòa" in text and "Bình Sơn" not in text and "Long Điền" not in text
        assert province.locator("#table-province").count() == 0
        assert province.locator("#table-district").count() == 1
        review = province.goto(base + "/entry/review")
        assert review is not None and review.status == 200
        assert "Long Điền" not in province.inner_text("body")
        province.goto(base + "/sample/")  # the national frame is the ministry's to import
        assert province.locator("#frame-national").count() == 1
        assert province.locator("input#frame").count() == 0
        province.screenshot(path=str(tmp_path / "province.png"), full_page=True)

        # the reform: An Hòa takes Bình Sơn over. Its supervisor now sees what Bình Sơn's
        # desks and hamlets collected, and the round, read on today's map, says so
        with Session(app.extensions["sipas_engine"]) as session:
            old = session.exec(select(AdminUnit).where(AdminUnit.code == "91")).one()
            new = session.exec(select(AdminUnit).where(AdminUnit.code == "90")).one()
            old.valid_to, old.successor_id = date(2025, 6, 30), new.id
            session.commit()
        province.goto(base + "/desks/")
        assert "MC-LONGDIEN" in province.locator("#desks").inner_text()
        province.goto(base + "/reports/?period=2025")
        note = province.locator("#merged-note").inner_text()
        assert "Tỉnh An Hòa nay gồm cả Tỉnh Bình Sơn trước đây" in note
        assert "Huyện Long Điền" in province.locator("#table-district").inner_text()
        ministry.goto(base + "/reports/?period=2025")
        assert ministry.locator("#table-province").count() == 0  # one province today
        assert "Tỉnh Bình Sơn" in ministry.locator("#merged-note").inner_text()
        province.screenshot(path=str(tmp_path / "after-reform.png"), full_page=True)
