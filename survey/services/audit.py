"""The append-only audit trail: who did what, when, old and new values, and why."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from survey.models import AuditLog


def record(
    session: Session,
    action: str,
    entity: str,
    entity_id: str | int | None = None,
    *,
    user_id: int | None = None,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditLog:
    """Add an audit row in the caller's transaction, so it commits or rolls back with the change."""
    entry = AuditLog(
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        user_id=user_id,
        reason=reason,
        detail=detail,
    )
    session.add(entry)
    return entry
