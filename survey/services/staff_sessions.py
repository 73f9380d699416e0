"""Open, check and revoke staff login sessions (see survey/models_accounts.py for why).

The cookie holds a random token; only its SHA-256 is stored, so a copy of the database
cannot be turned into working cookies. Logging out closes that one session; a password
reset, a password change and disabling an account close every session of the user (a
change of one's own password keeps the session it was made in), and re-enabling an account
reopens none of them.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import update
from sqlmodel import Session, select

from survey.models import User, utcnow
from survey.models_accounts import StaffSession


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_session(session: Session, user: User) -> str:
    """A new session for ``user``; returns the token to put in the cookie."""
    token = secrets.token_urlsafe(32)
    assert user.id is not None
    session.add(StaffSession(token_hash=_digest(token), user_id=user.id))
    session.flush()
    return token


def session_user(session: Session, user_id: int, token: str | None) -> User | None:
    """The active user of an open session, or None (revoked, unknown, disabled)."""
    if not token or len(token) > 100:
        return None
    row = session.exec(
        select(User).join(StaffSession, StaffSession.user_id == User.id)
        .where(StaffSession.token_hash == _digest(token), StaffSession.user_id == user_id,
               StaffSession.revoked_at.is_(None), User.active.is_(True))  # type: ignore[union-attr,attr-defined]
    ).first()
    return row


def revoke_session(session: Session, token: str | None) -> None:
    if token:
        session.execute(update(StaffSession).where(
            StaffSession.token_hash == _digest(token),
            StaffSession.revoked_at.is_(None)).values(revoked_at=utcnow()))  # type: ignore[union-attr]


def revoke_user_sessions(session: Session, user_id: int, keep: str | None = None) -> int:
    """Close every open session of the user (except ``keep``); how many were closed."""
    where = [StaffSession.user_id == user_id, StaffSession.revoked_at.is_(None)]  # type: ignore[union-attr]
    if keep:
        where.append(StaffSession.token_hash != _digest(keep))
    result = session.execute(update(StaffSession).where(*where).values(revoked_at=utcnow()))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
