"""Are the tables people actually have accepted — CSV of any separator, with or without BOM, and
Excel workbooks — with a template to download for each upload, and a clear refusal otherwise?"""

from __future__ import annotations

import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import Workbook, load_workbook
from sqlalchemy import func
from sqlmodel import Session, select

from survey.messages import UserError
from survey.models import AdminUnit
from survey.services.data.csv_text import csv_records
from survey.services.data.uploads import TEMPLATES, template_csv, template_xlsx, upload_text
from tests import factories
from tests.sample.conftest import frame_csv
from tests.support import csrf_token, sign_in

PASSWORD = "mật khẩu đủ dài 1"


def _workbook(rows: list[list[object]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _login(app: Flask, role: str) -> FlaskClient:
    with Session(app.extensions["sipas_engine"]) as session:
        factories.user(session, role, username=f"up-{role}", password=PASSWORD)
        session.commit()
    return sign_in(app.test_client(), f"up-{role}", PASSWORD)


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_each_template_reads_back_as_the_same_table(name: str) -> None:
    as_csv = csv_records(template_csv(name).decode("utf-8"))
    as_xlsx = csv_records(upload_text(template_xlsx(name), f"{name}.xlsx"))
    assert as_csv == as_xlsx and as_csv[0] == list(TEMPLATES[name][0])
    sheet = load_workbook(io.BytesIO(template_xlsx(name))).active
    assert all(c.data_type == "s" for row in sheet.iter_rows() for c in row if c.value)


def test_workbook_cells_become_the_text_a_person_typed() -> None:
    from datetime import date

    text = upload_text(_workbook([["psu", "listed", "when"], ["0012", 240.0, date(2025, 7, 1)],
                                  ["0013", 185, None]]), "x.xlsx")
    assert csv_records(text) == [["psu", "listed", "when"], ["0012", "240", "2025-07-01"],
                                 ["0013", "185", ""]]  # padded to the header


@pytest.mark.parametrize("raw, name, message", [
    (b"\xd0\xcf\x11\xe0 old excel", "khung.xls", ".xls"),
    (b"PK\x03\x04 not really a zip", "khung.xlsx", "Excel"),
    ("ma,ten,Đồng\n".encode("utf-16"), "khung.csv", "UTF-8"),
])
def test_unreadable_files_are_refused_with_a_reason(raw: bytes, name: str, message: str) -> None:
    with pytest.raises(UserError, match=re.escape(message)):
        upload_text(raw, name)


def test_templates_download_for_staff_only(app: Flask) -> None:
    client = _login(app, "supervisor")
    for fmt in ("csv", "xlsx"):
        reply = client.get(f"/uploads/templates/frame.{fmt}")
        assert reply.status_code == 200 and "sipas-frame" in reply.headers["Content-Disposition"]
    assert client.get("/uploads/templates/passwords.csv").status_code == 404
    assert _login(app, "enumerator").get("/uploads/templates/frame.csv").status_code == 403


def test_the_frame_can_be_imported_from_an_excel_workbook(app: Flask) -> None:
    client = _login(app, "supervisor")
    rows = [line.split(",") for line in frame_csv().strip().splitlines()]
    reply = client.post("/sample/frame", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(client, "/sample/"),
        "frame": (io.BytesIO(_workbook(rows)), "khung-mau.xlsx")})
    assert reply.status_code == 302, reply.get_data(as_text=True)[-1500:]
    with Session(app.extensions["sipas_engine"]) as session:
        assert session.exec(select(func.count()).select_from(AdminUnit)).one() == len(rows) - 1
    bad = client.post("/sample/frame", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(client, "/sample/"),
        "frame": (io.BytesIO(b"PK\x03\x04junk"), "khung-mau.xlsx")})
    assert bad.status_code == 400 and "tệp Excel" in bad.get_data(as_text=True)
