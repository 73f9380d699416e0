"""Two-level review: the province verifies, the ministry accepts or sends back.

As in Survey Solutions (supervisor, then headquarters), the second level looks only at
what the first has verified. Accepting leaves the questionnaire verified and records who
accepted it; sending back needs a comment, moves it to ``has_issues`` (the province's own
"to check" list, the comment on its page) and is audited as a review move. Anything the
province changes afterwards (a new state, a corrected answer) removes the ministry's
decision, so a questionnaire is only ever "accepted" as it was when accepted. Every
decision is an audit row; the ``hq_review`` table holds the current one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, or_
from sqlmodel import Session, col, select

from survey.messages import N_
from survey.models import Response, ReviewStatus, SurveyRound, User, utcnow
from survey.models_entry import HqReview
from survey.services.audit import record
from survey.services.entry.review import ReviewError, _ensure_round_open
from survey.services.scope import EVERYTHING, Scope, responses_within

DECISIONS = ("accept", "return")
MAX_COMMENT = 2000


def decision_of(session: Session, response_id: int) -> HqReview | None:
    return session.get(HqReview, response_id)


def forget(session: Session, response_id: int | None) -> None:
    """The province changed the questionnaire: the ministry's decision no longer holds."""
    if response_id is not None:
        session.execute(delete(HqReview).where(col(HqReview.response_id) == response_id))


def decide(session: Session, response: Response, decision: str, comment: str,
           by: User) -> bool:
    """Accept a verified questionnaire, or send it back with a comment. Returns whether
    anything changed (accepting an accepted one changes nothing); the caller commits.

    The response is locked and read again first: of two ministry reviewers deciding at once,
    the second decides on what the first left (a questionnaire sent back is no longer
    verified, so it cannot then be accepted)."""
    if decision not in DECISIONS:
        raise ReviewError(N_("choose to accept or to send back"))
    session.refresh(response, with_for_update=True)
    _ensure_round_open(session, response)
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise ReviewError(N_("the comment is longer than %(most)d characters"),
                          most=MAX_COMMENT)
    if response.mode != "paper" or response.round_id is None:
        raise ReviewError(N_("only household questionnaires are reviewed by the ministry"))
    if response.status != ReviewStatus.verified.value:
        raise ReviewError(N_("only a questionnaire the province has verified can be accepted "
                             "or sent back (this one is '%(state)s')"), state=response.status)
    current = session.get(HqReview, response.id)
    if decision == "accept":
        if current is not None and current.state == "accepted":
            return False
        _store(session, current, response.id, "accepted", comment, by)  # type: ignore[arg-type]
        record(session, "hq_accept", "response", response.id, user_id=by.id,
               reason=comment or None, detail={"field": "ministry", "new": "accepted"})
        return True
    if not comment:
        raise ReviewError(N_("Say what the province should check"),
                          {"comment": ReviewError(N_("Required"))})
    response.status, response.updated_at = ReviewStatus.has_issues.value, utcnow()
    session.add(response)
    _store(session, current, response.id, "returned", comment, by)  # type: ignore[arg-type]
    record(session, "hq_return", "response", response.id, user_id=by.id, reason=comment,
           detail={"field": "status", "old": ReviewStatus.verified.value,
                   "new": ReviewStatus.has_issues.value})
    return True


def _store(session: Session, current: HqReview | None, response_id: int, state: str,
           comment: str, by: User) -> None:
    row = current or HqReview(response_id=response_id, state=state)
    row.state, row.comment, row.by_id, row.at = state, comment, by.id, utcnow()
    session.add(row)
    session.flush()


def awaiting(round_id: int | None = None, area: Scope = EVERYTHING) -> Any:
    """Verified household questionnaires not yet accepted (oldest change first), with their
    round code: the ministry's list, optionally of one round and one province."""
    query = (select(Response, SurveyRound.code)
             .join(SurveyRound, col(SurveyRound.id) == Response.round_id)
             .outerjoin(HqReview, col(HqReview.response_id) == Response.id)
             .where(Response.mode == "paper", Response.status == ReviewStatus.verified.value,
                    or_(col(HqReview.state).is_(None), HqReview.state != "accepted"),
                    responses_within(area)))
    if round_id is not None:
        query = query.where(Response.round_id == round_id)
    return query.order_by(col(Response.updated_at), col(Response.id))
