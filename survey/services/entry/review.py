"""Supervisor work on keyed questionnaires: reconciling, review states, traced edits, history.

Nothing is overwritten without trace: every reconciliation, status change and edit of a
stored answer writes the audit log in the same transaction (who, when, field, old value,
new value, reason), and a response's history is read back from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from survey.instruments import Instrument
from survey.messages import N_, UserError
from survey.models import Answer, AuditLog, Response, ReviewStatus, User, utcnow
from survey.models_entry import CaseState, Discrepancy, EntryCase, Keying
from survey.services.audit import record
from survey.services.entry.keying import (
    OUTCOME_CODES,
    OUTCOME_FIELD,
    canonical,
    check_keyed,
    finalise,
    keyed_values,
    typed,
)

REVIEW_MOVES: dict[str, tuple[str, ...]] = {
    ReviewStatus.received.value: ("verified", "has_issues", "rejected"),
    ReviewStatus.has_issues.value: ("verified", "rejected"),
    ReviewStatus.verified.value: ("has_issues", "rejected"),
    ReviewStatus.rejected.value: ("has_issues",),
}
OUTCOME_BY_NAME = {name: code for code, name in OUTCOME_CODES.items()}


class ReviewError(UserError):
    """A supervisor action that cannot be done; ``errors`` maps fields to messages."""

    def __init__(self, msgid: str, errors: Mapping[str, Any] | None = None,
                 **params: Any) -> None:
        super().__init__(msgid, **params)
        self.errors = dict(errors or {})


@dataclass(frozen=True)
class HistoryEntry:
    at: Any
    who: str
    action: str
    reason: str | None
    detail: dict[str, Any]


def discrepancies(session: Session, case: EntryCase) -> list[Discrepancy]:
    return list(session.exec(select(Discrepancy).where(Discrepancy.case_id == case.id)
                             .order_by(Discrepancy.id)))  # type: ignore[arg-type]


def reconcile(session: Session, case: EntryCase, paper: Mapping[str, str], form: Instrument,
              supervisor: User) -> int:
    """Record the paper value of every mismatch and store the verified response."""
    if case.state != CaseState.mismatch.value:
        raise ReviewError(N_("this questionnaire has no mismatches to reconcile"))
    household = case.sample_unit_id is not None
    first = session.exec(select(Keying).where(Keying.case_id == case.id,
                                              Keying.pass_no == 1)).one()
    merged = keyed_values(session, first)
    outcome = OUTCOME_BY_NAME.get(first.outcome or "", "")
    rows = discrepancies(session, case)
    for row in rows:
        raw = (paper.get(row.item_code) or "").strip()
        if row.item_code == OUTCOME_FIELD:
            outcome = raw
            continue
        value = canonical(form.item(row.item_code), raw)
        if value:
            merged[row.item_code] = value
        else:
            merged.pop(row.item_code, None)
    errors = check_keyed(form, outcome, merged, household)
    if errors:
        raise ReviewError(N_("the paper values do not pass the questionnaire's checks"), errors)
    now = utcnow()
    detail = {}
    for row in rows:
        row.paper_value = (outcome if row.item_code == OUTCOME_FIELD
                           else merged.get(row.item_code))
        row.resolved_by, row.resolved_at = supervisor.id, now
        session.add(row)
        detail[row.item_code] = {"first": row.first_value, "second": row.second_value,
                                 "paper": row.paper_value}
    response_id = finalise(session, case, OUTCOME_CODES.get(outcome), merged, form,
                           ReviewStatus.verified.value, first.keyer_id, supervisor)
    case.state, case.updated_at = CaseState.verified.value, now
    session.add(case)
    record(session, "reconcile", "response", response_id, user_id=supervisor.id,
           detail={"case": case.entry_key, "fields": detail})
    return response_id


def _forget_ministry_decision(session: Session, response_id: int | None) -> None:
    """A questionnaire the province changes waits for the ministry again (hq_review.py)."""
    from survey.services.entry.hq_review import forget

    forget(session, response_id)


def _ensure_round_open(session: Session, response: Response) -> None:
    """A published round is frozen: its responses change only through a new round version."""
    if response.round_id is None:
        return
    from survey.models import SurveyRound
    from survey.services.sample.rounds import ensure_open

    round_ = session.get(SurveyRound, response.round_id)
    if round_ is not None:
        try:
            ensure_open(round_, "change its responses")
        except UserError as exc:
            raise ReviewError(exc.msgid, **exc.params) from None


def set_status(session: Session, response: Response, status: str, comment: str,
               supervisor: User) -> None:
    """Move a response between review states; leaving ``verified`` needs a comment.

    The response is locked and read again first: of two supervisors moving it at once, the
    second moves it from where the first left it (or is refused), and each audit row's
    "old" is the state it really had.
    """
    session.refresh(response, with_for_update=True)
    _ensure_round_open(session, response)
    allowed = REVIEW_MOVES.get(response.status, ())
    if status not in allowed:
        raise ReviewError(N_("a response in state '%(old)s' cannot become '%(new)s'"),
                          old=response.status, new=status)
    comment = comment.strip()
    if (response.status == ReviewStatus.verified.value or status != "verified") and not comment:
        raise ReviewError(N_("Give a reason or comment"), {"comment": UserError(N_("Required"))})
    old = response.status
    response.status, response.updated_at = status, utcnow()
    session.add(response)
    record(session, "review_status", "response", response.id, user_id=supervisor.id,
           reason=comment or None, detail={"field": "status", "old": old, "new": status})
    _forget_ministry_decision(session, response.id)
    if status == ReviewStatus.verified.value:
        from survey.services.webhooks import outbox

        outbox.response_verified(session, response, supervisor)


def edit_answer(session: Session, response: Response, form: Instrument, item_code: str,
                new_text: str, reason: str, supervisor: User) -> None:
    """Change one stored answer; the whole set is re-checked and the change audited.

    The response is locked first, so parallel edits take turns and each reads the answers
    the one before it stored (no lost edit, no row deleted twice).
    """
    session.refresh(response, with_for_update=True)
    _ensure_round_open(session, response)
    if not form.has_item(item_code) or not form.item(item_code).is_question:
        raise ReviewError(N_("Unknown item '%(code)s'"), code=item_code)
    if not reason.strip():
        raise ReviewError(N_("A change needs a reason"), {"reason": UserError(N_("Required"))})
    current = stored_values(session, response, form)
    old = current.get(item_code)
    new = canonical(form.item(item_code), new_text)
    if new == (old or ""):
        raise ReviewError(N_("the new value is the same as the stored one"))
    changed = dict(current)
    if new:
        changed[item_code] = new
    else:
        changed.pop(item_code, None)
    outcome = OUTCOME_BY_NAME.get(response.outcome or "", "")
    errors = check_keyed(form, outcome, changed, response.round_id is not None)
    if errors:
        raise ReviewError(N_("the change fails the questionnaire's checks"), errors)
    row = session.get(Answer, (response.id, item_code))
    if row is not None:
        session.delete(row)
        session.flush()
    if new:
        value = typed(form.item(item_code), new)
        if isinstance(value, list):
            session.add(Answer(response_id=response.id, item_code=item_code, value_text=new))
        elif isinstance(value, int | float):
            session.add(Answer(response_id=response.id, item_code=item_code,
                               value_num=float(value)))
        else:
            session.add(Answer(response_id=response.id, item_code=item_code, value_text=new))
    response.updated_at = utcnow()
    session.add(response)
    _forget_ministry_decision(session, response.id)
    record(session, "edit_answer", "response", response.id, user_id=supervisor.id,
           reason=reason.strip(), detail={"field": item_code, "old": old, "new": new or None})


def stored_values(session: Session, response: Response, form: Instrument) -> dict[str, str]:
    """The response's answers as canonical text (as a keyer would have typed them)."""
    values = {}
    for row in session.exec(select(Answer).where(Answer.response_id == response.id)):
        if not form.has_item(row.item_code):
            continue
        raw = row.value_text if row.value_text is not None else str(row.value_num)
        values[row.item_code] = canonical(form.item(row.item_code), raw)
    return values


def history(session: Session, response_id: int) -> list[HistoryEntry]:
    """Every audited action on a response, oldest first, with the user's name."""
    rows = session.exec(
        select(AuditLog, User)
        .join(User, User.id == AuditLog.user_id, isouter=True)
        .where(AuditLog.entity == "response", AuditLog.entity_id == str(response_id))
        .order_by(AuditLog.at, AuditLog.id)  # type: ignore[arg-type]
    )
    return [HistoryEntry(log.at, user.username if user else "—", log.action, log.reason,
                         log.detail or {}) for log, user in rows]
