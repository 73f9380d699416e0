"""Fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``SIPAS_TEST_POSTGRES_URL`` (default: the local server with trust
auth). Each pytest worker creates its own database and drops it at the end; each test
starts from an empty schema upgraded by the real Alembic migrations.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from survey.db import make_engine
from survey.migrate import upgrade_database
from survey.services.demo import build_demo
from tests import factories
from tests.support import CHEAP_ARGON2, IN_CI, copy_database, drop_database

try:  # Hypothesis profiles: small and quick by default and in CI, big in benchmarks.
    from hypothesis import HealthCheck, settings

    settings.register_profile("ci", max_examples=35, deadline=None,
                              suppress_health_check=[HealthCheck.too_slow])
    settings.register_profile("dev", max_examples=100, deadline=None)
    settings.register_profile("large", max_examples=5000, deadline=None)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if IN_CI else "dev"))
except ImportError:  # pragma: no cover
    pass

# Reports and charts kept on disk (survey/services/reports/cache.py) are keyed by the data's
# fingerprint; test databases are rebuilt under the same names run after run, so the suite
# keeps none, except the cache's own tests, which point it at a fresh folder.
os.environ["SIPAS_REPORT_CACHE"] = "off"
# The production server's workers load the reports' libraries before serving (about 1.5 s
# each): the test servers never draw a chart, so they skip it; test_serving checks it.
os.environ["SIPAS_WARM_UP"] = "0"

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BACKENDS = ("sqlite", "postgresql")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under CI=true a skipped test means an untested capability: fail the run."""
    if not IN_CI:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped and session.exitstatus == 0:
        for report in skipped:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
            print(f"\nCI forbids skips: {report.nodeid}: {reason}")
        session.exitstatus = 1


@pytest.fixture(scope="session")
def postgres_admin_url() -> str | None:
    url = os.environ.get("SIPAS_TEST_POSTGRES_URL", DEFAULT_PG)
    engine = make_engine(url)
    try:
        with engine.connect():
            pass
    except Exception as exc:  # noqa: BLE001 - any failure means "no server here"
        if IN_CI:
            pytest.fail(f"PostgreSQL at {url} is unreachable in CI: {exc}")
        return None
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="session")
def postgres_url(postgres_admin_url: str | None, worker_id: str) -> Iterator[str | None]:
    """A database of this worker's own, dropped at the end."""
    if postgres_admin_url is None:
        yield None
        return
    name = f"sipas_test_{worker_id}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(postgres_admin_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database URL; parametrised so each test runs on both backends."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'sipas.db'}"
    url = request.getfixturevalue("postgres_url")
    if url is None:
        pytest.skip("PostgreSQL is not reachable (set SIPAS_TEST_POSTGRES_URL)")
    if "engine" in request.fixturenames:  # replaced whole by a copy of a template: no reset
        return url
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
        conn.execute(text("DROP FUNCTION IF EXISTS audit_log_guard() CASCADE"))
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def migrated_templates(postgres_admin_url: str | None) -> Iterator[dict[str, str]]:
    """Per worker and backend, one empty database upgraded by the real migrations, copied
    for every test that needs a migrated database: a file copy on SQLite, ``CREATE DATABASE
    … TEMPLATE`` on PostgreSQL, instead of running every migration again for each test
    (which was most of the suite's time). The migration tests still upgrade from empty."""
    made: dict[str, str] = {}
    yield made
    if "postgresql" in made:
        drop_database(postgres_admin_url, str(make_url(made["postgresql"]).database))


@pytest.fixture
def engine(db_url: str, migrated_templates: dict[str, str], postgres_admin_url: str | None,
           tmp_path_factory: pytest.TempPathFactory, demo_templates: dict[str, str],
           request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A migrated, empty database (a copy of this worker's migrated template); for a test
    of the demo, once its template is built, a copy of the demo straight away (one copy,
    not two)."""
    backend = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    if "demo" in request.fixturenames and backend in demo_templates:
        source = demo_templates[backend]
        if backend == "postgresql":
            source = make_url(db_url).set(database=source).render_as_string(
                hide_password=False)
        copy_database(source, db_url, postgres_admin_url)
        request.node.sipas_demo_copied = True
        eng = make_engine(db_url)
        yield eng
        eng.dispose()
        return
    if backend not in migrated_templates:
        if backend == "sqlite":
            template = f"sqlite:///{tmp_path_factory.mktemp('migrated') / 'template.db'}"
        else:
            name = f"sipas_migrated_{uuid.uuid4().hex[:12]}"
            admin = make_engine(str(postgres_admin_url)).execution_options(
                isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            admin.dispose()
            template = make_url(db_url).set(database=name).render_as_string(
                hide_password=False)
        built = make_engine(template)
        upgrade_database(built)
        built.dispose()
        if backend == "sqlite":
            with sqlite3.connect(make_url(template).database) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        migrated_templates[backend] = template
    copy_database(migrated_templates[backend], db_url, postgres_admin_url)
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def instance_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "instance"
    path.mkdir()
    monkeypatch.setenv("SIPAS_INSTANCE", str(path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("SIPAS_BASE_URL", raising=False)
    return path


@pytest.fixture
def app(engine: Engine, db_url: str, instance_dir: Path) -> Iterator[Flask]:
    application = _make_app(db_url)
    yield application
    application.extensions["sipas_engine"].dispose()


def _make_app(db_url: str) -> Flask:
    from survey.app import create_app

    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-not-for-production",
            "DATABASE_URL": db_url,
            "ARGON2_PARAMS": CHEAP_ARGON2,
        }
    )


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def cli_env(db_url: str, instance_dir: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment for running `sipas` commands against the test database."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    return {"DATABASE_URL": db_url, "SIPAS_INSTANCE": str(instance_dir)}


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="session")
def demo_templates(postgres_admin_url: str | None) -> Iterator[dict[str, str]]:
    """Built demo databases of this worker, one per backend, copied for every test.

    Building the demo takes seconds (6 s on PostgreSQL); copying a built one takes a
    fraction of one (a file copy, ``CREATE DATABASE … TEMPLATE``). Every test still gets
    a database of its own, equal to a freshly built demo.
    """
    made: dict[str, str] = {}
    yield made
    if "postgresql" in made:
        drop_database(postgres_admin_url, made["postgresql"])


@pytest.fixture
def demo(app: Flask, engine, db_url: str, demo_templates: dict[str, str],
         postgres_admin_url: str | None, tmp_path_factory: pytest.TempPathFactory,
         request: pytest.FixtureRequest) -> Flask:
    """The app with the demo province (one round, four desks)."""
    if getattr(request.node, "sipas_demo_copied", False):
        return app  # the engine fixture copied the built demo already
    backend = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    app_engine = app.extensions["sipas_engine"]
    if backend not in demo_templates:
        with Session(app_engine) as session:
            factories.published(session)
            assert build_demo(session, secret=b"s" * 32) is not None
            session.commit()
        app_engine.dispose()
        engine.dispose()
        if backend == "sqlite":
            with sqlite3.connect(make_url(db_url).database) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            keep = tmp_path_factory.mktemp("demo") / "demo.db"
            template = f"sqlite:///{keep}"
        else:
            name = f"{make_url(db_url).database}_demo"
            template = make_url(db_url).set(database=name).render_as_string(hide_password=False)
        copy_database(db_url, template, postgres_admin_url)
        demo_templates[backend] = template if backend == "sqlite" else name
        return app
    app_engine.dispose()
    engine.dispose()
    source = demo_templates[backend]
    if backend == "postgresql":
        source = make_url(db_url).set(database=source).render_as_string(hide_password=False)
    copy_database(source, db_url, postgres_admin_url)
    return app
