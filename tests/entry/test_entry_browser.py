"""Can a keyer key a whole questionnaire from the keyboard alone, fast, in a real browser?"""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, select

from survey.models import Response
from survey.models_entry import Keying, KeyingAnswer
from tests.browser import chromium, live_server
from tests.entry.conftest import PASSWORD, World, full_answers, key, login, logout

PACE_MS = 300  # 12,000 keystrokes an hour: the usual standard for professional keyers
ORDER = ["outcome", "a_sex", "a_age_band", "a_ethnicity", "a_education", "a_occupation",
         "a_urban_rural", "a_terrain", "s_procedure_12m", "e_fields", "e_levels",
         "c1_1", "c1_2", "c1_3", "c1_4", "c2_1", "c2_2", "c2_3", "c2_4", "c3_1", "c3_2", "c3_3",
         "c3_4", "c3_5", "c4_1", "c4_2", "c4_3", "c5_1", "c5_2", "c5_3",
         "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9", "comment"]
TYPED_WITH_ENTER = {"e_fields", "e_levels", "comment"}  # free-length fields end with Enter


class Keys:
    """The keyboard, counting every key press (there is no mouse in these tests)."""

    def __init__(self, page: Any, delay: int = 0) -> None:
        self.page, self.delay, self.count = page, delay, 0

    def type(self, text: str) -> None:
        for char in text:
            self.press(char)

    def press(self, key: str) -> None:
        self.page.keyboard.press(key, delay=0)
        self.count += 1
        if self.delay:
            self.page.wait_for_timeout(self.delay)


def _login(page: Any, base: str, username: str) -> None:
    page.goto(base + "/auth/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_url(lambda url: "/auth/login" not in url)  # each role lands on its work


def _wait_focus(page: Any, name: str) -> None:
    """Autofocus lands a moment after the load event: wait for it, as a keyer's eye does."""
    page.wait_for_function(
        "n => document.activeElement && (document.activeElement.name || "
        "document.activeElement.id) === n", arg=name)


def _open_keying(page: Any, base: str, qid: str, keys: Keys) -> None:
    """Type the ID on the keying home, Enter, and wait until the keying screen takes keys."""
    page.goto(base + "/entry/")
    _wait_focus(page, "qid")
    keys.type(qid)
    keys.press("Enter")
    page.wait_for_selector("#keying[data-ready]")
    _wait_focus(page, "outcome")


def _focused(page: Any) -> str:
    return str(page.evaluate("document.activeElement.name || document.activeElement.id"))


@pytest.mark.browser
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_keyboard_only_keying_of_a_full_questionnaire_within_the_budget(
        app: Flask, world: World) -> None:
    answers = full_answers(comment="")
    del answers["comment"]
    with live_server(app) as base, chromium() as browser:
        page = browser.new_page()  # type: ignore[attr-defined]
        _login(page, base, "lan")
        keys = Keys(page, delay=PACE_MS)
        started = time.perf_counter()
        digits = world.qid(1).replace("-", "")  # round, PSU, serial, check: dashes optional
        _open_keying(page, base, digits, keys)
        for code in ORDER:
            assert _focused(page) == code, f"expected the cursor on {code}"
            value = answers.get(code, "")
            keys.type(value)
            if code in TYPED_WITH_ENTER:
                keys.press("Enter")
        assert _focused(page) == "save"
        keys.press("Enter")
        page.wait_for_url(base + "/entry/")
        elapsed = time.perf_counter() - started
        assert "Một người khác sẽ nhập lại độc lập để kiểm tra" in page.content()
    answered = len(answers)  # 39 answers, the outcome included
    extra_codes = len(answers["e_levels"].split()) - 1  # "1 3": one more code and a space
    expected = (answered + len(digits) + 1  # one key per answer; the ID and its Enter
                + len(TYPED_WITH_ENTER) + 2 * extra_codes  # Enter after free-length fields
                + 1)  # Enter on Save
    print(f"\nkeyboard-only keying: {keys.count} key presses for {answered} answers "
          f"(budget {answered} + {expected - answered} for the ID, multi-code/text Enters and "
          f"saving); {elapsed:.1f} s at {3_600_000 // PACE_MS:,} keys/hour "
          f"({PACE_MS} ms per key), mouse never used")
    assert keys.count == expected
    assert keys.count <= answered + 18  # the 10-digit ID includes the two-digit round
    with Session(app.extensions["sipas_engine"]) as session:
        keying = session.exec(select(Keying)).one()
        stored = {a.item_code: a.value for a in session.exec(select(KeyingAnswer))}
    assert keying.state == "done" and keying.outcome == "completed"
    assert stored == {k: v for k, v in answers.items() if k != "outcome"}


@pytest.mark.browser
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_skips_range_checks_and_fixing_without_the_mouse(app: Flask, world: World) -> None:
    with live_server(app) as base, chromium() as browser:
        page = browser.new_page()  # type: ignore[attr-defined]
        _login(page, base, "lan")
        keys = Keys(page)
        _open_keying(page, base, world.qid(2), keys)
        keys.type("1")  # outcome completed
        keys.type("7")  # a_sex: no such code
        assert _focused(page) == "a_sex"
        assert "Mã 7 không hợp lệ" in page.locator('[data-code="a_sex"] .err').inner_text()
        keys.type("2")
        keys.type("3")  # age band
        keys.type("2")  # ethnicity: other -> the "specify" text field opens
        assert _focused(page) == "a_ethnicity_other"
        keys.press("ArrowUp")  # back to fix it: the old value is selected
        assert _focused(page) == "a_ethnicity"
        keys.type("1")  # Kinh -> "specify" is skipped again
        assert _focused(page) == "a_education"
        assert page.locator("#f-a_ethnicity_other").is_disabled()
        assert "/" in page.locator("#progress").inner_text()
        for _ in range(5):
            keys.press("ArrowUp")
        assert _focused(page) == "outcome"
        keys.type("3")  # refused: every question is skipped, the cursor goes to Save
        assert _focused(page) == "save"
        assert page.locator("#f-a_sex").is_disabled()
        keys.press("Enter")
        page.wait_for_url(base + "/entry/")
    with Session(app.extensions["sipas_engine"]) as session:
        keying = session.exec(select(Keying)).one()
        assert keying.outcome == "refused"
        assert session.exec(select(KeyingAnswer)).all() == []


@pytest.mark.browser
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_double_entry_mismatch_is_reconciled_by_a_supervisor(app: Flask, world: World) -> None:
    client = app.test_client()
    login(client, "lan")
    key(client, world.qid(3), full_answers())
    logout(client)
    second = full_answers()
    second["c3_2"] = "2"
    login(client, "hung")
    key(client, world.qid(3), second)
    with live_server(app) as base, chromium() as browser:
        page = browser.new_page()  # type: ignore[attr-defined]
        _login(page, base, "ha")
        page.goto(base + "/entry/review")
        page.locator("#mismatches a").first.click()
        page.wait_for_selector("#reconcile")
        row = page.locator("#reconcile tbody tr")
        assert row.count() == 1
        assert row.locator(".v1").inner_text() == "4" and row.locator(".v2").inner_text() == "2"
        _wait_focus(page, "paper_c3_2")
        page.keyboard.type("4")  # the paper says 4; the field has the focus
        page.keyboard.press("Enter")
        page.wait_for_url("**/entry/response/*")
        assert page.locator("#status").inner_text() == "đã xác nhận"
        assert "Đã đối chiếu hai lần nhập" in page.locator("#history").inner_text()
    with Session(app.extensions["sipas_engine"]) as session:
        response = session.exec(select(Response)).one()
    assert response.status == "verified"


@pytest.mark.browser
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_an_enumerator_is_denied_a_supervisor_page(app: Flask, world: World) -> None:
    with live_server(app) as base, chromium() as browser:
        page = browser.new_page()  # type: ignore[attr-defined]
        _login(page, base, "lan")
        for path in ("/entry/fieldwork", "/entry/review", "/admin/users"):
            reply = page.goto(base + path)
            assert reply is not None and reply.status == 403
            assert "Fieldwork progress" not in page.content()
