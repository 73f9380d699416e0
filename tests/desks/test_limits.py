"""Is stuffing held (not counted, never refused), per desk and address, across workers, behind
trusted proxies only? And does the per-address flood limit hold across workers (Redis)?"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from survey.config import ConfigError
from survey.models import Response, utcnow
from survey.services.desks.holds import held_evaluations
from survey.services.desks.links import desk_token, dossier_secret
from survey.services.reports.desk import desk_report
from survey.services.reports.period import parse_period
from survey.services.responses import dossier_hash
from tests import factories
from tests.desks.conftest import GOOD_ANSWERS, DeskLink, open_form
from tests.support import CHEAP_ARGON2, unavailable


def _post(client: FlaskClient, path: str, address: str = "127.0.0.1",
          dossier_code: str = "", **headers: str) -> int:
    environ = {"REMOTE_ADDR": address}
    data = {**open_form_as(client, path, environ, headers), **GOOD_ANSWERS,
            "dossier_code": dossier_code}
    return client.post(path, data=data, environ_base=environ, headers=headers).status_code


def open_form_as(client: FlaskClient, path: str, environ: dict[str, str],
                 headers: dict[str, str]) -> dict[str, str]:
    import re

    html = client.get(path, environ_base=environ, headers=headers).get_data(as_text=True)
    return {n: re.search(rf'name="{n}" value="([^"]*)"', html).group(1)  # type: ignore[union-attr]
            for n in ("form_token", "iv")}


def _statuses(session: Session) -> dict[str, int]:
    from sqlalchemy import func, select

    return dict(session.execute(select(Response.status, func.count()).group_by(Response.status))
                .all())  # type: ignore[arg-type]


def test_one_address_stuffing_one_desk_is_held_not_counted_and_shown(
    app: Flask, client: FlaskClient, desk_link: DeskLink, db: Session
) -> None:
    app.config["DESK_HOLD_DESK_ADDRESS"] = 2
    assert [_post(client, desk_link.path) for _ in range(5)] == [303] * 5  # nobody refused
    assert _post(client, desk_link.path, address="203.0.113.9") == 303  # another address
    assert _statuses(db) == {"received": 3, "held": 3}
    held = held_evaluations(db)
    assert len(held) == 3 and {h.reason for h in held} == {"desk_address"}
    report = desk_report(db, parse_period(utcnow().strftime("%Y-%m")), min_n=1)
    assert report.evaluations == 3  # held evaluations are in no estimate
    db.rollback()
    page = _staff(app).get("/desks/bursts").get_data(as_text=True)
    assert "Đánh giá đang tạm giữ" in page and page.count('name="response_id"') == 3


def test_a_flood_from_many_addresses_locks_no_citizen_out(
    app: Flask, client: FlaskClient, desk_link: DeskLink, db: Session
) -> None:
    app.config["DESK_HOLD_DESK"] = 3
    flood = [_post(client, desk_link.path, address=f"198.51.100.{k}") for k in range(8)]
    citizen = _post(client, desk_link.path, address="192.0.2.200")
    assert flood == [303] * 8 and citizen == 303  # stored, never a 429
    assert _statuses(db) == {"received": 3, "held": 6}


def test_a_burst_of_made_up_dossier_codes_cannot_pre_burn_a_real_dossier(
    app: Flask, client: FlaskClient, desk_link: DeskLink, db: Session
) -> None:
    app.config.update(DESK_HOLD_DESK_ADDRESS=2, DESK_HOLD_ADDRESS=2)
    attacker = [_post(client, desk_link.path, dossier_code=f"H01.2025.{k:05d}")
                for k in range(1, 9)]
    assert attacker == [303] * 8 and _statuses(db) == {"received": 2, "held": 6}
    db.rollback()
    # The citizen who really holds receipt 00005 (its code was in the attacker's burst).
    assert _post(client, desk_link.path, address="192.0.2.50", dossier_code="H01.2025.00005") \
        == 303
    assert _statuses(db) == {"received": 3, "held": 6}
    db.rollback()
    # Releasing the attacker's copy now cannot take the dossier from the citizen.
    from sqlmodel import select

    from survey.models_desk import DeskSignal
    from survey.services.desks.holds import decide_held

    secret = dossier_secret(app.config["SECRET_KEY"])
    parked = db.exec(select(DeskSignal).where(
        DeskSignal.held_dossier_hash == dossier_hash(secret, "H01.2025.00005"))).one()
    assert decide_held(db, [parked.response_id], release=True, user_id=None) == 1
    db.commit()
    owners = db.exec(select(Response).where(
        Response.dossier_hash == dossier_hash(secret, "H01.2025.00005"))).all()
    assert len(owners) == 1 and owners[0].id != parked.response_id


def test_release_counts_a_held_evaluation_and_reject_removes_it_both_audited(
    app: Flask, client: FlaskClient, desk_link: DeskLink, db: Session
) -> None:
    from sqlmodel import select

    from survey.models import AuditLog

    app.config["DESK_HOLD_DESK_ADDRESS"] = 1
    for _ in range(3):
        _post(client, desk_link.path)
    held = [h.response_id for h in held_evaluations(db)]
    db.rollback()
    staff = _staff(app)
    page = staff.get("/desks/bursts").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    done = staff.post("/desks/held", data={"csrf_token": token, "decision": "release",
                                            "response_id": str(held[0])})
    assert done.status_code == 303
    staff.post("/desks/held", data={"csrf_token": token, "decision": "reject",
                                     "response_id": str(held[1])})
    assert _statuses(db) == {"received": 2, "rejected": 1}
    actions = [a.action for a in db.exec(select(AuditLog)).all()]
    assert "evaluation.release" in actions and "evaluation.reject" in actions


def _staff(app: Flask) -> FlaskClient:
    from tests.desks.test_admin import login

    staff = app.test_client()
    login(app, staff, "supervisor")
    return staff


@pytest.fixture
def proxied_app(engine, db_url: str, instance_dir) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    from survey.app import create_app

    application = create_app({"TESTING": True, "SECRET_KEY": "test-secret-key-not-for-production",
                              "DATABASE_URL": db_url, "ARGON2_PARAMS": CHEAP_ARGON2,
                              "TRUSTED_PROXIES": 1, "DESK_HOLD_DESK_ADDRESS": 1})
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
    for forwarded in ("192.0.2.10", "192.0.2.11", "192.0.2.10"):
        assert _post(client, path, **{"X-Forwarded-For": forwarded}) == 303
    with Session(proxied_app.extensions["sipas_engine"]) as session:
        assert _statuses(session) == {"received": 2, "held": 1}


def test_without_trusted_proxies_a_forged_forwarded_for_changes_nothing(
    app: Flask, client: FlaskClient, desk_link: DeskLink, db: Session
) -> None:
    app.config["DESK_HOLD_DESK_ADDRESS"] = 1
    assert _post(client, desk_link.path, **{"X-Forwarded-For": "192.0.2.10"}) == 303
    assert _post(client, desk_link.path, **{"X-Forwarded-For": "192.0.2.11"}) == 303
    assert _statuses(db) == {"received": 1, "held": 1}


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
              "DESK_LIMIT_ADDRESS": "3 per minute"}
    one, two = create_app(config), create_app(config)  # two workers, one store
    try:
        assert one.config["RATELIMIT_STORAGE_URI"] == url
        path = _link(one, code="R" + uuid.uuid4().hex[:12])
        address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7"
        assert _post(one.test_client(), path, address=address) == 303  # a GET and a POST
        assert _post(two.test_client(), path, address=address) == 429  # the 4th request
    finally:
        for application in (one, two):
            application.extensions["sipas_engine"].dispose()


def test_holds_are_counted_in_the_database_so_every_worker_sees_them(
    engine, db_url: str, instance_dir  # type: ignore[no-untyped-def]
) -> None:
    from survey.app import create_app

    config = {"TESTING": True, "SECRET_KEY": "test-secret-key-not-for-production",
              "DATABASE_URL": db_url, "ARGON2_PARAMS": CHEAP_ARGON2, "DESK_HOLD_DESK_ADDRESS": 1}
    one, two = create_app(config), create_app(config)  # two workers, memory limiter storage
    try:
        path = _link(one)
        assert _post(one.test_client(), path) == _post(two.test_client(), path) == 303
        with Session(one.extensions["sipas_engine"]) as session:
            assert _statuses(session) == {"received": 1, "held": 1}
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


def test_the_normal_rate_is_counted_in_a_window_that_moves_on(
    app: Flask, client: FlaskClient, desk_link: DeskLink, db: Session
) -> None:
    from datetime import timedelta

    from survey.services.desks.evaluation import _short_hash
    from survey.services.desks.holds import HoldRules, hold_reason
    from survey.services.desks.links import get_desk

    app.config["DESK_HOLD_DESK_ADDRESS"] = 2
    assert [_post(client, desk_link.path) for _ in range(2)] == [303, 303]
    desk = get_desk(db, desk_link.code)
    address = _short_hash(dossier_secret(app.config["SECRET_KEY"]), "addr:127.0.0.1")
    rules = HoldRules(desk_address=2)
    assert hold_reason(db, desk.id, address, rules) == "desk_address"
    later = utcnow() + rules.window + timedelta(seconds=1)
    assert hold_reason(db, desk.id, address, rules, now=later) is None
    assert hold_reason(db, desk.id, "another-address", rules) is None
