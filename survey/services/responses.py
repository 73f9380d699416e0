"""Storing responses exactly once.

Each rendered form carries a client-generated UUID. Re-sending the same content under
the same UUID (double tap, flaky network) returns the stored response; different content
under a used UUID is a conflict. The UUID's unique constraint decides races inside the
database, so two concurrent submissions can never both be stored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from survey.models import Answer, InstrumentVersion, Mode, Outcome, Response, ReviewStatus

AnswerValue = int | float | str | list[str] | list[int] | None


class ConflictError(ValueError):
    """Different content was sent under a client UUID that is already used."""


class DuplicateDossierError(ValueError):
    """This dossier has already been evaluated."""


@dataclass(frozen=True)
class StoreResult:
    response: Response
    created: bool
    dossier_hash: str | None = None  # the keyed hash, also when parked (not on the response)


def dossier_hash(secret: bytes, dossier_code: str) -> str:
    """Keyed hash: dossier codes identify citizens, so only this is stored."""
    normalised = dossier_code.strip().upper().encode("utf-8")
    return hmac.new(secret, normalised, hashlib.sha256).hexdigest()


def content_hash(answers: Mapping[str, AnswerValue], meta: Mapping[str, Any]) -> str:
    canonical = json.dumps(
        {"answers": answers, "meta": meta}, sort_keys=True, ensure_ascii=False, default=str
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def answer_values(answers: Mapping[str, AnswerValue]) -> list[dict[str, Any]]:
    """Numbers go to value_num, text and multi-select lists (space-separated) to value_text.

    Plain dicts, inserted with one executemany: building ORM objects for every answer cost
    a third of a QR submission's time. In item-code order, the order in which the tally
    triggers update their counts everywhere, so concurrent writers lock counts in one order.
    """
    rows: list[dict[str, Any]] = []
    for code, value in sorted(answers.items()):
        if value is None or value == "" or value == []:
            continue
        if isinstance(value, bool):
            raise ValueError(f"{code}: boolean answers are not supported; use codes")
        if isinstance(value, int | float):
            num, txt = float(value), None
        elif isinstance(value, list | tuple):
            num, txt = None, " ".join(str(v) for v in value)
        else:
            num, txt = None, str(value)
        rows.append({"item_code": code, "value_num": num, "value_text": txt})
    return rows


def store_response(
    session: Session,
    *,
    instrument_version: InstrumentVersion,
    client_uuid: uuid.UUID,
    mode: str,
    answers: Mapping[str, AnswerValue],
    status: str = ReviewStatus.received.value,
    dossier_secret: bytes | None = None,
    dossier_code: str | None = None,
    park_dossier: bool = False,
    known_dossier_hash: str | None = None,
    **meta: Any,
) -> StoreResult:
    """Insert a response with its answers in one savepoint; the caller commits.

    The content hash covers the dossier's keyed hash, never the code itself, so nothing in
    the database lets anyone recompute a dossier code without the key. ``park_dossier``
    (a held evaluation) leaves the hash off the response, so it claims no dossier yet; the
    hash is returned for the caller to keep, and a dossier already claimed is still refused.
    ``known_dossier_hash``: the dossier's hash itself, when its evaluation link named it.
    """
    if mode not in {m.value for m in Mode}:
        raise ValueError(f"unknown mode {mode!r}")
    if status not in {s.value for s in ReviewStatus}:
        raise ValueError(f"unknown review status {status!r}")
    outcome = meta.get("outcome")
    if outcome is not None and outcome not in {o.value for o in Outcome}:
        raise ValueError(f"unknown fieldwork outcome {outcome!r}")
    hashed = known_dossier_hash  # a dossier's own link: the hash is known, the code never
    if dossier_code and hashed is None:
        if dossier_secret is None:
            raise ValueError("a dossier code needs the dossier hashing key")
        hashed = dossier_hash(dossier_secret, dossier_code)
    digest = content_hash(
        dict(answers), {"mode": mode, "iv": instrument_version.id, "dossier": hashed, **meta}
    )
    values = answer_values(answers)
    if park_dossier and hashed is not None and session.exec(
            select(Response.id).where(Response.dossier_hash == hashed)).first() is not None:
        existing = session.exec(select(Response).where(Response.client_uuid == client_uuid)).first()
        if existing is not None:
            return _same_or_conflict(existing, digest, hashed)
        raise DuplicateDossierError("this dossier has already been evaluated")
    response = Response(
        client_uuid=client_uuid,
        content_hash=digest,
        instrument_version_id=instrument_version.id,
        mode=mode,
        status=status,
        dossier_hash=None if park_dossier else hashed,
        **meta,
    )
    # Insert first and let the unique constraints speak: a new submission (the usual case)
    # costs no look-up, and a re-send or a race is recognised from the constraint it hits.
    try:
        with session.begin_nested():
            session.add(response)
            session.flush()
            if values:
                session.execute(
                    insert(Answer), [{"response_id": response.id, **row} for row in values]
                )
    except IntegrityError:
        existing = session.exec(
            select(Response).where(Response.client_uuid == client_uuid)
        ).first()
        if existing is not None:
            return _same_or_conflict(existing, digest, hashed)
        if hashed is not None and session.exec(
            select(Response).where(Response.dossier_hash == hashed)
        ).first():
            raise DuplicateDossierError("this dossier has already been evaluated") from None
        raise
    return StoreResult(response, created=True, dossier_hash=hashed)


def _same_or_conflict(existing: Response, digest: str, hashed: str | None) -> StoreResult:
    if existing.content_hash != digest:
        raise ConflictError(
            "this form was already submitted with different answers / biểu mẫu này đã được "
            "gửi với nội dung khác"
        )
    return StoreResult(existing, created=False, dossier_hash=hashed)
