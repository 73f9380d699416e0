"""Queue SQLite writers in the kernel instead of letting them poll.

SQLite has one writer at a time. A transaction that finds the database locked sleeps in
SQLite's busy handler with growing naps (1, 2, 5, 10 … 100 ms) and retries, so under a
burst of QR submissions from several gunicorn workers a few unlucky requests wait tens of
milliseconds after the lock is already free: that is the p99. Taking an exclusive
``flock`` on a file beside the database first makes waiting writers sleep in the kernel
and wake the moment the previous one is done, in order. PostgreSQL needs none of this.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import Engine


def lock_path(engine: Engine) -> Path | None:
    """The queue file of a file-backed SQLite database (None otherwise)."""
    if engine.dialect.name != "sqlite" or not engine.url.database or \
            engine.url.database == ":memory:":
        return None
    return Path(engine.url.database).with_suffix(".writers.lock")


@contextmanager
def writer_turn(engine: Engine) -> Iterator[None]:
    """Hold this process's (and thread's) turn to write; a no-op except on SQLite files."""
    path = lock_path(engine)
    if path is None:
        yield
        return
    # A fresh descriptor per turn: flock excludes open file descriptions, so threads of one
    # worker sharing a descriptor would not exclude each other.
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
