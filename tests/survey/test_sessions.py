"""Can staff sessions be revoked — by logout, a reset, a password change, disabling — and must
a one-time password be replaced before anything else opens?"""

from __future__ import annotations

import re

from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from survey.models import AuditLog, User
from tests import factories

PASSWORD = "mật khẩu đủ dài"


def _user(app: Flask, username: str, role: str = "supervisor") -> None:
    with Session(app.extensions["sipas_engine"]) as session:
        factories.user(session, role, username=username, password=PASSWORD)
        session.commit()


def _csrf(client: FlaskClient, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def _login(app: Flask, username: str, password: str = PASSWORD) -> FlaskClient:
    client = app.test_client()
    done = client.post("/auth/login", data={"username": username, "password": password,
                                            "csrf_token": _csrf(client, "/auth/login")})
    assert done.status_code == 302, done.get_data(as_text=True)[:300]
    return client


def _copy(client: FlaskClient, app: Flask) -> FlaskClient:
    """Another browser holding a copy of this one's session cookie."""
    thief = app.test_client()
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief.set_cookie("session", cookie.value)
    return thief


def _opens(client: FlaskClient, path: str = "/desks/") -> bool:
    return client.get(path).status_code == 200


def test_a_copied_cookie_dies_with_logout(app: Flask) -> None:
    _user(app, "gs")
    client = _login(app, "gs")
    thief = _copy(client, app)
    assert _opens(thief)
    client.post("/auth/logout", data={"csrf_token": _csrf(client, "/desks/")})
    assert not _opens(client) and not _opens(thief)


def test_a_reset_signs_out_everywhere_and_the_one_time_password_must_be_replaced(
    app: Flask,
) -> None:
    _user(app, "boss", "admin")
    _user(app, "gs")
    victim = _login(app, "gs")
    admin = _login(app, "boss")
    with Session(app.extensions["sipas_engine"]) as session:
        uid = session.exec(select(User.id).where(User.username == "gs")).one()
    page = admin.post(f"/admin/users/{uid}/password",
                      data={"csrf_token": _csrf(admin, "/admin/users"), "confirmed": "1"})
    one_time = re.search(r'id="new-password">([^<]+)<', page.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    assert not _opens(victim)  # the old session is gone
    fresh = _login(app, "gs", one_time)
    for path in ("/desks/", "/entry/review", "/"):
        reply = fresh.get(path)
        assert reply.status_code == 302 and reply.headers["Location"].endswith("/auth/password")
    form = _csrf(fresh, "/auth/password")
    wrong = fresh.post("/auth/password", data={"csrf_token": form, "current": "sai",
                                                "new": "mật khẩu mới dài", "again":
                                                "mật khẩu mới dài"})
    assert wrong.status_code == 422 and "Mật khẩu hiện tại không đúng" in wrong.get_data(
        as_text=True)
    done = fresh.post("/auth/password", data={"csrf_token": form, "current": one_time,
                                               "new": "mật khẩu mới dài", "again":
                                               "mật khẩu mới dài"})
    assert done.status_code == 302 and _opens(fresh)  # the session it was changed in stays
    other = app.test_client()
    bad = other.post("/auth/login", data={"username": "gs", "password": one_time,
                                          "csrf_token": _csrf(other, "/auth/login")})
    assert bad.status_code == 200 and "Sai tên đăng nhập" in bad.get_data(as_text=True)
    with Session(app.extensions["sipas_engine"]) as session:
        actions = [a.action for a in session.exec(select(AuditLog)).all()]
    assert "password_reset" in actions and "password_change" in actions


def test_changing_ones_own_password_signs_out_the_other_sessions(app: Flask) -> None:
    _user(app, "gs")
    here, elsewhere = _login(app, "gs"), _login(app, "gs")
    reply = here.post("/auth/password", data={"csrf_token": _csrf(here, "/auth/password"),
                                              "current": PASSWORD, "new": "một mật khẩu khác",
                                              "again": "một mật khẩu khác"})
    assert reply.status_code == 302
    assert _opens(here) and not _opens(elsewhere)
    mismatch = here.post("/auth/password", data={"csrf_token": _csrf(here, "/auth/password"),
                                                 "current": "một mật khẩu khác",
                                                 "new": "aaaaaaaaaaaa", "again": "bbbbbbbbbbbb"})
    assert mismatch.status_code == 422 and "không giống nhau" in mismatch.get_data(as_text=True)


def test_disabling_kills_sessions_and_re_enabling_does_not_revive_them(app: Flask) -> None:
    from survey.services.users import set_active

    _user(app, "gs")
    client = _login(app, "gs")
    with Session(app.extensions["sipas_engine"]) as session:
        set_active(session, "gs", False)
        session.commit()
    assert not _opens(client)
    with Session(app.extensions["sipas_engine"]) as session:
        set_active(session, "gs", True)
        session.commit()
    assert not _opens(client)  # the old cookie stays dead
    assert _opens(_login(app, "gs"))


def test_the_cli_sets_a_one_time_password_and_signs_the_user_out(
    app: Flask, runner: CliRunner, cli_env: dict[str, str]
) -> None:
    from survey.cli import main

    _user(app, "gs")
    client = _login(app, "gs")
    result = runner.invoke(main, ["user", "password", "gs", "--one-time"])
    assert result.exit_code == 0, result.output
    one_time = result.output.strip().rsplit(" ", 1)[1]
    assert not _opens(client)
    fresh = _login(app, "gs", one_time)
    assert fresh.get("/desks/").headers["Location"].endswith("/auth/password")
    missing = runner.invoke(main, ["user", "password", "nobody", "--one-time"])
    assert missing.exit_code == 1 and "no user" in missing.output


def test_an_admin_signs_a_user_out_everywhere(app: Flask) -> None:
    _user(app, "boss", "admin")
    _user(app, "gs")
    phone, office = _login(app, "gs"), _login(app, "gs")
    admin = _login(app, "boss")
    with Session(app.extensions["sipas_engine"]) as session:
        uid = session.exec(select(User.id).where(User.username == "gs")).one()
    asked = admin.post(f"/admin/users/{uid}/sessions",
                       data={"csrf_token": _csrf(admin, "/admin/users")})
    assert asked.status_code == 200 and 'name="confirmed"' in asked.get_data(as_text=True)
    assert _opens(phone)  # nothing happens before the confirmation
    done = admin.post(f"/admin/users/{uid}/sessions",
                      data={"csrf_token": _csrf(admin, "/admin/users"), "confirmed": "1"})
    assert done.status_code == 302
    assert "2 phiên" in admin.get("/admin/users").get_data(as_text=True)
    assert not _opens(phone) and not _opens(office) and _opens(admin)


def test_a_role_change_ends_the_old_sessions(app: Flask, runner: CliRunner,
                                            cli_env: dict[str, str]) -> None:
    """A supervisor made an enumerator must not keep a supervisor's session (issue 15)."""
    from survey.cli import main

    _user(app, "boss", "admin")
    _user(app, "gs")
    old = _login(app, "gs")
    assert _opens(old)
    admin = _login(app, "boss")
    with Session(app.extensions["sipas_engine"]) as session:
        uid = session.exec(select(User.id).where(User.username == "gs")).one()
    asked = admin.post(f"/admin/users/{uid}/role", data={
        "csrf_token": _csrf(admin, "/admin/users"), "role": "enumerator"})
    assert asked.status_code == 200 and 'name="confirmed"' in asked.get_data(as_text=True)
    assert _opens(old)  # nothing before the confirmation
    done = admin.post(f"/admin/users/{uid}/role", data={
        "csrf_token": _csrf(admin, "/admin/users"), "role": "enumerator", "confirmed": "1"})
    assert done.status_code == 302
    assert not _opens(old) and not _opens(old, "/entry/")  # the copied cookie is dead
    fresh = _login(app, "gs")
    assert fresh.get("/desks/").status_code == 403 and _opens(fresh, "/entry/")
    # the CLI twin, with the same effect and audit
    result = runner.invoke(main, ["user", "role", "gs", "supervisor"])
    assert result.exit_code == 0 and "enumerator → supervisor" in result.output
    assert not _opens(fresh, "/entry/")
    bad = runner.invoke(main, ["user", "role", "gs", "wizard"])
    assert bad.exit_code != 0 and "unknown role" in bad.output
    with Session(app.extensions["sipas_engine"]) as session:
        assert len(session.exec(select(AuditLog).where(AuditLog.action == "user.role")).all()) == 2
