"""A kiosk's evaluation, as the tablet sends it: JSON, possibly long after it was answered.

The tablet queues what citizens answered while the network is down and sends it when it
returns, each under the UUID the tablet gave it when the citizen pressed "send": sent
twice (a reply lost on the way back), it is stored once; sent with other answers under a
used UUID, it is refused. The moment the citizen answered is the tablet's, so a queued
evaluation counts in the period it was given in; a moment in the future (a tablet's clock
ahead) is taken as now, and one older than ``KIOSK_QUEUE_DAYS`` is refused, because a key
taken from a tablet must not be able to write into months long closed.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from sqlmodel import Session, select

from survey.instruments import Instrument
from survey.messages import N_, UserError
from survey.models import Desk, InstrumentVersion, Mode, utcnow
from survey.models_dossiers import Dossier
from survey.models_kiosk import KioskDevice, KioskTicket
from survey.services.desks.evaluation import DOSSIER_ITEM, Submission, submit_evaluation
from survey.services.desks.holds import HoldRules
from survey.services.locks import locked
from survey.services.responses import ConflictError, DuplicateDossierError, StoreResult

DEFAULT_QUEUE_DAYS = 14
CLOCK_SLACK = timedelta(minutes=5)
MAX_ANSWERS = 100


@dataclass(frozen=True)
class KioskPost:
    """What the tablet sent, read (answers still as posted text, checked by the form)."""

    client_uuid: uuid.UUID
    version_id: int | None
    answers: dict[str, Any]
    answered_at: datetime
    ticket_id: int | None


def read_post(body: Any, now: datetime, queue_days: int = DEFAULT_QUEUE_DAYS) -> KioskPost:
    """The tablet's JSON, or a :class:`UserError` naming what is wrong with it."""
    if not isinstance(body, dict):
        raise UserError(N_("The evaluation must be sent as a JSON object."))
    try:
        client_uuid = uuid.UUID(str(body.get("uuid", "")))
    except ValueError:
        raise UserError(N_("The evaluation has no valid identifier (uuid).")) from None
    answers = body.get("answers")
    if not isinstance(answers, dict) or len(answers) > MAX_ANSWERS or not all(
            isinstance(k, str) and (v is None or isinstance(v, str | int | list))
            and not isinstance(v, bool) for k, v in answers.items()):
        raise UserError(N_("The answers must be an object of item codes and values."))
    answered_at = _moment(body.get("answered_at"))
    if answered_at > now + CLOCK_SLACK:
        answered_at = now  # the tablet's clock runs ahead: it was answered by now at the latest
    if answered_at < now - timedelta(days=queue_days):
        raise UserError(N_("This evaluation was answered more than %(days)d days ago and can "
                           "no longer be sent."), days=queue_days)
    return KioskPost(client_uuid, _whole(body.get("iv")), dict(answers), answered_at,
                     _whole(body.get("ticket")))


def _moment(raw: Any) -> datetime:
    if not isinstance(raw, str) or len(raw) > 40:
        raise UserError(N_("The evaluation has no valid time (answered_at)."))
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise UserError(N_("The evaluation has no valid time (answered_at).")) from None
    if moment.tzinfo is None:
        raise UserError(N_("The evaluation has no valid time (answered_at)."))
    return moment.astimezone(UTC)


def _whole(raw: Any) -> int | None:
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 < raw < 2**31:
        return raw
    return None


def kiosk_rules(config: Any) -> HoldRules:
    """The QR form's hold rules, but a kiosk is one address serving a whole counter: it is
    held beyond ``KIOSK_HOLD_DEVICE`` evaluations (20) in the window, not the three that
    one phone gets; the desk's own limit still applies."""
    from dataclasses import replace

    rules = HoldRules.from_config(config)
    try:
        per_device = int(config.get("KIOSK_HOLD_DEVICE", 20))
    except (TypeError, ValueError):
        raise ValueError("KIOSK_HOLD_DEVICE must be a whole number") from None
    if per_device < 1:
        raise ValueError("KIOSK_HOLD_DEVICE must be at least 1")
    return replace(rules, desk_address=per_device, address=max(per_device, rules.address))


def kiosk_answers(post: KioskPost) -> dict[str, Any]:
    """The answers as a form posts them; a kiosk never asks for a dossier code."""
    return {code: value for code, value in post.answers.items() if code != DOSSIER_ITEM}


def ticket_dossier(session: Session, device: KioskDevice, post: KioskPost) -> Dossier | None:
    """The stored dossier the evaluation's ticket names, if the ticket is this tablet's (and
    not another evaluation's): what it answers by itself is taken from it, not asked."""
    if post.ticket_id is None:
        return None
    ticket = session.get(KioskTicket, post.ticket_id)
    if ticket is None or ticket.dossier_hash is None or not _ticket_of(session, ticket, device,
                                                                        post):
        return None
    return known_dossier(session, ticket.dossier_hash)


def known_dossier(session: Session, hashed: str | None) -> Dossier | None:
    if hashed is None:
        return None
    return session.exec(select(Dossier).where(Dossier.code_hash == hashed)).first()


def store_kiosk_evaluation(
    session: Session, *, device: KioskDevice, desk: Desk, version: InstrumentVersion,
    form: Instrument, submission: Submission, post: KioskPost, secret: bytes,
    rules: HoldRules, derived: Mapping[str, Any] | None = None,
) -> StoreResult:
    """Store once, tie it to its ticket (if the ticket is this kiosk's and not yet rated)
    and to the ticket's dossier; the caller commits. Held like any evaluation beyond the
    normal rate: the kiosk's own address is the device, so a tablet tapped again and again
    is held, not refused. If the dossier was evaluated meanwhile (its own link, a QR code
    with its code), this evaluation is kept without it: never refused for that."""
    ticket = locked(session, KioskTicket, post.ticket_id) if post.ticket_id else None
    if ticket is not None and not _ticket_of(session, ticket, device, post):
        ticket = None  # another tablet's, or rated by another evaluation
    store = partial(submit_evaluation, session, desk=desk, version=version, form=form,
                    submission=submission, client_uuid=post.client_uuid, secret=secret,
                    client_address=f"kiosk:{device.id}", rules=rules,
                    mode=Mode.kiosk.value, answered_at=post.answered_at, derived=derived)
    hashed = ticket.dossier_hash if ticket is not None else None
    try:
        with session.begin_nested():
            result = store(dossier_hash=hashed)
    except (DuplicateDossierError, ConflictError):
        if hashed is None:
            raise
        # the dossier was evaluated meanwhile: kept without it (and its re-sends the same)
        result = store()
    if result.created and ticket is not None and ticket.response_id is None:
        ticket.response_id = result.response.id
        session.add(ticket)
    device.last_seen_at = utcnow()
    session.add(device)
    return result


def _ticket_of(session: Session, ticket: KioskTicket, device: KioskDevice, post: KioskPost
               ) -> bool:
    """Is this the evaluation of ``ticket``: the tablet's own ticket, not yet rated, or
    rated by this very evaluation (sent again because the reply was lost)?"""
    if ticket.device_id != device.id:
        return False
    if ticket.response_id is None:
        return True
    from survey.models import Response

    rated = session.get(Response, ticket.response_id)
    return rated is not None and rated.client_uuid == post.client_uuid
