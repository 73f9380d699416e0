"""Fixtures of the reports tests: the demo province and logged-in clients per role."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url
from sqlmodel import Session

from survey.services.demo import build_demo
from tests import factories
from tests.support import copy_database, drop_database

PASSWORD = "mật khẩu đủ dài 123"


@pytest.fixture(scope="session")
def demo_templates(postgres_admin_url: str | None) -> Iterator[dict[str, str]]:
    """Built demo databases of this worker, one per backend, copied for every test.

    Building the demo takes seconds (6 s on PostgreSQL); copying a built one takes a
    fraction of one (a file copy, ``CREATE DATABASE … TEMPLATE``). Every test still gets
    a database of its own, equal to a freshly built demo.
    """
    made: dict[str, str] = {}
    yield made
    if "postgresql" in made:
        drop_database(postgres_admin_url, made["postgresql"])


@pytest.fixture
def demo(app: Flask, engine, db_url: str, demo_templates: dict[str, str],
         postgres_admin_url: str | None, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """The app with the demo province (one round, four desks)."""
    backend = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    app_engine = app.extensions["sipas_engine"]
    if backend not in demo_templates:
        with Session(app_engine) as session:
            factories.published(session)
            assert build_demo(session, secret=b"s" * 32) is not None
            session.commit()
        app_engine.dispose()
        engine.dispose()
        if backend == "sqlite":
            with sqlite3.connect(make_url(db_url).database) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            keep = tmp_path_factory.mktemp("demo") / "demo.db"
            template = f"sqlite:///{keep}"
        else:
            name = f"{make_url(db_url).database}_demo"
            template = make_url(db_url).set(database=name).render_as_string(hide_password=False)
        copy_database(db_url, template, postgres_admin_url)
        demo_templates[backend] = template if backend == "sqlite" else name
        return app
    app_engine.dispose()
    engine.dispose()
    source = demo_templates[backend]
    if backend == "postgresql":
        source = make_url(db_url).set(database=source).render_as_string(hide_password=False)
    copy_database(source, db_url, postgres_admin_url)
    return app


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
