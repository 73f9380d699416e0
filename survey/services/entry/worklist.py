"""The supervisor's lists of keyed paper: stored responses by review state, and mismatches.

Lists are queries, not fetched rows, so a view pages them in the database
(:func:`survey.services.paging.paginate`) and a search narrows them there.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from survey.models import Response, SurveyRound
from survey.models_entry import CaseState, EntryCase, Keying
from survey.services.scope import EVERYTHING, Scope, cases_within, responses_within
from survey.typed import whole_number


def stored_paper(status: str, round_id: int | None = None,
                 search: str = "", scope: Scope = EVERYTHING) -> Any:
    """Paper responses in ``status`` (newest change first), with their round code.

    ``search`` matches a questionnaire ID or slip serial anywhere (so the printed form, with
    or without the round prefix, finds it) or a response number exactly.
    """
    query = (select(Response, SurveyRound.code)
             .outerjoin(SurveyRound, SurveyRound.id == Response.round_id)  # type: ignore[arg-type]
             .where(Response.mode == "paper", Response.status == status,
                    responses_within(scope)))
    if round_id is not None:
        query = query.where(Response.round_id == round_id)
    text = search.strip()
    if text:
        pattern = f"%{_escaped(text)}%"
        found = [col(Response.questionnaire_id).like(pattern, escape="\\"),
                 col(Response.slip_serial).like(pattern, escape="\\")]
        if (number := whole_number(text)) is not None:
            found.append(Response.id == number)
        query = query.where(or_(*found))
    return query.order_by(col(Response.updated_at).desc(), col(Response.id).desc())


def mismatches(round_id: int | None = None,
               scope: Scope = EVERYTHING) -> SelectOfScalar[EntryCase]:
    """Double-keyed documents of the area whose two passes disagree, oldest first."""
    query = select(EntryCase).where(EntryCase.state == CaseState.mismatch.value,
                                    cases_within(scope))
    if round_id is not None:
        query = query.where(EntryCase.round_id == round_id)
    return query.order_by(col(EntryCase.updated_at), col(EntryCase.id))


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def second_keyings_due(session: Any, keyer_id: int, limit: int = 50,
                       scope: Scope = EVERYTHING) -> tuple[list[Any], int]:
    """Documents keyed once that need a blind second keying by someone other than the first
    keyer (``keyer_id`` never sees their own), oldest first, with how many there are."""
    first_by_me = select(Keying.case_id).where(Keying.keyer_id == keyer_id)
    query = (select(EntryCase, SurveyRound.code)
             .outerjoin(SurveyRound, SurveyRound.id == EntryCase.round_id)  # type: ignore[arg-type]
             .where(EntryCase.state == CaseState.keyed_once.value,
                    col(EntryCase.double_required).is_(True),
                    col(EntryCase.id).not_in(first_by_me), cases_within(scope))
             .where(or_(col(EntryCase.round_id).is_(None), SurveyRound.status == "open")))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(EntryCase.updated_at), col(EntryCase.id))
                        .limit(limit)).all()
    return list(rows), int(total)
