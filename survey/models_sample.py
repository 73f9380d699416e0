"""Tables of the household sample beyond the shared ones: fieldwork assignments, weights versions.

A published round's numbers must never change silently, so every weights computation is a
numbered version whose per-response weights are kept (``response_weight``); the
``response`` row carries the round's current version for the export and the estimates.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from survey.models import utcnow


class FieldAssignment(SQLModel, table=True):
    """A sampled hamlet's questionnaire serials and the enumerator who carries them."""

    __tablename__ = "field_assignment"

    id: int | None = Field(default=None, primary_key=True)
    sample_unit_id: int = Field(foreign_key="sample_unit.id", unique=True)
    enumerator_id: int | None = Field(default=None, foreign_key="user_account.id")
    first_serial: int = Field(ge=1)
    last_serial: int = Field(ge=1)


class WeightsVersion(SQLModel, table=True):
    """One computation of a round's weights: its options and a summary, kept for ever."""

    __tablename__ = "weights_version"
    __table_args__ = (UniqueConstraint("round_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="survey_round.id", index=True)
    version: int = Field(ge=1)
    created_at: datetime = Field(default_factory=utcnow)
    options: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    summary: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class ResponseWeight(SQLModel, table=True):
    """A response's design columns under one weights version (weight NULL: nonrespondent)."""

    __tablename__ = "response_weight"

    version_id: int = Field(foreign_key="weights_version.id", primary_key=True)
    response_id: int = Field(foreign_key="response.id", primary_key=True)
    prob_stage1: float
    prob_stage2: float
    weight: float | None = None
