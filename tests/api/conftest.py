"""Tokens for the API tests: one per reading role, made through the service as a user would."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlmodel import Session

from survey.services.api.tokens import create_token
from tests import factories


@pytest.fixture
def tokens(demo: Flask) -> dict[str, str]:
    """role -> a working token of a fresh user with that role (on the demo province)."""
    made = {}
    with Session(demo.extensions["sipas_engine"]) as session:
        for role in ("analyst", "supervisor", "admin"):
            user = factories.user(session, role, username=f"api-{role}")
            made[role] = create_token(session, user, f"{role} script", 30).secret
        session.commit()
    return made


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def as_text(value: object) -> str:
    """A JSON value of a page back as the export writes it (numbers as ``_format_number``)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)
