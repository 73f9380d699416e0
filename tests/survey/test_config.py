"""Does configuration fail early, naming the variable at fault?"""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import pytest

from survey.config import ConfigError, ensure_instance_config, load_settings


def test_defaults_put_sqlite_in_the_instance_folder(tmp_path: Path) -> None:
    settings = load_settings({"SIPAS_INSTANCE": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'sipas.db'}"
    assert settings.base_url == "http://127.0.0.1:5000"
    assert settings.instance_path == tmp_path


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL"),
        ({"DATABASE_URL": "mysql://root@localhost/x"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgresql://127.0.0.1:5432"}, "DATABASE_URL"),
        ({"SIPAS_BASE_URL": "sipas.example.gov.vn"}, "SIPAS_BASE_URL"),
        ({"SIPAS_BASE_URL": "ftp://example.org"}, "SIPAS_BASE_URL"),
        ({"SIPAS_TIMEZONE": "Hanoi"}, "SIPAS_TIMEZONE"),
        ({"SIPAS_TIMEZONE": "../../etc/passwd"}, "SIPAS_TIMEZONE"),
    ],
)
def test_bad_values_name_their_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        load_settings(env)


def test_the_province_clock_defaults_to_vietnam_and_can_be_set() -> None:
    assert load_settings({}).timezone == "Asia/Ho_Chi_Minh"
    assert load_settings({"SIPAS_TIMEZONE": "Asia/Bangkok"}).timezone == "Asia/Bangkok"


def test_times_are_shown_on_the_province_clock() -> None:
    from datetime import datetime

    from survey.app import create_app, local_time

    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": "sqlite://"})
    with app.test_request_context("/"):
        moment = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
        assert local_time(moment) == "06:30 02/12/2026"  # UTC+7, the next day
    with app.test_request_context("/?lang=en"):
        assert local_time(moment) == "2 Dec 2026 06:30"


def test_postgres_urls_use_psycopg3() -> None:
    settings = load_settings({"DATABASE_URL": "postgresql://u@127.0.0.1:5432/sipas"})
    assert settings.database_url.startswith("postgresql+psycopg://")


def test_secret_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    path = ensure_instance_config(tmp_path)
    first = path.read_text()
    assert "SECRET_KEY = '" in first and len(first) > 80
    ensure_instance_config(tmp_path)
    assert path.read_text() == first
    assert path.stat().st_mode & 0o077 == 0  # not readable by others


def test_two_instances_get_different_keys(tmp_path: Path) -> None:
    a = ensure_instance_config(tmp_path / "a").read_text()
    b = ensure_instance_config(tmp_path / "b").read_text()
    assert a != b


def test_instance_config_overrides_defaults_but_not_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from survey.app import create_app

    monkeypatch.setenv("SIPAS_INSTANCE", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    (tmp_path / "config.py").write_text(
        "SECRET_KEY = 'k' * 32\nMIN_CELL_N = 10\nSESSION_IDLE_MINUTES = 5\n"
        "PERMANENT_SESSION_LIFETIME = 3600\nDATABASE_URL = 'sqlite:///ignored.db'\n"
        "SESSION_COOKIE_HTTPONLY = False\n",
        encoding="utf-8",
    )
    app = create_app()
    try:
        assert app.config["MIN_CELL_N"] == 10
        assert app.config["SESSION_IDLE_MINUTES"] == 5
        assert app.permanent_session_lifetime.total_seconds() == 3600
        assert app.config["DATABASE_URL"].endswith("env.db")
        assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    finally:
        app.extensions["sipas_engine"].dispose()
