"""The SIPAS data model.

Geography is data (levels are rows, not columns) so that the post-2025 hierarchy
without districts and the historical one live side by side. Answers are stored long
(one row per response and item): double keying, audit and reconciliation work field by
field, and estimation aggregates them in SQL by stratum, PSU and item. See the README's
architecture section for the reasoning and the measured export speed.
"""

from __future__ import annotations

import enum
import uuid as uuid_mod
from datetime import UTC, date, datetime
from typing import Any, overload

from sqlalchemy import JSON, CheckConstraint, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Aware UTC: SQLModel's UTCDateTime refuses naive datetimes, which is what we want."""
    return datetime.now(UTC)


@overload
def as_utc(moment: datetime | str) -> datetime: ...
@overload
def as_utc(moment: None) -> None: ...
def as_utc(moment: datetime | str | None) -> datetime | None:
    """A stored moment as aware UTC: SQLite hands them back naive (they are UTC), or as
    text to raw SQL; PostgreSQL aware; compared or subtracted, they must be the same kind."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class Role(enum.StrEnum):
    admin = "admin"
    supervisor = "supervisor"
    enumerator = "enumerator"
    analyst = "analyst"


class Mode(enum.StrEnum):
    paper = "paper"
    qr = "qr"
    kiosk = "kiosk"  # a counter tablet registered to the desk (survey/models_kiosk.py)


class ReviewStatus(enum.StrEnum):
    received = "received"
    verified = "verified"
    has_issues = "has_issues"
    rejected = "rejected"
    # A desk evaluation beyond a desk's or an address's normal rate: stored, kept out of every
    # estimate until a supervisor releases it (back to received) or rejects it.
    held = "held"


# Responses that no estimate counts: rejected ones, and desk evaluations held for review.
NOT_COUNTED = (ReviewStatus.rejected.value, ReviewStatus.held.value)


class Outcome(enum.StrEnum):
    completed = "completed"
    screened_out = "screened_out"
    refused = "refused"
    absent = "absent"
    not_found = "not_found"


class RoundStatus(enum.StrEnum):
    open = "open"
    published = "published"


# --- geography -----------------------------------------------------------------------


class GeoLevel(SQLModel, table=True):
    """One level of the administrative hierarchy (province, district, commune, hamlet)."""

    __tablename__ = "geo_level"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name_vi: str = Field(max_length=100)
    name_en: str | None = Field(default=None, max_length=100)
    depth: int = Field(ge=0)


class AdminUnit(SQLModel, table=True):
    """An administrative unit; units abolished by a reform are kept with ``valid_to``."""

    __tablename__ = "admin_unit"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=200)
    level_id: int = Field(foreign_key="geo_level.id", index=True)
    parent_id: int | None = Field(default=None, foreign_key="admin_unit.id", index=True)
    urban_rural: str | None = Field(default=None, max_length=10)
    households: int | None = Field(default=None, ge=0)
    population: int | None = Field(default=None, ge=0)
    valid_from: date | None = None
    valid_to: date | None = None
    successor_id: int | None = Field(default=None, foreign_key="admin_unit.id", index=True)


# --- sample design -------------------------------------------------------------------


class SurveyRound(SQLModel, table=True):
    """A round of the household survey: the unit of estimation and of publication."""

    __tablename__ = "survey_round"
    __table_args__ = (CheckConstraint("status IN ('open', 'published')", name="ck_round_status"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=200)
    year: int
    status: str = Field(default=RoundStatus.open.value, max_length=16)
    weights_version: int = Field(default=1, ge=1)
    published_at: datetime | None = None
    # The area the round covers (a province's own round); None: the whole deployment. Its
    # sample is drawn from this unit's hamlets, and its area's staff run it.
    unit_id: int | None = Field(default=None, foreign_key="admin_unit.id")


class Stratum(SQLModel, table=True):
    __tablename__ = "stratum"
    __table_args__ = (UniqueConstraint("round_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="survey_round.id", index=True)
    code: str = Field(max_length=32)
    name: str = Field(max_length=200)
    population_psus: int | None = Field(default=None, ge=1)


class SampleUnit(SQLModel, table=True):
    """A sampled PSU (hamlet) of a round, with its stage-1 inclusion probability."""

    __tablename__ = "sample_unit"
    __table_args__ = (UniqueConstraint("round_id", "unit_id"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="survey_round.id", index=True)
    stratum_id: int = Field(foreign_key="stratum.id", index=True)
    unit_id: int = Field(foreign_key="admin_unit.id")
    psu_code: str = Field(max_length=32)
    measure_of_size: float | None = Field(default=None, ge=0)
    prob_stage1: float = Field(gt=0, le=1)
    listed_persons: int | None = Field(default=None, ge=0)
    sample_size: int = Field(default=0, ge=0)


# --- instruments ---------------------------------------------------------------------


class Instrument(SQLModel, table=True):
    __tablename__ = "instrument"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    kind: str = Field(max_length=16)
    title_vi: str = Field(max_length=300)


class InstrumentVersion(SQLModel, table=True):
    """A frozen version: the exact YAML text responses were collected with."""

    __tablename__ = "instrument_version"
    __table_args__ = (UniqueConstraint("instrument_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    instrument_id: int = Field(foreign_key="instrument.id", index=True)
    version: str = Field(max_length=32)
    content_hash: str = Field(max_length=64)
    source_text: str = Field(sa_column=Column(Text, nullable=False))
    published_at: datetime = Field(default_factory=utcnow)


# --- people and places of service ----------------------------------------------------


class User(SQLModel, table=True):
    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint(
            "role IN ('admin', 'supervisor', 'enumerator', 'analyst')", name="ck_user_role"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    full_name: str = Field(default="", max_length=200)
    role: str = Field(max_length=16)
    password_hash: str = Field(max_length=255)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    # Set by a reset: the one-time password must be replaced at the next login.
    must_change_password: bool = False
    # The area whose data the account may see and change: an administrative unit and every
    # unit below it (services/scope.py). None: the whole deployment (the ministry, or a
    # one-province deployment's own staff).
    scope_unit_id: int | None = Field(default=None, foreign_key="admin_unit.id")


class Desk(SQLModel, table=True):
    """A one-stop desk (service point) where citizens evaluate by QR code."""

    __tablename__ = "desk"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=200)
    agency: str = Field(default="", max_length=200)
    admin_level: str = Field(default="", max_length=32)
    unit_id: int | None = Field(default=None, foreign_key="admin_unit.id", index=True)
    token_version: int = Field(default=1, ge=1)
    active: bool = True


# --- responses -----------------------------------------------------------------------


class Response(SQLModel, table=True):
    """One questionnaire or evaluation, with the design metadata frozen at keying.

    Stratum and PSU codes, probabilities and weight are copied from the sample so that
    an export can be analysed as it is and a published round never changes silently.
    """

    __tablename__ = "response"
    __table_args__ = (
        UniqueConstraint("round_id", "questionnaire_id", "mode"),
        Index("ix_response_round_status", "round_id", "status"),
        Index("ix_response_desk_created", "desk_id", "created_at"),
        CheckConstraint("mode IN ('paper', 'qr', 'kiosk')", name="ck_response_mode"),
        CheckConstraint(
            "status IN ('received', 'verified', 'has_issues', 'rejected', 'held')",
            name="ck_response_status",
        ),
        CheckConstraint(
            "outcome IS NULL OR outcome IN "
            "('completed', 'screened_out', 'refused', 'absent', 'not_found')",
            name="ck_response_outcome",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    client_uuid: uuid_mod.UUID = Field(unique=True)
    content_hash: str = Field(max_length=64)
    instrument_version_id: int = Field(foreign_key="instrument_version.id", index=True)
    round_id: int | None = Field(default=None, foreign_key="survey_round.id")
    mode: str = Field(max_length=8)
    status: str = Field(default=ReviewStatus.received.value, max_length=16)
    outcome: str | None = Field(default=None, max_length=16)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)
    unit_id: int | None = Field(default=None, foreign_key="admin_unit.id", index=True)
    sample_unit_id: int | None = Field(default=None, foreign_key="sample_unit.id")
    stratum: str | None = Field(default=None, max_length=32)
    psu: str | None = Field(default=None, max_length=32)
    prob_stage1: float | None = Field(default=None, gt=0, le=1)
    prob_stage2: float | None = Field(default=None, gt=0, le=1)
    weight: float | None = Field(default=None, gt=0)
    questionnaire_id: str | None = Field(default=None, max_length=32)
    enumerator_id: int | None = Field(default=None, foreign_key="user_account.id")
    desk_id: int | None = Field(default=None, foreign_key="desk.id", index=True)
    dossier_hash: str | None = Field(default=None, max_length=64, unique=True)
    slip_serial: str | None = Field(default=None, max_length=32)


class Answer(SQLModel, table=True):
    """One answer: numeric codes in ``value_num``; text and multi-select lists in ``value_text``."""

    __tablename__ = "answer"

    response_id: int = Field(
        foreign_key="response.id", primary_key=True, ondelete="CASCADE"
    )
    item_code: str = Field(max_length=64, primary_key=True)
    value_num: float | None = None
    value_text: str | None = Field(default=None, sa_column=Column(Text))


class DeskTally(SQLModel, table=True):
    """Counted desk evaluations per UTC month, desk and mode (kept by database triggers)."""

    __tablename__ = "desk_tally"

    month: str = Field(max_length=7, primary_key=True)  # "2026-03"
    desk_id: int = Field(foreign_key="desk.id", primary_key=True)
    mode: str = Field(max_length=8, primary_key=True)
    n: int


class DeskAnswerTally(SQLModel, table=True):
    """Numeric answers of counted desk evaluations per month, desk, mode, item and value.

    Database triggers (migration 0011) keep it equal to the rows on every write, so the
    dashboard reads a quarter as a few thousand counts; ``services/reports/tallies.py`` can
    check and rebuild it.
    """

    __tablename__ = "desk_answer_tally"

    month: str = Field(max_length=7, primary_key=True)
    desk_id: int = Field(foreign_key="desk.id", primary_key=True)
    mode: str = Field(max_length=8, primary_key=True)
    item_code: str = Field(max_length=64, primary_key=True)
    value_num: float = Field(primary_key=True)
    n: int


class AuditLog(SQLModel, table=True):
    """Append-only (database triggers refuse UPDATE and DELETE)."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    user_id: int | None = Field(default=None, foreign_key="user_account.id")
    action: str = Field(max_length=64)
    entity: str = Field(max_length=64)
    entity_id: str | None = Field(default=None, max_length=64)
    reason: str | None = Field(default=None, sa_column=Column(Text))
    detail: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
