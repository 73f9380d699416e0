"""Backups that are consistent while the app keeps serving, and restore a working system.

SQLite: the online backup API copies pages under a read transaction, so writers carry on
and the copy is a consistent snapshot. PostgreSQL: ``pg_dump`` (custom format) takes a
snapshot the same way; ``pg_restore`` loads it into an empty database.

The backup file is a zip archive: the database copy, and the instance's keys
(``SECRET_KEY``). Without the keys a restored instance would be a different system: every
printed QR poster a 404, every dossier hash unrecognisable (already-evaluated dossiers
could be evaluated again), every session and form instance invalid. Because it holds the
keys, the file is created readable by its owner only (0600); store it as you would the
instance folder. A bare database copy from an older SIPAS still restores (without keys).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
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


@dataclass(frozen=True)
class RestoreResult:
    kind: str
    keys: dict[str, str]  # empty for a bare database copy (an older backup)


MANIFEST = "sipas-backup.json"
KEYS = "keys.json"
DATABASE = {"sqlite": "database.sqlite", "postgresql": "database.pgdump"}


def _sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def backup(engine: Engine, out: Path, keys: dict[str, str]) -> BackupResult:
    """Write a consistent copy of the database and the keys to ``out`` (atomically, 0600)."""
    if out.exists():
        raise BackupError(f"{out} already exists; choose a new file name")
    if not out.parent.is_dir():
        raise BackupError(f"folder {out.parent} does not exist")
    with tempfile.TemporaryDirectory(prefix="sipas-backup-") as work:
        copy = Path(work) / "database"
        if engine.dialect.name == "sqlite":
            _sqlite_copy(_sqlite_path(engine), copy)
            kind = "sqlite"
        else:
            _run(["pg_dump", "--format=custom", "--no-owner", f"--file={copy}",
                  _libpq_url(engine)])
            kind = "postgresql"
        tmp = out.with_name(out.name + ".part")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle, zipfile.ZipFile(handle, "w",
                                                            zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(MANIFEST, json.dumps({
                "format": 1, "kind": kind,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds")}))
            archive.writestr(KEYS, json.dumps(keys))
            archive.write(copy, DATABASE[kind])
    tmp.replace(out)
    return BackupResult(out, kind, out.stat().st_size)


def _sqlite_copy(source_path: Path, target_path: Path) -> None:
    source = sqlite3.connect(source_path, timeout=30)
    target = sqlite3.connect(target_path)
    try:
        source.backup(target, pages=1024)
        check = target.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        target.close()
        source.close()
    if check != "ok":
        raise BackupError(f"the copy failed its integrity check: {check}")


def restore(engine: Engine, source: Path) -> RestoreResult:
    """Load a backup into an EMPTY database (never over existing data); return its keys."""
    if not source.is_file():
        raise BackupError(f"no backup file {source}")
    if inspect(engine).get_table_names():
        raise BackupError(
            "the target database is not empty; restore into a fresh instance "
            "(set SIPAS_INSTANCE or DATABASE_URL to a new one) / cơ sở dữ liệu đích không trống"
        )
    if not zipfile.is_zipfile(source):  # a bare copy from before backups carried the keys
        _restore_database(engine, source)
        return RestoreResult(engine.dialect.name, {})
    with zipfile.ZipFile(source) as archive, tempfile.TemporaryDirectory() as work:
        try:
            manifest = json.loads(archive.read(MANIFEST))
            keys = json.loads(archive.read(KEYS))
            kind = manifest["kind"]
            member = DATABASE[kind]
        except (KeyError, ValueError, TypeError):
            raise BackupError(f"{source} is not a SIPAS backup") from None
        if kind != engine.dialect.name:
            raise BackupError(f"{source} is a {kind} backup; the target database is "
                              f"{engine.dialect.name}")
        archive.extract(member, work)
        _restore_database(engine, Path(work) / member)
    return RestoreResult(kind, {k: str(v) for k, v in keys.items()})


def _restore_database(engine: Engine, source: Path) -> None:
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
        os.chmod(tmp, 0o600)
        tmp.replace(target)
        with sqlite3.connect(target) as conn:
            check = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"the restored database failed its integrity check: {check}")
        return
    engine.dispose()
    _run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={_libpq_url(engine)}",
          str(source)])


def install_keys(config_file: Path, keys: dict[str, str]) -> None:
    """Put the backup's keys into the instance's ``config.py`` (kept 0600), other lines kept."""
    secret = keys.get("SECRET_KEY")
    if not secret:
        return
    line = f"SECRET_KEY = {secret!r}"
    text = config_file.read_text(encoding="utf-8") if config_file.exists() else ""
    if re.search(r"(?m)^SECRET_KEY\s*=.*$", text):
        text = re.sub(r"(?m)^SECRET_KEY\s*=.*$", lambda _m: line, text)
    else:
        text = text + ("" if text.endswith("\n") or not text else "\n") + line + "\n"
    tmp = config_file.with_name(config_file.name + ".restoring")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    tmp.replace(config_file)


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
