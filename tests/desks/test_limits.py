"""Do rate limits stop stuffing kindly, per desk and address, behind trusted proxies only?"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from survey.config import ConfigError
from survey.services.desks.links import desk_token
from tests import factories
from tests.desks.conftest import GOOD_ANSWERS, DeskLink, open_form
from tests.support import CHEAP_ARGON2, unavailable


def _post(client: FlaskClient, path: str, address: str = "127.0.0.1", **headers: str) -> int:
    environ = {"REMOTE_ADDR": address}
    data = {**open_form_as(client, path, environ, headers), **GOOD_ANSWERS}
    return client.post(path, data=data, environ_base=environ, headers=headers).status_code


def open_form_as(client: FlaskClient, path: str, environ: dict[str, str],
                 headers: dict[str, str]) -> dict[str, str]:
    import re

    html = client.get(path, environ_base=environ, headers=headers).get_data(as_text=True)
    return {n: re.search(rf'name="{n}" value="([^"]*)"', html).group(1)  # type: ignore[union-attr]
            for n in ("csrf_token", "client_uuid", "iv")}


def test_one_address_stuffing_one_desk_gets_a_friendly_429(
    app: Flask, client: FlaskClient, desk_link: DeskLink
) -> None:
    app.config["DESK_LIMIT_DESK_ADDRESS"] = "2 per minute"
    assert [_post(client, desk_link.path) for _ in range(2)] == [303, 303]
    data = {**open_form(client, desk_link.path), **GOOD_ANSWERS}
    refused = client.post(desk_link.path, data=data)
    assert refused.status_code == 429
    assert "Quá nhiều lần gửi" in refused.get_data(as_text=True)
    assert "Retry-After" in refused.headers
    assert client.get(desk_link.path).status_code == 200  # the form itself stays readable
    assert _post(client, desk_link.path, address="203.0.113.9") == 303  # another address


def test_a_desk_has_a_ceiling_across_addresses(
    app: Flask, client: FlaskClient, desk_link: DeskLink
) -> None:
    app.config["DESK_LIMIT_DESK"] = "3 per minute"
    codes = [_post(client, desk_link.path, address=f"198.51.100.{k}") for k in range(4)]
    assert codes == [303, 303, 303, 429]


@pytest.fixture
def proxied_app(engine, db_url: str, instance_dir) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    from survey.app import create_app

    application = create_app({"TESTING": True, "SECRET_KEY": "test-secret-key-not-for-production",
                              "DATABASE_URL": db_url, "ARGON2_PARAMS": CHEAP_ARGON2,
                              "TRUSTED_PROXIES": 1, "DESK_LIMIT_DESK_ADDRESS": "1 per minute"})
    yield application
    application.extensions["sipas_engine"].dispose()


def _link(application: Flask, code: str | None = None) -> str:
    with Session(application.extensions["sipas_engine"]) as session:
        factories.published(session, "desk_evaluation")
        desk = factories.desk(session, **({"code": code} if code else {}))
        session.commit()
        return "/d/" + desk_token(application.config["SECRET_KEY"], desk)


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(proxied_app: Flask) -> None:
    path, client = _link(proxied_app), proxied_app.test_client()
    first = _post(client, path, **{"X-Forwarded-For": "192.0.2.10"})
    second = _post(client, path, **{"X-Forwarded-For": "192.0.2.11"})
    again = _post(client, path, **{"X-Forwarded-For": "192.0.2.10"})
    assert (first, second, again) == (303, 303, 429)


def test_without_trusted_proxies_a_forged_forwarded_for_changes_nothing(
    app: Flask, client: FlaskClient, desk_link: DeskLink
) -> None:
    app.config["DESK_LIMIT_DESK_ADDRESS"] = "1 per minute"
    assert _post(client, desk_link.path, **{"X-Forwarded-For": "192.0.2.10"}) == 303
    assert _post(client, desk_link.path, **{"X-Forwarded-For": "192.0.2.11"}) == 429


def test_a_bad_trusted_proxy_count_fails_at_start(engine, db_url: str, instance_dir) -> None:  # type: ignore[no-untyped-def]
    from survey.app import create_app

    with pytest.raises(ConfigError, match="SIPAS_TRUSTED_PROXIES"):
        create_app({"TESTING": True, "SECRET_KEY": "x" * 32, "DATABASE_URL": db_url,
                    "TRUSTED_PROXIES": "two"})


def test_limits_are_shared_through_redis_when_redis_url_is_set(
    engine, db_url: str, instance_dir, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    import redis

    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        unavailable(f"Redis is not reachable at {url}: {exc}")
    monkeypatch.setenv("REDIS_URL", url)
    from survey.app import create_app

    config = {"TESTING": True, "SECRET_KEY": "test-secret-key-not-for-production",
              "DATABASE_URL": db_url, "ARGON2_PARAMS": CHEAP_ARGON2,
              "DESK_LIMIT_DESK_ADDRESS": "1 per minute"}
    one, two = create_app(config), create_app(config)  # two workers, one store
    try:
        assert one.config["RATELIMIT_STORAGE_URI"] == url
        path = _link(one, code="R" + uuid.uuid4().hex[:12])
        address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7"
        assert _post(one.test_client(), path, address=address) == 303
        assert _post(two.test_client(), path, address=address) == 429
    finally:
        for application in (one, two):
            application.extensions["sipas_engine"].dispose()


def test_the_dossier_pattern_is_configurable_and_checked_at_start(
    engine, db_url: str, instance_dir  # type: ignore[no-untyped-def]
) -> None:
    from survey.app import create_app

    base = {"TESTING": True, "SECRET_KEY": "x" * 32, "DATABASE_URL": db_url}
    with pytest.raises(ConfigError, match="SIPAS_DOSSIER_PATTERN"):
        create_app({**base, "DOSSIER_CODE_PATTERN": "[unclosed"})
    strict = create_app({**base, "DOSSIER_CODE_PATTERN": r"\d{6}"})
    path, client = _link(strict), strict.test_client()
    data = {**open_form(client, path), **GOOD_ANSWERS}
    refused = client.post(path, data={**data, "dossier_code": "H01.2025.1"})
    accepted = client.post(path, data={**data, "dossier_code": "123456"})
    assert (refused.status_code, accepted.status_code) == (422, 303)
    strict.extensions["sipas_engine"].dispose()
