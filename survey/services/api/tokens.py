"""Personal API tokens: made, listed, used and revoked, each step audited.

A token is shown once, when it is made; the database keeps its SHA-256 only (it is 256 random
bits, so a plain hash is enough: nobody can guess one to try). A token acts as its user: the
account must be active and a reader of the data (analyst, supervisor, administrator) at each
call, so disabling the account or changing its role takes effect at once, and "sign out
everywhere" revokes the tokens with the sessions.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from survey.messages import N_, UserError
from survey.models import User, as_utc, utcnow
from survey.models_accounts import ApiToken
from survey.services import audit

PREFIX = "sipas_"
API_ROLES = ("analyst", "supervisor", "admin")  # who reads data through the API
MAX_TOKENS_PER_USER = 20
MAX_DAYS = 366
TOUCH_EVERY = timedelta(minutes=5)  # last_used_at is written at most this often


@dataclass(frozen=True)
class MadeToken:
    row: ApiToken
    secret: str  # shown once


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, user: User, name: str, days: int | None,
                 by: User | None = None) -> MadeToken:
    """A new token for ``user`` named ``name``, expiring after ``days`` (None: never)."""
    name = (name or "").strip()
    if not name:
        raise UserError(N_("Give the token a name (e.g. the office's Power BI)."))
    if len(name) > 100:
        raise UserError(N_("The token's name is over 100 characters."))
    if days is not None and not 1 <= days <= MAX_DAYS:
        raise UserError(N_("The lifetime must be 1 to %(most)s days."), most=MAX_DAYS)
    if user.role not in API_ROLES:
        raise UserError(N_("Data entry accounts do not use the API."))
    assert user.id is not None
    # the user's row locked first: tokens made at the same instant count one another
    session.exec(select(User.id).where(col(User.id) == user.id).with_for_update()).first()
    live = session.exec(select(ApiToken).where(
        ApiToken.user_id == user.id, col(ApiToken.revoked_at).is_(None))).all()
    if len([t for t in live if not _expired(t)]) >= MAX_TOKENS_PER_USER:
        raise UserError(N_("There are already %(most)s tokens in use: revoke one you no "
                           "longer need."), most=MAX_TOKENS_PER_USER)
    secret = PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    row = ApiToken(user_id=user.id, name=name, prefix=secret[:12], token_hash=_digest(secret),
                   created_at=now, expires_at=now + timedelta(days=days) if days else None)
    session.add(row)
    session.flush()
    audit.record(session, "api_token.create", "api_token", row.id,
                 user_id=(by or user).id,
                 detail={"owner": user.username, "name": name, "days": days})
    return MadeToken(row, secret)


def _expired(token: ApiToken, now: datetime | None = None) -> bool:
    if token.expires_at is None:
        return False
    return as_utc(token.expires_at) <= (now or utcnow())


def user_tokens(session: Session, user_id: int | None = None) -> list[tuple[ApiToken, User]]:
    """Tokens (newest first) with their owners: one user's, or everyone's."""
    query = select(ApiToken, User).join(User, col(User.id) == ApiToken.user_id)
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    return list(session.exec(query.order_by(col(ApiToken.id).desc())).all())


def token_state(token: ApiToken) -> str:
    """"active", "revoked" or "expired"."""
    if token.revoked_at is not None:
        return "revoked"
    return "expired" if _expired(token) else "active"


def revoke_token(session: Session, token_id: int, by: User | None) -> ApiToken:
    """Revoke one token: its owner's, any token for an administrator, or (``by`` None) the
    server's operator on the command line. An administrator limited to an area manages
    only their own (tokens carry no area of their own to check against)."""
    row = session.get(ApiToken, token_id)
    every = by is not None and by.role == "admin" and by.scope_unit_id is None
    if row is None or (by is not None and row.user_id != by.id and not every):
        raise UserError(N_("No such token."))
    # one UPDATE that only an open token matches: revoked at the same instant from two
    # places, it is revoked (and audited) once
    done = session.execute(update(ApiToken).where(
        col(ApiToken.id) == token_id, col(ApiToken.revoked_at).is_(None)
    ).values(revoked_at=utcnow()))
    if done.rowcount:  # type: ignore[attr-defined]
        audit.record(session, "api_token.revoke", "api_token", row.id,
                     user_id=by.id if by is not None else None, detail={"name": row.name})
    return row


def revoke_user_tokens(session: Session, user_id: int) -> int:
    """Revoke every token of a user (sign out everywhere); how many were open."""
    result = session.execute(update(ApiToken).where(
        ApiToken.user_id == user_id, col(ApiToken.revoked_at).is_(None)
    ).values(revoked_at=utcnow()))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def token_user(session: Session, secret: str | None) -> tuple[User, ApiToken] | None:
    """The active user a presented token acts as, or None (unknown, revoked, expired,
    account disabled). Notes the use (at most every few minutes: not a write per call)."""
    if not secret or not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    found = session.exec(
        select(ApiToken, User).join(User, col(User.id) == ApiToken.user_id).where(
            ApiToken.token_hash == _digest(secret), col(ApiToken.revoked_at).is_(None),
            col(User.active).is_(True))
    ).first()
    if found is None:
        return None
    token, user = found
    now = utcnow()
    if _expired(token, now):
        return None
    last = as_utc(token.last_used_at)
    if last is None or now - last > TOUCH_EVERY:
        session.execute(update(ApiToken).where(col(ApiToken.id) == token.id)
                        .values(last_used_at=now))
    # end the transaction either way: on SQLite it holds the write lock, and a call that
    # reads through its own connection (the index) would wait for it
    session.commit()
    return user, token
