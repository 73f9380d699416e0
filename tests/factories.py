"""Test-data factories: fresh defaults on every call, so tests never share state."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

from sqlmodel import Session

from survey.instruments import load_forms_dir
from survey.models import AdminUnit, Desk, InstrumentVersion, SurveyRound, User
from survey.services.geography import ensure_levels
from survey.services.instruments import latest_version, publish
from survey.services.users import create_user

_counter = itertools.count(1)


def published(session: Session, code: str = "sipas_services") -> InstrumentVersion:
    """Publish every shipped form (idempotent) and return the version of ``code``."""
    for form in load_forms_dir().values():
        publish(session, form)
    return latest_version(session, code)


def user(session: Session, role: str = "enumerator", **kw: Any) -> User:
    n = next(_counter)
    return create_user(
        session, kw.pop("username", f"user{n}"), role, kw.pop("password", "correct horse 1"), **kw
    )


def survey_round(session: Session, **kw: Any) -> SurveyRound:
    n = next(_counter)
    row = SurveyRound(code=kw.pop("code", f"R{n}"), name=kw.pop("name", f"Đợt {n}"),
                      year=kw.pop("year", 2025), **kw)
    session.add(row)
    session.flush()
    return row


def hamlet_chain(session: Session, with_district: bool = True) -> AdminUnit:
    """A province → (district →) commune → hamlet chain; returns the hamlet."""
    levels = ensure_levels(session)
    n = next(_counter)
    chain = [("province", f"Tỉnh Thử {n}")]
    if with_district:
        chain.append(("district", f"Huyện Đông {n}"))
    chain += [("commune", f"Xã Tây {n}"), ("hamlet", f"Ấp Nam {n}")]
    parent = None
    for level, name in chain:
        unit = AdminUnit(code=f"{level[:2]}{n}", name=name, level_id=levels[level].id,
                         parent_id=parent.id if parent else None)
        session.add(unit)
        session.flush()
        parent = unit
    assert parent is not None
    return parent


def desk(session: Session, **kw: Any) -> Desk:
    n = next(_counter)
    row = Desk(code=kw.pop("code", f"D{n}"), name=kw.pop("name", f"Bộ phận Một cửa {n}"), **kw)
    session.add(row)
    session.flush()
    return row


def new_uuid() -> uuid.UUID:
    return uuid.uuid4()
