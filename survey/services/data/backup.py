"""Backups that are consistent while the app keeps serving.

SQLite: the online backup API copies pages under a read transaction, so writers carry on
and the copy is a consistent snapshot. PostgreSQL: ``pg_dump`` (custom format) takes a
snapshot the same way; ``pg_restore`` loads it into an empty database.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import Engine, make_url


class BackupError(ValueError):
    """The backup or restore cannot proceed; the message says why and what to do."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    kind: str
    size: int


def _sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def backup(engine: Engine, out: Path) -> BackupResult:
    """Write a consistent copy of the database to ``out`` (atomically)."""
    if out.exists():
        raise BackupError(f"{out} already exists; choose a new file name")
    if not out.parent.is_dir():
        raise BackupError(f"folder {out.parent} does not exist")
    tmp = out.with_name(out.name + ".part")
    if engine.dialect.name == "sqlite":
        source = sqlite3.connect(_sqlite_path(engine), timeout=30)
        target = sqlite3.connect(tmp)
        try:
            source.backup(target, pages=1024)
            check = target.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            target.close()
            source.close()
        if check != "ok":
            tmp.unlink(missing_ok=True)
            raise BackupError(f"the copy failed its integrity check: {check}")
        kind = "sqlite"
    else:
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={tmp}", _libpq_url(engine)])
        kind = "postgresql"
    tmp.replace(out)
    return BackupResult(out, kind, out.stat().st_size)


def restore(engine: Engine, source: Path) -> None:
    """Load a backup into an EMPTY database (never over existing data)."""
    if not source.is_file():
        raise BackupError(f"no backup file {source}")
    if inspect(engine).get_table_names():
        raise BackupError(
            "the target database is not empty; restore into a fresh instance "
            "(set SIPAS_INSTANCE or DATABASE_URL to a new one) / cơ sở dữ liệu đích không trống"
        )
    if engine.dialect.name == "sqlite":
        with source.open("rb") as handle:
            if handle.read(16) != b"SQLite format 3\x00":
                raise BackupError(f"{source} is not a SQLite backup")
        target = _sqlite_path(engine)
        engine.dispose()
        for suffix in ("-wal", "-shm"):
            Path(str(target) + suffix).unlink(missing_ok=True)
        tmp = target.with_name(target.name + ".restoring")
        shutil.copyfile(source, tmp)
        tmp.replace(target)
        with sqlite3.connect(target) as conn:
            check = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"the restored database failed its integrity check: {check}")
        return
    engine.dispose()
    _run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={_libpq_url(engine)}",
          str(source)])


def _libpq_url(engine: Engine) -> str:
    url = make_url(engine.url.render_as_string(hide_password=False)).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _run(command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (Debian package postgresql-client)")
    proc = subprocess.run(command, capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        first = (proc.stderr.strip().splitlines() or ["no message"])[0]
        raise BackupError(f"{command[0]} failed: {first}")
