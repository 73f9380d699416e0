"""Subscriptions, and events written into the outbox in the caller's transaction.

Why an outbox: a webhook posted from the request that made the change is lost when the
receiver is down and sent for a change that then rolls back. Here the event and one delivery
per subscribed webhook are rows of the same transaction as the change; a worker sends them
afterwards, retrying with backoff (delivery.py). Payloads hold no personal data: a
consenting citizen's phone and free-text comments are read at sending time, only for a
webhook that enables them, so a contact deleted by the retention rule is never sent.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from sqlmodel import Session, col, select

from survey.messages import N_, UserError
from survey.models import Desk, Response, SurveyRound, User
from survey.models_webhooks import EVENT_KINDS, OutboxEvent, Webhook, WebhookDelivery
from survey.services import audit

LOW_RATING_ITEM = "overall"  # the desk form's overall satisfaction (1–5)


def add_webhook(session: Session, url: str, events: list[str], threshold: int = 2,
                include_phone: bool = False, include_comments: bool = False) -> Webhook:
    """A new subscription; its signing secret is made here and shown once by the caller."""
    parsed = urlparse(url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc or len(url) > 500:
        raise UserError(N_("the webhook address must be an http:// or https:// URL of at most "
                           "500 characters"))
    unknown = [e for e in events if e not in EVENT_KINDS]
    if not events or unknown:
        raise UserError(N_("events must be some of %(kinds)s"), kinds=", ".join(EVENT_KINDS))
    if not 1 <= threshold <= 5:
        raise UserError(N_("the low-rating threshold must be 1 to 5"))
    hook = Webhook(url=url.strip(), secret="whsec_" + secrets.token_urlsafe(32),
                   events=" ".join(dict.fromkeys(events)), threshold=threshold,
                   include_phone=include_phone, include_comments=include_comments)
    session.add(hook)
    session.flush()
    audit.record(session, "webhook.add", "webhook", hook.id,
                 detail={"url": hook.url, "events": hook.events, "threshold": threshold,
                         "include_phone": include_phone, "include_comments": include_comments})
    return hook


def set_active(session: Session, webhook_id: int, active: bool) -> Webhook:
    hook = session.get(Webhook, webhook_id)
    if hook is None:
        raise UserError(N_("no webhook %(id)s"), id=webhook_id)
    hook.active = active
    session.add(hook)
    audit.record(session, "webhook.enable" if active else "webhook.disable", "webhook", hook.id)
    return hook


def _subscribed(session: Session, kind: str) -> list[Webhook]:
    return [h for h in session.exec(select(Webhook).where(col(Webhook.active).is_(True))
                                    .order_by(col(Webhook.id)))
            if kind in h.events.split()]


def emit(session: Session, kind: str, payload: Mapping[str, Any],
         hooks: list[Webhook] | None = None) -> OutboxEvent | None:
    """Write an event and its deliveries (nothing when no webhook wants it)."""
    assert kind in EVENT_KINDS
    wanted = _subscribed(session, kind) if hooks is None else hooks
    if not wanted:
        return None
    event = OutboxEvent(kind=kind, payload=dict(payload))
    session.add(event)
    session.flush()
    for hook in wanted:
        session.add(WebhookDelivery(event_id=event.id, webhook_id=hook.id,  # type: ignore[arg-type]
                                    next_attempt_at=event.occurred_at))
    session.flush()
    return event


def low_rating(session: Session, response: Response, desk: Desk,
               answers: Mapping[str, Any]) -> OutboxEvent | None:
    """A counted desk evaluation whose overall rating is at or below a webhook's threshold."""
    rating = answers.get(LOW_RATING_ITEM)
    if not isinstance(rating, int | float) or isinstance(rating, bool):
        return None
    hooks = [h for h in _subscribed(session, "evaluation.low") if rating <= h.threshold]
    if not hooks:
        return None
    closed = {k: v for k, v in answers.items() if isinstance(v, int | float)
              and not isinstance(v, bool)}
    return emit(session, "evaluation.low", {
        "response_id": response.id, "rating": rating,
        "desk": {"code": desk.code, "name": desk.name, "agency": desk.agency},
        "created_at": response.created_at.isoformat(), "answers": closed}, hooks)


def response_verified(session: Session, response: Response, by: User | None) -> None:
    from survey.models import InstrumentVersion

    version = session.get(InstrumentVersion, response.instrument_version_id)
    round_ = session.get(SurveyRound, response.round_id) if response.round_id else None
    emit(session, "response.verified", {
        "response_id": response.id, "questionnaire_id": response.questionnaire_id,
        "round": round_.code if round_ else None,
        "instrument_version": version.version if version else None,
        "mode": response.mode, "verified_by": by.username if by else None})


def round_published(session: Session, round_: SurveyRound) -> None:
    emit(session, "round.published", {
        "round": round_.code, "name": round_.name, "weights_version": round_.weights_version,
        "published_at": round_.published_at.isoformat() if round_.published_at else None})
