"""Webhooks: subscriptions, the transactional outbox of events, deliveries and their attempts.

An event is written in the same transaction as the change it reports (a low rating stored, a
response verified, a round published), with one delivery row per subscribed webhook: if the
change commits, its deliveries exist; if it rolls back, nothing is sent. A worker
(``sipas webhook run``) sends the deliveries and writes each attempt to the log.
"""

from __future__ import annotations

import uuid as uuid_mod
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from survey.models import utcnow

EVENT_KINDS = ("evaluation.low", "response.verified", "round.published")


class Webhook(SQLModel, table=True):
    __tablename__ = "webhook"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=500)
    secret: str = Field(max_length=100)  # the HMAC key the receiver checks signatures with
    events: str = Field(max_length=200)  # space-separated kinds
    threshold: int = Field(default=2, ge=1, le=5)  # evaluation.low: overall at or below
    include_phone: bool = False  # a consenting citizen's phone, only when enabled
    include_comments: bool = False  # free text may name people: off unless enabled
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class OutboxEvent(SQLModel, table=True):
    __tablename__ = "outbox_event"

    id: int | None = Field(default=None, primary_key=True)
    uuid: uuid_mod.UUID = Field(default_factory=uuid_mod.uuid4, unique=True)
    kind: str = Field(max_length=32)
    occurred_at: datetime = Field(default_factory=utcnow)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class WebhookDelivery(SQLModel, table=True):
    """One event for one webhook: pending → sending (leased) → delivered, or failed."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("event_id", "webhook_id"),
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
        CheckConstraint("status IN ('pending', 'sending', 'delivered', 'failed')",
                        name="ck_webhook_delivery_status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="outbox_event.id", index=True)
    webhook_id: int = Field(foreign_key="webhook.id", index=True)
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    lease_until: datetime | None = None
    delivered_at: datetime | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text))


class WebhookAttempt(SQLModel, table=True):
    """The delivery log: every try, with what the receiver answered."""

    __tablename__ = "webhook_attempt"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="webhook_delivery.id", index=True)
    attempt: int
    at: datetime = Field(default_factory=utcnow)
    status_code: int | None = None
    error: str | None = Field(default=None, max_length=500)
    duration_ms: int = 0
