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
