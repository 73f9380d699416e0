"""Tables of the QR desk evaluations that the shared model does not hold.

Kept apart from ``Response`` on purpose: a follow-up phone number is personal data that
only exists with the citizen's consent, lives in its own table (so no export or join
picks it up by accident) and is deleted with its response. The burst signals hold only
keyed hashes of the client address and of the answer pattern: enough to spot vote
stuffing, not enough to identify anyone.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from survey.models import utcnow


class DeskContact(SQLModel, table=True):
    """A phone number a citizen gave, with explicit consent, for follow-up on an evaluation."""

    __tablename__ = "desk_contact"

    id: int | None = Field(default=None, primary_key=True)
    response_id: int = Field(foreign_key="response.id", unique=True, ondelete="CASCADE")
    phone: str = Field(max_length=20)
    consent_at: datetime = Field(default_factory=utcnow)


class DeskSignal(SQLModel, table=True):
    """Per-evaluation traces for the supervisor's burst report (hashes only, never raw)."""

    __tablename__ = "desk_signal"
    __table_args__ = (Index("ix_desk_signal_desk_at", "desk_id", "created_at"),
                      Index("ix_desk_signal_address_at", "address_hash", "created_at"))

    response_id: int = Field(foreign_key="response.id", primary_key=True, ondelete="CASCADE")
    desk_id: int = Field(foreign_key="desk.id")
    address_hash: str = Field(max_length=16)
    pattern_hash: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    # Why the evaluation was held ("desk_address", "address", "desk"), None when counted.
    hold_reason: str | None = Field(default=None, max_length=16)
    # A held evaluation's dossier hash waits here, not on the response, so that a burst of
    # made-up dossier codes cannot pre-burn a real citizen's dossier; release moves it back.
    held_dossier_hash: str | None = Field(default=None, max_length=64)
