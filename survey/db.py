"""Database engine and sessions.

SQLite gets WAL mode, foreign keys and a busy timeout on every connection so that a
province can run on one machine with concurrent desk submissions; PostgreSQL is used
as is. One session per request, closed at teardown.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Executable, event
from sqlalchemy.engine import Dialect, Engine, make_url
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine

from survey import db_queue

SQLITE_BUSY_TIMEOUT_MS = 15000


def import_all_models() -> None:
    """Import ``survey.models`` and every ``survey/models_*.py`` so all tables are registered.

    Feature areas keep their tables in their own module (models_desk.py, models_entry.py, …);
    Alembic and the schema test need them all.
    """
    import importlib
    import pkgutil

    import survey

    importlib.import_module("survey.models")
    for info in pkgutil.iter_modules(survey.__path__):
        if info.name.startswith("models_"):
            importlib.import_module(f"survey.{info.name}")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not pysqlite, decide when transactions begin (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL: a commit is on disk before the citizen is told "saved". In WAL mode NORMAL may
    # roll back the last acknowledged transactions after a power cut (benchmarks/README.md
    # gives the cost: one fsync of the WAL per commit).
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    """BEGIN IMMEDIATE: take the write lock up front, waiting up to the busy timeout.

    With pysqlite's deferred BEGIN, two transactions that both read then write deadlock
    and one fails with "database is locked" at once — a 5xx for a citizen. Immediate
    transactions queue instead (in the kernel, in order: :mod:`survey.db_queue`); WAL keeps
    readers outside transactions unblocked.
    """
    dbapi_connection = conn.connection.dbapi_connection
    db_queue.take_turn(conn.engine, dbapi_connection)
    try:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        db_queue.give_back(conn.engine, dbapi_connection)
        raise


def _create_private(database: str | None) -> None:
    """Create a new SQLite file readable by its owner only (it holds every response);
    SQLite gives its -wal and -shm files the same permissions."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if path.parent.is_dir() and not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


class _NoResultRows(logging.Filter):
    """SQLAlchemy logs result rows (a phone number, a comment) at DEBUG; parameters are
    hidden by ``hide_parameters``, rows are not. Drop them at the source, whatever level an
    operator turns the SQL log up to; the statements themselves (INFO) still show."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


_ROWS_FILTER = _NoResultRows()
for _name in ("sqlalchemy.engine.Engine", "sqlalchemy.engine.base.Engine"):
    if _ROWS_FILTER not in logging.getLogger(_name).filters:
        logging.getLogger(_name).addFilter(_ROWS_FILTER)


def make_engine(url: str) -> Engine:
    """Create an engine with the per-dialect settings SIPAS relies on.

    ``hide_parameters``: bound values (phone numbers, comments) never appear in SQL logs or
    in database error messages, which end up in tracebacks and server logs.
    """
    if url.startswith("sqlite"):
        _create_private(make_url(url).database)
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 15}}
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs["poolclass"] = StaticPool
        engine = create_engine(url, hide_parameters=True, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        db_queue.install(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


_NAMED = re.compile(r"(?<![:\w]):(\w+)")


def driver_sql(sql: str, dialect: Dialect) -> str:
    """SQL written with ``:name`` parameters as the dialect's driver takes it on its own
    cursor (psycopg: ``%(name)s``; SQLite takes ``:name`` as it is). Reports and exports
    that read hundreds of thousands of values use the driver's cursor directly."""
    return _NAMED.sub(r"%(\1)s", sql) if dialect.paramstyle == "pyformat" else sql


def plain_rows(conn: Connection, statement: Executable, params: dict[str, Any] | None = None
               ) -> tuple[tuple, ...]:
    """A statement's rows as the database driver gives them: plain tuples of ints, floats,
    text and moments, what SQLAlchemy's rows would hold for untyped columns, at half the
    cost (20,000 desk counts: 0.08 -> 0.04 s; 37,000 questionnaires' design columns)."""
    result = conn.execute(statement, params)
    try:
        return tuple(map(tuple, result.cursor.fetchall()))  # type: ignore[union-attr]
    finally:
        result.close()
