"""Does a backup taken while responses keep arriving restore every row, intact?"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlmodel import Session

from survey.cli import main
from survey.db import make_engine
from survey.services.instruments import latest_version
from survey.services.responses import store_response


def _writer(url: str, stop: threading.Event, written: list[int]) -> None:
    engine = make_engine(url)
    with Session(engine) as session:
        version = latest_version(session, "desk_evaluation")
        while not stop.is_set() and len(written) < 400:
            store_response(session, instrument_version=version, client_uuid=uuid.uuid4(),
                           mode="qr", answers={"overall": 1 + len(written) % 5})
            session.commit()
            written.append(1)
    engine.dispose()


def test_backup_under_load_restores_into_a_fresh_instance(
    runner: CliRunner, cli_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    assert runner.invoke(main, ["init", "--demo"]).exit_code == 0
    url = cli_env["DATABASE_URL"]
    stop, written = threading.Event(), []
    worker = threading.Thread(target=_writer, args=(url, stop, written))
    worker.start()
    while len(written) < 20:
        stop.wait(0.01)
    out = tmp_path / "sipas.backup"
    result = runner.invoke(main, ["backup", "--out", str(out)])
    stop.set()
    worker.join(timeout=60)
    assert result.exit_code == 0, result.output
    assert runner.invoke(main, ["backup", "--out", str(out)]).exit_code == 1  # never overwrite

    if url.startswith("sqlite"):
        fresh = f"sqlite:///{tmp_path / 'restored.db'}"
    else:
        fresh_db = request.getfixturevalue("postgres_url") + "_restored"
        admin = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
        name = fresh_db.rsplit("/", 1)[1]
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        fresh = fresh_db
    monkeypatch.setenv("DATABASE_URL", fresh)
    restored = runner.invoke(main, ["restore", str(out)])
    assert restored.exit_code == 0, restored.output
    again = runner.invoke(main, ["restore", str(out)])
    assert again.exit_code == 1 and "not empty" in again.output

    before, after = make_engine(url), make_engine(fresh)
    with before.connect() as b, after.connect() as a:
        responses = a.execute(text("SELECT count(*) FROM response")).scalar_one()
        total_now = b.execute(text("SELECT count(*) FROM response")).scalar_one()
        paper = text("SELECT count(*) FROM response WHERE mode = 'paper'")
        demo_rows = b.execute(paper).scalar_one()
        assert a.execute(paper).scalar_one() == demo_rows
        # A snapshot: at least the rows acknowledged before it began, never more than exist now.
        assert demo_rows + 20 <= responses <= total_now
        orphans = a.execute(text(
            "SELECT count(*) FROM answer a LEFT JOIN response r ON r.id = a.response_id "
            "WHERE r.id IS NULL")).scalar_one()
        assert orphans == 0
        if url.startswith("sqlite"):
            assert a.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
    before.dispose()
    after.dispose()
    if not url.startswith("sqlite"):
        admin = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{fresh.rsplit("/", 1)[1]}" WITH (FORCE)'))
        admin.dispose()


def test_restore_refuses_a_file_that_is_not_a_backup(
    runner: CliRunner, cli_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bogus = tmp_path / "x.backup"
    bogus.write_text("hello")
    if cli_env["DATABASE_URL"].startswith("sqlite"):
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
        result = runner.invoke(main, ["restore", str(bogus)])
        assert result.exit_code == 1 and "not a SQLite backup" in result.output
    else:
        result = runner.invoke(main, ["restore", str(bogus)])
        assert result.exit_code == 1 and "failed" in result.output


def _fresh_database(url: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'new-instance' / 'sipas.db'}"
    fresh = request.getfixturevalue("postgres_url") + "_keys"
    admin = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{fresh.rsplit("/", 1)[1]}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{fresh.rsplit("/", 1)[1]}"'))
    admin.dispose()
    return fresh


def test_a_restore_into_a_new_instance_keeps_posters_and_dossier_checks(
    runner: CliRunner, cli_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    """Backup on one machine, restore on a new one with its own instance folder."""
    import os
    import stat

    from survey.app import create_app
    from survey.services.desks.links import desk_token, get_desk

    url = cli_env["DATABASE_URL"]
    monkeypatch.setenv("SIPAS_INSTANCE", cli_env["SIPAS_INSTANCE"])
    assert runner.invoke(main, ["init"]).exit_code == 0
    assert runner.invoke(main, ["desk", "add", "--code", "PL1", "--name", "Xã Phú Lâm"]
                         ).exit_code == 0
    old = create_app()
    with Session(old.extensions["sipas_engine"]) as session:
        poster = "/d/" + desk_token(old.config["SECRET_KEY"], get_desk(session, "PL1"))
    client = old.test_client()
    page = client.get(poster).get_data(as_text=True)
    import re

    fields = {n: re.search(rf'name="{n}" value="([^"]*)"', page).group(1)  # type: ignore[union-attr]
              for n in ("form_token", "iv")}
    answers = {"service_field": "3", "overall": "5", "on_time": "1", "staff_attitude": "4",
               "visits": "1", "dossier_code": "H01.2025.04242"}
    assert client.post(poster, data={**fields, **answers}).status_code == 303
    old.extensions["sipas_engine"].dispose()
    out = tmp_path / "province.backup"
    assert runner.invoke(main, ["backup", "--out", str(out)]).exit_code == 0
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600  # it holds the keys

    new_instance = tmp_path / "new-instance"
    monkeypatch.setenv("SIPAS_INSTANCE", str(new_instance))
    monkeypatch.setenv("DATABASE_URL", _fresh_database(url, tmp_path, request))
    restored = runner.invoke(main, ["restore", str(out)])
    assert restored.exit_code == 0 and "with its keys" in restored.output, restored.output
    assert stat.S_IMODE(os.stat(new_instance / "config.py").st_mode) == 0o600
    new = create_app()
    try:
        client = new.test_client()
        page = client.get(poster)
        assert page.status_code == 200  # the printed poster still works
        html = page.get_data(as_text=True)
        fields = {n: re.search(rf'name="{n}" value="([^"]*)"', html).group(1)  # type: ignore[union-attr]
                  for n in ("form_token", "iv")}
        again = client.post(poster, data={**fields, **answers, "overall": "1"})
        assert again.status_code == 409  # the dossier is still known as evaluated
        assert "Hồ sơ này đã được đánh giá" in again.get_data(as_text=True)
    finally:
        new.extensions["sipas_engine"].dispose()
        if not url.startswith("sqlite"):
            admin = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(
                    f'DROP DATABASE IF EXISTS "{os.environ["DATABASE_URL"].rsplit("/", 1)[1]}"'
                    ' WITH (FORCE)'))
            admin.dispose()


def test_a_new_sqlite_database_is_private_and_syncs_every_commit(tmp_path: Path) -> None:
    """Is the database file 0600, and is an acknowledged commit on disk (synchronous=FULL)?"""
    import os
    import stat

    engine = make_engine(f"sqlite:///{tmp_path / 'sipas.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar_one() == 2  # FULL
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        conn.commit()
    engine.dispose()
    for name in ("sipas.db", "sipas.db-wal"):
        if (tmp_path / name).exists():
            assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o600, name
