"""Helpers shared by the tests: environment checks that skip locally but fail in CI."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_REFERENCE = REPO.parent / "shared" / "reference"
IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = Path("/usr/bin/chromium")
CHEAP_ARGON2 = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}


def unavailable(reason: str) -> None:
    """Skip on a bare developer machine; under CI=true the missing piece is a failure."""
    if IN_CI:
        pytest.fail(f"CI must run this test, but: {reason}")
    pytest.skip(reason)


def reference_path(*parts: str) -> Path:
    path = SHARED_REFERENCE.joinpath(*parts)
    if not path.exists():
        unavailable(f"reference data {path} is missing (clone shared/ beside the repo)")
    return path


def artifact_dir(tmp_path: Path, feature: str = "") -> Path:
    """Screenshots go to $SIPAS_TEST_ARTIFACTS/<feature> (CI keeps it), else the test's tmp."""
    target = Path(os.environ.get("SIPAS_TEST_ARTIFACTS", tmp_path)) / feature
    target.mkdir(parents=True, exist_ok=True)
    return target


_CSRF_FIELD = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def csrf_token(client: Any, path: str) -> str:
    """The CSRF token a browser would post back, read from the form on ``path``."""
    found = _CSRF_FIELD.search(client.get(path).get_data(as_text=True))
    assert found is not None, f"no CSRF token on {path}"
    return found.group(1)


def sign_in(client: Any, username: str, password: str) -> Any:
    """Log ``client`` in through the real login form (CSRF included); returns the client."""
    reply = client.post("/auth/login", data={"username": username, "password": password,
                                              "csrf_token": csrf_token(client, "/auth/login")})
    assert reply.status_code == 302, reply.get_data(as_text=True)[:300]
    return client


def copy_database(source_url: str, target_url: str, admin_url: str | None) -> None:
    """Replace the database at ``target_url`` by a copy of ``source_url`` (none connected):
    a file copy on SQLite, ``CREATE DATABASE … TEMPLATE`` on PostgreSQL, a fraction of the
    seconds that building a test world again costs."""
    import shutil

    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from survey.db import make_engine

    if source_url.startswith("sqlite"):
        src, dst = Path(make_url(source_url).database), Path(make_url(target_url).database)
        for suffix in ("-wal", "-shm"):
            Path(str(dst) + suffix).unlink(missing_ok=True)
        shutil.copyfile(src, dst)
        return
    assert admin_url is not None
    source, target = make_url(source_url).database, make_url(target_url).database
    admin = make_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = :db AND pid <> pg_backend_pid()"), {"db": source})
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{target}" TEMPLATE "{source}"'))
    admin.dispose()


def drop_database(admin_url: str | None, name: str) -> None:
    """Drop a PostgreSQL test database kept for a session (templates of copied worlds)."""
    if admin_url is None:
        return
    from sqlalchemy import text

    from survey.db import make_engine

    admin = make_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def fresh_python(script: str) -> list[str]:
    """Run ``script`` in a new interpreter (what a process starts with, or ends with,
    cannot be seen from this one) and give its printed words; it must exit cleanly, with
    nothing on stderr."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return done.stdout.split()
