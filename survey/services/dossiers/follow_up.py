"""Low ratings followed up (element V of SIPAS itself: receiving and handling complaints).

A counted desk evaluation (QR or paper slip; not held, not rejected) whose overall rating is
at or below ``THRESHOLD`` opens a case for the desk's agency, in the same transaction as the
evaluation. A supervisor answers it (what was done) and closes it; the first answer's moment
gives the response time. Every change is audited; two supervisors answering at once each
start from the state the other left (the row is locked first).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, select

from survey.messages import N_, UserError
from survey.models import Answer, Desk, Response, User, as_utc, utcnow
from survey.models_desk import DeskContact
from survey.models_dossiers import FollowUp
from survey.services import audit
from survey.services.scope import EVERYTHING, Scope, desk_ids_within, desks_within

THRESHOLD = 2  # overall 1 or 2 of 5: "very dissatisfied", "dissatisfied"
RATING_ITEM = "overall"
STATES = ("open", "answered", "closed")
MAX_NOTE = 2000


def open_case(session: Session, response: Response, desk: Desk, answers: Mapping[str, Any],
              threshold: int = THRESHOLD) -> FollowUp | None:
    """Open a case for a low rating (nothing for any other evaluation)."""
    rating = answers.get(RATING_ITEM)
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= threshold:
        return None
    case = FollowUp(response_id=response.id, desk_id=desk.id, agency=desk.agency,  # type: ignore[arg-type]
                    rating=rating, opened_at=response.created_at)
    session.add(case)
    session.flush()
    return case


@dataclass(frozen=True)
class CaseView:
    case: FollowUp
    desk: Desk
    comment: str
    phone: str | None
    response_time: timedelta | None


def list_cases(session: Session, status: str | None = None, limit: int = 200,
               scope: Scope = EVERYTHING) -> list[CaseView]:
    """Cases at the area's desks, oldest open first, with the citizen's comment and
    (consented) phone."""
    query = select(FollowUp, Desk).join(Desk, col(Desk.id) == FollowUp.desk_id) \
        .where(desks_within(scope))
    if status:
        query = query.where(FollowUp.status == status)
    found = session.exec(query.order_by(col(FollowUp.status) == "closed",
                                        col(FollowUp.opened_at)).limit(limit)).all()
    ids = [c.response_id for c, _d in found]
    comments = {r: t for r, t in session.exec(select(Answer.response_id, Answer.value_text).where(
        col(Answer.response_id).in_(ids), Answer.item_code == "comment"))} if ids else {}
    phones = {r: p for r, p in session.exec(select(DeskContact.response_id, DeskContact.phone)
                                            .where(col(DeskContact.response_id).in_(ids)))} \
        if ids else {}
    out = []
    for case, desk in found:
        first, opened = as_utc(case.first_response_at), as_utc(case.opened_at)
        out.append(CaseView(case, desk, comments.get(case.response_id) or "",
                            phones.get(case.response_id),
                            first - opened if first and opened else None))
    return out


def answer_case(session: Session, case_id: int, status: str, note: str, by: User,
                scope: Scope = EVERYTHING) -> FollowUp:
    """Record what was done (``answered``) or close the case; the first answer is timed."""
    if status not in ("answered", "closed"):
        raise UserError(N_("a case can be answered or closed"))
    note = (note or "").strip()
    if not note:
        raise UserError(N_("say what was done for the citizen"))
    if len(note) > MAX_NOTE:
        raise UserError(N_("the note is longer than %(most)d characters"), most=MAX_NOTE)
    case = session.exec(select(FollowUp).where(
        FollowUp.id == case_id, col(FollowUp.desk_id).in_(desk_ids_within(scope)))
        .with_for_update()).first()
    if case is None:  # another area's case is no case
        raise UserError(N_("no such case"))
    if case.status == "closed":
        raise UserError(N_("this case is already closed"))
    old = case.status
    now = utcnow()
    case.status, case.note, case.handled_by = status, note, by.id
    if case.first_response_at is None:
        case.first_response_at = now
    if status == "closed":
        case.closed_at = now
    session.add(case)
    audit.record(session, "follow_up." + status, "follow_up", case.id, user_id=by.id,
                 reason=note, detail={"old": old, "new": status})
    return case


def response_times(session: Session) -> dict[str, Any]:
    """Open cases, and the median hours to a first answer of those answered."""
    cases = session.exec(select(FollowUp)).all()
    hours = sorted((as_utc(c.first_response_at) - as_utc(c.opened_at)).total_seconds() / 3600  # type: ignore[operator]
                   for c in cases if c.first_response_at and c.opened_at)
    median = None
    if hours:
        mid = len(hours) // 2
        median = hours[mid] if len(hours) % 2 else (hours[mid - 1] + hours[mid]) / 2
    return {"open": sum(c.status == "open" for c in cases), "answered_hours_median": median,
            "total": len(cases)}
