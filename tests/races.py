"""Helpers of the race tests: signed-in clients sending the same request at the same instant.

A thread pool alone starts its jobs one after another, so the first request can be answered
before the last one is sent and nothing races. A barrier releases every thread together:
on PostgreSQL each request then reads before any of them has written, which is exactly
when check-then-write code goes wrong. (SQLite queues whole transactions, so there the same
test shows what the serial answer is.)
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url
from sqlmodel import Session, func, select
from werkzeug.test import TestResponse

from survey.db import make_engine
from survey.migrate import upgrade_database
from survey.models import AuditLog
from tests.entry.conftest import PASSWORD, World, build_world
from tests.support import CHEAP_ARGON2, copy_database, csrf_token, sign_in

Job = TypeVar("Job")


def clients(app: Flask, username: str, n: int, password: str = PASSWORD) -> list[FlaskClient]:
    """``n`` clients, each with its own login (its own staff session) as ``username``."""
    return [sign_in(app.test_client(), username, password) for _ in range(n)]


def signed_in(app: Flask, username: str, n: int, page: str = "/auth/password",
              password: str = PASSWORD) -> list[tuple[FlaskClient, str]]:
    """``n`` logged-in clients with the CSRF token of their session (read from ``page``)."""
    return [(client, csrf_token(client, page)) for client in clients(app, username, n, password)]


def race(jobs: Sequence[Job], post: Callable[[Job], TestResponse]) -> list[TestResponse]:
    """Run ``post`` on every job at once (released together by a barrier); replies in order."""
    start = threading.Barrier(len(jobs))

    def run(job: Job) -> TestResponse:
        start.wait()
        return post(job)

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(run, jobs))


def statuses(replies: Sequence[TestResponse]) -> list[int]:
    return [reply.status_code for reply in replies]


def count(app: Flask, model: type, *where: Any) -> int:
    """How many rows of ``model`` match ``where``, read in a fresh session."""
    with Session(app.extensions["sipas_engine"]) as session:
        return int(session.exec(select(func.count()).select_from(model).where(*where)).one())


def audited(app: Flask, action: str, entity_id: object | None = None) -> list[AuditLog]:
    """The audit rows of ``action`` (on ``entity_id`` if given), in the order they were written."""
    with Session(app.extensions["sipas_engine"]) as session:
        query = select(AuditLog).where(AuditLog.action == action)
        if entity_id is not None:
            query = query.where(AuditLog.entity_id == str(entity_id))
        return list(session.exec(query.order_by(AuditLog.id)))  # type: ignore[arg-type]


def race_app(db_url: str) -> Flask:
    """The app as tests/conftest.py makes it, on ``db_url``."""
    from survey.app import create_app

    return create_app({"TESTING": True, "SECRET_KEY": "test-secret-key-not-for-production",
                       "DATABASE_URL": db_url, "ARGON2_PARAMS": CHEAP_ARGON2})


def world_database(db_url: str, built: dict[str, tuple[str, World]], admin_url: str | None,
                   folder: Path) -> World:
    """Make ``db_url`` a migrated database holding paper entry's world (tests/entry).

    Migrating and publishing the forms cost half a second a test, longer than most races:
    the world is built once per backend and each test gets a copy of its own (a file
    copy on SQLite, ``CREATE DATABASE … TEMPLATE`` on PostgreSQL), equal to a fresh one.
    """
    backend = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    if backend in built:
        source, world = built[backend]
        if backend == "postgresql":
            source = make_url(db_url).set(database=source).render_as_string(hide_password=False)
        copy_database(source, db_url, admin_url)
        return world
    engine = make_engine(db_url)
    upgrade_database(engine)
    engine.dispose()
    app = race_app(db_url)
    world = build_world(app)
    app.extensions["sipas_engine"].dispose()
    if backend == "sqlite":
        with sqlite3.connect(str(make_url(db_url).database)) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        template = f"sqlite:///{folder / 'world.db'}"
        built[backend] = (template, world)
    else:
        name = f"{make_url(db_url).database}_races"
        template = make_url(db_url).set(database=name).render_as_string(hide_password=False)
        built[backend] = (name, world)
    copy_database(db_url, template, admin_url)
    return world
