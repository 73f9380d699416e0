"""Are webhook events written with their change, signed, retried, logged, and delivered once
per idempotency key even when the worker is killed?"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import update
from sqlmodel import Session, col, select

from survey.models import utcnow
from survey.models_webhooks import OutboxEvent, WebhookAttempt, WebhookDelivery
from survey.services.webhooks import delivery as worker
from survey.services.webhooks.outbox import add_webhook, emit
from tests.desks.conftest import submit
from tests.webhooks.conftest import Receiver


def _engine(app: Flask):  # type: ignore[no-untyped-def]
    return app.extensions["sipas_engine"]


def _hook(app: Flask, url: str, events: list[str], **kw) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    with Session(_engine(app)) as session:
        hook = add_webhook(session, url, events, **kw)
        session.commit()
        return int(hook.id), hook.secret  # type: ignore[arg-type]


def _events(app: Flask, n: int, kind: str = "round.published") -> list[str]:
    with Session(_engine(app)) as session:
        made = [emit(session, kind, {"round": f"R{i}"}) for i in range(n)]
        session.commit()
        return [str(e.uuid) for e in made if e is not None]


def _statuses(app: Flask) -> dict[str, int]:
    with Session(_engine(app)) as session:
        out: dict[str, int] = {}
        for status in session.exec(select(WebhookDelivery.status)):
            out[status] = out.get(status, 0) + 1
        return out


def test_is_a_low_rating_an_event_with_its_change_and_nothing_personal_unless_enabled(
        app: Flask, desk_link, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    _hook(app, receiver.url, ["evaluation.low"], threshold=2)
    _hook(app, receiver.url + "/with-phone", ["evaluation.low"], threshold=1,
          include_phone=True, include_comments=True)
    client = app.test_client()
    for overall in ("5", "2", "1"):
        reply, _ = submit(client, desk_link.path, overall=overall,
                          contact_phone="0912345678", contact_consent="yes")
        assert reply.status_code in (200, 302, 303)
    with Session(_engine(app)) as session:
        events = session.exec(select(OutboxEvent).order_by(col(OutboxEvent.id))).all()
        assert [e.payload["rating"] for e in events] == [2, 1]
        assert all("phone" not in str(e.payload) and "0912" not in str(e.payload)
                   for e in events)  # the outbox keeps nothing personal
    assert worker.run_once(_engine(app)) == {"delivered": 3}  # 2 + 1 (threshold 1)
    by_url = {}
    for r in receiver.got:
        by_url.setdefault("phone" in r.data["data"], []).append(r)
    assert len(by_url[False]) == 2 and len(by_url[True]) == 1
    enriched = by_url[True][0].data["data"]
    assert enriched["phone"] and enriched["rating"] == 1 and "comments" in enriched
    assert {r.data["data"]["desk"]["code"] for r in receiver.got} == {desk_link.code}


def test_is_an_event_of_a_change_that_rolls_back_never_sent(app: Flask,
                                                             receiver: Receiver) -> None:
    _hook(app, receiver.url, ["round.published"])
    with Session(_engine(app)) as session:
        emit(session, "round.published", {"round": "GONE"})
        session.rollback()
    assert _statuses(app) == {} and worker.run_once(_engine(app)) == {}


def test_are_verified_and_published_events_written_by_the_review_and_the_round(
        app: Flask, receiver: Receiver) -> None:
    from survey.services.entry.review import set_status
    from tests import factories

    _hook(app, receiver.url, ["response.verified"])
    with Session(_engine(app)) as session:
        version = factories.published(session)
        supervisor = factories.user(session, "supervisor", username="ha")
        from survey.services.responses import store_response

        stored = store_response(session, instrument_version=version, mode="paper",
                                answers={}, client_uuid=factories.new_uuid())
        session.commit()
        set_status(session, stored.response, "verified", "", supervisor)
        session.commit()
        event = session.exec(select(OutboxEvent)).one()
        assert event.kind == "response.verified" and event.payload["verified_by"] == "ha"
    assert worker.run_once(_engine(app)) == {"delivered": 1}
    assert receiver.got[0].headers["x-sipas-event"] == "response.verified"


def test_is_every_delivery_signed_with_the_webhooks_secret(app: Flask,
                                                           receiver: Receiver) -> None:
    _id, secret = _hook(app, receiver.url, ["round.published"])
    keys = _events(app, 3)
    worker.run_once(_engine(app))
    assert receiver.keys() == set(keys)
    for got in receiver.got:
        stamp = got.headers["x-sipas-timestamp"]
        assert got.headers["x-sipas-signature"] == worker.sign(secret, stamp, got.body)
        assert worker.sign("whsec_other", stamp, got.body) != got.headers["x-sipas-signature"]
        assert got.data["id"] == got.key


def test_does_a_refusing_receiver_get_retries_with_backoff_then_a_failed_delivery(
        app: Flask, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker, "MAX_ATTEMPTS", 3)
    receiver.answer = lambda n: 500
    _hook(app, receiver.url, ["round.published"])
    _events(app, 1)
    engine = _engine(app)
    waits = []
    for attempt in (1, 2, 3):
        assert worker.run_once(engine) == {"pending" if attempt < 3 else "failed": 1}
        with Session(engine) as session:
            row = session.exec(select(WebhookDelivery)).one()
            tried = session.exec(select(WebhookAttempt.at).where(
                WebhookAttempt.attempt == attempt)).one()
        assert row.attempts == attempt and row.last_error == "HTTP 500"
        if attempt < 3:
            # Measured from the try itself, not from before run_once: a slow machine
            # (CI under load) must not turn a 30 s wait into 31.
            waits.append((row.next_attempt_at - tried).total_seconds())
            assert worker.run_once(engine) == {}  # not due yet
        with Session(engine) as session:
            session.execute(update(WebhookDelivery).values(next_attempt_at=utcnow()))
            session.commit()
    assert waits == [30, 60]  # doubling
    with Session(engine) as session:
        log = session.exec(select(WebhookAttempt).order_by(col(WebhookAttempt.id))).all()
        assert [(a.attempt, a.status_code) for a in log] == [(1, 500), (2, 500), (3, 500)]
        delivery_id = session.exec(select(WebhookDelivery.id)).one()
        worker.retry(session, delivery_id)  # type: ignore[arg-type]
        session.commit()
    receiver.answer = lambda n: 200
    assert worker.run_once(engine) == {"delivered": 1}
    assert len(receiver.keys()) == 1 and len(receiver.got) == 4  # one key, four tries


def test_do_two_workers_at_once_send_each_delivery_once(app: Flask, receiver: Receiver
                                                        ) -> None:
    _hook(app, receiver.url, ["round.published"])
    keys = _events(app, 40)
    receiver.pause = lambda n: 0.01
    results: list[dict[str, int]] = []
    start = threading.Barrier(3)

    def one() -> None:
        start.wait()
        while counts := worker.run_once(_engine(app), limit=5):
            results.append(counts)

    threads = [threading.Thread(target=one) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(r.key for r in receiver.got) == sorted(keys)  # each once, none lost
    assert sum(c.get("delivered", 0) for c in results) == 40


def test_does_a_killed_worker_neither_lose_nor_duplicate_a_delivery(
        app: Flask, receiver: Receiver, cli_env: dict[str, str]) -> None:
    """The worker is killed (SIGKILL) while the receiver holds its 8th request; a second
    worker takes over once the lease runs out. Every event arrives; the only event seen
    twice is the one in flight at the kill, with the same key and the same data."""
    _hook(app, receiver.url, ["round.published"])
    keys = _events(app, 25)
    receiver.pause = lambda n: 30.0 if n == 7 else 0.0  # held until the kill
    command = [sys.executable, "-m", "survey.cli", "webhook", "run", "--poll", "0.1",
               "--lease", "2"]
    env = {**os.environ, **cli_env}
    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        receiver.wait_for(8)
        assert len(receiver.keys()) == 8
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    assert _statuses(app).get("sending") == 1  # the one in flight, leased
    receiver.pause = lambda n: 0.0
    second = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = utcnow() + timedelta(seconds=40)
        while _statuses(app) != {"delivered": 25} and utcnow() < deadline:
            threading.Event().wait(0.2)
    finally:
        second.terminate()
        second.wait(10)
    assert _statuses(app) == {"delivered": 25}
    assert receiver.keys() == set(keys)  # nothing lost
    seen: dict[str, list] = {}
    for got in receiver.got:
        seen.setdefault(got.key, []).append(got.data)
    twice = {k: v for k, v in seen.items() if len(v) > 1}
    assert len(twice) <= 1 and len(receiver.got) == 25 + len(twice)
    for copies in twice.values():  # the same event, word for word
        assert all(c == copies[0] for c in copies)
