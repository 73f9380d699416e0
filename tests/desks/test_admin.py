"""Can supervisors manage desks, download posters and follow up, and nobody else?"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from survey.models import AuditLog
from tests import factories
from tests.desks.conftest import DeskLink, reload_desk, submit
from tests.desks.test_qr import decode_png


def login(app: Flask, client: FlaskClient, role: str) -> None:
    with Session(app.extensions["sipas_engine"]) as session:
        factories.user(session, role, username=f"u_{role}", password="mật khẩu đủ dài")
        session.commit()
    form = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
    assert token is not None
    done = client.post("/auth/login", data={"username": f"u_{role}",
                                            "password": "mật khẩu đủ dài",
                                            "csrf_token": token.group(1)})
    assert done.status_code == 302


def csrf_of(client: FlaskClient, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match is not None
    return match.group(1)


def test_anonymous_users_are_sent_to_login_and_enumerators_refused(
    app: Flask, client: FlaskClient, desk_link: DeskLink
) -> None:
    for path in ("/desks/", f"/desks/{desk_link.code}", f"/desks/{desk_link.code}/qr.pdf",
                 "/desks/bursts", "/desks/contacts.csv"):
        assert "/auth/login" in client.get(path).headers["Location"]
    login(app, client, "enumerator")
    assert client.get("/desks/").status_code == 403
    assert client.get("/desks/contacts.csv").status_code == 403


def test_analysts_may_not_export_phone_numbers(
    app: Flask, client: FlaskClient, desk_link: DeskLink
) -> None:
    submit(client, desk_link.path, contact_phone="0912345678", contact_consent="yes")
    login(app, client, "analyst")
    refused = client.get("/desks/contacts.csv")
    assert refused.status_code == 403 and b"0912345678" not in refused.get_data()


@pytest.mark.parametrize("role", ["admin", "supervisor"])
def test_staff_add_a_desk_and_see_its_link_and_evaluations(
    app: Flask, client: FlaskClient, desk_link: DeskLink, role: str
) -> None:
    submit(client, desk_link.path, comment="Rất tốt")
    login(app, client, role)
    token = csrf_of(client, "/desks/")
    added = client.post("/desks/", data={"csrf_token": token, "code": "TT-01",
                                         "name": "Trung tâm Phục vụ hành chính công",
                                         "agency": "Tỉnh An Hòa"})
    assert added.status_code == 302 and added.headers["Location"].endswith("/desks/TT-01")
    listing = client.get("/desks/").get_data(as_text=True)
    assert "TT-01" in listing and desk_link.code in listing
    detail = client.get(f"/desks/{desk_link.code}").get_data(as_text=True)
    assert "http://127.0.0.1:5000/d/" in detail and "Rất tốt" in detail
    row = detail.split("<tbody>")[-1].split("</tr>")[0]
    assert "Hộ tịch (khai sinh, kết hôn, khai tử)" in row and "Rất hài lòng" in row  # words
    assert "<td>3</td>" not in row and "<td>5</td>" not in row  # not the answer codes
    again = client.post("/desks/", data={"csrf_token": token, "code": "TT-01", "name": "x"})
    assert "Đã có bộ phận một cửa mã TT-01" in again.get_data(as_text=True)


def test_staff_change_a_desks_name_agency_and_level_and_the_change_is_audited(
    app: Flask, client: FlaskClient, desk_link: DeskLink
) -> None:
    login(app, client, "supervisor")
    path = f"/desks/{desk_link.code}/edit"
    token = csrf_of(client, path)
    bad = client.post(path, data={"csrf_token": token, "name": " ", "agency": "UBND",
                                  "admin_level": "district"})
    assert bad.status_code == 400 and "cần có tên" in bad.get_data(as_text=True)
    assert 'value="UBND"' in bad.get_data(as_text=True)  # what was typed is kept
    forged = client.post(path, data={"csrf_token": token, "name": "X", "admin_level": "galaxy"})
    assert forged.status_code == 400
    saved = client.post(path, data={"csrf_token": token, "name": "Bộ phận Tiếp nhận và Trả kết quả",
                                    "agency": "UBND xã Phú Lâm", "admin_level": "commune"})
    assert saved.status_code == 302
    page = client.get(f"/desks/{desk_link.code}").get_data(as_text=True)
    assert "Bộ phận Tiếp nhận và Trả kết quả" in page and "cấp: xã" in page
    with Session(app.extensions["sipas_engine"]) as session:
        entry = session.exec(select(AuditLog).where(AuditLog.action == "desk.edit")).one()
    assert entry.detail["changes"]["admin_level"]["new"] == "commune"
    assert entry.detail["changes"]["name"]["new"] == "Bộ phận Tiếp nhận và Trả kết quả"
    assert reload_desk(app, desk_link.code).code == desk_link.code  # the QR code still works


def test_rotating_on_screen_retires_the_printed_code(
    app: Flask, client: FlaskClient, desk_link: DeskLink
) -> None:
    login(app, client, "supervisor")
    token = csrf_of(client, f"/desks/{desk_link.code}")
    assert client.post(f"/desks/{desk_link.code}/rotate").status_code == 400  # no CSRF
    asked = client.post(f"/desks/{desk_link.code}/rotate", data={"csrf_token": token})
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Mọi mã QR đã in của bộ phận này" in page  # says so
    assert 'name="confirmed" value="1"' in page and "Hủy" in page
    assert reload_desk(app, desk_link.code).token_version == 1  # nothing changed yet
    done = client.post(f"/desks/{desk_link.code}/rotate",
                       data={"csrf_token": token, "confirmed": "1"})
    assert done.status_code == 302
    assert reload_desk(app, desk_link.code).token_version == 2
    assert client.get(desk_link.path).status_code == 410
    client.post(f"/desks/{desk_link.code}/disable", data={"csrf_token": token})
    assert reload_desk(app, desk_link.code).active is True  # asked first
    client.post(f"/desks/{desk_link.code}/disable", data={"csrf_token": token, "confirmed": "1"})
    assert reload_desk(app, desk_link.code).active is False
    with Session(app.extensions["sipas_engine"]) as session:
        actions = [a.action for a in session.exec(select(AuditLog)).all()]
    assert "desk.rotate" in actions and "desk.disable" in actions


def test_downloads_are_the_desk_qr_code_and_poster(
    app: Flask, client: FlaskClient, desk_link: DeskLink
) -> None:
    login(app, client, "admin")
    png = client.get(f"/desks/{desk_link.code}/qr.png")
    assert png.mimetype == "image/png"
    assert decode_png(png.get_data()) == "http://127.0.0.1:5000" + desk_link.path
    pdf = client.get(f"/desks/{desk_link.code}/qr.pdf")
    assert pdf.mimetype == "application/pdf" and pdf.get_data().startswith(b"%PDF")
    assert "attachment" in pdf.headers["Content-Disposition"]
    assert client.get(f"/desks/{desk_link.code}/qr.svg").mimetype == "image/svg+xml"
    assert client.get(f"/desks/{desk_link.code}/qr.gif").status_code == 404
    assert client.get("/desks/NOPE/qr.png").status_code == 404


def test_contacts_are_exported_only_on_request_and_the_export_is_audited(
    app: Flask, client: FlaskClient, desk_link: DeskLink
) -> None:
    submit(client, desk_link.path, contact_phone="0912 345 678", contact_consent="yes")
    submit(client, desk_link.path)
    login(app, client, "supervisor")
    csv_text = client.get("/desks/contacts.csv").get_data(as_text=True)
    lines = csv_text.strip().splitlines()
    assert lines[0].lstrip("\ufeff").startswith("response_id,desk,created_at,phone")
    assert len(lines) == 2 and "0912345678" in lines[1]
    with Session(app.extensions["sipas_engine"]) as session:
        audit = session.exec(select(AuditLog).where(
            AuditLog.action == "desk.contacts_export")).one()
    assert audit.detail == {"desk": None, "rows": 1} and "0912" not in str(audit.detail)


def test_bursts_page_lists_stuffing(
    app: Flask, client: FlaskClient, desk_link: DeskLink
) -> None:
    for _ in range(6):
        submit(client, desk_link.path)
    login(app, client, "supervisor")
    html = client.get("/desks/bursts").get_data(as_text=True)
    assert desk_link.code in html and "cùng địa chỉ" in html


def test_every_desk_route_declares_who_may_use_it(app: Flask) -> None:
    mine = [rule for rule in app.url_map.iter_rules()
            if rule.endpoint.split(".")[0] in ("collect", "desks")]
    assert len(mine) >= 8
    for rule in mine:
        view = app.view_functions[rule.endpoint]
        assert hasattr(view, "allowed_roles"), rule.endpoint
        public = rule.endpoint.startswith("collect.")
        assert (view.allowed_roles is None) == public, rule.endpoint


def test_the_desk_list_pages_and_searches(app: Flask, client: FlaskClient) -> None:
    with Session(app.extensions["sipas_engine"]) as session:
        for n in range(60):
            factories.desk(session, code=f"MC-{n:03d}", name=f"Bộ phận Một cửa số {n}",
                           agency="UBND huyện Tân Phú" if n % 2 else "UBND xã Phú Lâm")
        session.commit()
    login(app, client, "supervisor")
    first = client.get("/desks/").get_data(as_text=True)
    assert len(re.findall(r'<tr data-desk="', first)) == 50 and 'data-total="60"' in first
    second = client.get("/desks/?page=2").get_data(as_text=True)
    assert len(re.findall(r'<tr data-desk="', second)) == 10
    found = client.get("/desks/?q=số 17").get_data(as_text=True)
    assert re.findall(r'<tr data-desk="([^"]+)"', found) == ["MC-017"]
    by_agency = client.get("/desks/?q=tân phú").get_data(as_text=True)
    assert 'data-total="30"' in by_agency
    add = client.get("/desks/").get_data(as_text=True)
    assert '<select id="admin_level"' in add  # the level is chosen, not typed
