"""The append-only audit trail: who did what, when, old and new values, and why."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from survey.models import AuditLog, User


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


def audit_query(*, user_id: int | None = None, action: str | None = None,
                since: datetime | None = None, until: datetime | None = None,
                entity: str | None = None, entity_id: str | None = None,
                scope: Any = None) -> Any:
    """The audit rows matching every filter given, newest first, with the acting user.

    ``scope`` (an area): only what the area's own accounts did. The log names entities of
    many kinds; who acted is the one thing every row has, and an area's staff answer for
    their own actions (the ministry, seeing everything, sees who touched what anywhere).
    """
    from survey.services.scope import within

    query = select(AuditLog, User.username).outerjoin(
        User, User.id == AuditLog.user_id)  # type: ignore[arg-type]
    if scope is not None and not scope.everything:
        query = query.where(within(scope, User.scope_unit_id))
    if user_id is not None:
        query = query.where(AuditLog.user_id == user_id)
    if action:
        query = query.where(AuditLog.action == action)
    if since is not None:
        query = query.where(col(AuditLog.at) >= since)
    if until is not None:
        query = query.where(col(AuditLog.at) < until)
    if entity:
        query = query.where(AuditLog.entity == entity)
    if entity_id:
        query = query.where(AuditLog.entity_id == entity_id)
    return query.order_by(col(AuditLog.at).desc(), col(AuditLog.id).desc())


def audit_actions(session: Session) -> list[str]:
    """The actions that occur in the log (for the filter's choices)."""
    return sorted(session.exec(select(AuditLog.action).distinct()))
