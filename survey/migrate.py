"""Schema migrations: upgrade to head safely, refuse databases from the future.

``sipas init`` must never damage a database written by a newer SIPAS: it checks the
stored revision against the scripts it knows before touching anything.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class MigrationError(RuntimeError):
    """The database cannot be upgraded by this version of SIPAS."""


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def current_revision(engine: Engine) -> str | None:
    """The stored revision(s), comma-joined when feature branches are not merged yet."""
    with engine.connect() as conn:
        heads = MigrationContext.configure(conn).get_current_heads()
    return ",".join(sorted(heads)) if heads else None


def head_revision(url: str) -> str | None:
    heads = ScriptDirectory.from_config(alembic_config(url)).get_heads()
    return ",".join(sorted(heads)) if heads else None


def upgrade_database(engine: Engine) -> tuple[str | None, str | None]:
    """Upgrade to head; return (revision before, revision after)."""
    url = engine.url.render_as_string(hide_password=False)
    config = alembic_config(url)
    script = ScriptDirectory.from_config(config)
    before = current_revision(engine)
    for revision in (before or "").split(","):
        if not revision:
            continue
        try:
            known = script.get_revision(revision)
        except Exception:  # alembic raises several kinds for an unknown id
            known = None
        if known is None:
            raise MigrationError(
                f"the database is at schema revision {revision!r}, which this version of SIPAS "
                "does not know (it was written by a newer SIPAS). Upgrade SIPAS; nothing was "
                "changed. / Cơ sở dữ liệu thuộc phiên bản SIPAS mới hơn; chưa thay đổi gì."
            )
    with engine.connect() as conn:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            # SQLite rebuilds a table to change a constraint (Alembic batch mode): with foreign
            # keys on, dropping the old table would cascade-delete the rows that point at it.
            # The pragma only takes effect outside a transaction, so it goes to the driver
            # before the upgrade's transaction begins (SQLite's documented procedure).
            conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        try:
            with conn.begin():
                config.attributes["connection"] = conn
                command.upgrade(config, "heads")
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise MigrationError(
                            f"the upgrade would leave {len(broken)} rows pointing at nothing; "
                            "nothing was changed")
        finally:
            if sqlite:
                conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]
    return before, current_revision(engine)
