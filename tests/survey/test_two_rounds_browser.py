"""In Chromium, without any CLI: can a province run two consecutive rounds?

A supervisor adds two enumerators, creates round 2025, imports the frame and draws the sample;
the enumerators key and blind-second-key the paper; the supervisor reconciles a mismatch,
enters the listing counts and computes the weights. Round 2026 is drawn while one 2025
questionnaire is still on paper: that leftover is keyed into 2025 and new paper into 2026.
2025 is published (with a reason, after a confirmation), 2026 weighted, and an analyst
compares 2026 with 2025 on the dashboard. Screenshots of each stage are kept as artifacts.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, select

from survey.models import Response, SampleUnit, SurveyRound
from tests import factories
from tests.browser import chromium, live_server
from tests.entry.conftest import full_answers
from tests.entry.test_entry_browser import ORDER, TYPED_WITH_ENTER, Keys, _open_keying
from tests.sample.conftest import frame_csv
from tests.support import artifact_dir

PASSWORD = "mật khẩu đủ dài 1"


class Walk:
    """One browser tab, the live server and the screenshots folder."""

    def __init__(self, page: Any, base: str, shots: Path) -> None:
        self.page, self.base, self.shots, self.n = page, base, shots, 0

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)

    def shot(self, name: str) -> None:
        self.n += 1
        self.page.screenshot(path=str(self.shots / f"{self.n:02d}-{name}.png"), full_page=True)

    def login(self, username: str) -> None:
        self.go("/auth/login")
        self.page.fill("#username", username)
        self.page.fill("#password", PASSWORD)
        self.page.press("#password", "Enter")
        self.page.wait_for_url(lambda url: "/auth/login" not in url)

    def logout(self) -> None:
        self.page.click('form[action="/auth/logout"] button')
        self.page.wait_for_load_state()

    def submit(self, form: str) -> None:
        with self.page.expect_navigation():
            self.page.click(f"{form} button[type=submit]")

    def upload(self, field: str, name: str, text: str) -> None:
        self.page.set_input_files(field, files=[{"name": name, "mimeType": "text/csv",
                                                 "buffer": text.encode("utf-8-sig")}])

    def key(self, qid: str, answers: dict[str, str]) -> None:
        """Key a whole questionnaire from the keyboard, as on the paper."""
        keys = Keys(self.page)
        _open_keying(self.page, self.base, qid, keys)
        for code in ORDER:
            if code == "comment":
                self.page.keyboard.insert_text(answers[code])
            else:
                keys.type(answers.get(code, ""))
            if code in TYPED_WITH_ENTER:
                keys.press("Enter")
        keys.press("Enter")  # on Save
        self.page.wait_for_url(self.base + "/entry/")

    def mine(self) -> list[str]:
        """The questionnaire IDs still on paper on this enumerator's list."""
        self.go("/entry/")
        text = " ".join(self.page.locator("#my-assignments .waiting").all_inner_texts())
        return re.findall(r"\d\d-\d{4}-\d{3}-\d", text)


def _draw(walk: Walk, round_code: str, seed: str) -> None:
    walk.go("/sample/")
    walk.page.select_option("select#round", round_code)
    walk.page.fill("#hamlets_per_stratum", "2")
    walk.page.fill("#per_hamlet", "2")
    walk.page.fill("#seed", seed)
    walk.page.fill("#enumerators", "dtv1,dtv2")
    with walk.page.expect_navigation():
        walk.page.click('form[action="/sample/draw"] button[type=submit]')
    assert walk.page.locator(".flash.success").count() == 1, walk.page.content()[-2000:]


def _weights(walk: Walk, app: Flask, round_code: str) -> None:
    with Session(app.extensions["sipas_engine"]) as session:
        round_ = session.exec(select(SurveyRound).where(SurveyRound.code == round_code)).one()
        psus = [u.psu_code for u in session.exec(select(SampleUnit).where(
            SampleUnit.round_id == round_.id))]
    walk.go(f"/rounds/{round_code}")
    walk.upload("#listing", "listing.csv",
                "psu;listed\r\n" + "".join(f"{p};{40 + i}\r\n" for i, p in enumerate(psus)))
    walk.submit("#listing-form")
    walk.submit("#weights-form")
    assert walk.page.locator("#kish-deff").count() == 1, walk.page.content()[-2000:]


def _stored(app: Flask) -> dict[str, list[tuple[str, str]]]:
    with Session(app.extensions["sipas_engine"]) as session:
        rows = session.exec(select(Response, SurveyRound.code).join(
            SurveyRound, SurveyRound.id == Response.round_id)).all()
    out: dict[str, list[tuple[str, str]]] = {}
    for response, code in rows:
        out.setdefault(code, []).append((response.questionnaire_id or "", response.status))
    return {k: sorted(v) for k, v in out.items()}


@pytest.mark.browser
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_two_rounds_in_the_browser(app: Flask, tmp_path: Path) -> None:
    shots = artifact_dir(tmp_path, "two-rounds")
    with Session(app.extensions["sipas_engine"]) as session:
        factories.published(session)  # what `sipas init` leaves
        factories.user(session, "supervisor", username="gs", password=PASSWORD)
        factories.user(session, "analyst", username="pt", password=PASSWORD)
        session.commit()
    same, other = full_answers(), full_answers()
    other["c1_1"] = "2"  # a keying error on one questionnaire
    with live_server(app) as base, chromium() as browser:
        walk = Walk(browser.new_page(), base, shots)  # type: ignore[attr-defined]
        # --- the supervisor sets up round 2025 ---------------------------------------
        walk.login("gs")
        for name in ("dtv1", "dtv2"):
            walk.go("/admin/users")
            walk.page.fill("#username", name)
            walk.page.fill("#full_name", f"Điều tra viên {name[-1]}")
            walk.page.select_option("#role", "enumerator")
            walk.page.fill("#password", PASSWORD)
            walk.submit("#add-user")
        walk.go("/rounds/")
        walk.page.fill("#code", "2025")
        walk.page.fill("#name", "Khảo sát SIPAS 2025")
        walk.page.fill("#year", "2025")
        walk.submit("#new-round")
        walk.go("/sample/")
        walk.upload("#frame", "khung-mau.csv", frame_csv(districts=1, communes=1, hamlets=4))
        with walk.page.expect_navigation():
            walk.page.click('form[action="/sample/frame"] button[type=submit]')
        _draw(walk, "2025", "7")
        walk.shot("2025-drawn")
        walk.logout()
        # --- first and blind second keying ------------------------------------------
        walk.login("dtv1")
        a1, a2 = walk.mine()
        walk.key(a1, same)
        walk.key(a2, same)
        walk.logout()
        walk.login("dtv2")
        b1, b2 = walk.mine()
        walk.key(b1, same)
        walk.key(a1, same)  # second keyings: someone else's paper
        walk.key(a2, same)
        walk.logout()
        walk.login("dtv1")
        walk.key(b1, other)  # disagrees with dtv2's first keying on c1_1
        walk.logout()
        # --- reconcile, weights, and round 2026 while b2 is still on paper --------------
        walk.login("gs")
        walk.go("/entry/review")
        walk.page.click("#mismatches a")
        walk.page.wait_for_selector("#reconcile")
        walk.page.fill("#paper-c1_1", same["c1_1"])
        walk.shot("2025-reconcile")
        with walk.page.expect_navigation():
            walk.page.click("#reconcile button[type=submit]")
        _weights(walk, app, "2025")
        walk.go("/rounds/")
        walk.page.fill("#code", "2026")
        walk.page.fill("#name", "Khảo sát SIPAS 2026")
        walk.page.fill("#year", "2026")
        walk.submit("#new-round")
        _draw(walk, "2026", "8")
        walk.logout()
        # --- the leftover 2025 paper and new 2026 paper ------------------------------
        walk.login("dtv2")
        leftover = [q for q in walk.mine() if q == b2]
        assert leftover == [b2], "the 2025 leftover is no longer on dtv2's list"
        walk.key(b2, same)
        new = [q for q in walk.mine() if q != b2]
        walk.shot("2026-two-rounds-on-the-list")
        walk.logout()
        walk.login("dtv1")
        walk.key(b2, same)
        c_ids = walk.mine()
        walk.logout()
        # both hamlets of 2026 get a verified questionnaire (one each enumerator's list)
        firsts = [new[0], c_ids[0]]
        for keyer, qids in (("dtv1", [firsts[1]]), ("dtv2", [firsts[0]])):
            walk.login(keyer)
            for q in qids:
                walk.key(q, same)
            walk.logout()
        for keyer, qids in (("dtv1", [firsts[0]]), ("dtv2", [firsts[1]])):
            walk.login(keyer)
            for q in qids:
                walk.key(q, same)
            walk.logout()
        # --- publish 2025, weight 2026 -----------------------------------------------
        walk.login("gs")
        _weights(walk, app, "2025")
        walk.page.fill("#reason", "Đã xác nhận toàn bộ phiếu, đã kiểm tra trọng số")
        walk.submit("#publish-form")
        assert walk.page.locator('input[name="confirmed"]').count() == 1
        walk.shot("2025-publish-confirm")
        with walk.page.expect_navigation():
            walk.page.click("form button[type=submit] >> nth=-1")
        assert "đã công bố" in walk.page.locator("#round-status").inner_text()
        _weights(walk, app, "2026")
        walk.shot("2026-weights")
        walk.logout()
        # --- the analyst compares 2026 with 2025 -------------------------------------
        walk.login("pt")
        assert walk.page.url.endswith("/reports/")
        walk.go("/reports/?round=2026&min_n=1")
        walk.shot("2026-compared-with-2025")
        compare = walk.page.content()
        assert "2025" in compare and 'id="sipas-index"' in compare
        assert "Chưa có đợt khảo sát trước" not in compare
    stored = _stored(app)
    assert [s for _q, s in stored["2025"]] == ["verified"] * 4
    assert {q for q, _s in stored["2025"]} == {a1, a2, b1, b2}
    assert {q for q, _s in stored["2026"]} == set(firsts)
    assert all(q.startswith("02-") for q in firsts) and b2.startswith("01-")
