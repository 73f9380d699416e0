"""A signed, expiring, single-use evaluation link per dossier, for the receipt, an SMS or Zalo.

The link is the desk's own evaluation link with ``?h=`` a signed token naming the dossier
(``itsdangerous``: it cannot be forged or pointed at another dossier without the secret key)
and the moment it was made (it expires after ``DOSSIER_LINK_DAYS``). It is single-use
because a dossier can be evaluated once: the evaluation stores the dossier's keyed hash,
which is unique. Opening it shows the desk form with the dossier known, never typed, and
the service field and "was it on time" taken from the dossier instead of asked; those
answers are stored with their source (``answer_source``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlmodel import Session, select

from survey.instruments import Instrument as FormInstrument
from survey.messages import N_, UserError
from survey.models import Desk, Response, as_utc, utcnow
from survey.models_dossiers import Dossier
from survey.services.desks.links import desk_url, dossier_secret
from survey.services.dossiers.records import plain_words
from survey.services.responses import dossier_hash
from survey.services.scope import EVERYTHING, Scope, contains_unit

SALT = "sipas.dossier-link.v1"
DEFAULT_DAYS = 30
FIELD_ITEM, ON_TIME_ITEM = "service_field", "on_time"
ON_TIME, LATE, NOT_DUE = 1, 2, 3


class DossierLinkError(ValueError):
    def __init__(self, expired: bool) -> None:
        self.expired = expired
        super().__init__("expired" if expired else "invalid")


@dataclass(frozen=True)
class DossierLink:
    url: str
    dossier: Dossier
    expires_at: datetime


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=SALT)


def make_link(session: Session, base_url: str, secret_key: str, code: str,
              days: int = DEFAULT_DAYS, scope: Scope = EVERYTHING) -> DossierLink:
    """The link of the dossier with this code (imported or pushed before; of the area's
    desks: another area's dossier is no dossier)."""
    dossier = session.exec(select(Dossier).where(
        Dossier.code_hash == dossier_hash(dossier_secret(secret_key), code))).first()
    if dossier is not None and not scope.everything:  # one desk's unit, not the area's list
        owner = session.get(Desk, dossier.desk_id) if dossier.desk_id else None
        if owner is None or not contains_unit(session, scope, owner.unit_id):
            dossier = None
    if dossier is None:
        raise UserError(N_("no dossier with this code: import or push it first"))
    desk = session.get(Desk, dossier.desk_id) if dossier.desk_id else None
    if desk is None:
        raise UserError(N_("this dossier names no desk, so it has no evaluation form"))
    if session.exec(select(Response.id).where(Response.dossier_hash == dossier.code_hash)
                    ).first() is not None:
        raise UserError(N_("this dossier has already been evaluated"))
    token = _serializer(secret_key).dumps(dossier.id)
    from datetime import timedelta

    return DossierLink(f"{desk_url(base_url, secret_key, desk)}?h={token}", dossier,
                       utcnow() + timedelta(days=days))


def read_link(session: Session, secret_key: str, token: str, desk: Desk,
              days: int = DEFAULT_DAYS) -> Dossier:
    """The dossier a link names, if it is genuine, unexpired and of this desk."""
    if not token or len(token) > 200:
        raise DossierLinkError(expired=False)
    try:
        dossier_id = _serializer(secret_key).loads(token, max_age=days * 86400)
    except SignatureExpired:
        raise DossierLinkError(expired=True) from None
    except (BadSignature, UnicodeError, ValueError):
        raise DossierLinkError(expired=False) from None
    if not isinstance(dossier_id, int) or isinstance(dossier_id, bool):
        raise DossierLinkError(expired=False)
    dossier = session.get(Dossier, dossier_id)
    if dossier is None or dossier.desk_id != desk.id:
        raise DossierLinkError(expired=False)
    return dossier


def evaluated(session: Session, dossier: Dossier | str) -> bool:
    """Has this dossier (or the dossier of this keyed hash) an evaluation already?"""
    code_hash = dossier if isinstance(dossier, str) else dossier.code_hash
    return session.exec(select(Response.id).where(
        Response.dossier_hash == code_hash)).first() is not None


def derived_answers(form: FormInstrument, dossier: Dossier, now: datetime | None = None
                    ) -> dict[str, Any]:
    """What the dossier answers by itself: its field (when a choice has its name) and
    whether it was returned on time (when it has a due moment)."""
    known: dict[str, Any] = {}
    if form.has_item(FIELD_ITEM) and dossier.field:
        wanted = plain_words(dossier.field)
        for choice in form.item(FIELD_ITEM).choices:
            names = {plain_words(v) for v in choice.label.values() if v}
            if wanted in names or any(n.startswith(wanted + " ") or n.startswith(wanted + ",")
                                      or n.startswith(wanted + " (") for n in names):
                known[FIELD_ITEM] = int(choice.code)
                break
    due, returned = as_utc(dossier.due_at), as_utc(dossier.returned_at)
    if form.has_item(ON_TIME_ITEM) and due is not None:
        if returned is not None:
            known[ON_TIME_ITEM] = ON_TIME if returned <= due else LATE
        else:
            known[ON_TIME_ITEM] = NOT_DUE if (now or utcnow()) <= due else LATE
    return known
