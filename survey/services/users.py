"""User accounts: argon2 password hashes, roles, disabling."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlmodel import Session, select

from survey.messages import N_, UserError
from survey.models import Role, User
from survey.services.locks import locked, serialise
from survey.services.scope import EVERYTHING, Scope, within
from survey.services.staff_sessions import revoke_user_sessions

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
MIN_PASSWORD_LENGTH = 10
ROLES = tuple(r.value for r in Role)

_hasher = PasswordHasher()


def configure_hasher(params: dict[str, Any] | None) -> None:
    """Tests use cheap parameters; production keeps argon2-cffi's defaults."""
    global _hasher
    _hasher = PasswordHasher(**(params or {}))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_username(username: str) -> str:
    username = username.strip().lower()
    if not USERNAME_RE.match(username):
        raise UserError(N_("username must be 2–63 characters: lowercase letters, digits, '.', "
                           "'_' or '-'"))
    return username


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(N_("password must have at least %(n)d characters"),
                        n=MIN_PASSWORD_LENGTH)


# Who may manage whose account: the admin every account, a supervisor the enumerators
# (a Sở Nội vụ's supervisor changes enumerators every year without waiting for IT).
MANAGES: dict[str, tuple[str, ...]] = {"admin": ROLES, "supervisor": ("enumerator",)}


def may_manage(actor_role: str, target_role: str) -> bool:
    return target_role in MANAGES.get(actor_role, ())


def create_user(
    session: Session, username: str, role: str, password: str, full_name: str = "",
    scope_unit_id: int | None = None,
) -> User:
    """Add an account (limited to the area of ``scope_unit_id``, if given); the caller
    commits."""
    username = check_username(username)
    if role not in ROLES:
        raise UserError(N_("unknown role '%(role)s'; choose one of %(roles)s"), role=role,
                        roles=", ".join(ROLES))
    check_password(password)
    if session.exec(select(User).where(User.username == username)).first() is not None:
        raise UserError(N_("user '%(name)s' already exists"), name=username)
    user = User(
        username=username, role=role, password_hash=hash_password(password), full_name=full_name,
        scope_unit_id=scope_unit_id,
    )
    session.add(user)
    session.flush()
    return user


def list_users(session: Session, scope: Scope = EVERYTHING) -> list[User]:
    """Accounts whose area lies in ``scope`` (an account of the whole deployment lies in no
    province, so only the whole deployment's managers see it)."""
    return list(session.exec(select(User).where(within(scope, User.scope_unit_id))
                             .order_by(User.username)))


def find_user(session: Session, username: str) -> User | None:
    """The account with this username (as typed: spaces and case do not matter)."""
    return session.exec(select(User).where(User.username == username.strip().lower())).first()


def lock_user(session: Session, user_id: int) -> User | None:
    """The account, locked until the transaction ends and read after the lock: a change
    decided on what it reads (its role, whether it is active) then starts from what the
    previous change left, not from what every parallel request saw (services/locks.py)."""
    return locked(session, User, user_id)


def set_active(session: Session, username: str, active: bool) -> User:
    user = find_user(session, username)
    if user is None:
        raise UserError(N_("no user '%(name)s'"), name=username)
    user.active = active
    session.add(user)
    if not active:  # a disabled account's cookies stop working now, and stay dead if re-enabled
        assert user.id is not None
        revoke_user_sessions(session, user.id)
    return user


def set_role(session: Session, user: User, role: str) -> str:
    """Give the account another role; its open sessions end, so the new rights (and only
    they) apply from the next login. Returns the old role; the caller records and commits."""
    if role not in ROLES:
        raise UserError(N_("unknown role '%(role)s'; choose one of %(roles)s"), role=role,
                        roles=", ".join(ROLES))
    old = user.role
    if old != role:
        user.role = role
        session.add(user)
        assert user.id is not None
        revoke_user_sessions(session, user.id)
    return old


class WrongPassword(ValueError):
    """The current password given to change it is not the user's password."""


def set_password(session: Session, user: User, password: str, *, must_change: bool = False,
                 keep_session: str | None = None) -> None:
    """A new password; every other session of the user is closed. The caller commits."""
    check_password(password)
    user.password_hash = hash_password(password)
    user.must_change_password = must_change
    session.add(user)
    assert user.id is not None
    revoke_user_sessions(session, user.id, keep=keep_session)


def reset_password(session: Session, user: User) -> str:
    """A one-time password to pass on; it must be changed at the next login."""
    password = secrets.token_urlsafe(9)
    set_password(session, user, password, must_change=True)
    return password


def change_own_password(session: Session, user: User, current: str, new: str,
                        keep_session: str | None) -> None:
    """The user's own change: the current password first; the new one must differ.

    The account is locked and read again first, so that of several changes sent at once
    (two tabs, two devices) only the first is checked against the password they all knew;
    the others find it changed and are refused, instead of each winning in turn and leaving
    a password that only the last one's user knows.
    """
    session.refresh(user, with_for_update=True)
    try:
        _hasher.verify(user.password_hash, current)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        raise WrongPassword("the current password is wrong") from None
    if current == new:
        raise UserError(N_("the new password must differ from the current one"))
    set_password(session, user, new, keep_session=keep_session)


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this password, or None; rehashes when parameters changed."""
    user = find_user(session, username)
    if user is None:
        _hasher.hash(password)  # spend the same time, so timing does not reveal usernames
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.add(user)
    return user


# --- login throttling ------------------------------------------------------------------
# Failures are counted per username *and* address, in the database, so that every worker
# and host sees the same count; a guesser elsewhere cannot lock a real user out of their
# own office, and one address cannot try a username endlessly.
# Spraying one password over many usernames is stopped per address: an address with
# ADDRESS_FAILURES failures in the window, whatever the usernames, waits too. The check runs
# before any password is hashed, so a blocked guesser costs no argon2 time (the CPU stays
# with the citizens). Rows older than a day are purged as new ones arrive.
THROTTLE_FAILURES = 5
ADDRESS_FAILURES = 30
THROTTLE_WINDOW = timedelta(minutes=15)
FAILURES_KEPT = timedelta(days=1)


def _wait(times: list[datetime], limit: int, now: datetime) -> timedelta | None:
    if len(times) < limit:
        return None
    oldest = sorted(times)[-limit]
    if oldest.tzinfo is None:  # SQLite returns naive UTC
        oldest = oldest.replace(tzinfo=UTC)
    return max(timedelta(seconds=1), oldest + THROTTLE_WINDOW - now)


def login_blocked_for(session: Session, username: str, address: str,
                      now: datetime | None = None) -> timedelta | None:
    """How long this username + address must wait before trying again (None: may try).

    Attempts from one address take turns from this check to their commit: otherwise a
    burst of parallel guesses all pass the check before any failure is counted, and buy
    as many tries as the burst is wide (six at once were six failures, none refused).
    """
    from survey.models_entry import LoginFailure

    serialise(session, "login", address[:64])
    now = now or datetime.now(UTC)
    since = now - THROTTLE_WINDOW
    rows = session.exec(select(LoginFailure.username, LoginFailure.at).where(
        LoginFailure.address == address[:64], LoginFailure.at > since)
        .order_by(LoginFailure.at.desc()).limit(ADDRESS_FAILURES)).all()  # type: ignore[attr-defined]
    name = username.strip().lower()[:64]
    return (_wait([at for who, at in rows if who == name], THROTTLE_FAILURES, now)
            or _wait([at for _who, at in rows], ADDRESS_FAILURES, now))


def note_login_failure(session: Session, username: str, address: str) -> None:
    """Count a failed attempt, and forget those older than a day; the caller commits."""
    from sqlalchemy import delete

    from survey.models_entry import LoginFailure

    session.exec(delete(LoginFailure).where(  # type: ignore[call-overload]
        LoginFailure.at < datetime.now(UTC) - FAILURES_KEPT))
    session.add(LoginFailure(username=username.strip().lower()[:64], address=address[:64]))


def clear_login_failures(session: Session, username: str, address: str) -> None:
    """A successful login forgives the earlier failures from that address."""
    from sqlalchemy import delete

    from survey.models_entry import LoginFailure

    session.exec(delete(LoginFailure).where(  # type: ignore[call-overload]
        LoginFailure.username == username.strip().lower()[:64],
        LoginFailure.address == address[:64]))
