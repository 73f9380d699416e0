"""Does the counter tablet work in a real Chromium: one question a screen, a fresh screen for
every citizen, tickets from the queue system, and nothing lost or doubled across a network
drop (Playwright's ``set_offline``)?"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, func, select

from survey.models import Answer, Response
from survey.models_kiosk import KioskDevice, KioskTicket
from survey.services.kiosk.devices import open_ticket
from tests.browser import chromium, live_server
from tests.kiosk.conftest import Tablet, open_dossier_ticket
from tests.support import artifact_dir

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]


def _count(app: Flask) -> int:
    with Session(app.extensions["sipas_engine"]) as session:
        return int(session.exec(select(func.count()).select_from(Response)).one())


def _until(check: Callable[[], bool], seconds: float = 10.0) -> None:
    end = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < end, "not reached in time"
        time.sleep(0.1)


def _quick(app: Flask) -> None:
    app.config.update(KIOSK_RESET_SECONDS=2, KIOSK_THANKS_SECONDS=1, KIOSK_POLL_SECONDS=1)


def rate(page: Any, overall: int, reasons: tuple[int, ...] = (), comment: str = "",
         dossier_known: bool = False) -> None:
    """A citizen's taps: required questions answered, optional ones skipped (and what the
    ticket's dossier answers not asked)."""
    if not dossier_known:
        page.locator("#s-service_field input[value='3']").click()  # one tap answers, moves on
    page.locator(f"#s-overall input[value='{overall}']").click()
    if reasons:
        page.locator("#s-low_reasons").wait_for(state="visible")  # asked after a low rating
        assert page.locator("#s-low_reasons .count").inner_text() == "Câu 3/9"
        for code in reasons:
            page.locator(f"#s-low_reasons input[value='{code}']").check()
        page.locator("#s-low_reasons button.next").click()
    if not dossier_known:
        page.locator("#s-on_time input[value='1']").click()
    page.locator("#s-staff_attitude input[value='4']").click()
    for code in ("visits", "posted_procedures", "feedback_handling"):
        page.locator(f"#s-{code} button.skip").click()
    page.locator("#s-comment textarea").fill(comment)
    page.locator("#s-comment button.send").click()
    page.locator("#s-thanks").wait_for(state="visible")


def test_a_citizen_rates_on_the_tablet_and_the_next_one_sees_nothing(
        app: Flask, tablet: Tablet, tmp_path: Path) -> None:
    _quick(app)
    shots = artifact_dir(tmp_path)
    with live_server(app) as base, chromium() as browser:
        context = browser.new_context(viewport={"width": 800, "height": 1280},  # type: ignore[attr-defined]
                                      has_touch=True)
        page = context.new_page()
        page.goto(base + tablet.path)
        assert "Mời Anh/Chị đánh giá" in page.locator("#s-wait h1").inner_text()
        page.screenshot(path=str(shots / "kiosk-waiting.png"))
        page.locator("#start").click()
        page.locator("#s-service_field").wait_for(state="visible")
        assert page.locator("#s-service_field .count").inner_text() == "Câu 1/8"
        page.screenshot(path=str(shots / "kiosk-question.png"))
        rate(page, 2, reasons=(1, 3), comment="Chờ lâu quá")
        page.locator("#s-thanks h1").click()  # a touch on the thanks screen changes nothing
        page.locator("#s-wait").wait_for(state="visible")  # thanks, then waiting again
        _until(lambda: _count(app) == 1)
        with Session(app.extensions["sipas_engine"]) as session:
            stored = session.exec(select(Response)).one()
            answers = {a.item_code: a.value_num if a.value_num is not None else a.value_text
                       for a in session.exec(select(Answer)).all()}
        assert stored.mode == "kiosk"
        assert answers == {"service_field": 3, "overall": 2, "low_reasons": "1 3",
                           "on_time": 1, "staff_attitude": 4, "comment": "Chờ lâu quá"}
        # the next citizen: a rating half given, then left; the tablet forgets it
        page.locator("#start").click()
        page.locator("#s-service_field input[value='5']").click()
        page.locator("#s-overall").wait_for(state="visible")
        page.locator("#s-wait").wait_for(state="visible", timeout=5000)  # reset when idle
        page.locator("#start").click()
        page.locator("#s-service_field").wait_for(state="visible")
        assert page.locator("#questions input:checked").count() == 0
        assert page.locator("#s-comment textarea").input_value() == ""
        # a high rating never asks what went wrong (the form's skip rule, in the browser)
        page.locator("#s-service_field input[value='1']").click()
        page.locator("#s-overall input[value='5']").click()
        page.locator("#s-on_time").wait_for(state="visible")
        assert page.locator("#s-on_time .count").inner_text() == "Câu 3/8"
        context.close()


def test_evaluations_given_offline_are_sent_once_when_the_network_returns(
        app: Flask, tablet: Tablet, tmp_path: Path) -> None:
    _quick(app)
    shots = artifact_dir(tmp_path)
    with live_server(app) as base, chromium() as browser:
        context = browser.new_context(viewport={"width": 800, "height": 1280})  # type: ignore[attr-defined]
        page = context.new_page()
        page.goto(base + tablet.path)
        context.set_offline(True)
        for n in range(2):
            page.locator("#s-wait").wait_for(state="visible")
            page.locator("#start").click()
            rate(page, 4 + n, comment=f"ngoại tuyến {n}")
        page.locator("#s-wait").wait_for(state="visible")
        assert page.locator("#pending").inner_text() == "Lượt đánh giá đang chờ gửi: 2"
        assert page.locator("#offline").is_visible()
        page.locator("button[data-set-lang='en']").click()  # the other language, offline too
        assert page.locator("#s-wait h1").inner_text() == \
            "Please rate the service you have just received"
        assert page.locator("#pending").inner_text() == "Evaluations waiting to be sent: 2"
        page.screenshot(path=str(shots / "kiosk-offline.png"))
        assert _count(app) == 0
        context.set_offline(False)
        _until(lambda: _count(app) == 2)
        page.locator("#pending").wait_for(state="hidden")
        assert not page.locator("#offline").is_visible()
        page.reload()  # nothing left in the queue is sent again
        page.locator("#s-wait").wait_for(state="visible")
        time.sleep(1)
        assert _count(app) == 2
        with Session(app.extensions["sipas_engine"]) as session:
            comments = sorted(a.value_text for a in session.exec(
                select(Answer).where(Answer.item_code == "comment")).all())
        assert comments == ["ngoại tuyến 0", "ngoại tuyến 1"]
        context.close()


def test_a_ticket_from_the_queue_system_opens_the_rating_screen(
        app: Flask, tablet: Tablet) -> None:
    _quick(app)
    app.config["KIOSK_RESET_SECONDS"] = 20
    with live_server(app) as base, chromium() as browser:
        page = browser.new_page()  # type: ignore[attr-defined]
        page.goto(base + tablet.path)
        page.locator("#s-wait").wait_for(state="visible")
        with Session(app.extensions["sipas_engine"]) as session:
            ticket, _new = open_ticket(session, session.get(KioskDevice, tablet.id), "C-005",
                                       timedelta(seconds=20))
            session.commit()
            ticket_id = ticket.id
        page.locator("#s-service_field").wait_for(state="visible", timeout=5000)
        rate(page, 5)
        _until(lambda: _count(app) == 1)
        with Session(app.extensions["sipas_engine"]) as session:
            stored = session.exec(select(Response)).one()
            assert session.get(KioskTicket, ticket_id).response_id == stored.id  # type: ignore[union-attr]
        # a ticket naming a stored dossier: its field and "on time" are not asked
        page.locator("#s-wait").wait_for(state="visible")
        with_dossier = open_dossier_ticket(app, tablet, "C-006", returned_late=False)
        page.locator("#s-overall").wait_for(state="visible", timeout=5000)
        assert page.locator("#s-overall .count").inner_text() == "Câu 1/6"
        rate(page, 4, dossier_known=True)
        _until(lambda: _count(app) == 2)
        with Session(app.extensions["sipas_engine"]) as session:
            rated = session.get(KioskTicket, with_dossier).response_id  # type: ignore[union-attr]
            given = {a.item_code: a.value_num for a in session.exec(
                select(Answer).where(Answer.response_id == rated))}
        assert given["service_field"] == 3 and given["on_time"] == 1 and given["overall"] == 4
