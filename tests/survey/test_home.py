"""Does the home page serve the demo, in Vietnamese first, with security headers?"""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from survey.services.demo import build_demo
from tests import factories


def _demo(app: Flask) -> None:
    with Session(app.extensions["sipas_engine"]) as session:
        factories.published(session)
        assert build_demo(session, secret=b"s" * 32) is not None
        session.commit()


def test_home_shows_the_demo_in_vietnamese(app: Flask, client: FlaskClient) -> None:
    _demo(app)
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Chỉ số hài lòng về sự phục vụ hành chính" in html
    assert '<html lang="vi">' in html
    assert "Phiếu khảo sát hộ gia đình</dt>" not in html  # no live counts for the public
    _login(app, client)
    staff = client.get("/").get_data(as_text=True)
    households = re.search(r"Phiếu khảo sát hộ gia đình</dt><dd>(\d+)</dd>", staff)
    assert households is not None and int(households.group(1)) >= 200


def test_english_switch_sticks_for_the_session(app: Flask, client: FlaskClient) -> None:
    html = client.get("/?lang=en").get_data(as_text=True)
    assert "Citizen satisfaction with public administrative services" in html
    assert "Citizen satisfaction" in client.get("/").get_data(as_text=True)


def test_security_headers_are_set(client: FlaskClient) -> None:
    headers = client.get("/").headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]


def test_login_needs_csrf_and_the_right_password(app: Flask, client: FlaskClient) -> None:
    with Session(app.extensions["sipas_engine"]) as session:
        factories.user(session, "analyst", username="lan", password="mật khẩu đủ dài")
        session.commit()
    no_token = client.post("/auth/login", data={"username": "lan", "password": "mật khẩu đủ dài"})
    assert no_token.status_code == 400
    form = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
    assert token is not None
    wrong = client.post("/auth/login", data={"username": "lan", "password": "sai mật khẩu",
                                             "csrf_token": token.group(1)})
    assert "Sai tên đăng nhập hoặc mật khẩu" in wrong.get_data(as_text=True)
    right = client.post("/auth/login", data={"username": "lan", "password": "mật khẩu đủ dài",
                                             "csrf_token": token.group(1)})
    assert right.status_code == 302
    assert "lan (phân tích)" in client.get("/").get_data(as_text=True)


def _login(app: Flask, client: FlaskClient) -> None:
    with Session(app.extensions["sipas_engine"]) as session:
        factories.user(session, "analyst", username="an", password="mật khẩu đủ dài")
        session.commit()
    form = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
    assert token is not None
    response = client.post("/auth/login", data={"username": "an", "password": "mật khẩu đủ dài",
                                                "csrf_token": token.group(1)})
    assert response.status_code == 302


def test_an_idle_session_is_logged_out(app: Flask, client: FlaskClient) -> None:
    _login(app, client)
    assert "an (phân tích)" in client.get("/").get_data(as_text=True)
    with client.session_transaction() as sess:
        sess["seen_at"] -= 31 * 60
    assert "an (phân tích)" not in client.get("/").get_data(as_text=True)


def test_a_session_older_than_its_lifetime_is_logged_out(app: Flask, client: FlaskClient) -> None:
    _login(app, client)
    client.get("/")
    with client.session_transaction() as sess:
        sess["login_at"] -= 9 * 3600
    assert "an (phân tích)" not in client.get("/").get_data(as_text=True)


def test_session_cookie_is_httponly_and_samesite(app: Flask, client: FlaskClient) -> None:
    _login(app, client)
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    assert "object-src 'none'" in client.get("/").headers["Content-Security-Policy"]


def test_each_role_sees_links_to_screens_that_exist(app: Flask, client: FlaskClient) -> None:
    """The home page lists, per role, the screens that role works in — and they open."""
    expected = {
        "admin": ["/admin/users", "/desks/", "/entry/assignments"],
        "supervisor": ["/rounds/", "/sample/", "/admin/users", "/desks/", "/entry/review",
                       "/entry/fieldwork"],
        "enumerator": ["/entry/"],
        "analyst": ["/reports/"],
    }
    with Session(app.extensions["sipas_engine"]) as session:
        factories.published(session)  # what `sipas init` does; no survey round yet
        for role in expected:
            factories.user(session, role, username=f"u-{role}", password="mật khẩu đủ dài")
        session.commit()
    for role, paths in expected.items():
        page = client.get("/auth/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        assert token is not None
        client.post("/auth/login", data={"username": f"u-{role}", "password": "mật khẩu đủ dài",
                                         "csrf_token": token.group(1)})
        home = client.get("/").get_data(as_text=True)
        links = re.findall(r'<ul class="links" id="my-links">(.*?)</ul>', home, re.S)
        assert links, role
        hrefs = re.findall(r'href="([^"]+)"', links[0])
        for path in paths:
            assert path in hrefs, (role, path, hrefs)
        for href in hrefs:
            assert client.get(href).status_code == 200, (role, href)
        client.post("/auth/logout", data={"csrf_token": token.group(1)})
        client.delete_cookie("session")
