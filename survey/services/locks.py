"""Row and advisory locks for writes that check before they change (issue 15).

PostgreSQL lets parallel transactions all read a row before any of them writes it, so
"is it still open?", "is this the current password?", "does a range overlap?" can pass in
every one of them and each then writes its change on top of the others (lost updates,
one change audited six times, two ranges over the same serials). Locking what the check
reads, for the rest of the transaction, makes such writes take turns: the second one
checks what the first one left. SQLite needs none of this: every transaction there is a
writer from its first statement (``BEGIN IMMEDIATE``, :mod:`survey.db`), so these calls
are no-ops on it (SQLAlchemy does not render ``FOR UPDATE`` for SQLite).
"""

from __future__ import annotations

import hashlib
from typing import Any, TypeVar

from sqlalchemy import text
from sqlmodel import Session

Row = TypeVar("Row")


def locked(session: Session, model: type[Row], key: Any) -> Row | None:
    """The row ``key`` of ``model`` read afresh and locked until the transaction ends
    (``SELECT … FOR UPDATE``), or None if it is gone. "Afresh": an object already in the
    session is overwritten with what the database holds once the lock is granted, so a
    check made on it sees the change of whoever held the lock before."""
    return session.get(model, key, with_for_update=True, populate_existing=True)


def serialise(session: Session, *key: str) -> None:
    """Take turns with every other transaction serialising on the same ``key`` until this
    one ends (a PostgreSQL advisory lock), for a check of rows that do not exist yet (a
    count of failures, of recent evaluations) where there is no row to lock."""
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.sha256("\x1f".join(key).encode("utf-8")).digest()
    number = int.from_bytes(digest[:8], "big", signed=True)
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": number})
