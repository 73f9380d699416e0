"""Can a supervisor run a round's desk work in the browser — create it, enter the listing
counts, compute and check the weights, publish with a reason — with the CLI's rules and audit?"""

from __future__ import annotations

import io
import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from survey.models import AuditLog, SampleUnit, SurveyRound
from survey.services.sample.rounds import get_round
from survey.services.sample.weights import compute_weights
from tests import factories
from tests.sample.conftest import add_fieldwork
from tests.support import csrf_token, sign_in

PASSWORD = "mật khẩu đủ dài 1"


def _login(app: Flask, client: FlaskClient, role: str) -> None:
    with Session(app.extensions["sipas_engine"]) as session:
        factories.user(session, role, username=f"u_{role}", password=PASSWORD)
        session.commit()
    sign_in(client, f"u_{role}", PASSWORD)


def test_rounds_are_for_supervisors_and_admins(app: Flask, client: FlaskClient) -> None:
    assert client.get("/rounds/").status_code == 302
    _login(app, client, "analyst")
    assert client.get("/rounds/").status_code == 403


def test_creating_a_round_refuses_bad_input_in_one_language(app: Flask,
                                                            client: FlaskClient) -> None:
    _login(app, client, "supervisor")
    token = csrf_token(client, "/rounds/")
    bad_year = client.post("/rounds/", data={"csrf_token": token, "code": "2026",
                                             "name": "Khảo sát 2026", "year": "²⁰²⁶"})
    page = bad_year.get_data(as_text=True)
    assert bad_year.status_code == 400 and "Năm phải từ 2000 đến 2100" in page
    assert 'value="Khảo sát 2026"' in page  # what was typed stays in the form
    made = client.post("/rounds/", data={"csrf_token": token, "code": "2026",
                                         "name": "Khảo sát 2026", "year": "2026"})
    assert made.status_code == 302 and made.headers["Location"].endswith("/rounds/2026")
    again = client.post("/rounds/", data={"csrf_token": token, "code": "2026",
                                          "name": "Lần nữa", "year": "2026"})
    assert again.status_code == 400 and "Đã có đợt khảo sát" in again.get_data(as_text=True)
    with Session(app.extensions["sipas_engine"]) as session:
        entry = session.exec(select(AuditLog).where(AuditLog.action == "round.create")).one()
        assert entry.user_id is not None
    assert client.get("/rounds/nope").status_code == 404


def test_listing_weights_and_publishing_from_the_screen(
        app: Flask, client: FlaskClient, drawn: Callable[..., str]) -> None:
    code = drawn()
    engine = app.extensions["sipas_engine"]
    with Session(engine) as session:
        add_fieldwork(session, code, lambda su, k: "completed" if k % 4 else "refused")
        units = session.exec(select(SampleUnit)).all()
        for su in units:
            su.listed_persons = None  # as drawn: the field has not reported yet
            session.add(su)
        session.commit()
        psus = [su.psu_code for su in units]
    _login(app, client, "supervisor")
    page = f"/rounds/{code}"
    token = csrf_token(client, page)
    refused = client.post(page + "/weights", data={"csrf_token": token})
    assert refused.status_code == 400
    assert "chưa có số người trong danh sách" in refused.get_data(as_text=True)
    listing = "psu;listed\r\n" + "".join(f"{p};{100 + i}\r\n" for i, p in enumerate(psus))
    saved = client.post(page + "/listing", content_type="multipart/form-data", data={
        "csrf_token": token, "listing": (io.BytesIO(listing.encode("utf-8-sig")), "l.csv")})
    assert saved.status_code == 302
    computed = client.post(page + "/weights", data={"csrf_token": token, "trim": "3,5"})
    assert computed.status_code == 302, computed.get_data(as_text=True)[-800:]
    shown = client.get(page).get_data(as_text=True)
    with Session(engine) as session:
        # the same computation from the CLI's service gives the figure on the page
        expected = compute_weights(session, code, trim=3.5)
        session.rollback()
    deff = re.search(r'id="kish-deff">([\d.,]+)<', shown)
    assert deff is not None
    assert float(deff.group(1).replace(".", "").replace(",", ".")) == round(expected.kish_deff, 3)
    assert 'id="weights-quantiles"' in shown
    wrong = client.post(page + "/weights", content_type="multipart/form-data", data={
        "csrf_token": token, "margins": (io.BytesIO(b"variable,value,total\nplanet,earth,9\n"),
                                         "dan-so.csv")})
    said = wrong.get_data(as_text=True)
    assert wrong.status_code == 400 and "dan-so.csv" in said and "planet" in said
    assert "/tmp/" not in said  # the uploaded file is named, not a temporary path
    raked = client.post(page + "/weights", content_type="multipart/form-data", data={
        "csrf_token": token, "margins": (io.BytesIO(
            "variable;value;total\r\nurban_rural;urban;1000\r\nurban_rural;rural;2000\r\n"
            .encode("utf-8-sig")), "dan-so.csv")})
    assert raked.status_code == 302, raked.get_data(as_text=True)[-800:]
    shown = client.get(page).get_data(as_text=True)
    table = shown.split('id="weights-margins"')[1].split("</table>")[0]
    assert 'data-margin="urban_rural=urban"' in table and 'data-margin="urban_rural=rural"' in table
    assert '<td class="achieved">1.000</td>' in table  # reached, in Vietnamese digits
    with Session(engine) as session:
        entry = session.exec(select(AuditLog).where(AuditLog.action == "weights.compute")
                             .order_by(AuditLog.id.desc())).first()  # type: ignore[union-attr]
        assert entry is not None and entry.detail["margins"] == "dan-so.csv"
    no_reason = client.post(page + "/publish", data={"csrf_token": token, "reason": " "})
    assert no_reason.status_code == 400
    ask = client.post(page + "/publish", data={"csrf_token": token, "reason": "Đã kiểm tra"})
    assert ask.status_code == 200 and 'name="confirmed"' in ask.get_data(as_text=True)
    with Session(engine) as session:
        assert get_round(session, code).status == "open"  # nothing until confirmed
    done = client.post(page + "/publish", data={"csrf_token": token, "reason": "Đã kiểm tra",
                                                "confirmed": "1"})
    assert done.status_code == 302
    with Session(engine) as session:
        round_ = session.exec(select(SurveyRound).where(SurveyRound.code == code)).one()
        assert round_.status == "published"
        entry = session.exec(select(AuditLog).where(AuditLog.action == "round.publish")).one()
        assert entry.reason == "Đã kiểm tra" and entry.user_id is not None
    frozen = client.post(page + "/listing", content_type="multipart/form-data", data={
        "csrf_token": token, "listing": (io.BytesIO(listing.encode()), "l.csv")})
    assert frozen.status_code == 400 and "đã công bố" in frozen.get_data(as_text=True)
