"""In Chromium: a keyer's login expires halfway through a questionnaire. Is every answer still
there after logging in again, and does the questionnaire then save whole?"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlmodel import Session, select

from survey.models_entry import Keying, KeyingAnswer
from tests.browser import chromium, live_server
from tests.entry.conftest import PASSWORD, World, full_answers
from tests.entry.test_entry_browser import ORDER, TYPED_WITH_ENTER, Keys, _login, _open_keying
from tests.support import artifact_dir


@pytest.mark.browser
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_pass_survives_an_expired_login(app: Flask, world: World, tmp_path: Path) -> None:
    shots = artifact_dir(tmp_path, "entry")
    answers = full_answers(comment="Cán bộ nhiệt tình")
    with live_server(app) as base, chromium() as browser:
        page = browser.new_page()  # type: ignore[attr-defined]
        _login(page, base, "lan")
        keys = Keys(page)
        _open_keying(page, base, world.qid(6), keys)
        keying_url = page.url
        half = ORDER.index("c1_1")

        def key_fields(codes: list[str]) -> None:
            for code in codes:
                if code == "comment":  # Vietnamese text arrives through the input method
                    page.keyboard.insert_text(answers[code])
                else:
                    keys.type(answers.get(code, ""))
                if code in TYPED_WITH_ENTER:
                    keys.press("Enter")

        key_fields(ORDER[:half])
        page.wait_for_function(  # autosave every few answers
            "() => document.getElementById('draft-state').textContent.includes('bản nháp')")
        app.config["SESSION_IDLE_MINUTES"] = -1  # the keyer's login expires now
        key_fields(ORDER[half:])
        page.wait_for_function(  # an autosave found the login gone: said, with a link
            "() => document.getElementById('draft-state').textContent.includes('hết hạn')")
        keys.press("Enter")  # Save, as the keyer would
        page.wait_for_url("**/auth/login**")
        assert "vẫn được giữ" in page.content()
        app.config["SESSION_IDLE_MINUTES"] = 30
        page.fill("#username", "lan")
        page.fill("#password", PASSWORD)
        page.press("#password", "Enter")
        page.wait_for_url(keying_url)
        assert page.locator("#restored").is_visible()
        page.screenshot(path=str(shots / "keying-restored-after-login.png"), full_page=True)
        for code in ORDER:
            assert page.input_value(f'[name="{code}"]') == answers.get(code, ""), code
        page.click("#save")
        page.wait_for_url(base + "/entry/")
    with Session(app.extensions["sipas_engine"]) as session:
        keying = session.exec(select(Keying)).one()
        stored = {a.item_code: a.value for a in session.exec(select(KeyingAnswer))}
    assert keying.state == "done" and keying.draft is None
    assert stored == {k: v for k, v in answers.items() if k != "outcome"}
