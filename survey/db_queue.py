"""Queue SQLite writers in the kernel instead of letting them poll.

SQLite has one writer at a time. A transaction that finds the database locked sleeps in
SQLite's busy handler with growing naps (1, 2, 5, 10 … 100 ms) and retries, so under a
burst of QR submissions from several gunicorn workers a few unlucky requests wait tens of
milliseconds after the lock is already free: that is the p99. Taking an exclusive
``flock`` on a file beside the database first makes waiting writers sleep in the kernel
and wake the moment the previous one is done, in order. PostgreSQL needs none of this.

Why in the database layer: every SQLite transaction is ``BEGIN IMMEDIATE`` (a writer), so
every one of them — a citizen's submission, a keyer's save, a CLI import — takes its turn
the same way. :func:`install` wraps the engine's dialect so that the turn is taken just
before ``BEGIN`` and given back just *after* the commit or rollback has finished (SQLAlchemy's
``commit`` event fires before the commit, which would let the next writer in while this
one is still syncing to disk). The pool's reset-on-return goes through the same rollback,
so a turn is never left held by a connection back in the pool.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine


def lock_path(engine: Engine) -> Path | None:
    """The queue file of a file-backed SQLite database (None otherwise)."""
    if engine.dialect.name != "sqlite" or not engine.url.database or \
            engine.url.database == ":memory:":
        return None
    return Path(engine.url.database).with_suffix(".writers.lock")


class WriterQueue:
    """Turns to write, one per open transaction, keyed by the DBAPI connection.

    A thread that already holds a turn (a second connection opened inside a transaction)
    does not queue behind itself: that nested transaction falls back to SQLite's own busy
    handler, exactly as it would without the queue, instead of waiting forever.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._held: dict[int, int] = {}  # id(dbapi connection) -> file descriptor
        self._local = threading.local()

    @staticmethod
    def _key(connection: Any) -> int:
        """The raw DBAPI connection's identity, whether given it or the pool's proxy of it."""
        return id(getattr(connection, "dbapi_connection", None) or connection)

    def take(self, dbapi_connection: Any) -> None:
        key = self._key(dbapi_connection)
        if key in self._held or getattr(self._local, "depth", 0):
            return
        # A fresh descriptor per turn: flock excludes open file descriptions, so threads of
        # one worker sharing a descriptor would not exclude each other.
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        self._held[key] = fd
        self._local.depth = 1

    def give_back(self, dbapi_connection: Any) -> None:
        fd = self._held.pop(self._key(dbapi_connection), None)
        if fd is not None:
            self._local.depth = 0
            os.close(fd)  # closing releases the lock


# One queue per database file in this process, shared by every engine on it, so that a thread
# holding a turn through one engine is not made to wait for itself through another.
_QUEUES: dict[Path, WriterQueue] = {}


def _after(step: Callable[[Any], None], queue: WriterQueue) -> Callable[[Any], None]:
    def wrapped(dbapi_connection: Any) -> None:
        try:
            step(dbapi_connection)
        finally:
            queue.give_back(dbapi_connection)

    return wrapped


def install(engine: Engine) -> WriterQueue | None:
    """Make every transaction on this engine queue for its turn (SQLite files only)."""
    path = lock_path(engine)
    if path is None:
        return None
    queue = _QUEUES.get(path.resolve())
    if queue is None:
        queue = _QUEUES[path.resolve()] = WriterQueue(path)
    dialect = engine.dialect
    dialect.do_commit = _after(dialect.do_commit, queue)  # type: ignore[method-assign]
    dialect.do_rollback = _after(dialect.do_rollback, queue)  # type: ignore[method-assign]
    engine.sipas_writer_queue = queue  # type: ignore[attr-defined]
    return queue


def take_turn(engine: Engine, dbapi_connection: Any) -> None:
    """Called by the engine's ``begin`` hook just before ``BEGIN IMMEDIATE``."""
    queue: WriterQueue | None = getattr(engine, "sipas_writer_queue", None)
    if queue is not None:
        queue.take(dbapi_connection)


def give_back(engine: Engine, dbapi_connection: Any) -> None:
    """Release a turn whose ``BEGIN`` failed (nothing to commit or roll back)."""
    queue: WriterQueue | None = getattr(engine, "sipas_writer_queue", None)
    if queue is not None:
        queue.give_back(dbapi_connection)
