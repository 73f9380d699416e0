"""Is login throttled per account and address, and can the admin manage accounts?"""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from survey.models import AuditLog, User
from survey.services.users import THROTTLE_FAILURES, authenticate
from tests.entry.conftest import PASSWORD, World, csrf, login


def _attempt(client: FlaskClient, username: str, password: str,
             address: str = "10.0.0.1") -> tuple[int, str]:
    token = csrf(client, "/auth/login")
    reply = client.post("/auth/login", data={"username": username, "password": password,
                                             "csrf_token": token},
                        environ_base={"REMOTE_ADDR": address})
    return reply.status_code, reply.get_data(as_text=True)


def test_repeated_failures_lock_that_account_from_that_address_only(
        app: Flask, client: FlaskClient, world: World) -> None:
    for _ in range(THROTTLE_FAILURES):
        status, page = _attempt(client, "lan", "wrong password!")
        assert status == 200 and "Sai tên đăng nhập" in page
    status, page = _attempt(client, "lan", PASSWORD)  # even the right password now waits
    assert status == 429 and ("15 minutes" in page or "15 phút" in page)
    assert _attempt(client, "lan", PASSWORD, address="10.0.0.2")[0] == 302
    assert _attempt(client, "hung", PASSWORD, address="10.0.0.1")[0] == 302


def test_a_successful_login_forgives_earlier_failures(client: FlaskClient, world: World) -> None:
    for _ in range(THROTTLE_FAILURES - 1):
        _attempt(client, "lan", "wrong password!")
    assert _attempt(client, "lan", PASSWORD)[0] == 302
    client.get("/")  # new session for the next attempts
    for _ in range(THROTTLE_FAILURES - 1):
        assert _attempt(client, "lan", "wrong password!")[0] == 200
    assert _attempt(client, "lan", PASSWORD)[0] == 302


def test_admin_adds_disables_and_resets_accounts(app: Flask, client: FlaskClient,
                                                 world: World) -> None:
    login(client, "quantri")
    bad = client.post("/admin/users", data={"username": "X Y", "role": "enumerator",
                                            "password": "short", "csrf_token":
                                            csrf(client, "/admin/users")})
    assert bad.status_code == 422
    assert "tên đăng nhập dài từ 2 đến 63 ký tự" in bad.get_data(as_text=True)
    added = client.post("/admin/users", data={"username": "mai", "role": "enumerator",
                                              "password": "mật khẩu mới 12", "full_name": "Mai",
                                              "csrf_token": csrf(client, "/admin/users")})
    assert added.status_code == 302
    page = client.get("/admin/users").get_data(as_text=True)
    assert '<tr data-user="mai">' in page
    with Session(app.extensions["sipas_engine"]) as session:
        mai = session.exec(select(User).where(User.username == "mai")).one()
    asked = client.post(f"/admin/users/{mai.id}/active",
                        data={"active": "0", "csrf_token": csrf(client, "/admin/users")})
    assert "Khóa tài khoản mai?" in asked.get_data(as_text=True)  # asked before anything
    with Session(app.extensions["sipas_engine"]) as session:
        assert session.get(User, mai.id).active is True  # type: ignore[union-attr]
    client.post(f"/admin/users/{mai.id}/active", data={
        "active": "0", "confirmed": "1", "csrf_token": csrf(client, "/admin/users")})
    asked = client.post(f"/admin/users/{mai.id}/password",
                        data={"csrf_token": csrf(client, "/admin/users")})
    assert "new-password" not in asked.get_data(as_text=True)
    reset = client.post(f"/admin/users/{mai.id}/password",
                        data={"csrf_token": csrf(client, "/admin/users"), "confirmed": "1"})
    password = re.search(r'<code id="new-password">([^<]+)</code>', reset.get_data(as_text=True))
    assert password is not None and len(password.group(1)) >= 10
    assert reset.headers["Cache-Control"] == "no-store"
    with Session(app.extensions["sipas_engine"]) as session:
        assert authenticate(session, "mai", password.group(1)) is None  # disabled
        session.get(User, mai.id).active = True  # type: ignore[union-attr]
        assert authenticate(session, "mai", password.group(1)) is not None
        actions = [a.action for a in session.exec(select(AuditLog).order_by(AuditLog.id))]
    assert actions == ["user_add", "user_disable", "password_reset"]


def test_admin_cannot_disable_their_own_account(app: Flask, client: FlaskClient,
                                                world: World) -> None:
    login(client, "quantri")
    with Session(app.extensions["sipas_engine"]) as session:
        me = session.exec(select(User).where(User.username == "quantri")).one()
    reply = client.post(f"/admin/users/{me.id}/active", data={
        "active": "0", "csrf_token": csrf(client, "/admin/users")}, follow_redirects=True)
    assert "Không thể khóa tài khoản của chính mình" in reply.get_data(as_text=True)


def test_spraying_one_password_over_many_usernames_is_stopped_before_hashing(
        app: Flask, client: FlaskClient, world: World, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Issue 15: one password tried against 60 usernames was checked 60 times."""
    from survey.services.users import ADDRESS_FAILURES
    from survey.views import auth

    checked: list[str] = []
    real = auth.authenticate
    monkeypatch.setattr(auth, "authenticate",
                        lambda db, username, password: checked.append(username) or real(
                            db, username, password))
    for k in range(ADDRESS_FAILURES):
        assert _attempt(client, f"user{k}", "Password123!", address="10.9.9.9")[0] == 200
    assert len(checked) == ADDRESS_FAILURES
    for k in range(ADDRESS_FAILURES, ADDRESS_FAILURES + 10):
        assert _attempt(client, f"user{k}", "Password123!", address="10.9.9.9")[0] == 429
    assert len(checked) == ADDRESS_FAILURES  # no argon2 for a blocked address
    assert _attempt(client, "lan", PASSWORD, address="10.9.9.10")[0] == 302  # others log in


def test_old_login_failures_are_purged(app: Flask, client: FlaskClient, world: World) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlmodel import Session, select

    from survey.models_entry import LoginFailure

    with Session(app.extensions["sipas_engine"]) as session:
        session.add(LoginFailure(username="old", address="10.1.1.1",
                                 at=datetime.now(UTC) - timedelta(days=2)))
        session.commit()
    _attempt(client, "lan", "wrong password!")
    with Session(app.extensions["sipas_engine"]) as session:
        names = [f.username for f in session.exec(select(LoginFailure)).all()]
    assert names == ["lan"]


def test_after_login_the_next_page_is_on_this_site_only(client: FlaskClient,
                                                        world: World) -> None:
    """"//evil.example" and "/\\evil.example" are other sites to a browser: the keyer's own
    work instead (an enumerator lands on paper entry)."""
    for target, lands in (("/entry/review", "/entry/review"), ("//evil.example/x", "/entry/"),
                          ("/\\evil.example", "/entry/"), ("https://evil.example/", "/entry/"),
                          ("/entry/\\..", "/entry/"), ("", "/entry/")):
        client = client.application.test_client()  # logged out
        reply = client.post("/auth/login", query_string={"next": target}, data={
            "username": "lan", "password": PASSWORD, "csrf_token": csrf(client, "/auth/login")})
        assert reply.status_code == 302 and reply.headers["Location"] == lands, target


def test_each_role_lands_where_its_work_is(client: FlaskClient, world: World) -> None:
    for username, lands in (("lan", "/entry/"), ("ha", "/entry/review"), ("anh", "/reports/"),
                            ("quantri", "/")):
        client = client.application.test_client()
        reply = client.post("/auth/login", data={"username": username, "password": PASSWORD,
                                                  "csrf_token": csrf(client, "/auth/login")})
        assert reply.headers["Location"] == lands, username


def test_an_empty_login_form_says_what_is_missing(client: FlaskClient, world: World) -> None:
    reply = client.post("/auth/login", data={"username": "", "password": "",
                                              "csrf_token": csrf(client, "/auth/login")})
    assert reply.status_code == 422
    assert "Hãy nhập tên đăng nhập và mật khẩu" in reply.get_data(as_text=True)
