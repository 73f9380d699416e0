"""Desk fixtures: a published desk form, a desk, its link, and a citizen filling it in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from survey.models import Desk
from survey.services.desks.links import desk_token
from tests import factories

GOOD_ANSWERS = {
    "service_field": "3", "overall": "5", "on_time": "1", "staff_attitude": "4",
    "visits": "1", "posted_procedures": "9", "feedback_handling": "5",
    "comment": "Cán bộ nhiệt tình",
}  # fmt: skip


@pytest.fixture(autouse=True)
def _no_shared_limiter_storage(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests count requests from zero: never share a developer's Redis counters."""
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("SIPAS_TRUSTED_PROXIES", raising=False)


@dataclass
class DeskLink:
    code: str
    path: str


@pytest.fixture
def desk_link(app: Flask) -> DeskLink:
    """A published desk form and an active desk; the path of its evaluation link."""
    with Session(app.extensions["sipas_engine"]) as session:
        factories.published(session, "desk_evaluation")
        desk = factories.desk(session, name="Bộ phận Một cửa xã Phú Lâm", agency="UBND xã Phú Lâm")
        session.commit()
        return DeskLink(desk.code, "/d/" + desk_token(app.config["SECRET_KEY"], desk))


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match is not None, f"hidden field {name} missing"
    return match.group(1)


def open_form(client: FlaskClient, path: str) -> dict[str, str]:
    """GET the form; return the hidden fields a browser would post back."""
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    html = page.get_data(as_text=True)
    return {name: hidden(html, name) for name in ("form_token", "iv")}


def submit(client: FlaskClient, path: str, **fields: str):  # type: ignore[no-untyped-def]
    data = {**open_form(client, path), **GOOD_ANSWERS, **fields}
    return client.post(path, data=data), data


def reload_desk(app: Flask, code: str) -> Desk:
    with Session(app.extensions["sipas_engine"]) as session:
        from survey.services.desks.links import get_desk

        return get_desk(session, code)


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    with Session(app.extensions["sipas_engine"]) as session:
        yield session
