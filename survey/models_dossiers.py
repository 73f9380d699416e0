"""Dossiers (hồ sơ) from the one-stop system, so that evaluations meet real dossiers.

The dossier code identifies a citizen's matter, so only its keyed hash is stored — the same
hash a desk evaluation stores for the code the citizen typed, which is what ties the two —
and the officer's id only as a keyed hash too. Dates are moments in UTC, read in the
province's time zone.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index
from sqlmodel import Field, SQLModel

from survey.models import utcnow


class Dossier(SQLModel, table=True):
    __tablename__ = "dossier"
    __table_args__ = (
        Index("ix_dossier_desk_returned", "desk_id", "returned_at"),
        CheckConstraint("source IN ('import', 'api')", name="ck_dossier_source"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(max_length=64, unique=True)
    procedure_code: str = Field(default="", max_length=64)
    procedure_name: str = Field(default="", max_length=500)
    field: str = Field(default="", max_length=200)  # lĩnh vực
    agency: str = Field(default="", max_length=200)
    desk_id: int | None = Field(default=None, foreign_key="desk.id")
    received_at: datetime | None = None
    due_at: datetime | None = None
    returned_at: datetime | None = None
    officer_hash: str | None = Field(default=None, max_length=64)
    source: str = Field(default="import", max_length=8)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class AnswerSource(SQLModel, table=True):
    """An answer not given by the citizen but taken from somewhere else (the dossier)."""

    __tablename__ = "answer_source"

    response_id: int = Field(foreign_key="response.id", primary_key=True, ondelete="CASCADE")
    item_code: str = Field(max_length=64, primary_key=True)
    source: str = Field(max_length=16)  # "dossier"


class FollowUp(SQLModel, table=True):
    """A low rating followed up: opened when a counted desk evaluation's overall rating is at
    or below the threshold, answered and closed by the desk's agency (SIPAS element V:
    tiếp nhận, xử lý phản ánh, kiến nghị). Response time = first answer − opened."""

    __tablename__ = "follow_up"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'answered', 'closed')", name="ck_follow_up_status"),
        Index("ix_follow_up_status_opened", "status", "opened_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    response_id: int = Field(foreign_key="response.id", unique=True, ondelete="CASCADE")
    desk_id: int = Field(foreign_key="desk.id")
    agency: str = Field(default="", max_length=200)
    rating: int
    opened_at: datetime = Field(default_factory=utcnow)
    status: str = Field(default="open", max_length=16)
    note: str = Field(default="", max_length=2000)
    handled_by: int | None = Field(default=None, foreign_key="user_account.id")
    first_response_at: datetime | None = None
    closed_at: datetime | None = None
