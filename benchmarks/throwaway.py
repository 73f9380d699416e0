"""Throw-away instances for the benchmarks: a folder, a database, gunicorn on loopback.

Every benchmark that serves the app needs the same three things, set up as an operator
would and removed afterwards: an instance folder with its ``config.py``, a database
(SQLite in the folder, or a PostgreSQL database created for the run and dropped after),
and gunicorn started with the README's settings on a free loopback port.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def throwaway_instance(backend: str, pg_admin_url: str, config: str = "",
                       prefix: str = "sipas-bench") -> Iterator[tuple[Path, str]]:
    """A fresh instance folder (``config.py``: a new SECRET_KEY, then ``config``) and the
    URL of an empty database for it; both removed on exit."""
    from sqlalchemy import text

    from survey.db import make_engine

    folder = Path(tempfile.mkdtemp(prefix=prefix + "-"))
    (folder / "config.py").write_text(f"SECRET_KEY = {uuid.uuid4().hex * 2!r}\n" + config)
    name = f"{prefix.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
    admin = None
    if backend == "sqlite":
        url = f"sqlite:///{folder / 'sipas.db'}"
    else:
        admin = make_engine(pg_admin_url).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = pg_admin_url.rsplit("/", 1)[0] + "/" + name
    try:
        yield folder, url
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def instance_env(folder: Path, url: str, base_url: str = "http://127.0.0.1",
                 keep_redis: bool = True) -> dict[str, str]:
    """The environment the CLI and gunicorn run with for this instance."""
    env = {k: v for k, v in os.environ.items() if keep_redis or k != "REDIS_URL"}
    env.update(SIPAS_INSTANCE=str(folder), DATABASE_URL=url, SIPAS_BASE_URL=base_url)
    return env


def _healthy(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


@contextmanager
def gunicorn(env: dict[str, str], port: int, workers: int,
             extra: Sequence[str] = ()) -> Iterator[int]:
    """gunicorn serving the app on 127.0.0.1:``port`` until healthy; yields its pid."""
    from gunicorn.config import KNOWN_SETTINGS

    # gunicorn >= 24 opens a control socket in ~/.gunicorn, shared by every server: not ours.
    own = ["--no-control-socket"] if any(
        s.name == "control_socket_disable" for s in KNOWN_SETTINGS) else []
    proc = subprocess.Popen(
        [str(BIN / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}", *own,
         "--backlog", "2048", *extra, "survey.app:create_app()"], env=env, cwd=REPO)
    try:
        for _ in range(300):
            if _healthy(port):
                break
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with status {proc.returncode}")
            time.sleep(0.05)
        else:
            raise RuntimeError("gunicorn did not become healthy in 15 s")
        yield proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)
