"""Counter tablets (kiosks) registered to a desk, and the tickets that invite a rating.

A kiosk is a device a supervisor registered to one desk: its address holds a random key,
of which only a hash is stored, so the key can be revoked but never read back from the
database. A ticket is one invitation to rate, opened by the queue system through the API
(or by the officer's tap on the tablet itself, which needs no row): the kiosk shows the
rating screen for it, and the evaluation it leads to is tied to it, once, and to the
ticket's dossier when the queue system names one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index
from sqlmodel import Field, SQLModel

from survey.models import utcnow


class KioskDevice(SQLModel, table=True):
    __tablename__ = "kiosk_device"

    id: int | None = Field(default=None, primary_key=True)
    desk_id: int = Field(foreign_key="desk.id", index=True)
    name: str = Field(max_length=100)
    key_hash: str = Field(max_length=64, unique=True)  # sha256 of the key in the device's address
    created_at: datetime = Field(default_factory=utcnow)
    created_by: int | None = Field(default=None, foreign_key="user_account.id")
    revoked_at: datetime | None = None
    last_seen_at: datetime | None = None


class KioskTicket(SQLModel, table=True):
    __tablename__ = "kiosk_ticket"
    __table_args__ = (
        Index("ix_kiosk_ticket_device_opened", "device_id", "opened_at"),
        CheckConstraint("source IN ('api', 'officer')", name="ck_kiosk_ticket_source"),
    )

    id: int | None = Field(default=None, primary_key=True)
    device_id: int = Field(foreign_key="kiosk_device.id")
    ref: str = Field(default="", max_length=40)  # the queue system's ticket number
    source: str = Field(default="api", max_length=8)
    opened_at: datetime = Field(default_factory=utcnow)
    # the dossier the counter just returned, as its keyed hash (never the code): the
    # evaluation is tied to it, as a dossier's own link ties one
    dossier_hash: str | None = Field(default=None, max_length=64)
    response_id: int | None = Field(default=None, foreign_key="response.id", unique=True,
                                    ondelete="SET NULL")
