"""Can a supervisor import a frame, draw a round and download its lists on the web screen?"""

from __future__ import annotations

import io
import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlmodel import Session, select

from survey.models import AdminUnit, SampleUnit
from tests import factories
from tests.sample.conftest import frame_csv

PASSWORD = "mật khẩu đủ dài 1"


def _token(client: FlaskClient, path: str) -> str:
    found = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"',
                      client.get(path).get_data(as_text=True))
    assert found is not None
    return found.group(1)


def _login(app: Flask, client: FlaskClient, role: str) -> None:
    with Session(app.extensions["sipas_engine"]) as session:
        factories.user(session, role, username=f"u_{role}", password=PASSWORD)
        factories.user(session, "enumerator", username="lan", password=PASSWORD)
        factories.survey_round(session, code="2026", year=2026)
        session.commit()
    token = _token(client, "/auth/login")
    reply = client.post("/auth/login", data={"username": f"u_{role}", "password": PASSWORD,
                                              "csrf_token": token})
    assert reply.status_code == 302


def _count(app: Flask, model: type) -> int:
    with Session(app.extensions["sipas_engine"]) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def test_only_supervisors_and_admins_see_the_sample_screen(
    app: Flask, client: FlaskClient
) -> None:
    assert client.get("/sample/").status_code == 302
    _login(app, client, "enumerator")
    assert client.get("/sample/").status_code == 403


def test_import_draw_and_download_from_the_screen(app: Flask, client: FlaskClient) -> None:
    _login(app, client, "supervisor")
    token = _token(client, "/sample/")
    bad = client.post("/sample/frame", data={
        "csrf_token": token,
        "frame": (io.BytesIO((frame_csv() + "9001,X,district,90,,,,,,\n").encode()), "k.csv")},
        content_type="multipart/form-data")
    assert bad.status_code == 400
    assert "dòng 36: mã &#39;9001&#39; bị trùng" in bad.get_data(as_text=True)
    assert _count(app, AdminUnit) == 0
    good = client.post("/sample/frame", data={
        "csrf_token": token, "frame": (io.BytesIO(frame_csv().encode()), "k.csv")},
        content_type="multipart/form-data")
    assert good.status_code == 302 and _count(app, AdminUnit) == 34
    refused = client.post("/sample/draw", data={
        "csrf_token": token, "round": "2026", "strata_level": "district",
        "hamlets_per_stratum": "9", "per_hamlet": "10"})
    assert refused.status_code == 400 and "có ít thôn/ấp hơn" in refused.get_data(as_text=True)
    drawn = client.post("/sample/draw", data={
        "csrf_token": token, "round": "2026", "strata_level": "district",
        "hamlets_per_stratum": "2", "per_hamlet": "10", "seed": "4", "enumerators": "lan"})
    assert drawn.status_code == 302 and _count(app, SampleUnit) == 6
    page = client.get("/sample/?round=2026").get_data(as_text=True)
    assert "Ấp Bàu Sen" in page and "01-0001-001-" in page
    csv_reply = client.get("/sample/2026/fieldwork.csv")
    assert csv_reply.status_code == 200 and csv_reply.data.decode("utf-8-sig").count("\n") == 61
    pdf = client.get("/sample/2026/fieldwork/lan.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert client.get("/sample/2026/fieldwork/nobody.pdf").status_code == 404
    assert client.get("/sample/9999/fieldwork.csv").status_code == 404


def test_a_redraw_needs_a_reason_and_a_confirmation(app: Flask, client: FlaskClient) -> None:
    from survey.models import AuditLog

    _login(app, client, "supervisor")
    token = _token(client, "/sample/")
    client.post("/sample/frame", content_type="multipart/form-data", data={
        "csrf_token": token, "frame": (io.BytesIO(frame_csv().encode()), "k.csv")})
    form = {"csrf_token": token, "round": "2026", "strata_level": "district",
            "hamlets_per_stratum": "2", "per_hamlet": "10", "seed": "4"}
    assert client.post("/sample/draw", data=form).status_code == 302
    with Session(app.extensions["sipas_engine"]) as session:
        before = sorted(u.unit_id for u in session.exec(select(SampleUnit)))
    no_reason = client.post("/sample/draw", data={**form, "seed": "5", "replace": "1"})
    assert no_reason.status_code == 400 and "cần có lý do" in no_reason.get_data(as_text=True)
    ask = client.post("/sample/draw", data={**form, "seed": "5", "replace": "1",
                                            "reason": "Khung mẫu mới của Cục Thống kê"})
    page = ask.get_data(as_text=True)
    assert ask.status_code == 200 and 'name="confirmed"' in page and "Chọn lại mẫu" in page
    with Session(app.extensions["sipas_engine"]) as session:
        assert sorted(u.unit_id for u in session.exec(select(SampleUnit))) == before
    done = client.post("/sample/draw", data={**form, "seed": "5", "replace": "1",
                                             "reason": "Khung mẫu mới của Cục Thống kê",
                                             "confirmed": "1"})
    assert done.status_code == 302
    with Session(app.extensions["sipas_engine"]) as session:
        redraw = [a for a in session.exec(select(AuditLog).where(AuditLog.action ==
                                                                   "sample.draw"))][-1]
    assert redraw.reason == "Khung mẫu mới của Cục Thống kê" and redraw.detail["redraw"]
