"""Is every staff page, rendered in Vietnamese, in Vietnamese only — no English sentence from
the catalogue left untranslated, no raw code (``verified``, ``district``, ``qr``, an item code)
where a person reads, no "vi / en" pair?

Every GET screen of the app is rendered with the demo province for a role that may open it.
Text inside ``<code>`` (file column names a user must type exactly) is left out, and so are a
few names the glossary keeps (e.g. "(PSU)" after its Vietnamese name in the exports text).
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from sqlmodel import Session, select

from survey.models import Desk, Response, SampleUnit, SurveyRound
from survey.models_entry import EntryCase
from survey.services.demo import build_demo
from survey.services.sample.questionnaire_ids import make_questionnaire_id
from tests import factories

PASSWORD = "mật khẩu đủ dài 1"
CATALOGUE = "survey/translations/vi/LC_MESSAGES/messages.po"
# raw codes and English words that never belong in Vietnamese text
RAW = re.compile(r"\b(the|is|are|of|and|not|with|for|this|that|has|have|must|cannot|please|"
                 r"round|desk|keyed|verified|received|rejected|has_issues|held|outcome|"
                 r"province|district|commune|hamlet|weight|qr|paper|reconcile|completed|"
                 r"screened_out|refused|absent|not_found|staff_attitude|sipas_services|"
                 r"desk_evaluation|PSU)\b")
ALLOWED = {("/reports/exports", "PSU"), ("/reports/volumes", "desk")}  # file column names


class VisibleText(HTMLParser):
    """The text a person reads: element text and titles, not scripts, styles or <code>."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "code", "metadata"):  # an SVG's metadata: its maker
            self.hidden += 1
        for name, value in attrs:
            if name in ("title", "aria-label", "placeholder", "alt") and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "code", "metadata"):
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def _visible(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def _english_sentences() -> list[str]:
    with open(CATALOGUE, "rb") as handle:
        catalogue = read_po(handle)
    return [m.id for m in catalogue if isinstance(m.id, str) and m.string and m.string != m.id
            and len(m.id.split()) >= 3 and "%(" not in m.id]


def _pages(app: Flask) -> dict[str, list[str]]:
    with Session(app.extensions["sipas_engine"]) as session:
        response_id = session.exec(select(Response.id).where(Response.mode == "paper")).first()
        desk = session.exec(select(Desk.code)).first()
        round_code = session.exec(select(SurveyRound.code)).first()
    staff = ["/", "/rounds/", f"/rounds/{round_code}", "/sample/", f"/sample/?round={round_code}",
             "/desks/", f"/desks/{desk}", "/desks/bursts", "/entry/review",
             "/entry/review?status=verified", f"/entry/response/{response_id}",
             "/entry/fieldwork", "/entry/assignments", "/admin/users", "/reports/",
             "/reports/exports", "/reports/volumes", "/auth/password", "/no-such-page",
             "__keying__"]
    return {"supervisor": staff, "admin": ["/", "/admin/users"],
            "analyst": ["/", "/reports/", "/reports/exports"],
            "enumerator": ["/", "/entry/"]}


def _waiting_id(app: Flask) -> str:
    with Session(app.extensions["sipas_engine"]) as session:
        stored = set(session.exec(select(Response.questionnaire_id)))
        stored |= set(session.exec(select(EntryCase.questionnaire_id)))
        for unit in session.exec(select(SampleUnit)):
            for serial in range(1, unit.sample_size + 1):
                qid = make_questionnaire_id(unit.round_id, unit.psu_code, serial)
                if qid not in stored:
                    return qid
    raise AssertionError("every demo questionnaire is keyed")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_every_staff_page_in_vietnamese_is_in_vietnamese_only(app: Flask) -> None:
    with Session(app.extensions["sipas_engine"]) as session:
        factories.published(session)
        build_demo(session, secret=b"s" * 32)
        for role in ("admin", "supervisor", "analyst", "enumerator"):
            factories.user(session, role, username=f"vi-{role}", password=PASSWORD)
        session.commit()
    app.config["WTF_CSRF_ENABLED"] = False
    sentences = _english_sentences()
    problems = []
    for role, paths in _pages(app).items():
        client = app.test_client()
        client.post("/auth/login", data={"username": f"vi-{role}", "password": PASSWORD})
        for path in paths:
            if path == "__keying__":  # a keying screen: a demo questionnaire not keyed yet
                reply = client.post("/entry/", data={"kind": "questionnaire",
                                                     "qid": _waiting_id(app)})
                assert reply.status_code == 302, reply.get_data(as_text=True)[-500:]
                path = reply.headers["Location"]
            reply = client.get(path)
            assert reply.status_code in (200, 404), (role, path, reply.status_code)
            html = reply.get_data(as_text=True)
            text = _visible(html)
            for src in re.findall(r'<img src="(/reports/charts/[^"]+)"', html):
                chart = client.get(unescape(src))  # the dashboard's charts are its words too
                assert chart.status_code == 200, (role, src)
                text += " " + _visible(chart.get_data(as_text=True))
            for match in RAW.finditer(text):
                if (path, match.group(0)) not in ALLOWED:
                    problems.append(f"{role} {path}: {match.group(0)!r} in "
                                    f"…{text[max(0, match.start() - 50):match.end() + 30]}…")
            problems += [f"{role} {path}: untranslated {s!r}" for s in sentences if s in text]
    assert not problems, "\n".join(problems[:40])
