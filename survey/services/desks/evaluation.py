"""A citizen's desk evaluation: from posted form fields to one stored response.

The form is built from the stored instrument version, so what the citizen sees and what
is checked are the same frozen text. Three things never enter ``answers``: the dossier
code (only its keyed hash is stored, by ``store_response``), the follow-up phone (its
own table, only with consent) and the client address (only a keyed hash, for the burst
report). Everything is written in the caller's transaction: a submission is one commit.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, select

from survey.instruments import Instrument, validate_answers
from survey.instruments.validation import relevant_items
from survey.models import Desk, InstrumentVersion, Mode, ReviewStatus, utcnow
from survey.models_desk import DeskContact, DeskSignal
from survey.models_dossiers import AnswerSource, Dossier
from survey.services.desks.holds import HoldRules, hold_reason
from survey.services.responses import StoreResult, store_response

DESK_INSTRUMENT = "desk_evaluation"
DOSSIER_ITEM = "dossier_code"
# Vietnamese receipts look like "000.00.19.H56-250701-0001" or "H01.2025.00001".
DEFAULT_DOSSIER_PATTERN = r"[A-Z0-9][A-Z0-9.\-/_]{3,39}"
PHONE = re.compile(r"0\d{9,10}")
MAX_TEXT = 2000


@dataclass(frozen=True)
class Submission:
    """Posted fields, parsed: answers for the instrument plus what is kept out of them."""

    answers: dict[str, Any]
    dossier_code: str | None
    phone: str | None
    errors: dict[str, str] = field(default_factory=dict)


def normalise_phone(raw: str) -> str | None:
    """A Vietnamese number as 0XXXXXXXXX(X); +84 / 84 prefixes and separators accepted."""
    digits = re.sub(r"[\s.\-()]", "", raw)
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    return digits if PHONE.fullmatch(digits) else None


def _typed(item_type: str, raw: str) -> Any:
    """Form text to the value the validator and the answer table expect."""
    if item_type in ("select_one", "scale", "integer"):
        return int(raw) if re.fullmatch(r"-?\d{1,6}", raw) else raw
    return raw


def _posted(data: Mapping[str, Any], code: str, multiple: bool) -> str:
    """One field as text: a multi-select's ticked boxes (a form's repeated field, or a list
    in JSON) as its space-separated codes."""
    getlist = getattr(data, "getlist", None)
    if multiple and getlist is not None:
        return " ".join(str(v).strip() for v in getlist(code) if str(v).strip())
    value = data.get(code)
    if isinstance(value, list | tuple):
        return " ".join(str(v).strip() for v in value if str(v).strip())
    return "" if value is None else str(value)


def parse_submission(form: Instrument, data: Mapping[str, Any], dossier_pattern: str
                     ) -> Submission:
    """Read the posted fields the instrument knows, check them, and keep secrets apart.

    An answer to a question its skip rule leaves out (reasons for a low rating, say, ticked
    and then the rating raised) is dropped, as a form that hides the question would: the
    citizen's page has no script to hide it, and the question no longer applies.
    """
    errors: dict[str, str] = {}
    answers: dict[str, Any] = {}
    for item in form.questions:
        if item.code == DOSSIER_ITEM:
            continue
        raw = _posted(data, item.code, item.type == "select_multiple").strip()
        if not raw:
            continue
        if len(raw) > MAX_TEXT:
            errors[item.code] = (f"Tối đa {MAX_TEXT} ký tự / At most {MAX_TEXT} characters")
            continue
        answers[item.code] = _typed(item.type, raw)
    applies = set(relevant_items(form, answers))
    answers = {code: value for code, value in answers.items() if code in applies}
    for code, message in validate_answers(form, answers).items():
        errors.setdefault(code, message)
    dossier = (data.get(DOSSIER_ITEM) or "").strip().upper() or None
    if dossier is not None and not re.fullmatch(dossier_pattern, dossier):
        errors[DOSSIER_ITEM] = ("Mã hồ sơ không đúng định dạng trên giấy biên nhận / "
                                "The dossier code does not match the receipt's format")
    phone = None
    raw_phone = (data.get("contact_phone") or "").strip()
    consent = data.get("contact_consent") == "yes"
    if raw_phone:
        phone = normalise_phone(raw_phone)
        if phone is None:
            errors["contact_phone"] = ("Số điện thoại không hợp lệ / Not a valid phone number")
        elif not consent:
            errors["contact_phone"] = (
                "Hãy đánh dấu đồng ý để được liên hệ, hoặc xóa số điện thoại / "
                "Tick the consent box to be contacted, or remove the number")
    return Submission(answers, dossier, phone if consent else None, errors)


def _short_hash(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()[:16]


def answer_pattern(form: Instrument, answers: Mapping[str, Any]) -> str:
    """The closed answers only (free text left out): identical patterns hint at stuffing."""
    closed = {k: v for k, v in answers.items()
              if form.has_item(k) and form.item(k).type != "text"}
    return json.dumps(closed, sort_keys=True, default=str)


def submit_evaluation(
    session: Session,
    *,
    desk: Desk,
    version: InstrumentVersion,
    form: Instrument,
    submission: Submission,
    client_uuid: uuid.UUID,
    secret: bytes,
    client_address: str,
    rules: HoldRules | None = None,
    dossier: Dossier | None = None,
    derived: Mapping[str, Any] | None = None,
    mode: str = Mode.qr.value,
    answered_at: datetime | None = None,
    dossier_hash: str | None = None,
) -> StoreResult:
    """Store once (idempotent by the server-issued form UUID); signals and contact ride along.

    Beyond the normal rate (:mod:`survey.services.desks.holds`) the evaluation is stored
    but held: kept out of the estimates, its dossier parked. Raises ``ConflictError`` /
    ``DuplicateDossierError`` from ``store_response``; the caller rolls back, so a refused
    submission leaves nothing behind. A re-send of a stored form that adds a consented
    phone number keeps the number (it was acknowledged, so it must not be dropped).
    ``answered_at``: when the citizen answered, if not now (a kiosk's evaluation queued
    through a network drop); the evaluation counts in that moment's period.
    ``dossier_hash``: a dossier known by its keyed hash only (a kiosk ticket's).
    """
    if submission.errors:
        raise ValueError("only a checked submission can be stored")
    address_hash = _short_hash(secret, "addr:" + client_address)
    reason = hold_reason(session, desk.id, address_hash, rules or HoldRules(),  # type: ignore[arg-type]
                         now=answered_at)
    answers = {**submission.answers, **(derived or {})}
    result = store_response(
        session, instrument_version=version, client_uuid=client_uuid,
        mode=mode, answers=answers, dossier_secret=secret,
        dossier_code=None if dossier else submission.dossier_code, desk_id=desk.id,
        status=ReviewStatus.held.value if reason else ReviewStatus.received.value,
        park_dossier=reason is not None,
        known_dossier_hash=dossier.code_hash if dossier else dossier_hash,
        **({"created_at": answered_at} if answered_at is not None else {}),
    )  # fmt: skip
    response_id = result.response.id
    assert response_id is not None
    if result.created and derived:  # answers the dossier gave, said so beside them
        session.connection().execute(insert(AnswerSource), [
            {"response_id": response_id, "item_code": code, "source": "dossier"}
            for code in sorted(derived)])
    if result.created:
        # Core inserts: one row each, no unit-of-work bookkeeping on the hot path.
        session.connection().execute(insert(DeskSignal), {
            "response_id": response_id, "desk_id": desk.id,
            "created_at": result.response.created_at, "address_hash": address_hash,
            "pattern_hash": _short_hash(secret, "pattern:" + answer_pattern(
                form, submission.answers)),
            "hold_reason": reason,
            "held_dossier_hash": result.dossier_hash if reason else None,
        })  # fmt: skip
    if result.created and reason is None:  # a held one is suspect: no alarm, no case
        from survey.services.dossiers.follow_up import open_case
        from survey.services.webhooks import outbox

        outbox.low_rating(session, result.response, desk, submission.answers)
        open_case(session, result.response, desk, submission.answers)
    if submission.phone and (result.created or not _has_contact(session, response_id)):
        session.connection().execute(insert(DeskContact), {
            "response_id": response_id, "phone": submission.phone, "consent_at": utcnow()})
    return result


def _has_contact(session: Session, response_id: int) -> bool:
    return session.exec(select(DeskContact.id).where(
        DeskContact.response_id == response_id)).first() is not None
