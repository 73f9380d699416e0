"""Sending the outbox: leased deliveries, HMAC signatures, retries with backoff, a log.

Exactly once, as far as HTTP allows: every delivery of an event carries the same
``Idempotency-Key`` (the event's UUID), so a receiver that keeps the keys it has seen acts
on each event once. A worker claims a delivery by a conditional UPDATE (only a due, pending
delivery or one whose lease ran out matches), so two workers never send it at the same
time, on either database. A worker killed after the receiver answered but before the
delivery was marked sent leaves it leased; when the lease runs out another worker sends it
again, with the same key — the one case a receiver sees a key twice. Nothing is lost: a
delivery leaves the queue only when a receiver answered 2xx, or as ``failed`` after
``MAX_ATTEMPTS`` (shown by ``sipas webhook log``, sent again by ``sipas webhook retry``).

The signature is ``X-SIPAS-Signature: sha256=HEX``, the HMAC-SHA256 with the webhook's
secret of ``"{X-SIPAS-Timestamp}.{body}"``; a receiver should refuse an old timestamp.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from survey.models import Answer, InstrumentVersion, Response, utcnow
from survey.models_desk import DeskContact
from survey.models_webhooks import OutboxEvent, Webhook, WebhookAttempt, WebhookDelivery

LEASE = timedelta(seconds=60)  # longer than a send can take (TIMEOUT), with room
TIMEOUT = 10.0
MAX_ATTEMPTS = 12  # about a day of backoff
FIRST_RETRY = 30.0  # seconds; doubled each time, at most LONGEST_WAIT
LONGEST_WAIT = 6 * 3600.0


def backoff(attempt: int) -> timedelta:
    """The wait after the ``attempt``-th failure: 30 s, 1 min, 2 min, … at most 6 h."""
    return timedelta(seconds=min(FIRST_RETRY * 2 ** max(0, attempt - 1), LONGEST_WAIT))


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def _claimable(now: datetime):  # type: ignore[no-untyped-def]
    due = (col(WebhookDelivery.status) == "pending") & (col(WebhookDelivery.next_attempt_at)
                                                        <= now)
    stale = (col(WebhookDelivery.status) == "sending") & (col(WebhookDelivery.lease_until)
                                                          < now)
    return or_(due, stale)


def claim(engine: Engine, limit: int = 20, lease: timedelta = LEASE) -> list[tuple[int, int]]:
    """Lease up to ``limit`` due deliveries; (delivery id, its attempt number) each."""
    now = utcnow()
    claimed = []
    with Session(engine) as session:
        ids = session.exec(select(WebhookDelivery.id).where(_claimable(now))
                           .order_by(col(WebhookDelivery.id)).limit(limit)).all()
        for delivery_id in ids:
            done = session.execute(update(WebhookDelivery).where(
                col(WebhookDelivery.id) == delivery_id, _claimable(now)
            ).values(status="sending", lease_until=now + lease,
                     attempts=WebhookDelivery.attempts + 1))
            if done.rowcount:  # type: ignore[attr-defined]
                attempt = session.exec(select(WebhookDelivery.attempts).where(
                    col(WebhookDelivery.id) == delivery_id)).one()
                claimed.append((int(delivery_id), int(attempt)))  # type: ignore[arg-type]
        session.commit()
    return claimed


@dataclass(frozen=True)
class Outgoing:
    url: str
    body: bytes
    headers: dict[str, str]


def _extras(session: Session, hook: Webhook, event: OutboxEvent) -> dict[str, Any]:
    """What only this webhook may receive, read now (a deleted contact is not sent)."""
    extra: dict[str, Any] = {}
    response_id = event.payload.get("response_id")
    if event.kind != "evaluation.low" or response_id is None:
        return extra
    if hook.include_phone:
        extra["phone"] = session.exec(select(DeskContact.phone).where(
            DeskContact.response_id == response_id)).first()
    if hook.include_comments:
        from survey.services.instruments_text import parse_stored

        response = session.get(Response, response_id)
        version = session.get(InstrumentVersion, response.instrument_version_id) \
            if response else None
        if version is not None:
            texts = {i.code for i in parse_stored(version.source_text).questions
                     if i.type == "text"}
            extra["comments"] = {code: text for code, text in session.exec(
                select(Answer.item_code, Answer.value_text).where(
                    Answer.response_id == response_id)) if code in texts and text}
    return extra


def outgoing(session: Session, delivery: WebhookDelivery) -> Outgoing:
    hook = session.get(Webhook, delivery.webhook_id)
    event = session.get(OutboxEvent, delivery.event_id)
    assert hook is not None and event is not None
    data = {**event.payload, **_extras(session, hook, event)}
    body = json.dumps({"id": str(event.uuid), "event": event.kind,
                       "occurred_at": event.occurred_at.isoformat(), "data": data},
                      ensure_ascii=False, sort_keys=True).encode("utf-8")
    stamp = str(int(time.time()))
    return Outgoing(hook.url, body, {
        "Content-Type": "application/json", "User-Agent": "SIPAS-webhooks/1",
        "Idempotency-Key": str(event.uuid), "X-SIPAS-Event": event.kind,
        "X-SIPAS-Delivery": str(delivery.id), "X-SIPAS-Timestamp": stamp,
        "X-SIPAS-Signature": sign(hook.secret, stamp, body)})


def post(message: Outgoing, timeout: float = TIMEOUT) -> tuple[int | None, str | None]:
    """Send; (HTTP status, error words). Redirects are not followed: a receiver that moved
    must be changed by its administrator, not silently chased."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    request = urllib.request.Request(message.url, data=message.body, headers=message.headers,
                                     method="POST")
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=timeout) as answer:
            return int(answer.status), None
    except urllib.error.HTTPError as exc:
        return int(exc.code), f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, str(reason)[:400] or type(exc).__name__


def send(engine: Engine, delivery_id: int, attempt: int) -> str:
    """Send one claimed delivery and record the outcome; returns its new status."""
    with Session(engine) as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        assert delivery is not None
        message = outgoing(session, delivery)
    started = time.monotonic()
    status_code, error = post(message)
    took = int((time.monotonic() - started) * 1000)
    ok = status_code is not None and 200 <= status_code < 300
    now = utcnow()
    if ok:
        values: dict[str, Any] = {"status": "delivered", "delivered_at": now,
                                  "lease_until": None, "last_error": None}
        outcome = "delivered"
    elif attempt >= MAX_ATTEMPTS:
        values, outcome = {"status": "failed", "lease_until": None, "last_error": error}, \
            "failed"
    else:
        values = {"status": "pending", "lease_until": None, "last_error": error,
                  "next_attempt_at": now + backoff(attempt)}
        outcome = "pending"
    with Session(engine) as session:
        session.add(WebhookAttempt(delivery_id=delivery_id, attempt=attempt, at=now,
                                   status_code=status_code, error=error, duration_ms=took))
        # only while this worker still holds it: a lease that ran out belongs to another
        session.execute(update(WebhookDelivery).where(
            col(WebhookDelivery.id) == delivery_id, col(WebhookDelivery.status) == "sending",
            col(WebhookDelivery.attempts) == attempt).values(**values))
        session.commit()
    return outcome


def run_once(engine: Engine, limit: int = 20, lease: timedelta = LEASE) -> dict[str, int]:
    """Send what is due, up to ``limit``; how many ended in each state.

    One delivery is claimed at a time, just before it is sent: a lease then covers one send
    (at most TIMEOUT), never a queue behind it, and a killed worker strands one delivery.
    """
    counts: dict[str, int] = {}
    for _ in range(limit):
        claimed = claim(engine, 1, lease)
        if not claimed:
            break
        outcome = send(engine, *claimed[0])
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def run(engine: Engine, poll: float = 2.0, lease: timedelta = LEASE,
        stop: Any = None) -> None:
    """Send forever (``stop``: a threading.Event that ends the loop)."""
    while stop is None or not stop.is_set():
        if not run_once(engine, lease=lease):
            if stop is not None:
                stop.wait(poll)
            else:
                time.sleep(poll)


def retry(session: Session, delivery_id: int) -> WebhookDelivery:
    """Put a failed delivery back in the queue, due now (its attempts start again)."""
    from survey.messages import N_, UserError

    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.status != "failed":
        raise UserError(N_("no failed delivery %(id)s"), id=delivery_id)
    delivery.status, delivery.attempts, delivery.next_attempt_at = "pending", 0, utcnow()
    session.add(delivery)
    return delivery
