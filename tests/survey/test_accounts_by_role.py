"""May a supervisor manage enumerators' accounts, and nothing more? (What each role's home page
offers, and that it opens, is tested in test_home.)"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from survey.models import User
from tests import factories
from tests.support import csrf_token, sign_in

PASSWORD = "mật khẩu đủ dài 1"
ROLES = ("admin", "supervisor", "enumerator", "analyst")


@pytest.fixture
def people(app: Flask) -> dict[str, int]:
    with Session(app.extensions["sipas_engine"]) as session:
        factories.published(session)  # as `sipas init` leaves a new installation
        ids = {}
        for role in ROLES:
            ids[role] = factories.user(session, role, username=f"u-{role}",
                                       password=PASSWORD).id
        ids["enumerator2"] = factories.user(session, "enumerator", username="u-lan",
                                            password=PASSWORD).id
        session.commit()
        return ids  # type: ignore[return-value]


def _login(app: Flask, role: str) -> FlaskClient:
    return sign_in(app.test_client(), f"u-{role}", PASSWORD)


def test_a_supervisor_manages_enumerators_only(app: Flask, people: dict[str, int]) -> None:
    client = _login(app, "supervisor")
    page = client.get("/admin/users").get_data(as_text=True)
    listed = set(re.findall(r'data-user="([^"]+)"', page))
    assert listed == {"u-enumerator", "u-lan"}
    assert '<option value="admin">' not in page and '<option value="enumerator">' in page
    token = csrf_token(client, "/admin/users")
    added = client.post("/admin/users", data={"csrf_token": token, "username": "u-new",
                                              "role": "enumerator", "password": PASSWORD})
    assert added.status_code == 302
    forged = client.post("/admin/users", data={"csrf_token": token, "username": "u-boss",
                                               "role": "admin", "password": PASSWORD})
    assert forged.status_code == 403
    for action in ("active", "password", "sessions"):
        assert client.post(f"/admin/users/{people['analyst']}/{action}",
                           data={"csrf_token": token, "active": "0",
                                 "confirmed": "1"}).status_code == 403, action
    reset = client.post(f"/admin/users/{people['enumerator2']}/password",
                        data={"csrf_token": token, "confirmed": "1"})
    assert reset.status_code == 200 and reset.headers["Cache-Control"] == "no-store"
    with Session(app.extensions["sipas_engine"]) as session:
        names = set(session.exec(select(User.username)))
        lan = session.exec(select(User).where(User.username == "u-lan")).one()
    assert "u-new" in names and "u-boss" not in names and lan.must_change_password


def test_the_account_list_searches_by_username_or_name(app: Flask,
                                                       people: dict[str, int]) -> None:
    client = _login(app, "admin")
    found = client.get("/admin/users?q=LAN").get_data(as_text=True)
    assert set(re.findall(r'data-user="([^"]+)"', found)) == {"u-lan"}
    assert 'data-total="1"' in found
