"""Fixtures of the reports tests: logged-in clients per role (the demo province, ``demo``,
is in tests/conftest.py: other folders' tests use it too)."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from tests import factories

PASSWORD = "mật khẩu đủ dài 123"


def login(app: Flask, client: FlaskClient, role: str) -> FlaskClient:
    """Create a user with ``role`` and log the client in through the real form (CSRF)."""
    name = f"{role}_reports"
    with Session(app.extensions["sipas_engine"]) as session:
        factories.user(session, role, username=name, password=PASSWORD)
        session.commit()
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token is not None
    done = client.post("/auth/login", data={"username": name, "password": PASSWORD,
                                            "csrf_token": token.group(1)})
    assert done.status_code == 302
    return client


@pytest.fixture
def analyst(demo: Flask, client: FlaskClient) -> FlaskClient:
    return login(demo, client, "analyst")
