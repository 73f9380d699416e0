"""Retention of personal data: follow-up phone numbers are kept only as long as needed.

Decree 13/2023/NĐ-CP asks that personal data be kept no longer than its purpose requires.
A phone number given for follow-up serves the survey period; after that it is deleted,
while the evaluation itself (which holds no personal data) stays.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlmodel import Session

from survey.models import utcnow
from survey.models_desk import DeskContact
from survey.services.audit import record

DEFAULT_CONTACT_RETENTION_DAYS = 180


def purge_contacts(
    session: Session, days: int, *, now: datetime | None = None, user_id: int | None = None
) -> int:
    """Delete contacts given more than ``days`` ago; audit how many (never the numbers)."""
    if days < 0:
        raise ValueError("the retention period must be 0 days or more / số ngày lưu phải ≥ 0")
    cutoff = (now or utcnow()) - timedelta(days=days)
    count = int(session.exec(  # type: ignore[call-overload]
        select(func.count()).select_from(DeskContact).where(DeskContact.consent_at < cutoff)
    ).scalar_one())
    if count:
        session.execute(delete(DeskContact).where(DeskContact.consent_at < cutoff))
    record(session, "contacts.purge", "desk_contact", None, user_id=user_id,
           detail={"deleted": count, "older_than_days": days})
    return count
